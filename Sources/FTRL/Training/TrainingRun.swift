/// One training run over files on a model of either precision: the file
/// reader feeds a `Trainer`, checkpoints are written as asked, and the model
/// is written at the end. What the run reports is left to the caller's
/// closures.
///
/// It lives in the library, and commands call `run(on:)`, because generic
/// code is compiled specialized only where its types are known: a generic
/// body run from another module (the command-line target) ran unspecialized,
/// through value witnesses, 8 times slower (8.2 s against 1.0 s of update
/// time for 1M rows).
public struct TrainingRun: ModelBody {
    /// Input files in order (`-` is standard input).
    public var inputs: [String]
    /// One importance weight per row of an epoch, or nil.
    public var weights: [Double]?
    /// The file the weights came from, for messages.
    public var weightsPath: String?
    /// Where the model goes at the end, or nil to write none.
    public var modelPath: String?
    /// Where checkpoints go, or nil for none.
    public var checkpointPath: String?
    /// Examples between checkpoints.
    public var checkpointEvery = 0
    /// Read the examples from a cache, or write one in the first pass (`--cache`).
    public var cache: CachePlan?
    /// Whether SIGINT and SIGTERM stop the run with a complete model.
    public var stopsOnSignal = false
    /// Whether to keep the first pass's predictions for `Outcome.progressiveMetrics`.
    public var recordsPredictions = false
    /// Called after each block read.
    public var onProgress: (PassProgress) -> Void = { _ in }
    /// Called after each checkpoint: examples and steps in all, and its path.
    public var onCheckpoint: (_ examples: UInt64, _ steps: UInt64, _ path: String) -> Void = { _, _, _ in }

    /// A run over `inputs`.
    public init(inputs: [String]) {
        self.inputs = inputs
    }

    /// What a run did, with the model's counters at its end.
    public struct Outcome: Sendable {
        public var summary: TrainingSummary
        /// Examples the model has consumed over all runs.
        public var examples: UInt64
        /// Steps the model has taken over all runs.
        public var iterations: UInt64
        /// The first pass's predictions, each made before the step that learnt from it, against
        /// their labels (with `recordsPredictions`).
        public var progressiveMetrics: Metrics?
    }

    /// Trains `model` in its own precision and writes it. Call this, not
    /// `model.open(run)`, from outside the library: here the call has
    /// concrete types, so the compiler specializes the whole run.
    /// - Throws: `FTRLError`; the file at `modelPath` is then untouched.
    public func run(on model: AnyModel) throws(FTRLError) -> Outcome {
        try model.open(self)
    }

    /// Trains `model` and writes it.
    /// - Throws: `FTRLError`; the file at `modelPath` is then untouched.
    public func run<F: FTRLScalar>(_ model: Model<F>) throws(FTRLError) -> Outcome {
        try model.table.checkMemoryForTraining()
        let trainer = Trainer(model: model)
        trainer.stopsOnSignal = stopsOnSignal
        let recorder = recordsPredictions ? PredictionRecorder() : nil
        trainer.recorder = recorder
        if let path = checkpointPath {
            trainer.checkpointEvery = checkpointEvery
            let report = onCheckpoint
            trainer.checkpoint = { () throws(FTRLError) in
                try ModelFile.write(model, to: path)
                report(model.examples, model.iterations, path)
            }
        }
        let summary = try trainer.train(
            paths: inputs, weights: weights, weightsPath: weightsPath, cache: cache, progress: onProgress)
        if summary.examples == 0 && summary.interruptedBy == nil {
            throw FTRLError(.data, "no examples in the input", path: inputs.count == 1 ? inputs[0] : nil)
        }
        if let path = modelPath {
            try ModelFile.write(model, to: path)
        }
        return Outcome(summary: summary, examples: model.examples, iterations: model.iterations, progressiveMetrics: recorder?.metrics)
    }
}
