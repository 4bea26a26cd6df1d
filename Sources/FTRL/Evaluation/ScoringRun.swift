/// Scoring files with a model of either precision: the file reader feeds a
/// `Predictor`, one probability per line goes to `output` in the shortest
/// form that reads back to the same number of the model's precision, and
/// metrics are collected when asked. A `ModelBody` in the library, so each
/// precision's loop is compiled specialized (see `TrainingRun`).
public struct ScoringRun: ModelBody {
    /// Input files in order (`-` is standard input).
    public var inputs: [String]
    /// Where the probabilities go.
    public var output: OutputWriter
    /// Whether to collect metrics from the labels.
    public var withMetrics: Bool
    /// A CSV or TSV column: metrics are also collected per value of it.
    public var groupBy: String?
    /// The inputs already being read (`startReading`), or nil to start
    /// reading them when the model is ready.
    public var stream: ExampleStream?

    /// What a run measured.
    public struct Scored: Sendable {
        /// The metrics of every labelled example, when asked for.
        public var metrics: Metrics?
        /// With `groupBy`, the metrics per value of the column, most labelled examples first.
        public var groups: [(value: String, metrics: Metrics)] = []
    }

    public init(inputs: [String], output: OutputWriter, withMetrics: Bool) {
        self.inputs = inputs
        self.output = output
        self.withMetrics = withMetrics
    }

    /// Starts decoding and parsing the inputs for a model of `config` (read
    /// by `ModelFile.peekConfig`) before the model itself is loaded, so that
    /// loading it and reading the first rows overlap; the stream parses up
    /// to 128 blocks ahead meanwhile (about 0.5 MB a block for rows of 40
    /// features). `run` then checks that the model's settings are those the
    /// rows were parsed with.
    public mutating func startReading(for config: FTRLConfig) {
        stream = ExampleStream(
            paths: inputs, hasher: config.hasher, schema: config.schema, scoring: true, groupBy: groupBy, depth: 128)
        streamConfig = config
    }
    private var streamConfig: FTRLConfig?

    /// Scores the inputs with `model` in its own precision (call this from
    /// outside the library: see `TrainingRun.run(on:)`).
    public func run(on model: AnyModel) throws(FTRLError) -> Scored {
        try model.open(self)
    }

    /// Scores the inputs.
    /// - Returns: the metrics, when asked for.
    /// - Throws: `FTRLError` for bad input or a failed write.
    public func run<F: FTRLScalar>(_ model: Model<F>) throws(FTRLError) -> Scored {
        let predictor = Predictor(model: model)
        var metrics: Metrics? = withMetrics ? Metrics() : nil
        var groups: [String: Metrics] = [:]
        let stream: ExampleStream
        if let started = self.stream {
            // Rows parsed with other settings than the model's cannot be read again (standard input).
            guard let config = streamConfig, config.hasher == model.hasher, config.schema == model.config.schema else {
                started.cancel()
                throw FTRLError(.data, "the model file changed while it was read: its settings are not those its first bytes gave")
            }
            stream = started
        } else {
            stream = ExampleStream(paths: inputs, hasher: model.hasher, schema: model.config.schema, scoring: true, groupBy: groupBy)
        }
        var probabilities: [F] = []
        probabilities.reserveCapacity(4096)
        while let block = try stream.next() {
            try predictor.score(block, into: &probabilities)
            let grouped = groupBy != nil && withMetrics
            for (e, p) in probabilities.enumerated() {
                try output.line(p.description)
                let label = block.labels[e]
                if !label.isNaN {
                    metrics?.add(p.asDouble, label: label == 1)
                    if grouped { groups[block.groups[e], default: Metrics()].add(p.asDouble, label: label == 1) }
                }
            }
            stream.recycle(block)
        }
        try output.flush()
        let ordered = groups.sorted { $0.value.count > $1.value.count || ($0.value.count == $1.value.count && $0.key < $1.key) }
        return Scored(metrics: metrics, groups: ordered.map { ($0.key, $0.value) })
    }
}
