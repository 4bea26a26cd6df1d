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
        let model = try ModelFile.read(path: options.modelPath)
        let withMetrics = options.metrics || options.metricsJSONPath != nil || options.reportPath != nil
        let metrics = try ScoringRun(inputs: inputs, output: OutputWriter(), withMetrics: withMetrics).run(on: model)
        if let path = options.metricsJSONPath, let metrics {
            try AtomicFile.write(Array((metrics.json.rendered() + "\n").utf8), to: path, role: "--metrics-json")
        }
        if let path = options.reportPath, let metrics {
            let (examples, curve) = model.training
            var report = HTMLReport(
                modelPath: options.modelPath, inputs: inputs, metrics: metrics, config: model.config, trainedExamples: examples)
            report.curve = curve
            try AtomicFile.write(Array(report.rendered().utf8), to: path, role: "--report")
        }
        if options.metrics, let metrics {
            if metrics.count == 0 {
                printError("ftrl-predict: no labels in the input: no metrics")
            } else {
                printError("ftrl-predict: \(metrics.summary)")
            }
        }
    }
}
