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
    private var entries: UnsafeMutablePointer<Entry>
    private var mask: Int
    private var shift: UInt32
    /// Entries held (the slot 0xFFFF_FFFF aside).
    private var held = 0
    private var lastSlotWeight: F = 0
    private var hasLastSlot = false

    /// A table sized for `count` weights; it doubles if given more.
    init(count: Int) {
        var capacity = 16
        while capacity < 2 * count { capacity <<= 1 }
        (entries, mask, shift) = Self.table(capacity)
    }

    private static func table(_ capacity: Int) -> (UnsafeMutablePointer<Entry>, Int, UInt32) {
        let entries = UnsafeMutablePointer<Entry>.allocate(capacity: capacity)
        entries.initialize(repeating: Entry(slot: empty, weight: 0), count: capacity)
        return (entries, capacity - 1, UInt32(32 - capacity.trailingZeroBitCount))
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
        if 2 * (held + 1) > mask + 1 { grow() }
        var h = home(slot)
        while entries[h].slot != Self.empty { h = (h &+ 1) & mask }
        entries[h] = Entry(slot: slot, weight: weight)
        held += 1
    }

    /// Doubles the table: at most half full, a probe always ends.
    @inline(never)
    private func grow() {
        let old = entries
        let oldCapacity = mask + 1
        (entries, mask, shift) = Self.table(2 * oldCapacity)
        for i in 0..<oldCapacity where old[i].slot != Self.empty {
            var h = home(old[i].slot)
            while entries[h].slot != Self.empty { h = (h &+ 1) & mask }
            entries[h] = old[i]
        }
        old.deallocate()
    }

    /// Entries the table has room for (at most half of them used).
    var capacity: Int { mask + 1 }

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
