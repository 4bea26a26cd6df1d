/// What a training run did.
public struct TrainingSummary: Sendable {
    /// Examples read in this run, over all epochs.
    public var examples = 0
    /// Examples of the first epoch (progressive validation covers these).
    public var firstEpochExamples = 0
    /// Mean logloss of each first-epoch example, predicted before the step that learns from it.
    public var progressiveLogLoss = 0.0
    /// Wall seconds of the run.
    public var seconds = 0.0
    /// Busy seconds of the decode thread (reading and decompressing).
    public var decodeSeconds = 0.0
    /// Busy seconds of the parse thread (parsing and hashing).
    public var parseSeconds = 0.0
    /// Seconds the trainer waited for parsed input.
    public var waitSeconds = 0.0
    /// Decoded input bytes.
    public var bytes = 0
}

/// Streams examples through the FTRL update: each batch of `batch_size`
/// examples is scored with the weights at the start of the step, its
/// gradient summed per active slot, and only those slots (and the bias) are
/// updated. Epochs replay the input files; a batch never spans two epochs.
public final class Trainer<F: FTRLScalar> {
    /// The model being trained, updated in place.
    public let model: Model<F>
    private let update: FTRLUpdate<F>
    private let batchSize: Int

    /// The batch in progress, kept between blocks.
    private struct Batch {
        var gradients = GradientAccumulator<F>()
        var bias: F = 0
        var examples = 0
    }
    private var batch = Batch()

    /// A trainer for `model`, with its config.
    public init(model: Model<F>) {
        self.model = model
        batchSize = model.config.batchSize
        update = FTRLUpdate(config: model.config, lr: F(fromDouble: model.config.learningRate))
        model.table.prefault()
    }

    deinit { batch.gradients.deallocate() }

    /// Trains on `paths` for the config's epochs.
    /// - Parameters:
    ///   - paths: input files in order (`-` is standard input, readable once).
    ///   - weights: one importance weight per row of an epoch, or nil for all 1.
    ///   - weightsPath: the file the weights came from, for messages.
    ///   - progress: where progress goes.
    /// - Returns: what the run did.
    /// - Throws: `FTRLError` for bad input; the model is then partly trained and should not be saved.
    public func train(paths: [String], weights: [Double]?, weightsPath: String?, progress: Progress) throws(FTRLError) -> TrainingSummary {
        var summary = TrainingSummary()
        var lossSum = 0.0
        let start = Clock.now()
        for epoch in 1...model.config.epochs {
            let stream = ExampleStream(paths: paths, hasher: model.hasher)
            defer {
                let busy = stream.finish()
                summary.decodeSeconds += busy.decode
                summary.parseSeconds += busy.parse
                summary.bytes += busy.bytes
            }
            var row = 0
            var epochLoss = 0.0
            while true {
                let t0 = Clock.now()
                guard let block = try stream.next() else { break }
                summary.waitSeconds += Clock.now() - t0
                if let weights, row + block.count > weights.count {
                    throw FTRLError(
                        .data, "has \(weights.count) example weights, fewer than the training rows",
                        path: weightsPath)
                }
                epochLoss += run(block, weights: weights, firstRow: row)
                row += block.count
                stream.recycle(block)
                let done = summary.examples + row
                progress.tick {
                    let rate = Double(done) / max(progress.elapsed, 1e-9)
                    let label = epoch == 1 ? "progressive logloss" : "epoch \(epoch) train logloss"
                    return "\(grouped(done)) examples  \(grouped(Int(rate))) ex/s  \(label) \(fixed(epochLoss / Double(row), 5))"
                }
            }
            if batch.examples > 0 { step(&batch) }
            if let weights, weights.count != row {
                throw FTRLError(.data, "has \(weights.count) example weights for \(row) training rows", path: weightsPath)
            }
            if epoch == 1 {
                summary.firstEpochExamples = row
                lossSum = epochLoss
            }
            summary.examples += row
            if row == 0 { break }
        }
        model.examples += UInt64(summary.examples)
        summary.seconds = Clock.now() - start
        summary.progressiveLogLoss = summary.firstEpochExamples > 0 ? lossSum / Double(summary.firstEpochExamples) : 0
        return summary
    }

    /// Feeds one block; returns the summed logloss of its examples.
    private func run(_ block: ExampleBlock, weights: [Double]?, firstRow: Int) -> Double {
        let table = model.table
        let bias = model.bias
        let slots = block.slots
        let values = block.values
        let offsets = block.offsets
        let labels = block.labels
        let count = block.count
        let batchSize = self.batchSize
        // The batch lives in a local for the loop: no exclusivity checks on
        // class storage per feature.
        var current = batch
        var lossSum = 0.0
        for e in 0..<count {
            if e + 1 < count {
                for j in offsets[e + 1]..<offsets[e + 2] { table.prefetch(slots[j]) }
            }
            let lo = offsets[e]
            let hi = offsets[e + 1]
            var margin: F = 0
            for j in lo..<hi {
                margin += table.weight(slots[j]) * F(fromDouble: values[j])
            }
            let p = sigmoid(margin + bias[0])
            let y = F(labels[e])
            lossSum += LogLoss.of(p.asDouble, label: y == 1)
            var residual = p - y
            if let weights { residual *= F(fromDouble: weights[firstRow + e]) }
            for j in lo..<hi {
                current.gradients.add(slots[j], residual * F(fromDouble: values[j]))
            }
            current.bias += residual
            current.examples += 1
            if current.examples == batchSize { step(&current) }
        }
        batch = current
        return lossSum
    }

    /// Applies the summed gradient of the batch: one step.
    @inline(__always)
    private func step(_ b: inout Batch) {
        let table = model.table
        let scale = F(b.examples)
        let slots = b.gradients.slots
        let gradients = b.gradients.gradients
        for i in 0..<b.gradients.count {
            update.apply(table.pointer(slots[i]), gradient: gradients[i] / scale)
        }
        update.apply(model.bias, gradient: b.bias / scale)
        b.gradients.clear()
        b.bias = 0
        b.examples = 0
        model.iterations += 1
    }
}
