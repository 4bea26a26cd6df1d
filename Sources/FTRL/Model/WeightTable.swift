import CFTRLShims
import Foundation
import Glibc

/// The kernel: `2^bits` slots, each holding `w`, `n`, `z` and a mark side by
/// side in one contiguous buffer, so one cache line serves a slot's whole
/// update (the layout of Vowpal Wabbit's FTRL). With EMA a slot holds `w`,
/// `n`, `z`, the moving average `a` and, in place of the mark, the 32-bit
/// step its average was last brought to (0: never active): 20 bytes in
/// float32 rather than 32, because the table's size is what EMA costs.
///
/// The buffers are fresh anonymous memory, zero until written, which the
/// kernel maps only when first touched, so reading a model for scoring costs
/// memory only where it has weights. Training calls `prefault()`, which maps
/// the whole table on a helper thread (2^bits x 16 bytes in float32, as
/// Vowpal Wabbit's table). A zero mark means "never active": such a slot
/// holds `w = 0`, `z = 0` and an implied `n = initial_accumulator_value`,
/// written at its first update.
///
/// A sparse table (`TableLayout.sparse`) stores the same slots, in the same
/// layout, as rows numbered in first-seen order, with a `SlotIndex` from slot
/// to row: memory for the slots touched, at the price of one lookup per
/// feature (`rows(of:_:into:)`, before a block is trained). The hot accessors
/// (`slot(row:)`, `step(row:)`, `weight(row:)`, `prefetch(row:)`) take rows,
/// which in a dense table are the slots themselves; the slot-keyed ones
/// (`row(of:)`, `isActive`, `activeRows`, `restore`) serve loading, saving and
/// reports.
public final class WeightTable<F: FTRLScalar> {
    /// log2 of the slot count.
    public let bits: Int
    /// The number of slots.
    public let slotCount: Int
    /// The start of the slot storage.
    let raw: UnsafeMutableRawPointer
    /// Bytes per slot: 4 scalars, or with EMA 4 scalars and a 32-bit step
    /// (padded to the scalar's alignment).
    let slotBytes: Int
    /// Bytes from one slot to the next: `slotBytes`, or for tables laid out
    /// side by side (`interleaved`) `slotBytes` times their number.
    let stride: Int
    /// Whether slots hold moving averages.
    public let hasEMA: Bool
    /// The memory, shared by interleaved tables.
    private let mapping: TableMapping
    /// This table's share of the mapping.
    private var mappedBytes: Int { mapping.bytes / mapping.tables }
    /// The map from slot to row of a sparse table (shared by interleaved
    /// tables); nil for a dense one.
    let index: SlotIndex?
    /// Whether the table is sparse.
    public var isSparse: Bool { index != nil }

    /// Allocates a table of zeroed slots.
    /// - Parameters:
    ///   - bits: log2 of the slot count.
    ///   - withEMA: whether to keep moving averages too.
    ///   - layout: dense, sparse or chosen by size (`TableLayout.auto`).
    /// - Throws: `FTRLError` when the memory cannot be had.
    public convenience init(bits: Int, withEMA: Bool, layout: TableLayout = .auto) throws(FTRLError) {
        let tables = try Self.interleaved(count: 1, bits: bits, withEMA: withEMA, layout: layout)
        self.init(sharing: tables[0])
    }

    private init(sharing other: WeightTable) {
        bits = other.bits
        slotCount = other.slotCount
        hasEMA = other.hasEMA
        slotBytes = other.slotBytes
        stride = other.stride
        mapping = other.mapping
        raw = other.raw
        index = other.index
    }

    private init(bits: Int, withEMA: Bool, slotBytes: Int, mapping: TableMapping, index: SlotIndex?, position: Int) {
        self.bits = bits
        slotCount = 1 << bits
        hasEMA = withEMA
        self.slotBytes = slotBytes
        stride = slotBytes * mapping.tables
        self.mapping = mapping
        self.index = index
        raw = mapping.base + position * slotBytes
    }

    /// Bytes per slot of a table of `F` (with or without EMA).
    static func slotBytes(withEMA: Bool) -> Int {
        let scalar = MemoryLayout<F>.stride
        return withEMA ? Slot<F>.scalars * scalar + max(4, scalar) : Slot<F>.scalars * scalar
    }

    /// `count` tables of zeroed slots in one buffer, slot i of each beside
    /// slot i of the others: settings trained on the same examples touch the
    /// same slots, so one cache line serves them all (a search of settings).
    /// Sparse tables share one `SlotIndex`: a slot has the same row in each.
    /// - Throws: `FTRLError` when the memory cannot be had.
    /// - Parameter rowLimit: for tests, the most rows a sparse table takes.
    public static func interleaved(count: Int, bits: Int, withEMA: Bool, layout: TableLayout = .auto, rowLimit: Int? = nil)
        throws(FTRLError) -> [WeightTable<F>]
    {
        let slotBytes = Self.slotBytes(withEMA: withEMA)
        let sparse = layout.isSparse(bits: bits, tableBytes: count * (slotBytes << bits))
        let rowBytes = count * slotBytes
        var rows = 1 << bits
        if sparse {
            // Reserve address space for as many rows as the machine's memory
            // could hold (never more than 2^bits); pages are mapped as rows fill.
            let memory = Int(sysconf(Int32(_SC_PHYS_PAGES))) &* Int(sysconf(Int32(_SC_PAGESIZE)))
            rows = min(rows, max(1 << 16, memory / rowBytes), rowLimit ?? .max)
        }
        let mapping = try TableMapping(bytes: rows * rowBytes, tables: count, bits: bits)
        var index: SlotIndex?
        if sparse {
            index = try SlotIndex(maxRows: rows) { (rows, mapBytes) throws(FTRLError) in
                try checkGrowth(rows: rows, rowBytes: rowBytes, mapBytes: mapBytes, bits: bits, tables: count)
                // Rows mapped before they are read: a read first maps the
                // shared zero page, and the write after it costs a second
                // fault and a TLB shootdown on the other core.
                mapping.populate(bytes: rows * rowBytes)
            }
        }
        return (0..<count).map {
            WeightTable(bits: bits, withEMA: withEMA, slotBytes: slotBytes, mapping: mapping, index: index, position: $0)
        }
    }

    /// Refuses to grow a sparse table to `rows` rows when the pages for them
    /// and the bigger map would not fit in the memory available.
    private static func checkGrowth(rows: Int, rowBytes: Int, mapBytes: Int, bits: Int, tables: Int) throws(FTRLError) {
        let problem = growthProblem(
            rows: rows, rowBytes: rowBytes, mapBytes: mapBytes, bits: bits, tables: tables, available: MemoryBudget.available())
        if let problem { throw problem }
    }

    /// The error for growing a sparse table to `rows` rows with `available`
    /// memory, or nil when it fits (or nothing is known of the memory).
    static func growthProblem(
        rows: Int, rowBytes: Int, mapBytes: Int, bits: Int, tables: Int, available: (bytes: Int, source: String)?
    ) -> FTRLError? {
        guard let (available, source) = available else { return nil }
        // The rows of the half before this doubling are already mapped.
        let needed = rows / 2 * rowBytes + mapBytes + (64 << 20)
        if needed <= available { return nil }
        let what = tables == 1 ? "the sparse table holds" : "the sparse tables of \(tables) settings hold"
        return FTRLError(
            .usage,
            "\(what) \(rows / 2) active slots of 2^\(bits) and would need \(needed >> 20) MiB more to grow, "
                + "but only \(available >> 20) MiB of memory is available (\(source)); lower --bits, train on less data, "
                + (tables == 1 ? "" : "search fewer settings, ") + "or free memory")
    }

    /// Faults the table's pages in on a helper thread while input starts to
    /// flow: the kernel maps and zeroes them in bulk, far cheaper than one
    /// page fault at a time in the trainer's loop (0.97 s -> 0.80 s for 1M
    /// rows at 24 bits). Training then waits for it (`awaitPrefault`) before
    /// its first example: a slot read before its page is mapped maps the
    /// shared zero page, whose first write costs a second fault and a TLB
    /// shootdown on the other cores (a search of six settings: 1.5 -> 0.8 s
    /// of system time). MADV_POPULATE_WRITE never changes what a page
    /// holds, so it cannot race with the trainer's writes.
    func prefault() {
        if isSparse { return }  // its pages are mapped as rows fill
        mapping.prefault()
    }

    /// Waits until `prefault()` has mapped the whole table (at once when it was not called).
    func awaitPrefault() {
        mapping.awaitPrefault()
    }

    /// Refuses, before training touches the whole table, a table whose
    /// pages not yet in memory would not fit in the memory available.
    /// - Throws: `FTRLError` (.usage) with the size needed and a `--bits` that fits.
    public func checkMemoryForTraining() throws(FTRLError) {
        if isSparse { return }  // checked as it grows
        try Self.checkMemoryForTraining([self])
    }

    /// Refuses, before training touches them, tables (of one size: a search's
    /// settings) whose pages not yet in memory would not fit together in the
    /// memory available.
    /// - Throws: `FTRLError` (.usage) with the size needed and a `--bits` that fits.
    public static func checkMemoryForTraining(_ tables: [WeightTable<F>]) throws(FTRLError) {
        guard let first = tables.first, !first.isSparse, let (available, source) = MemoryBudget.available() else { return }
        let margin = 64 << 20
        let resident = tables.reduce(0) { $0 + $1.residentBytes() } / tables.count
        let needed = tables.count * first.mappedBytes
        if tables.count * (first.mappedBytes - resident) + margin <= available { return }
        var fits = first.bits
        while fits > 1 && tables.count * ((first.slotBytes << fits) - min(resident, first.slotBytes << fits)) + margin > available {
            fits -= 1
        }
        let what =
            tables.count == 1
            ? "a table of 2^\(first.bits) slots needs \(needed >> 20) MiB"
            : "\(tables.count) settings need \(tables.count) tables of 2^\(first.bits) slots, \(needed >> 20) MiB"
        throw FTRLError(
            .usage,
            "\(what), but only \(available >> 20) MiB of memory is available (\(source)); lower --bits to \(fits) or less, "
                + (tables.count == 1 ? "" : "search fewer settings, ") + "use --table sparse (memory for the slots seen), or free memory")
    }

    /// The bytes of the table already in memory (after loading a model).
    private func residentBytes() -> Int {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let pages = (mapping.bytes + page - 1) / page
        var vector = [UInt8](repeating: 0, count: pages)
        let rc = vector.withUnsafeMutableBufferPointer { mincore(mapping.base, mapping.bytes, $0.baseAddress) }
        if rc != 0 { return 0 }
        var resident = 0
        for v in vector where v & 1 != 0 { resident += 1 }
        return resident * page / mapping.tables
    }

    /// The state of row `row` (see `Slot` for its fields): in a dense
    /// table the slot of that number, in a sparse one the slot `rows(of:)` gave it.
    @inline(__always)
    public func slot(row: UInt32) -> Slot<F> {
        let offset: Int = Int(row) &* stride
        return Slot((raw + offset).assumingMemoryBound(to: F.self))
    }

    /// The EMA step of row `row` (only when `hasEMA`): the step its average
    /// was last brought to; 0 for a slot never active.
    @inline(__always)
    func step(row: UInt32) -> UnsafeMutablePointer<UInt32> {
        let offset: Int = Int(row) &* stride &+ Slot<F>.scalars &* MemoryLayout<F>.stride
        return (raw + offset).assumingMemoryBound(to: UInt32.self)
    }

    /// The raw weight of row `row` (not the exported average of an EMA model).
    @inline(__always)
    public func weight(row: UInt32) -> F {
        slot(row: row).w
    }

    /// Asks the CPU to bring row `row` into cache (both lines when it spans two).
    @inline(__always)
    func prefetch(row: UInt32) {
        let offset: Int = Int(row) &* stride
        let p = raw + offset
        ftrl_prefetch(p)
        if hasEMA { ftrl_prefetch(p + (slotBytes - 1)) }
    }

    /// The rows of `count` slots (`slots[j]` -> `rows[j]`), a new row for
    /// each slot not seen before; a dense table's rows are its slots.
    /// - Returns: `rows`, or `slots` itself for a dense table.
    /// - Throws: `FTRLError` when a sparse table cannot grow.
    @inline(__always)
    func rows(of slots: UnsafeMutablePointer<UInt32>, _ count: Int, into rows: UnsafeMutablePointer<UInt32>) throws(FTRLError)
        -> UnsafeMutablePointer<UInt32>
    {
        guard let index else { return slots }
        try index.translate(slots, count, into: rows)
        return rows
    }

    /// The row of `slot`: the slot itself in a dense table; in a sparse
    /// one its row, or nil when the slot was never seen.
    @inline(__always)
    public func row(of slot: UInt32) -> UInt32? {
        guard let index else { return slot }
        return index.row(of: slot)
    }

    /// The raw weight of `slot`, 0 when a sparse table does not hold it.
    @inline(__always)
    public func weight(ofSlot slot: UInt32) -> F {
        guard let row = row(of: slot) else { return 0 }
        return self.slot(row: row).w
    }

    /// Asks the CPU to bring what a lookup of `slot` reads first into cache.
    @inline(__always)
    func prefetch(slot: UInt32) {
        if let index { index.prefetch(slot) } else { prefetch(row: slot) }
    }

    /// Whether row `row` was ever active (its slot updated).
    @inline(__always)
    func isActive(row: UInt32) -> Bool {
        hasEMA ? step(row: row).pointee != 0 : slot(row: row).mark != 0
    }

    /// Whether `slot` was ever active.
    public func isActive(_ slot: Int) -> Bool {
        guard slot >= 0 && slot < slotCount, let row = row(of: UInt32(truncatingIfNeeded: slot)) else { return false }
        return isActive(row: row)
    }

    /// The row of `slot` when the slot was ever active, else nil.
    func activeRow(of slot: UInt32) -> UInt32? {
        guard let row = row(of: slot), isActive(row: row) else { return nil }
        return row
    }

    /// The number of slots that were ever active.
    public var activeCount: Int {
        if let index { return activeCount(rows: 0..<index.count) }
        // A big dense table in halves on two threads (saving a model waits
        // for it; the scan is bound by memory reads, which two cores share well).
        if slotCount < 1 << 20 { return activeCount(rows: 0..<slotCount) }
        let half = slotCount / 2
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        defer { counts.deallocate() }
        let gang = WorkerGang(count: 2)
        gang.run { part in
            counts[part] = activeCount(rows: part == 0 ? 0..<half : half..<slotCount)
        }
        gang.stop()  // else its thread waits forever for another job
        return counts[0] + counts[1]
    }

    /// How many of `rows` were ever active.
    private func activeCount(rows: Range<Int>) -> Int {
        var count = 0
        for r in rows where isActive(row: UInt32(truncatingIfNeeded: r)) { count += 1 }
        return count
    }

    /// The slots that were ever active, ascending, with their rows: a scan
    /// of a dense table (nothing kept), or a sparse table's slots sorted.
    func activeRows() -> ActiveRows<F> {
        guard let index else { return ActiveRows(table: self, keys: nil, count: activeCount) }
        // Slot and row in one word, radix-sorted on the slot.
        var keys: [UInt64] = []
        keys.reserveCapacity(index.count)
        for r in 0..<index.count where isActive(row: UInt32(r)) { keys.append(UInt64(index.slots[r]) << 32 | UInt64(r)) }
        Self.sortBySlot(&keys)
        return ActiveRows(table: self, keys: keys, count: keys.count)
    }

    /// Sorts words by their high 32 bits: two stable counting passes of 16 bits.
    static func sortBySlot(_ keys: inout [UInt64]) {
        var other = [UInt64](repeating: 0, count: keys.count)
        for shift: UInt64 in [32, 48] {
            var counts = [Int](repeating: 0, count: 1 << 16 + 1)
            for k in keys { counts[Int(truncatingIfNeeded: (k >> shift) & 0xFFFF) + 1] += 1 }
            for i in 1..<counts.count { counts[i] += counts[i - 1] }
            for k in keys {
                let d = Int(truncatingIfNeeded: (k >> shift) & 0xFFFF)
                other[counts[d]] = k
                counts[d] += 1
            }
            swap(&keys, &other)
        }
    }

    /// The slots that were ever active, ascending.
    func activeSlots() -> [UInt32] {
        activeRows().map(\.slot)
    }

    /// Sets a slot's state and marks it active (used when loading a model);
    /// with EMA also its average and step (>= 1).
    /// - Throws: `FTRLError` when a sparse table cannot grow.
    func restore(slot: Int, w: F, n: F, z: F, average: F = 0, step: UInt32 = 0) throws(FTRLError) {
        let key = UInt32(truncatingIfNeeded: slot)
        let row = try index?.insert(key) ?? key
        let s = self.slot(row: row)
        s.w = w
        s.n = n
        s.z = z
        if hasEMA {
            s.average = average
            self.step(row: row).pointee = step
        } else {
            s.mark = 1
        }
    }
}

/// The active slots of a table with their rows, ascending by slot: for a
/// sparse table one word each (slot in the high half, row in the low half),
/// for a dense one a scan of the table, so that saving a dense model keeps
/// no list of its slots.
struct ActiveRows<F: FTRLScalar>: Sequence {
    let table: WeightTable<F>
    let keys: [UInt64]?
    /// How many there are.
    let count: Int

    struct Iterator: IteratorProtocol {
        let rows: ActiveRows
        var position = 0

        mutating func next() -> (slot: UInt32, row: UInt32)? {
            if let keys = rows.keys {
                guard position < keys.count else { return nil }
                defer { position += 1 }
                return (UInt32(truncatingIfNeeded: keys[position] >> 32), UInt32(truncatingIfNeeded: keys[position]))
            }
            while position < rows.table.slotCount {
                let s = UInt32(truncatingIfNeeded: position)
                position += 1
                if rows.table.isActive(row: s) { return (s, s) }
            }
            return nil
        }
    }

    func makeIterator() -> Iterator { Iterator(rows: self) }
}

/// Where a model's slots are kept: a dense table of all 2^bits slots, a
/// sparse one of the slots seen, or `auto`: dense while all the run's tables
/// together take at most `auto.denseLimit` bytes (1 GiB: 2^26 slots of one
/// float32 model, or 2^24 of four settings), sparse beyond.
public enum TableLayout: String, Sendable, CaseIterable {
    case auto, dense, sparse

    /// The most bytes of dense tables `auto` maps.
    public static let denseLimit = 1 << 30

    /// Whether tables of `tableBytes` (all of a run's, dense) should be sparse.
    func isSparse(bits: Int, tableBytes: Int) -> Bool {
        switch self {
        case .dense: return false
        case .sparse: return true
        case .auto: return tableBytes > Self.denseLimit
        }
    }
}

/// The anonymous memory of one table, or of tables laid out side by side:
/// unmapped when the last table using it goes.
private final class TableMapping: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    /// Mapped bytes (whole pages) and the tables sharing them.
    let bytes: Int
    let tables: Int
    /// The helper thread that faults pages in; `deinit` waits for it.
    private let populating = DispatchGroup()
    private var prefaulted = false

    init(bytes wanted: Int, tables: Int, bits: Int) throws(FTRLError) {
        bytes = (wanted + 4095) & ~4095
        self.tables = tables
        // Transparent huge pages were measured and dropped: after another big
        // process the kernel's compaction stalled first touches, 0.2-0.6 s per 1M rows.
        let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let raw, raw != MAP_FAILED else {
            let what = tables == 1 ? "a table" : "\(tables) tables"
            throw FTRLError(.usage, "cannot allocate \(wanted >> 20) MiB for \(what) of 2^\(bits) slots (lower --bits)")
        }
        base = raw
    }

    deinit {
        populating.wait()
        munmap(base, bytes)
    }

    func awaitPrefault() {
        populating.wait()
    }

    /// Maps the first `wanted` bytes now (the rows a sparse table may fill
    /// before it grows next), on the calling thread.
    func populate(bytes wanted: Int) {
        let end = min(bytes, (wanted + 4095) & ~4095)
        if end > populated {
            _ = madvise(base + populated, end - populated, 23 /* MADV_POPULATE_WRITE */)
            populated = end
        }
    }
    private var populated = 0

    /// See `WeightTable.prefault()`.
    func prefault() {
        if prefaulted { return }
        prefaulted = true
        let bytes = self.bytes
        if bytes >= 16 << 20 {
            populating.enter()
            let address = Int(bitPattern: base)
            let thread = Thread { [populating] in
                let step = 8 << 20
                var offset = 0
                while offset < bytes {
                    let length = min(step, bytes - offset)
                    if madvise(UnsafeMutableRawPointer(bitPattern: address + offset), length, 23 /* MADV_POPULATE_WRITE */) != 0 {
                        break
                    }
                    offset += length
                }
                populating.leave()
            }
            thread.start()
        }
    }
}
