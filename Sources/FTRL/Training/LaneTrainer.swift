import CFTRLShims

/// Up to four settings of a search trained together, each as one lane of
/// `SIMD4` arithmetic: one pass over an example's slots reads the weights of
/// every setting (their tables are interleaved, so the slots of all settings
/// sit side by side), one accumulator sums the duplicates of a step for all
/// of them, and one update computes the square roots and divisions of four
/// settings at the price of one.
///
/// Each lane computes exactly what `Trainer` computes for its setting:
/// the same operations in the same order, and IEEE-754 rounds a lane's
/// square root, division, product and sum as it rounds the scalar ones
/// (`min` and `max` are written out to keep Swift's choice on ties and NaN).
/// So a lane's model is byte for byte the model of a run with its setting
/// alone, as the search's tests check.
///
/// It takes the plain case that searches meet: no EMA, no clipping, a
/// constant learning rate, tables laid out side by side (`canTrain`).
/// Others go through one `Trainer` per setting.
final class LaneTrainer<F: FTRLScalar> {
    typealias Lanes = SIMD4<F>

    /// The models of the lanes in use (1 to 4); the other lanes compute on
    /// copies of lane 0's slots and are never stored.
    let models: [Model<F>]
    let count: Int
    /// The lanes' settings: their indices in the caller's per-setting buffers.
    let indices: [Int]
    private let raw: UnsafeMutableRawPointer
    private let stride: Int
    /// Scalars from one lane's slot to the next.
    private let laneScalars: Int
    private let batchSize: Int
    private let updates: [FTRLUpdate<F>]
    private let lr: Lanes
    private let l1: Lanes
    private let negativeL1: Lanes
    private let twoL2: Lanes
    private let twoShrinkage: Lanes
    /// Lanes with L2 shrinkage.
    private let shrinking: [Int]
    private let initialN: Lanes
    private let negPower: Lanes
    /// Each lane's bias (lanes past `count`: lane 0's, read and never written).
    private let biasBases: [UnsafeMutablePointer<F>]
    /// Lanes whose `learning_rate_power` is not -0.5 (their roots use `power`).
    private let powered: [Int]

    /// The batch in progress, kept between calls. Passed by `inout` into the
    /// loops, so that they work on it without an exclusivity check per access.
    private struct Batch: ~Copyable {
        var gradients = GradientAccumulator<Lanes>()
        /// The rows of the block's features (see `BlockRows`).
        var rows = BlockRows()
        var biasGradient = Lanes()
        var examples = 0
    }
    private var batch = Batch()
    /// Whether each lane learns: false once it failed or its setting stopped.
    private var learning: [Bool]
    /// Each lane's training curve (copied to its model after each call).
    private var curves: [TrainingCurve]

    /// Whether `models` can be trained as lanes: 1 to 4 of them, plain
    /// (no EMA, no clipping, no schedule), with one batch size, and tables
    /// side by side in one buffer (`WeightTable.interleaved`), in order.
    static func canTrain(_ models: [Model<F>]) -> Bool {
        guard let first = models.first, models.count <= 4 else { return false }
        let t0 = first.table
        for (l, m) in models.enumerated() {
            let c = m.config
            if c.useEMA || m.emaRule != nil || c.schedule != nil || c.clipnorm != nil || c.globalClipnorm != nil
                || c.clipvalue != nil || c.batchSize != first.config.batchSize
            {
                return false
            }
            let t = m.table
            if t.hasEMA || t.stride != t0.stride || t.slotBytes != t0.slotBytes || t.bits != t0.bits
                || t.raw != t0.raw + l * t0.slotBytes
            {
                return false
            }
        }
        return true
    }

    /// Lanes for `models`, which `canTrain` accepts, of the settings `indices`.
    init(models: [Model<F>], indices: [Int]) {
        precondition(Self.canTrain(models) && indices.count == models.count)
        self.models = models
        self.indices = indices
        count = models.count
        raw = models[0].table.raw
        stride = models[0].table.stride
        laneScalars = models[0].table.slotBytes / MemoryLayout<F>.stride
        batchSize = models[0].config.batchSize
        let updates = models.map { FTRLUpdate<F>(config: $0.config, lr: F(fromDouble: $0.config.learningRate)) }
        self.updates = updates
        func lanes(_ value: (FTRLUpdate<F>) -> F) -> Lanes {
            var v = Lanes()
            for l in 0..<4 { v[l] = value(updates[l < updates.count ? l : 0]) }
            return v
        }
        lr = lanes(\.lr)
        l1 = lanes(\.l1)
        negativeL1 = -l1
        twoL2 = lanes { 2 * $0.l2Effective }
        twoShrinkage = lanes(\.twoShrinkage)
        shrinking = (0..<updates.count).filter { updates[$0].hasShrinkage }
        initialN = lanes(\.initialN)
        negPower = lanes(\.negPower)
        powered = (0..<updates.count).filter { !updates[$0].useSqrt }
        learning = [Bool](repeating: true, count: models.count)
        curves = models.map(\.curve)
        biasBases = (0..<4).map { models[$0 < models.count ? $0 : 0].bias.base }
    }

    /// The first scalar of slot `index` in lane `lane`.
    @inline(__always)
    private func scalars(_ index: UInt32, lane: Int) -> UnsafeMutablePointer<F> {
        (raw + Int(index) &* stride).assumingMemoryBound(to: F.self) + lane &* laneScalars
    }

    /// Field `field` (0 w, 1 n, 2 z, 3 mark) of slot `index` in every lane.
    @inline(__always)
    private func load(_ index: UInt32, _ field: Int) -> Lanes {
        let p = scalars(index, lane: 0) + field
        let s = laneScalars
        let c = count
        return Lanes(p[0], p[c > 1 ? s : 0], p[c > 2 ? 2 &* s : 0], p[c > 3 ? 3 &* s : 0])
    }

    /// Learns from the examples `range` of `block` with the lanes whose
    /// setting is still training: `running[indices[l]]`, and no error in
    /// `failures[indices[l]]` (a lane never learns again once it stopped).
    /// Adds each lane's progressive logloss to `losses[indices[l]]` and puts
    /// the error of a lane that diverges in `failures[indices[l]]`.
    func feed(
        _ block: ExampleBlock, examples range: Range<Int>, weights: UnsafeBufferPointer<Double>?, running: [Bool],
        losses: UnsafeMutableBufferPointer<Double>, failures: UnsafeMutableBufferPointer<FTRLError?>
    ) {
        for l in 0..<count where !running[indices[l]] || failures[indices[l]] != nil { learning[l] = false }
        feed(block, range, weights, losses, failures, &batch)
    }

    private func feed(
        _ block: ExampleBlock, _ range: Range<Int>, _ weights: UnsafeBufferPointer<Double>?, _ losses: UnsafeMutableBufferPointer<Double>,
        _ failures: UnsafeMutableBufferPointer<FTRLError?>, _ batch: inout Batch
    ) {
        let table = models[0].table
        // Rows: in a dense table the slots themselves.
        let slots: UnsafeMutablePointer<UInt32>
        do {
            slots = try batch.rows.of(block, range, in: table)
        } catch {
            // A sparse table that cannot grow stops every lane.
            for l in 0..<count where learning[l] {
                failures[indices[l]] = error
                learning[l] = false
            }
            return
        }
        let values = block.values
        let offsets = block.offsets
        let labels = block.labels
        let rowWeights = block.hasWeights ? block.weights : nil
        // A sparse table's rows are known for this range only.
        let blockEnd = table.isSparse ? range.upperBound : block.count
        var biasW = Lanes()
        var live = learning
        var curves = self.curves
        self.curves = []  // so that the local copy is the only one, changed in place
        var lossSums = SIMD4<Double>()
        var pending: UInt64 = 0
        let span = count &* laneScalars &* MemoryLayout<F>.stride - 1
        /// Counts the examples fed since the last call in the learning lanes' models.
        func credit() {
            for l in 0..<count where live[l] { models[l].examples &+= pending }
            pending = 0
        }
        for l in 0..<4 { biasW[l] = models[l < count ? l : 0].bias.w }
        for e in range {
            // The next example's slots, across the end of the chunk too: the
            // next call of a worker with one group of lanes goes on from it.
            if e + 1 < blockEnd {
                for j in offsets[e + 1]..<offsets[e + 2] {
                    let p = UnsafeRawPointer(raw + Int(slots[j]) &* stride)
                    ftrl_prefetch(p)
                    ftrl_prefetch(p + span)
                }
            }
            let lo = offsets[e]
            let hi = offsets[e + 1]
            var margin = Lanes()
            for j in lo..<hi {
                margin += load(slots[j], 0) * Lanes(repeating: F(fromDouble: values[j]))
            }
            let y = F(labels[e])
            let clicked = y == 1
            var residual = Lanes()
            for l in 0..<count {
                let p = sigmoid(margin[l] + biasW[l])
                residual[l] = p - y
                let loss = LogLoss.of(p.asDouble, label: clicked)
                lossSums[l] += loss
                curves[l].add(loss)
            }
            if let weights { residual *= Lanes(repeating: F(fromDouble: weights[e])) }
            if let rowWeights { residual *= Lanes(repeating: F(fromDouble: rowWeights[e])) }
            batch.gradients.add(slots, lo..<hi) { residual * Lanes(repeating: F(fromDouble: values[$0])) }
            batch.biasGradient += residual
            batch.examples += 1
            pending &+= 1
            if batch.examples == batchSize {
                credit()
                step(failures, &batch)
                for l in 0..<count where !learning[l] && live[l] {
                    // Diverged in this step: its logloss so far stays as it was.
                    losses[indices[l]] += lossSums[l]
                    lossSums[l] = 0
                    live[l] = false
                }
                for l in 0..<4 { biasW[l] = models[l < count ? l : 0].bias.w }
            }
        }
        credit()
        for l in 0..<count where live[l] {
            losses[indices[l]] += lossSums[l]
            models[l].curve = curves[l]
        }
        self.curves = curves
    }

    /// Applies the batch in progress, if any: the end of a pass. Puts the
    /// error of a lane that diverges in `failures[indices[l]]`.
    func flush(failures: UnsafeMutableBufferPointer<FTRLError?>) {
        if batch.examples > 0 { step(failures, &batch) }
    }

    /// One step of every learning lane: `Trainer.step`'s plain case, lane by lane.
    private func step(_ failures: UnsafeMutableBufferPointer<FTRLError?>, _ batch: inout Batch) {
        let scale = Lanes(repeating: F(batch.examples))
        let active = batch.gradients.count
        let keys = batch.gradients.slots
        let sums = batch.gradients.gradients
        var overflow = Lanes()
        let c = count
        let s = laneScalars
        let learning = self.learning
        let storeAll = learning.allSatisfy { $0 }
        for i in 0..<active {
            let g = sums[i] / scale
            let p = scalars(keys[i], lane: 0)
            var w = Lanes(p[0], p[c > 1 ? s : 0], p[c > 2 ? 2 &* s : 0], p[c > 3 ? 3 &* s : 0])
            var n = Lanes(p[1], p[c > 1 ? s + 1 : 1], p[c > 2 ? 2 &* s + 1 : 1], p[c > 3 ? 3 &* s + 1 : 1])
            var z = Lanes(p[2], p[c > 1 ? s + 2 : 2], p[c > 2 ? 2 &* s + 2 : 2], p[c > 3 ? 3 &* s + 2 : 2])
            let mark = Lanes(p[3], p[c > 1 ? s + 3 : 3], p[c > 2 ? 2 &* s + 3 : 3], p[c > 3 ? 3 &* s + 3 : 3])
            n = LaneMath.accumulator(n, mark: mark, initial: initialN)
            update(&w, &n, &z, g)
            overflow += (w - w) + (n - n) + (z - z)
            if storeAll {
                for l in 0..<c {
                    let q = p + l &* s
                    q[0] = w[l]
                    q[1] = n[l]
                    q[2] = z[l]
                    q[3] = 1
                }
            } else {
                for l in 0..<c where learning[l] {
                    let q = p + l &* s
                    q[0] = w[l]
                    q[1] = n[l]
                    q[2] = z[l]
                    q[3] = 1
                }
            }
        }
        // The bias of every lane, as a slot of the lanes (the same update as
        // `FTRLUpdate.apply` on the bias).
        let biasGradient = batch.biasGradient / scale
        let b = biasBases
        var w = Lanes(b[0][0], b[1][0], b[2][0], b[3][0])
        var n = Lanes(b[0][1], b[1][1], b[2][1], b[3][1])
        var z = Lanes(b[0][2], b[1][2], b[2][2], b[3][2])
        n = LaneMath.accumulator(n, mark: Lanes(b[0][3], b[1][3], b[2][3], b[3][3]), initial: initialN)
        update(&w, &n, &z, biasGradient)
        overflow += (w - w) + (n - n) + (z - z)
        for l in 0..<c where learning[l] {
            b[l][0] = w[l]
            b[l][1] = n[l]
            b[l][2] = z[l]
            b[l][3] = 1
            let model = models[l]
            let t = model.iterations
            model.iterations = t + 1
            if overflow[l] != 0 {
                self.learning[l] = false
                failures[indices[l]] = Trainer<F>.divergence(at: t, examples: model.examples)
            }
        }
        batch.gradients.clear()
        batch.biasGradient = Lanes()
        batch.examples = 0
    }

    /// `FTRLUpdate.update` in every lane.
    @inline(__always)
    private func update(_ w: inout Lanes, _ n: inout Lanes, _ z: inout Lanes, _ g: Lanes) {
        var g2 = g
        for l in shrinking { g2[l] = g[l] + twoShrinkage[l] * w[l] }
        let nNew = n + g * g
        var rootNew = LaneMath.squareRoot(nNew)
        var rootOld = LaneMath.squareRoot(n)
        for l in powered {
            rootNew[l] = F.power(nNew[l], negPower[l])
            rootOld[l] = F.power(n[l], negPower[l])
        }
        let sigma = (rootNew - rootOld) / lr
        z = z + g2 - sigma * w
        let q = rootNew / lr + twoL2
        w = LaneMath.weight(z: z, q: q, l1: l1, negativeL1: negativeL1)
        n = nNew
    }
}
