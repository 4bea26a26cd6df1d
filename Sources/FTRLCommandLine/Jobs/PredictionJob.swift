import FTRL

/// One `ftrl-predict` run: loads the model and scores the inputs to
/// standard output, with metrics on standard error when asked.
public struct PredictionJob: Sendable {
    /// What the user asked for.
    public struct Options: Sendable {
        public var modelPath = ""
        public var inputs: [String] = []
        public var metrics = false
        /// Where the metrics go as JSON, or nil.
        public var metricsJSONPath: String?
        /// Where the HTML report goes, or nil.
        public var reportPath: String?
        /// A CSV or TSV column to measure per value of, or nil.
        public var metricsBy: String?
        public init() {}
    }

    let options: Options

    /// A job for `options`.
    public init(options: Options) {
        self.options = options
    }

    /// Runs the job.
    /// - Throws: `FTRLError` for a bad model, bad input or a failed write.
    public func run() throws(FTRLError) {
        let inputs = options.inputs.isEmpty ? ["-"] : options.inputs
        for (path, role) in [(options.metricsJSONPath, "--metrics-json"), (options.reportPath, "--report")] {
            guard let path else { continue }
            if path == "-" { throw FTRLError(.usage, "\(role) needs a file: standard output carries the probabilities") }
            try AtomicFile.checkWritable(path, role: role)
            if let out = FileIdentity(path: try AtomicFile.target(of: path, role: role)),
                let input = (inputs + [options.modelPath]).first(where: { FileIdentity(path: $0) == out })
            {
                throw FTRLError(.usage, "\(role) \(path) is \(input == "-" ? "standard input" : input): writing there would destroy it")
            }
        }
        let withMetrics = options.metrics || options.metricsJSONPath != nil || options.reportPath != nil
        if options.metricsBy != nil && !withMetrics {
            throw FTRLError(.usage, "--metrics-by measures per group: add --metrics, --metrics-json FILE or --report FILE")
        }
        var run = ScoringRun(inputs: inputs, output: OutputWriter(), withMetrics: withMetrics)
        run.groupBy = options.metricsBy
        // The input read while the model loads (its settings from the file's first bytes).
        if let config = ModelFile.peekConfig(path: options.modelPath) { run.startReading(for: config) }
        let model = try ModelFile.read(path: options.modelPath, compact: true)
        if let column = options.metricsBy {
            let schema = model.config.schema
            guard schema.format != .libsvm else {
                throw FTRLError(.usage, "--metrics-by \(column): LibSVM rows have no columns (it is for CSV and TSV)")
            }
            if let names = schema.columns, !names.contains(column) {
                throw FTRLError(
                    .usage, "--metrics-by \(column): the model has no such column (its columns: \(names.joined(separator: ", ")))")
            }
        }
        let scored = try run.run(on: model)
        let metrics = scored.metrics
        if let path = options.metricsJSONPath, let metrics {
            var json = metrics.json
            if let column = options.metricsBy, case .object(var fields) = json {
                let groups = scored.groups.map { group -> JSON in
                    guard case .object(let f) = group.metrics.json else { return .null }
                    return .object([("value", .string(group.value))] + f)
                }
                fields.append(("by", .object([("column", .string(column)), ("groups", .array(groups))])))
                json = .object(fields)
            }
            try AtomicFile.write(Array((json.rendered() + "\n").utf8), to: path, role: "--metrics-json")
        }
        if let path = options.reportPath, let metrics {
            let (examples, curve) = model.training
            var report = HTMLReport(
                modelPath: options.modelPath, inputs: inputs, metrics: metrics, config: model.config, trainedExamples: examples)
            report.curve = curve
            if let column = options.metricsBy { report.groups = (column, scored.groups) }
            if inputs.contains("-") {
                report.topFeaturesNote =
                    "The top features are named by reading the logs again: score files, not standard input, to see them."
            } else {
                report.topFeatures = try TopFeatures.of(model, paths: inputs, top: 25)
            }
            try AtomicFile.write(Array(report.rendered().utf8), to: path, role: "--report")
        }
        if options.metrics, let metrics {
            if metrics.count == 0 {
                printError("ftrl-predict: no labels in the input: no metrics")
            } else {
                printError("ftrl-predict: \(metrics.summary)")
                if let column = options.metricsBy {
                    // The largest groups; every group is in --metrics-json.
                    let shown = scored.groups.prefix(20)
                    for g in shown { printError("ftrl-predict: \(column)=\(g.value): \(g.metrics.summary)") }
                    if scored.groups.count > shown.count {
                        printError("ftrl-predict: ... and \(grouped(scored.groups.count - shown.count)) smaller groups of \(column)")
                    }
                }
            }
        }
    }
}
