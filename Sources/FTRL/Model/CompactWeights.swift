import CFTRLShims

/// The nonzero exported weights of a model read only to score, keyed by
/// slot in an open-addressing table (linear probing, at most half full):
/// memory for the slots the model has, not 2^bits, so loading a model of
/// 1.1M weights maps 16 MiB instead of faulting in a 256 MiB table, and its
/// lookups stay in cache and TLB reach far more often.
///
/// A slot it does not hold has weight 0, as in the dense table. The one
/// slot the empty marker cannot stand for (0xFFFF_FFFF, only with 32 bits)
/// is kept apart.
public final class CompactWeights<F: FTRLScalar> {
    private struct Entry {
        var slot: UInt32
        var weight: F
    }

    private static var empty: UInt32 { 0xFFFF_FFFF }
    private let entries: UnsafeMutablePointer<Entry>
    private let mask: Int
    private let shift: UInt32
    private var lastSlotWeight: F = 0
    private var hasLastSlot = false

    /// A table for up to `count` weights.
    init(count: Int) {
        var capacity = 16
        while capacity < 2 * count { capacity <<= 1 }
        entries = .allocate(capacity: capacity)
        entries.initialize(repeating: Entry(slot: Self.empty, weight: 0), count: capacity)
        mask = capacity - 1
        shift = UInt32(32 - capacity.trailingZeroBitCount)
    }

    deinit { entries.deallocate() }

    @inline(__always)
    private func home(_ slot: UInt32) -> Int { Int((slot &* 0x9E37_79B1) >> shift) }

    /// Sets the weight of `slot` (not held before).
    func insert(_ slot: UInt32, _ weight: F) {
        if slot == Self.empty {
            lastSlotWeight = weight
            hasLastSlot = true
            return
        }
        var h = home(slot)
        while entries[h].slot != Self.empty { h = (h &+ 1) & mask }
        entries[h] = Entry(slot: slot, weight: weight)
    }

    /// The slots held, ascending.
    public var slots: [UInt32] {
        var out: [UInt32] = []
        for h in 0...mask where entries[h].slot != Self.empty { out.append(entries[h].slot) }
        if hasLastSlot { out.append(Self.empty) }
        return out.sorted()
    }

    /// Asks the CPU to bring the entry where a lookup of `slot` starts into cache.
    @inline(__always)
    func prefetch(_ slot: UInt32) {
        ftrl_prefetch(UnsafeRawPointer(entries + home(slot)))
    }

    /// The weight of `slot` (0 when it has none).
    @inline(__always)
    public func weight(_ slot: UInt32) -> F {
        if slot == Self.empty { return lastSlotWeight }
        var h = home(slot)
        while true {
            let e = entries[h]
            if e.slot == slot { return e.weight }
            if e.slot == Self.empty { return 0 }
            h = (h &+ 1) & mask
        }
    }
}
