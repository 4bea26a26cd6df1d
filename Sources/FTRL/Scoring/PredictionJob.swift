/// One `ftrl-predict` run: loads the model and scores the inputs to
/// standard output, with metrics on standard error when asked.
public struct PredictionJob {
    /// What the user asked for.
    public struct Options {
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
        var metrics: Metrics? = options.metrics ? Metrics() : nil
        let output = OutputWriter()
        switch model {
        case .float32(let m):
            m.finalizeForScoring()
            try Predictor(model: m).score(paths: inputs, output: output, metrics: &metrics)
        case .float64(let m):
            m.finalizeForScoring()
            try Predictor(model: m).score(paths: inputs, output: output, metrics: &metrics)
        }
        if let metrics {
            if metrics.count == 0 {
                printError("ftrl-predict: no labels in the input: no metrics")
            } else {
                printError("ftrl-predict: \(metrics.summary)")
            }
        }
    }
}
