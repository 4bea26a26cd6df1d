/// The lazily kept moving average of one kernel slot: the average as it
/// stood after `step` steps. Between two active steps a slot's weight is
/// constant, so the steps in between fold into one closed form.
struct EMASlot<F: FTRLScalar> {
    var average: F
    var step: UInt64
}

/// The EMA settings of a run in the model's precision, with `m^k` for small
/// `k` tabulated (the same `pow` values, looked up instead of recomputed).
struct EMARule<F: FTRLScalar> {
    let momentum: F
    let oneMinusMomentum: F
    /// 0 when the weights are never overwritten.
    let overwriteFrequency: UInt64
    private let powers: UnsafeMutablePointer<F>
    private static var tabulated: Int { 4096 }

    init(config: FTRLConfig) {
        momentum = F(fromDouble: config.emaMomentum)
        oneMinusMomentum = 1 - momentum
        overwriteFrequency = UInt64(config.emaOverwriteFrequency ?? 0)
        powers = .allocate(capacity: Self.tabulated)
        for k in 0..<Self.tabulated { powers[k] = F.power(momentum, F(k)) }
    }

    func deallocate() { powers.deallocate() }

    /// `momentum^k`.
    @inline(__always)
    func power(_ k: UInt64) -> F {
        k < UInt64(Self.tabulated) ? powers[Int(k)] : F.power(momentum, F(k))
    }

    /// Whether the weights are overwritten by their averages after step `t`.
    @inline(__always)
    func overwrites(after t: UInt64) -> Bool {
        overwriteFrequency != 0 && (t &+ 1) % overwriteFrequency == 0
    }

    /// Brings a slot whose weight `w` has not changed since `slot.step` up to
    /// `t` steps: `t - step` EMA updates with a constant weight, cut short by
    /// the first overwrite in between (after which `w == a` and both stay).
    @inline(__always)
    func catchUp(_ w: inout F, _ slot: inout EMASlot<F>, to t: UInt64) {
        let s = slot.step
        if s >= t { return }
        if overwriteFrequency != 0 {
            // The first step j >= s after which an overwrite happens.
            let j = (s + overwriteFrequency) / overwriteFrequency * overwriteFrequency - 1
            if j < t {
                let a = w + (slot.average - w) * power(j + 1 - s)
                w = a
                slot.average = a
                slot.step = t
                return
            }
        }
        slot.average = w + (slot.average - w) * power(t - s)
        slot.step = t
    }

    /// One step's EMA update of a slot just updated at step `t`, then the overwrite if due.
    @inline(__always)
    func record(_ w: inout F, _ slot: inout EMASlot<F>, at t: UInt64) {
        slot.average = momentum * slot.average + oneMinusMomentum * w
        slot.step = t &+ 1
        if overwrites(after: t) { w = slot.average }
    }
}
