import CFTRLShims
import Foundation

/// What a training run did.
public struct TrainingSummary: Sendable {
    /// Examples consumed in this run, over all epochs.
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
    /// The signal that stopped the run early (SIGINT, SIGTERM), or nil.
    public var interruptedBy: Int32?
    /// Checkpoints written.
    public var checkpoints = 0
}

/// Streams examples through the FTRL update: each batch of `batch_size`
/// examples is scored with the weights at the start of the step, its
/// gradient summed per active slot, averaged, clipped, and only those slots
/// (and the bias) are updated with the step's learning rate; with EMA their
/// averages follow. Epochs replay the input files; a batch never spans two
/// epochs.
public final class Trainer<F: FTRLScalar> {
    /// The model being trained, updated in place.
    public let model: Model<F>
    private let config: FTRLConfig
    private let constantUpdate: FTRLUpdate<F>
    private let batchSize: Int
    private let clipping: Clipping

    private enum Clipping {
        case none
        case norm(F)
        case global(F)
        case value(F)
    }

    /// The batch in progress, kept between blocks.
    private struct Batch {
        var gradients = GradientAccumulator<F>()
        var bias: F = 0
        var examples = 0
    }
    private var batch = Batch()
    private var consumed: UInt64 = 0
    private var sinceCheckpoint = 0

    /// Writes a checkpoint; called at a batch boundary after every
    /// `checkpointEvery` examples (with `model.examples` up to date).
    public var checkpoint: (() throws(FTRLError) -> Void)?
    /// Examples between checkpoints (0: none).
    public var checkpointEvery = 0
    /// Whether SIGINT and SIGTERM stop the run gracefully (see `train`).
    public var stopsOnSignal = false

    /// A trainer for `model`, with its config.
    public init(model: Model<F>) {
        self.model = model
        config = model.config
        batchSize = config.batchSize
        constantUpdate = FTRLUpdate(config: config, lr: F(fromDouble: config.learningRate))
        if let c = config.clipnorm {
            clipping = .norm(F(fromDouble: c))
        } else if let c = config.globalClipnorm {
            clipping = .global(F(fromDouble: c))
        } else if let c = config.clipvalue {
            clipping = .value(F(fromDouble: c))
        } else {
            clipping = .none
        }
        model.table.prefault()
    }

    deinit { batch.gradients.deallocate() }

    /// Trains on `paths` for the config's epochs.
    ///
    /// With `stopsOnSignal`, SIGINT or SIGTERM makes it stop reading, finish
    /// the batch in progress and return with `interruptedBy` set: the model
    /// is then complete and resumable, as after the examples it consumed.
    /// - Parameters:
    ///   - paths: input files in order (`-` is standard input, readable once).
    ///   - weights: one importance weight per row of an epoch, or nil for all 1.
    ///   - weightsPath: the file the weights came from, for messages.
    ///   - progress: where progress goes.
    /// - Returns: what the run did.
    /// - Throws: `FTRLError` for bad input or a learning rate that is not
    ///   positive; the model is then partly trained and should not be saved.
    public func train(paths: [String], weights: [Double]?, weightsPath: String?, progress: Progress) throws(FTRLError) -> TrainingSummary {
        var summary = TrainingSummary()
        var lossSum = 0.0
        let start = Clock.now()
        let startExamples = model.examples
        defer { model.examples = startExamples + consumed }
        epochs: for epoch in 1...config.epochs {
            let stream = ExampleStream(paths: paths, hasher: model.hasher, schema: config.schema)
            let watcher = stopsOnSignal ? StopWatcher(stream) : nil
            defer {
                watcher?.stop()
                let busy = stream.finish(wait: summary.interruptedBy == nil)
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
                if model.config.schema.format != .libsvm && model.config.schema.columns == nil, let columns = stream.columns {
                    // The model remembers the columns it was trained on, for scoring.
                    model.config.schema.columns = columns.names
                }
                if let weights, row + block.count > weights.count {
                    throw FTRLError(.data, "has \(weights.count) example weights, fewer than the training rows", path: weightsPath)
                }
                let (used, loss) = try run(block, weights: weights, firstRow: row)
                let stopped = used < block.count
                epochLoss += loss
                row += used
                stream.recycle(block)  // the reader owns it from here on
                if stopped { break }
                let done = summary.examples + row
                progress.tick {
                    let rate = Double(done) / max(progress.elapsed, 1e-9)
                    let label = epoch == 1 ? "progressive logloss" : "epoch \(epoch) train logloss"
                    return "\(grouped(done)) examples  \(grouped(Int(rate))) ex/s  \(label) \(fixed(epochLoss / Double(max(row, 1)), 5))"
                }
            }
            if batch.examples > 0 { try step(&batch) }
            let signal = ftrl_stop_signal()
            if stopsOnSignal && signal != 0 { summary.interruptedBy = Int32(signal) }
            if summary.interruptedBy == nil, let weights, weights.count != row {
                throw FTRLError(.data, "has \(weights.count) example weights for \(row) training rows", path: weightsPath)
            }
            if epoch == 1 {
                summary.firstEpochExamples = row
                lossSum = epochLoss
            }
            summary.examples += row
            if row == 0 || summary.interruptedBy != nil { break epochs }
        }
        summary.progressiveLogLoss = summary.firstEpochExamples > 0 ? lossSum / Double(summary.firstEpochExamples) : 0
        summary.checkpoints = checkpointsWritten
        summary.seconds = Clock.now() - start
        return summary
    }

    private var checkpointsWritten = 0

    /// The EMA rule and averages when weights are overwritten by their
    /// averages: then a weight must be brought up to date before it is read.
    private var lazyOverwrite: EMARule<F>? {
        guard let rule = model.emaRule, rule.overwriteFrequency != 0 else { return nil }
        return rule
    }

    /// Feeds one block. Returns how many examples it consumed (fewer than
    /// the block holds only when a stop was asked for) and their summed logloss.
    private func run(_ block: ExampleBlock, weights: [Double]?, firstRow: Int) throws(FTRLError) -> (Int, Double) {
        let table = model.table
        let bias = model.bias
        let slots = block.slots
        let values = block.values
        let offsets = block.offsets
        let labels = block.labels
        let rowWeights = block.hasWeights ? block.weights : nil
        let count = block.count
        let batchSize = self.batchSize
        let watchSignals = stopsOnSignal
        let lazyOverwrite = self.lazyOverwrite
        // The batch lives in a local for the loop: no exclusivity checks on
        // class storage per feature.
        var current = batch
        defer { batch = current }
        var lossSum = 0.0
        for e in 0..<count {
            if watchSignals && current.examples == 0 && ftrl_stop_signal() != 0 {
                return (e, lossSum)
            }
            if e + 1 < count {
                for j in offsets[e + 1]..<offsets[e + 2] { table.prefetch(slots[j]) }
            }
            let lo = offsets[e]
            let hi = offsets[e + 1]
            var margin: F = 0
            if let lazyOverwrite {
                // A weight overwritten by its average since the slot was last
                // active is brought up to date before it is read.
                let t = model.iterations
                for j in lo..<hi {
                    let slot = slots[j]
                    let step = table.step(slot)
                    if step.pointee != 0 {
                        let w = table.pointer(slot)
                        lazyOverwrite.catchUp(&w[0], &w[3], &step.pointee, to: t)
                    }
                    margin += table.weight(slot) * F(fromDouble: values[j])
                }
            } else {
                for j in lo..<hi {
                    margin += table.weight(slots[j]) * F(fromDouble: values[j])
                }
            }
            let p = sigmoid(margin + bias[0])
            let y = F(labels[e])
            lossSum += LogLoss.of(p.asDouble, label: y == 1)
            var residual = p - y
            if let weights { residual *= F(fromDouble: weights[firstRow + e]) }
            if let rowWeights { residual *= F(fromDouble: rowWeights[e]) }
            for j in lo..<hi {
                current.gradients.add(slots[j], residual * F(fromDouble: values[j]))
            }
            current.bias += residual
            current.examples += 1
            consumed &+= 1
            if current.examples == batchSize { try step(&current) }
        }
        return (count, lossSum)
    }

    /// Applies the batch's gradient: one step.
    @inline(__always)
    private func step(_ b: inout Batch) throws(FTRLError) {
        let t = model.iterations
        let update: FTRLUpdate<F>
        if let schedule = config.schedule {
            let lr: F = schedule.rate(at: t)
            update = FTRLUpdate(config: config, lr: lr)
            if let problem = update.problem {
                throw FTRLError(.usage, "the \(schedule.className) learning rate at step \(t) is \(lr): \(problem)")
            }
        } else {
            update = constantUpdate
        }
        let table = model.table
        // x - x is 0 for a finite x and NaN otherwise: one check per step
        // instead of a branch per slot.
        var overflow: F = 0
        let slots = b.gradients.slots
        let gradients = b.gradients.gradients
        let active = b.gradients.count
        let scale = F(b.examples)
        for i in 0..<active { gradients[i] /= scale }
        var biasGradient = b.bias / scale
        switch clipping {
        case .none:
            break
        case .norm(let c):
            // Each variable on its own: g * c / max(||g||, c), as tf.clip_by_norm.
            var sum: F = 0
            for i in 0..<active { sum += gradients[i] * gradients[i] }
            let norm = sum > 0 ? sum.squareRoot() : 0
            for i in 0..<active { gradients[i] = gradients[i] * c / Swift.max(norm, c) }
            biasGradient = biasGradient * c / Swift.max(Swift.abs(biasGradient), c)
        case .global(let c):
            // One norm over kernel and bias: g * c * min(1 / norm, 1 / c), as tf.clip_by_global_norm.
            var sum: F = biasGradient * biasGradient
            for i in 0..<active { sum += gradients[i] * gradients[i] }
            let factor = c * Swift.min(1 / sum.squareRoot(), 1 / c)
            for i in 0..<active { gradients[i] *= factor }
            biasGradient *= factor
        case .value(let v):
            for i in 0..<active { gradients[i] = Swift.min(Swift.max(gradients[i], -v), v) }
            biasGradient = Swift.min(Swift.max(biasGradient, -v), v)
        }
        if let rule = model.emaRule {
            if t >= EMARule<F>.maxSteps {
                throw FTRLError(
                    .usage, "a model with use_ema can take at most \(EMARule<F>.maxSteps) steps (its slots keep 32-bit step counters)")
            }
            for i in 0..<active {
                let p = table.pointer(slots[i])
                let step = table.step(slots[i])
                let isNew = step.pointee == 0
                if !isNew { rule.catchUp(&p[0], &p[3], &step.pointee, to: t) }
                update.apply(p, gradient: gradients[i], isNew: isNew)
                rule.record(&p[0], &p[3], &step.pointee, at: t)
                overflow += (p[0] - p[0]) + (p[1] - p[1]) + (p[2] - p[2])
            }
            update.apply(model.bias, gradient: biasGradient)
            var biasStep = UInt32(truncatingIfNeeded: t)
            rule.record(&model.bias[0], &model.biasAverage, &biasStep, at: t)
        } else {
            for i in 0..<active {
                let p = table.pointer(slots[i])
                update.apply(p, gradient: gradients[i])
                overflow += (p[0] - p[0]) + (p[1] - p[1]) + (p[2] - p[2])
            }
            update.apply(model.bias, gradient: biasGradient)
        }
        let bias = model.bias
        overflow += (bias[0] - bias[0]) + (bias[1] - bias[1]) + (bias[2] - bias[2])
        if overflow != 0 { throw diverged(at: t) }
        sinceCheckpoint += b.examples
        b.gradients.clear()
        b.bias = 0
        b.examples = 0
        model.iterations = t + 1
        if checkpointEvery > 0 && sinceCheckpoint >= checkpointEvery, let checkpoint {
            sinceCheckpoint = 0
            let saved = model.examples
            model.examples += consumed
            defer { model.examples = saved }
            try checkpoint()
            checkpointsWritten += 1
        }
    }
}

extension Trainer {
    /// The error for a step that left a number that is not finite in the
    /// model: nothing of the run may be saved.
    @inline(never)
    fileprivate func diverged(at t: UInt64) -> FTRLError {
        FTRLError(
            .data,
            "training diverged at step \(t + 1), after \(grouped(Int(model.examples + consumed))) examples: the update overflowed "
                + "\(F.dtypeName) (a feature value or example weight too large for it, or extreme settings); scale the values"
                + (F.self == Float.self ? " or use --dtype float64" : ""))
    }
}

/// SIGINT and SIGTERM as requests to stop: the first sets a flag that the
/// trainer reads at each example (it then finishes its batch and the model
/// is written); a second ends the process at once.
public enum StopSignals {
    /// Takes over SIGINT and SIGTERM; a command calls it first thing, so that
    /// a signal while a model loads or the input opens is a stop request too.
    /// Installing more than once changes nothing.
    public static func install() {
        ftrl_install_stop_handlers()
    }
}

/// Watches for SIGINT/SIGTERM while a stream is read and cancels the stream
/// when one arrives, so that a trainer waiting for input wakes up.
final class StopWatcher {
    private let condition = NSCondition()
    private var running = true

    init(_ stream: ExampleStream) {
        ftrl_install_stop_handlers()
        let thread = Thread { [self] in
            while true {
                condition.lock()
                let stillRunning = running
                if stillRunning { _ = condition.wait(until: Date(timeIntervalSinceNow: 0.02)) }
                condition.unlock()
                if !stillRunning { return }
                if ftrl_stop_signal() != 0 {
                    stream.cancel()
                    return
                }
            }
        }
        thread.start()
    }

    func stop() {
        condition.lock()
        running = false
        condition.signal()
        condition.unlock()
    }
}
