/// The tables of `m^k`: `m^(k mod 4096)` and `m^(4096 * (k div 4096))`.
/// Not copyable: the one value owns the buffers and frees them once.
struct MomentumPowers<F: FTRLScalar>: ~Copyable {
    let low: UnsafeMutablePointer<F>
    let high: UnsafeMutablePointer<F>

    init(_ momentum: F) {
        low = .allocate(capacity: 4096)
        high = .allocate(capacity: 4096)
        for k in 0..<4096 {
            low[k] = F.power(momentum, F(k))
            high[k] = F.power(momentum, F(k * 4096))
        }
    }

    deinit {
        low.deallocate()
        high.deallocate()
    }
}

/// The EMA settings of a run in the model's precision. `m^k` comes from two
/// tables, `m^(k mod 4096) * m^(4096 * (k div 4096))` for k < 2^24, instead
/// of a `pow` call per slot and step (most slots of a click log are rare, so
/// k is usually large): the same function of k on every run, which keeps
/// resumed runs bit-identical. A class that owns its tables: copies of the
/// reference share them, and they are freed with the last one.
final class EMARule<F: FTRLScalar> {
    let momentum: F
    let oneMinusMomentum: F
    /// 0 when the weights are never overwritten.
    let overwriteFrequency: UInt64
    private let powers: MomentumPowers<F>

    init(config: FTRLConfig) {
        momentum = F(fromDouble: config.emaMomentum)
        oneMinusMomentum = 1 - momentum
        overwriteFrequency = UInt64(config.emaOverwriteFrequency ?? 0)
        powers = MomentumPowers(momentum)
    }

    /// `momentum^k`.
    @inline(__always)
    func power(_ k: UInt64) -> F {
        if k < 4096 { return powers.low[Int(k)] }
        if k < 1 << 24 { return powers.low[Int(k & 4095)] * powers.high[Int(k >> 12)] }
        return F.power(momentum, F(k))
    }

    /// Whether the weights are overwritten by their averages after step `t`.
    @inline(__always)
    func overwrites(after t: UInt64) -> Bool {
        overwriteFrequency != 0 && (t &+ 1) % overwriteFrequency == 0
    }

    /// Brings a slot whose weight `w` has not changed since step `step` up to
    /// `t` steps: `t - step` EMA updates with a constant weight folded into
    /// the closed form `a = w + (a - w) * m^(t - step)`, cut short by the
    /// first overwrite in between (after which `w == a` and both stay).
    @inline(__always)
    func catchUp(_ w: inout F, _ a: inout F, _ step: inout UInt32, to t: UInt64) {
        let s = UInt64(step)
        if s >= t { return }
        if overwriteFrequency != 0 {
            // The first step j >= s after which an overwrite happens.
            let j = (s + overwriteFrequency) / overwriteFrequency * overwriteFrequency - 1
            if j < t {
                a = w + (a - w) * power(j + 1 - s)
                w = a
                step = UInt32(truncatingIfNeeded: t)
                return
            }
        }
        a = w + (a - w) * power(t - s)
        step = UInt32(truncatingIfNeeded: t)
    }

    /// `catchUp` for a kernel slot of an EMA table and its step.
    @inline(__always)
    func catchUp(_ slot: Slot<F>, _ step: UnsafeMutablePointer<UInt32>, to t: UInt64) {
        var w = slot.w
        var a = slot.average
        catchUp(&w, &a, &step.pointee, to: t)
        slot.w = w
        slot.average = a
    }

    /// `record` for a kernel slot of an EMA table and its step.
    @inline(__always)
    func record(_ slot: Slot<F>, _ step: UnsafeMutablePointer<UInt32>, at t: UInt64) {
        var w = slot.w
        var a = slot.average
        record(&w, &a, &step.pointee, at: t)
        slot.w = w
        slot.average = a
    }

    /// One step's EMA update of a slot just updated at step `t`, then the overwrite if due.
    @inline(__always)
    func record(_ w: inout F, _ a: inout F, _ step: inout UInt32, at t: UInt64) {
        a = momentum * a + oneMinusMomentum * w
        step = UInt32(truncatingIfNeeded: t &+ 1)
        if overwrites(after: t) { w = a }
    }

    /// The most steps a model with EMA can take: slots keep 32-bit steps.
    static var maxSteps: UInt64 { UInt64(UInt32.max) - 1 }
}
