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
    /// Busy seconds of the input thread reading and decompressing.
    public var decodeSeconds = 0.0
    /// Busy seconds of the input thread parsing and hashing (or reading a cache).
    public var parseSeconds = 0.0
    /// Seconds the trainer spent in the stream's `next()`: parsing
    /// (`readerParseSeconds`) or waiting for parsed input.
    public var waitSeconds = 0.0
    /// Busy seconds of the trainer's thread parsing and hashing, when no
    /// block was ready (part of `waitSeconds`).
    public var readerParseSeconds = 0.0
    /// Decoded input bytes.
    public var bytes = 0
    /// The signal that stopped the run early (SIGINT, SIGTERM), or nil.
    public var interruptedBy: Int32?
    /// What became of the example cache (`--cache`).
    public var cache = CacheReport()
}

/// The FTRL update fed by blocks of examples from any producer (the file
/// reader, a test, a search over settings): each batch of `batch_size`
/// examples is scored with the weights at the start of the step, its
/// gradient summed per active slot, averaged, clipped, and only those slots
/// (and the bias) are updated with the step's learning rate; with EMA their
/// averages follow. A batch may span blocks; `flush()` ends a pass.
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

    /// The batch in progress, kept between blocks. Not copyable: its
    /// gradient buffers have one owner, which frees them once.
    private struct Batch: ~Copyable {
        var gradients = GradientAccumulator<F>()
        /// The rows of the block's features (see `BlockRows`).
        var rows = BlockRows()
        var bias: F = 0
        var examples = 0
        /// The model's training curve, step count, and the examples of this
        /// run, kept here while training (copied back to the model after each
        /// feed and before a checkpoint): the hot loops then touch no
        /// property of a class, whose accesses Swift checks at run time.
        var curve = TrainingCurve()
        var iterations: UInt64 = 0
        var consumed: UInt64 = 0
        var sinceCheckpoint = 0
    }
    private var batch = Batch()
    private let startExamples: UInt64

    /// Writes a checkpoint; called at a batch boundary after every
    /// `checkpointEvery` examples (with `model.examples` up to date).
    public var checkpoint: (() throws(FTRLError) -> Void)?
    /// Examples between checkpoints (0: none).
    public var checkpointEvery = 0
    /// Whether SIGINT and SIGTERM stop feeding at the next batch boundary (see `feed`).
    public var stopsOnSignal = false
    /// Receives each example's prediction, made before the step that learns
    /// from it, with its label (progressive validation metrics), or nil.
    public var recorder: PredictionRecorder?

    /// A trainer for `model`, with its config.
    public init(model: Model<F>) {
        self.model = model
        config = model.config
        batchSize = config.batchSize
        startExamples = model.examples
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
        batch.curve = model.curve
        batch.iterations = model.iterations
    }

    /// What one `feed` did.
    public struct Fed: Sendable {
        /// Examples learned from: all of the block's, or fewer when a stop was asked for.
        public var examples: Int
        /// Their summed logloss, each predicted before the step that learns from it.
        public var logLossSum: Double
    }

    /// Learns from the examples of `block`, in order.
    ///
    /// With `stopsOnSignal`, a SIGINT or SIGTERM makes it stop at the next
    /// batch boundary and return the examples it used: the model is then
    /// complete and resumable, as after those examples.
    /// - Parameters:
    ///   - block: the examples.
    ///   - weights: importance weights for the block's examples, in order
    ///     (at least `block.count` of them), beside any weight column; nil for none.
    /// - Returns: how many examples it used and their progressive logloss.
    /// - Throws: `FTRLError` when a step diverges or a schedule's rate is unusable;
    ///   the model is then partly trained and should not be saved.
    public func feed(_ block: ExampleBlock, weights: UnsafeBufferPointer<Double>? = nil) throws(FTRLError) -> Fed {
        try feed(block, examples: 0..<block.count, weights: weights)
    }

    /// Learns from the examples `examples` of `block`, in order (`weights`,
    /// when given, is indexed as the whole block's).
    public func feed(_ block: ExampleBlock, examples: Range<Int>, weights: UnsafeBufferPointer<Double>? = nil) throws(FTRLError) -> Fed {
        let fed = try run(block, examples, weights: weights, batch: &batch)
        publish(batch)
        return fed
    }

    /// Applies the batch in progress, if any, as one step: the end of a pass
    /// (a batch never spans two epochs).
    public func flush() throws(FTRLError) {
        if batch.examples > 0 { try step(&batch, checkpointEvery: checkpointEvery, table: model.table, rule: model.emaRule) }
        publish(batch)
    }

    /// Copies what the batch keeps during training to the model.
    private func publish(_ b: borrowing Batch) {
        model.examples = startExamples &+ b.consumed
        model.iterations = b.iterations
        model.curve = b.curve
    }

    /// The EMA rule and averages when weights are overwritten by their
    /// averages: then a weight must be brought up to date before it is read.
    private var lazyOverwrite: EMARule<F>? {
        guard let rule = model.emaRule, rule.overwriteFrequency != 0 else { return nil }
        return rule
    }

    /// Feeds one block into `current` (passed in, so that the hot loop works
    /// on a local batch without exclusivity checks on class storage).
    private func run(
        _ block: ExampleBlock, _ range: Range<Int>, weights: UnsafeBufferPointer<Double>?, batch current: inout Batch
    ) throws(FTRLError) -> Fed {
        let table = model.table
        let rule = model.emaRule
        let bias = model.bias
        // Rows: in a dense table the slots themselves.
        let slots = try current.rows.of(block, range, in: table)
        let values = block.values
        let offsets = block.offsets
        let labels = block.labels
        let rowWeights = block.hasWeights ? block.weights : nil
        let featureEnd = offsets[range.upperBound]
        // About three examples of a click log ahead: one example ahead
        // (a burst of ~40 prefetches) stalled on the full miss buffers.
        let prefetchAhead = 128
        let batchSize = self.batchSize
        let watchSignals = stopsOnSignal
        let lazyOverwrite = self.lazyOverwrite
        let recorder = self.recorder
        let checkpointEvery = self.checkpointEvery
        var lossSum = 0.0
        for e in range {
            if watchSignals && current.examples == 0 && ftrl_stop_signal() != 0 {
                return Fed(examples: e - range.lowerBound, logLossSum: lossSum)
            }
            let lo = offsets[e]
            let hi = offsets[e + 1]
            // The rows a fixed number of features ahead, one per feature, so
            // that misses overlap without a burst that fills the miss buffers.
            if hi &+ prefetchAhead <= featureEnd {
                for j in lo..<hi { table.prefetch(row: slots[j &+ prefetchAhead]) }
            } else {
                for j in lo..<hi where j &+ prefetchAhead < featureEnd { table.prefetch(row: slots[j &+ prefetchAhead]) }
            }
            var margin: F = 0
            if let lazyOverwrite {
                // A weight overwritten by its average since the slot was last
                // active is brought up to date before it is read.
                let t = current.iterations
                for j in lo..<hi {
                    let row = slots[j]
                    let step = table.step(row: row)
                    if step.pointee != 0 { lazyOverwrite.catchUp(table.slot(row: row), step, to: t) }
                    margin += table.weight(row: row) * F(fromDouble: values[j])
                }
            } else {
                for j in lo..<hi {
                    margin += table.weight(row: slots[j]) * F(fromDouble: values[j])
                }
            }
            let p = sigmoid(margin + bias.w)
            let y = F(labels[e])
            let loss = LogLoss.of(p.asDouble, label: y == 1)
            lossSum += loss
            current.curve.add(loss)
            recorder?.metrics.add(p.asDouble, label: y == 1)
            var residual = p - y
            if let weights { residual *= F(fromDouble: weights[e]) }
            if let rowWeights { residual *= F(fromDouble: rowWeights[e]) }
            current.gradients.add(slots, lo..<hi) { residual * F(fromDouble: values[$0]) }
            current.bias += residual
            current.examples += 1
            current.consumed &+= 1
            if current.examples == batchSize { try step(&current, checkpointEvery: checkpointEvery, table: table, rule: rule) }
        }
        return Fed(examples: range.count, logLossSum: lossSum)
    }

    /// Applies the batch's gradient: one step.
    @inline(__always)
    /// - Parameters: `table` and `rule` are the model's, passed in by the
    ///   caller (once per block): bound from `model` here, they were retained
    ///   and released on every step, one per example at batch size 1 (2.4%
    ///   of an EMA pass's samples).
    private func step(_ b: inout Batch, checkpointEvery: Int, table: WeightTable<F>, rule: EMARule<F>?) throws(FTRLError) {
        let t = b.iterations
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
        // One check per step for a number that is not finite, instead of a
        // branch per slot (see `Slot.nonFiniteProbe`).
        var overflow: F = 0
        let slots = b.gradients.slots
        let gradients = b.gradients.gradients
        let active = b.gradients.count
        let scale = F(b.examples)
        // x / 1 is x: a batch of one example skips the division.
        if b.examples != 1 { for i in 0..<active { gradients[i] /= scale } }
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
        let bias = model.bias
        if let rule {
            if t >= EMARule<F>.maxSteps {
                throw FTRLError(
                    .usage, "a model with use_ema can take at most \(EMARule<F>.maxSteps) steps (its slots keep 32-bit step counters)")
            }
            var i = 0
            if update.updatesFourAtOnce && active >= 4 {
                var probes = SIMD4<F>()
                let next = UInt32(truncatingIfNeeded: t &+ 1)
                while i &+ 4 <= active {
                    let r0 = slots[i]
                    let r1 = slots[i &+ 1]
                    let r2 = slots[i &+ 2]
                    let r3 = slots[i &+ 3]
                    let p0 = table.step(row: r0)
                    let p1 = table.step(row: r1)
                    let p2 = table.step(row: r2)
                    let p3 = table.step(row: r3)
                    // The averages are caught up inside (with overwrites, `run` did it as it read the weights).
                    let steps = SIMD4<UInt32>(p0.pointee, p1.pointee, p2.pointee, p3.pointee)
                    probes += update.apply(
                        table.slot(row: r0), table.slot(row: r1), table.slot(row: r2), table.slot(row: r3),
                        gradients: UnsafeRawPointer(gradients + i).loadUnaligned(as: SIMD4<F>.self), steps: steps,
                        recording: rule, at: t)
                    p0.pointee = next
                    p1.pointee = next
                    p2.pointee = next
                    p3.pointee = next
                    i &+= 4
                }
                overflow += probes.sum()
            }
            while i < active {
                let slot = table.slot(row: slots[i])
                let step = table.step(row: slots[i])
                let isNew = step.pointee == 0
                if !isNew { rule.catchUp(slot, step, to: t) }
                update.apply(slot, gradient: gradients[i], isNew: isNew)
                rule.record(slot, step, at: t)
                overflow += slot.nonFiniteProbe
                i &+= 1
            }
            update.apply(bias, gradient: biasGradient)
            var biasStep = UInt32(truncatingIfNeeded: t)
            var biasWeight = bias.w
            rule.record(&biasWeight, &model.biasAverage, &biasStep, at: t)
            bias.w = biasWeight
        } else {
            var i = 0
            if update.updatesFourAtOnce && active >= 4 {
                var probes = SIMD4<F>()
                while i &+ 4 <= active {
                    probes += update.apply(
                        table.slot(row: slots[i]), table.slot(row: slots[i &+ 1]), table.slot(row: slots[i &+ 2]),
                        table.slot(row: slots[i &+ 3]),
                        gradients: UnsafeRawPointer(gradients + i).loadUnaligned(as: SIMD4<F>.self))
                    i &+= 4
                }
                overflow += probes.sum()
            }
            while i < active {
                let slot = table.slot(row: slots[i])
                update.apply(slot, gradient: gradients[i])
                overflow += slot.nonFiniteProbe
                i &+= 1
            }
            update.apply(bias, gradient: biasGradient)
        }
        overflow += bias.nonFiniteProbe
        if overflow != 0 { throw diverged(at: t, examples: b.consumed) }
        b.sinceCheckpoint += b.examples
        b.gradients.clear()
        b.bias = 0
        b.examples = 0
        b.iterations = t + 1
        if checkpointEvery > 0 && b.sinceCheckpoint >= checkpointEvery, let checkpoint {
            b.sinceCheckpoint = 0
            publish(b)
            try checkpoint()
        }
    }
}

extension Trainer {
    /// The error for a step that left a number that is not finite in the
    /// model: nothing of the run may be saved.
    @inline(never)
    fileprivate func diverged(at t: UInt64, examples consumed: UInt64) -> FTRLError {
        Self.divergence(at: t, examples: startExamples + consumed)
    }

    /// The error for step `t` (0-based) overflowing after `examples` examples.
    @inline(never)
    static func divergence(at t: UInt64, examples: UInt64) -> FTRLError {
        FTRLError(
            .data,
            "training diverged at step \(t + 1), after \(examples) examples: the update overflowed "
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
final class StopWatcher: Sendable {
    private let stopped = DispatchSemaphore(value: 0)

    init(_ stream: StreamCanceller) {
        ftrl_install_stop_handlers()
        let thread = Thread { [stopped] in
            // Polls every 20 ms until stopped or a signal came.
            while stopped.wait(timeout: .now() + .milliseconds(20)) == .timedOut {
                if ftrl_stop_signal() != 0 {
                    stream.cancel()
                    return
                }
            }
        }
        thread.start()
    }

    func stop() {
        stopped.signal()
    }
}

/// Collects the predictions a `Trainer` makes before learning, for metrics
/// that need them all (AUC, the calibration table): 9 bytes per example.
public final class PredictionRecorder {
    public var metrics = Metrics()
    public init() {}
}
