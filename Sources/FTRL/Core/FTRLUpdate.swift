/// The FTRL-Proximal update of one slot, exactly as TensorFlow's
/// `SparseApplyFtrlV2` kernel computes it for a scalar slot, with the
/// per-step constants worked out once per step.
///
///     g2    = g + 2 * l2s * w
///     n_new = n + g * g
///     sigma = (n_new^(-p) - n^(-p)) / lr
///     z     = z + g2 - sigma * w
///     q     = n_new^(-p) / lr + 2 * (l2 + beta / (2 * lr))
///     w     = (clamp(z, -l1, l1) - z) / q     (0 when q = 0)
///     n     = n_new
public struct FTRLUpdate<F: FTRLScalar> {
    /// This step's learning rate.
    public let lr: F
    let negPower: F
    let useSqrt: Bool
    let l1: F
    /// `l2 + beta / (2 * lr)`, the L2 term TensorFlow's kernel receives from Keras.
    let l2Effective: F
    let twoShrinkage: F
    let hasShrinkage: Bool
    let initialN: F

    /// The constants of one step.
    /// - Parameters:
    ///   - config: the hyper-parameters.
    ///   - lr: the learning rate of this step.
    public init(config: FTRLConfig, lr: F) {
        self.lr = lr
        let p = F(fromDouble: config.learningRatePower)
        negPower = -p
        useSqrt = p == -0.5
        l1 = F(fromDouble: config.l1)
        l2Effective = F(fromDouble: config.l2) + F(fromDouble: config.beta) / (2 * lr)
        let l2s = F(fromDouble: config.l2Shrinkage)
        twoShrinkage = 2 * l2s
        hasShrinkage = l2s > 0
        initialN = F(fromDouble: config.initialAccumulatorValue)
    }

    /// What makes this step's constants unusable in the model's precision
    /// (a rate that rounds to 0, a term that overflows), or nil.
    public var problem: String? {
        let name = F.dtypeName
        if !(lr > 0) || !lr.isFinite { return "a learning rate must be > 0 and finite in \(name)" }
        if !(1 / lr).isFinite { return "the learning rate \(lr) is too small for \(name): 1 / learning_rate overflows" }
        if !l2Effective.isFinite {
            return "l2_regularization_strength + beta / (2 * learning_rate) overflows \(name)"
        }
        if !(l2Effective >= 0) { return "l2_regularization_strength + beta / (2 * learning_rate) must be >= 0" }
        if !twoShrinkage.isFinite { return "2 * l2_shrinkage_regularization_strength overflows \(name)" }
        if !initialN.isFinite { return "initial_accumulator_value overflows \(name)" }
        if !l1.isFinite { return "l1_regularization_strength overflows \(name)" }
        return nil
    }

    /// Updates a plain slot with the summed gradient `g`, marking it active.
    @inline(__always)
    public func apply(_ s: Slot<F>, gradient g: F) {
        var w = s.w
        var n = s.mark == 0 ? initialN : s.n
        var z = s.z
        update(&w, &n, &z, g)
        s.w = w
        s.n = n
        s.z = z
        s.mark = 1
    }

    /// Updates `w`, `n`, `z` of an EMA slot, whose activity the caller
    /// tracks; `isNew` for a slot never active before, whose `n` is implied.
    @inline(__always)
    func apply(_ s: Slot<F>, gradient g: F, isNew: Bool) {
        var w = s.w
        var n = isNew ? initialN : s.n
        var z = s.z
        update(&w, &n, &z, g)
        s.w = w
        s.n = n
        s.z = z
    }

    /// Whether `apply(_:_:_:_:gradients:)` can take this step's slots four
    /// at a time: the square-root schedule (`learning_rate_power` -0.5),
    /// whose roots are vector instructions.
    var updatesFourAtOnce: Bool { useSqrt }

    /// Updates four distinct plain slots with their summed gradients `g`,
    /// marking them active: `apply(_:gradient:)` in four lanes, the same
    /// operations in the same order, which IEEE-754 rounds in each lane as in
    /// the scalar code, so each slot ends bit for bit as `apply` leaves it
    /// (one vector square root and division serve four slots).
    /// Only when `updatesFourAtOnce`.
    /// - Returns: the slots' `nonFiniteProbe`s.
    @inline(__always)
    func apply(_ s0: Slot<F>, _ s1: Slot<F>, _ s2: Slot<F>, _ s3: Slot<F>, gradients g: SIMD4<F>) -> SIMD4<F> {
        typealias V = SIMD4<F>
        let a = UnsafeRawPointer(s0.base).loadUnaligned(as: V.self)
        let b = UnsafeRawPointer(s1.base).loadUnaligned(as: V.self)
        let c = UnsafeRawPointer(s2.base).loadUnaligned(as: V.self)
        let d = UnsafeRawPointer(s3.base).loadUnaligned(as: V.self)
        let n = LaneMath.accumulator(V(a[1], b[1], c[1], d[1]), mark: V(a[3], b[3], c[3], d[3]), initial: V(repeating: initialN))
        let (w, nNew, z) = update(V(a[0], b[0], c[0], d[0]), n, V(a[2], b[2], c[2], d[2]), g)
        UnsafeMutableRawPointer(s0.base).storeBytes(of: V(w[0], nNew[0], z[0], 1), as: V.self)
        UnsafeMutableRawPointer(s1.base).storeBytes(of: V(w[1], nNew[1], z[1], 1), as: V.self)
        UnsafeMutableRawPointer(s2.base).storeBytes(of: V(w[2], nNew[2], z[2], 1), as: V.self)
        UnsafeMutableRawPointer(s3.base).storeBytes(of: V(w[3], nNew[3], z[3], 1), as: V.self)
        return (w - w) + (nNew - nNew) + (z - z)
    }

    /// `apply(_:gradient:isNew:)` on four distinct EMA slots, then `rule`'s
    /// `record` of step `t` on each (their moving averages, and the
    /// overwrite when due; the caller sets their steps): the scalar path's
    /// operations in the same order, lane by lane. `steps`: the slots' steps
    /// before this one (0 for a slot never active). A rule that never
    /// overwrites has the averages caught up here, `catchUp`'s closed form
    /// in each lane, on the slots as read once: catching up in memory stored
    /// `w` and the average lane by lane, and the vector load of each slot
    /// then waited for those stores (the trainer of a 1M-row EMA pass: 0.84
    /// -> 0.70 s busy, medians of 9). With overwrites the trainer has
    /// already caught each slot up to `t` as it read its weight (an
    /// overwrite changes `w` too). Only when `updatesFourAtOnce`.
    /// - Returns: the slots' `nonFiniteProbe`s, after the record.
    @inline(__always)
    func apply(
        _ s0: Slot<F>, _ s1: Slot<F>, _ s2: Slot<F>, _ s3: Slot<F>, gradients g: SIMD4<F>, steps: SIMD4<UInt32>,
        recording rule: EMARule<F>, at t: UInt64
    ) -> SIMD4<F> {
        typealias V = SIMD4<F>
        let a = UnsafeRawPointer(s0.base).loadUnaligned(as: V.self)
        let b = UnsafeRawPointer(s1.base).loadUnaligned(as: V.self)
        let c = UnsafeRawPointer(s2.base).loadUnaligned(as: V.self)
        let d = UnsafeRawPointer(s3.base).loadUnaligned(as: V.self)
        let old = V(a[0], b[0], c[0], d[0])
        var average = V(a[3], b[3], c[3], d[3])
        if rule.overwriteFrequency == 0 {
            for i in 0..<4 where steps[i] != 0 {
                var w = old[i]
                var a = average[i]
                var s = steps[i]
                rule.catchUp(&w, &a, &s, to: t)
                average[i] = a
            }
        }
        let isNew = V(steps[0] == 0 ? 1 : 0, steps[1] == 0 ? 1 : 0, steps[2] == 0 ? 1 : 0, steps[3] == 0 ? 1 : 0)
        // A new slot's n is implied: `accumulator` takes the initial value where its mark is 0.
        let n = LaneMath.accumulator(V(a[1], b[1], c[1], d[1]), mark: 1 - isNew, initial: V(repeating: initialN))
        var (w, nNew, z) = update(old, n, V(a[2], b[2], c[2], d[2]), g)
        average = V(repeating: rule.momentum) * average + V(repeating: rule.oneMinusMomentum) * w
        if rule.overwrites(after: t) { w = average }
        UnsafeMutableRawPointer(s0.base).storeBytes(of: V(w[0], nNew[0], z[0], average[0]), as: V.self)
        UnsafeMutableRawPointer(s1.base).storeBytes(of: V(w[1], nNew[1], z[1], average[1]), as: V.self)
        UnsafeMutableRawPointer(s2.base).storeBytes(of: V(w[2], nNew[2], z[2], average[2]), as: V.self)
        UnsafeMutableRawPointer(s3.base).storeBytes(of: V(w[3], nNew[3], z[3], average[3]), as: V.self)
        return (w - w) + (nNew - nNew) + (z - z)
    }

    /// `update(_:_:_:_:)` in four lanes: the new `w`, `n` and `z`.
    @inline(__always)
    private func update(_ w: SIMD4<F>, _ n: SIMD4<F>, _ z: SIMD4<F>, _ g: SIMD4<F>) -> (SIMD4<F>, SIMD4<F>, SIMD4<F>) {
        typealias V = SIMD4<F>
        let g2 = hasShrinkage ? g + V(repeating: twoShrinkage) * w : g
        let nNew = n + g * g
        let rootNew = LaneMath.squareRoot(nNew)
        let rootOld = LaneMath.squareRoot(n)
        let lr = V(repeating: self.lr)
        let sigma = (rootNew - rootOld) / lr
        let zNew = z + g2 - sigma * w
        let q = rootNew / lr + V(repeating: 2 * l2Effective)
        return (LaneMath.weight(z: zNew, q: q, l1: V(repeating: l1), negativeL1: V(repeating: -l1)), nNew, zNew)
    }

    /// The weight that the update derives from a slot's `z` and `n` (its
    /// last line), for a state put together from others (a merge).
    public func weight(z: F, n: F) -> F {
        let root = useSqrt ? n.squareRoot() : F.power(n, negPower)
        let q = root / lr + 2 * l2Effective
        let clamped = Swift.max(Swift.min(z, l1), -l1)
        return q == 0 ? 0 : (clamped - z) / q
    }

    @inline(__always)
    private func update(_ w: inout F, _ n: inout F, _ z: inout F, _ g: F) {
        let g2 = hasShrinkage ? g + twoShrinkage * w : g
        let nNew = n + g * g
        let rootNew: F
        let rootOld: F
        if useSqrt {
            rootNew = nNew.squareRoot()
            rootOld = n.squareRoot()
        } else {
            rootNew = F.power(nNew, negPower)
            rootOld = F.power(n, negPower)
        }
        let sigma = (rootNew - rootOld) / lr
        z = z + g2 - sigma * w
        let q = rootNew / lr + 2 * l2Effective
        let clamped = Swift.max(Swift.min(z, l1), -l1)
        w = q == 0 ? 0 : (clamped - z) / q
        n = nNew
    }
}
