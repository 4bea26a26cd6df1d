import CFTRLShims

/// Where a run over files is, for a progress line.
public struct PassProgress: Sendable {
    /// The epoch, from 1.
    public var epoch: Int
    /// Examples of this epoch so far.
    public var examples: Int
    /// Examples of all epochs so far.
    public var totalExamples: Int
    /// Mean logloss of this epoch's examples, each predicted before it was learned.
    public var logLoss: Double
    /// The input read in this epoch and of all epochs: see `InputShare`.
    public var input = InputShare()
}

/// How much of a run's input was read, when the input's size is known.
public struct InputShare: Sendable {
    /// Bytes of the input files read in this epoch (compressed ones for gzip).
    public var bytesRead = 0
    /// The bytes of the input files, when all are regular files, else nil.
    public var size: Int?
    /// This epoch (from 1) and the run's epochs.
    public var epoch = 1
    public var epochs = 1

    public init() {}

    public init(_ stream: ExampleStream, epoch: Int, epochs: Int) {
        bytesRead = stream.bytesRead
        size = stream.size
        self.epoch = epoch
        self.epochs = epochs
    }

    /// The share of the whole run done, from 0 to 1, over all epochs; nil when the size is not known.
    public var done: Double? {
        guard let size, size > 0, epochs > 0 else { return nil }
        let pass = min(1, Double(bytesRead) / Double(size))
        return (Double(epoch - 1) + pass) / Double(epochs)
    }
}

extension Trainer {
    /// Trains on `paths` for the config's epochs: the file reader
    /// (`ExampleStream`) as the producer of blocks for `feed(_:weights:)`.
    ///
    /// With `stopsOnSignal`, SIGINT or SIGTERM makes it stop reading, finish
    /// the batch in progress and return with `interruptedBy` set: the model
    /// is then complete and resumable, as after the examples it consumed.
    /// - Parameters:
    ///   - paths: input files in order (`-` is standard input, readable once).
    ///   - weights: one importance weight per row of an epoch, or nil for all 1.
    ///   - weightsPath: the file the weights came from, for messages.
    ///   - progress: called after each block.
    ///   - cache: read the examples from a cache, or write one in the first pass (`--cache`).
    /// - Returns: what the run did.
    /// - Throws: `FTRLError` for bad input or a learning rate that is not
    ///   positive; the model is then partly trained and should not be saved.
    public func train(
        paths: [String], weights: [Double]?, weightsPath: String?, cache: CachePlan? = nil, progress: (PassProgress) -> Void = { _ in }
    ) throws(FTRLError) -> TrainingSummary {
        var summary = TrainingSummary()
        var lossSum = 0.0
        let start = Clock.now()
        let firstPass = recorder
        defer { recorder = firstPass }
        let inputs = EpochInputs(paths: paths, hasher: model.hasher, bits: model.config.bits, cache: cache)
        epochs: for epoch in 1...model.config.epochs {
            recorder = epoch == 1 ? firstPass : nil  // progressive validation covers the first pass
            let pass = try inputs.open(epoch: epoch, schema: model.config.schema, stopsOnSignal: stopsOnSignal)
            let stream = pass.stream
            func finish() {
                guard let busy = pass.end(wait: summary.interruptedBy == nil) else { return }
                summary.decodeSeconds += busy.decode
                summary.parseSeconds += busy.parse
                summary.readerParseSeconds += busy.readerParse
                summary.bytes += busy.bytes
            }
            defer { finish() }
            // The table fully mapped before the first example: a slot read
            // before its page is mapped maps the shared zero page, and its
            // first write then costs a second fault and a TLB shootdown.
            if epoch == 1 { model.table.awaitPrefault() }
            var row = 0
            var epochLoss = 0.0
            while true {
                let t0 = Clock.now()
                guard let block = try stream.next() else { break }
                summary.waitSeconds += Clock.now() - t0
                if model.config.schema.format != .libsvm && model.config.schema.columns == nil, let columns = stream.columnNames {
                    // The model remembers the columns it was trained on, for scoring.
                    model.config.schema.columns = columns
                }
                let fed: Fed
                if let weights {
                    if row + block.count > weights.count {
                        throw FTRLError(.data, "has \(weights.count) example weights, fewer than the training rows", path: weightsPath)
                    }
                    fed = try weights.withUnsafeBufferPointer { all throws(FTRLError) in
                        try feed(block, weights: UnsafeBufferPointer(rebasing: all[row..<row + block.count]))
                    }
                } else {
                    fed = try feed(block)
                }
                let stopped = fed.examples < block.count
                epochLoss += fed.logLossSum
                row += fed.examples
                stream.recycle(block)  // the reader owns it from here on
                if stopped { break }
                progress(
                    PassProgress(
                        epoch: epoch, examples: row, totalExamples: summary.examples + row, logLoss: epochLoss / Double(max(row, 1)),
                        input: InputShare(stream, epoch: epoch, epochs: model.config.epochs)))
            }
            try flush()
            let signal = ftrl_stop_signal()
            if stopsOnSignal && signal != 0 { summary.interruptedBy = Int32(signal) }
            if summary.interruptedBy == nil, let weights, weights.count != row {
                throw FTRLError(.data, "has \(weights.count) example weights for \(row) training rows", path: weightsPath)
            }
            if epoch == 1 {
                summary.firstEpochExamples = row
                lossSum = epochLoss
            }
            if epoch == 1 {
                finish()  // the input thread is done with the cache
                inputs.endFirstPass(stream, complete: summary.interruptedBy == nil)
            }
            summary.examples += row
            if row == 0 || summary.interruptedBy != nil { break epochs }
        }
        summary.progressiveLogLoss = summary.firstEpochExamples > 0 ? lossSum / Double(summary.firstEpochExamples) : 0
        summary.seconds = Clock.now() - start
        summary.cache = inputs.report
        return summary
    }
}
