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
        let metrics = try ScoringRun(inputs: inputs, output: OutputWriter(), withMetrics: options.metrics).run(on: model)
        if let metrics {
            if metrics.count == 0 {
                printError("ftrl-predict: no labels in the input: no metrics")
            } else {
                printError("ftrl-predict: \(metrics.summary)")
            }
        }
    }
}
