import FTRL

/// One `ftrl-predict` run: loads the model and scores the inputs to
/// standard output, with metrics on standard error when asked.
public struct PredictionJob: Sendable {
    /// What the user asked for.
    public struct Options: Sendable {
        public var modelPath = ""
        public var inputs: [String] = []
        public var metrics = false
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
        let model = try ModelFile.read(path: options.modelPath)
        let inputs = options.inputs.isEmpty ? ["-"] : options.inputs
        let metrics = try model.open(Scoring(inputs: inputs, withMetrics: options.metrics))
        if let metrics {
            if metrics.count == 0 {
                printError("ftrl-predict: no labels in the input: no metrics")
            } else {
                printError("ftrl-predict: \(metrics.summary)")
            }
        }
    }

    /// The file reader as the producer of blocks for a `Predictor`: one
    /// probability per line on standard output, in the shortest form that
    /// reads back to the same number of the model's precision.
    private struct Scoring: ModelBody {
        let inputs: [String]
        let withMetrics: Bool

        func run<F: FTRLScalar>(_ model: Model<F>) throws(FTRLError) -> Metrics? {
            let predictor = Predictor(model: model)
            var metrics: Metrics? = withMetrics ? Metrics() : nil
            let output = OutputWriter()
            let stream = ExampleStream(paths: inputs, hasher: model.hasher, schema: model.config.schema, scoring: true)
            var probabilities: [F] = []
            probabilities.reserveCapacity(4096)
            while let block = try stream.next() {
                try predictor.score(block, into: &probabilities)
                for (e, p) in probabilities.enumerated() {
                    try output.line(p.description)
                    let label = block.labels[e]
                    if !label.isNaN { metrics?.add(p.asDouble, label: label == 1) }
                }
                stream.recycle(block)
            }
            try output.flush()
            return metrics
        }
    }
}
