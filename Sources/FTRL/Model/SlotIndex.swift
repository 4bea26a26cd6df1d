import CFTRLShims

/// The map of a sparse weight table: hashed slot -> row, rows numbered in the
/// order their slots were first seen, so the table's storage holds only the
/// slots a run has touched (its memory grows with the features seen, not
/// with 2^bits), and the most frequent features, seen first, sit together.
///
/// Open addressing with linear probing, at most half full: each bucket is
/// one 64-bit word, the slot in the high half and row + 1 in the low half
/// (0: empty), so any 32-bit slot can be a key. Doubling rehashes only these
/// words; rows never move. `slots` maps a row back to its slot.
///
/// One writer: the trainer (or the loader) that owns the table. Before each
/// doubling, `reserve` checks that the bigger map and the rows it makes room
/// for fit in the memory available, so a table that outgrows the machine is
/// refused with a message, not killed.
final class SlotIndex {
    private var buckets: UnsafeMutablePointer<UInt64>
    private var mask: Int
    private var shift: UInt32
    /// Rows in use.
    private(set) var count = 0
    /// Rows the map takes before it doubles (half its buckets).
    private var limit: Int
    /// The slot of each row.
    private(set) var slots: UnsafeMutablePointer<UInt32>
    /// Rows the table's storage can hold (its reservation).
    let maxRows: Int
    /// Called at first and before the map doubles, with the rows it will then
    /// hold and its bytes: maps the rows' pages, or throws when the memory for
    /// them cannot be had.
    private let reserve: (_ rows: Int, _ mapBytes: Int) throws(FTRLError) -> Void

    init(maxRows: Int, reserve: @escaping (_ rows: Int, _ mapBytes: Int) throws(FTRLError) -> Void) throws(FTRLError) {
        self.maxRows = maxRows
        self.reserve = reserve
        let capacity = 1 << 16
        buckets = .allocate(capacity: capacity)
        buckets.initialize(repeating: 0, count: capacity)
        mask = capacity - 1
        shift = UInt32(32 - capacity.trailingZeroBitCount)
        limit = min(capacity / 2, maxRows)
        slots = .allocate(capacity: limit)
        try reserve(limit, bytes)
    }

    deinit {
        buckets.deallocate()
        slots.deallocate()
    }

    /// The bytes of the map (buckets and the row -> slot list).
    var bytes: Int { (mask + 1) * 8 + limit * 4 }

    @inline(__always)
    private func home(_ slot: UInt32) -> Int { Int(truncatingIfNeeded: (slot &* 0x9E37_79B1) >> shift) }

    /// The row of `slot`, or nil when it has none.
    @inline(__always)
    func row(of slot: UInt32) -> UInt32? {
        var h = home(slot)
        while true {
            let b = buckets[h]
            if b == 0 { return nil }
            if UInt32(truncatingIfNeeded: b >> 32) == slot { return UInt32(truncatingIfNeeded: b) &- 1 }
            h = (h &+ 1) & mask
        }
    }

    /// Asks the CPU to bring the bucket where a lookup of `slot` starts into cache.
    @inline(__always)
    func prefetch(_ slot: UInt32) {
        ftrl_prefetch(UnsafeRawPointer(buckets + home(slot)))
    }

    /// The row of `slot`, given the next free row when it had none.
    /// - Throws: `FTRLError` when the table is full (see `reserve`).
    @inline(__always)
    func insert(_ slot: UInt32) throws(FTRLError) -> UInt32 {
        var h = home(slot)
        while true {
            let b = buckets[h]
            if b == 0 { return try add(slot, at: h) }
            if UInt32(truncatingIfNeeded: b >> 32) == slot { return UInt32(truncatingIfNeeded: b) &- 1 }
            h = (h &+ 1) & mask
        }
    }

    /// Gives `slot`, whose probe ended at the empty bucket `h`, the next row.
    @inline(never)
    private func add(_ slot: UInt32, at h: Int) throws(FTRLError) -> UInt32 {
        var h = h
        if count == limit {
            try grow()
            h = home(slot)
            while buckets[h] != 0 { h = (h &+ 1) & mask }
        }
        let row = count
        buckets[h] = UInt64(slot) << 32 | UInt64(row + 1)
        slots[row] = slot
        count = row + 1
        return UInt32(truncatingIfNeeded: row)
    }

    /// Rows for `n` slots: `rows[j]` is the row of `slots[j]`, inserted when new.
    /// - Throws: `FTRLError` when the table is full.
    func translate(_ keys: UnsafePointer<UInt32>, _ n: Int, into rows: UnsafeMutablePointer<UInt32>) throws(FTRLError) {
        let ahead = 8
        for j in 0..<min(ahead, n) { prefetch(keys[j]) }
        for j in 0..<n {
            if j + ahead < n { prefetch(keys[j + ahead]) }
            rows[j] = try insert(keys[j])
        }
    }

    @inline(never)
    private func grow() throws(FTRLError) {
        let capacity = (mask + 1) * 2
        let newLimit = min(capacity / 2, maxRows)
        guard capacity <= 1 << 32, newLimit > limit else {
            throw FTRLError(
                .usage,
                "the sparse table is full: \(count) active slots, as many as its reservation holds; lower --bits or train on less data")
        }
        try reserve(newLimit, capacity * 8 + newLimit * 4)
        let old = buckets
        let oldCapacity = mask + 1
        buckets = .allocate(capacity: capacity)
        buckets.initialize(repeating: 0, count: capacity)
        mask = capacity - 1
        shift = UInt32(32 - capacity.trailingZeroBitCount)
        for i in 0..<oldCapacity where old[i] != 0 {
            var h = home(UInt32(truncatingIfNeeded: old[i] >> 32))
            while buckets[h] != 0 { h = (h &+ 1) & mask }
            buckets[h] = old[i]
        }
        old.deallocate()
        let newSlots = UnsafeMutablePointer<UInt32>.allocate(capacity: newLimit)
        newSlots.update(from: slots, count: count)
        slots.deallocate()
        slots = newSlots
        limit = newLimit
    }
}
