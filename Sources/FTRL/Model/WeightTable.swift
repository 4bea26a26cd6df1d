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

    /// Allocates a table of zeroed slots.
    /// - Parameters:
    ///   - bits: log2 of the slot count.
    ///   - withEMA: whether to keep moving averages too.
    /// - Throws: `FTRLError` when the memory cannot be had.
    public init(bits: Int, withEMA: Bool) throws(FTRLError) {
        self.bits = bits
        slotCount = 1 << bits
        hasEMA = withEMA
        let scalar = MemoryLayout<F>.stride
        slotBytes = withEMA ? Slot<F>.scalars * scalar + max(4, scalar) : Slot<F>.scalars * scalar
        stride = slotBytes
        mapping = try TableMapping(bytes: slotCount * slotBytes, tables: 1, bits: bits)
        raw = mapping.base
    }

    private init(bits: Int, withEMA: Bool, mapping: TableMapping, index: Int) {
        self.bits = bits
        slotCount = 1 << bits
        hasEMA = withEMA
        let scalar = MemoryLayout<F>.stride
        slotBytes = withEMA ? Slot<F>.scalars * scalar + max(4, scalar) : Slot<F>.scalars * scalar
        stride = slotBytes * mapping.tables
        self.mapping = mapping
        raw = mapping.base + index * slotBytes
    }

    /// `count` tables of zeroed slots in one buffer, slot i of each beside
    /// slot i of the others: settings trained on the same examples touch the
    /// same slots, so one cache line serves them all (a search of settings).
    /// - Throws: `FTRLError` when the memory cannot be had.
    public static func interleaved(count: Int, bits: Int, withEMA: Bool) throws(FTRLError) -> [WeightTable<F>] {
        let scalar = MemoryLayout<F>.stride
        let slotBytes = withEMA ? Slot<F>.scalars * scalar + max(4, scalar) : Slot<F>.scalars * scalar
        let mapping = try TableMapping(bytes: count * (slotBytes << bits), tables: count, bits: bits)
        return (0..<count).map { WeightTable(bits: bits, withEMA: withEMA, mapping: mapping, index: $0) }
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
        try Self.checkMemoryForTraining([self])
    }

    /// Refuses, before training touches them, tables (of one size: a search's
    /// settings) whose pages not yet in memory would not fit together in the
    /// memory available.
    /// - Throws: `FTRLError` (.usage) with the size needed and a `--bits` that fits.
    public static func checkMemoryForTraining(_ tables: [WeightTable<F>]) throws(FTRLError) {
        guard let first = tables.first, let (available, source) = MemoryBudget.available() else { return }
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
                + (tables.count == 1 ? "" : "search fewer settings, ") + "or free memory")
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

    /// The state of slot `index` (see `Slot` for its fields).
    @inline(__always)
    public func slot(_ index: UInt32) -> Slot<F> {
        let offset: Int = Int(index) &* stride
        return Slot((raw + offset).assumingMemoryBound(to: F.self))
    }

    /// The EMA step of `slot` (only when `hasEMA`): the step its average was
    /// last brought to; 0 for a slot never active.
    @inline(__always)
    func step(_ slot: UInt32) -> UnsafeMutablePointer<UInt32> {
        let offset: Int = Int(slot) &* stride &+ Slot<F>.scalars &* MemoryLayout<F>.stride
        return (raw + offset).assumingMemoryBound(to: UInt32.self)
    }

    /// The raw weight of `slot` (not the exported average of an EMA model).
    @inline(__always)
    public func weight(_ slot: UInt32) -> F {
        self.slot(slot).w
    }

    /// Asks the CPU to bring `slot` into cache (both lines when it spans two).
    @inline(__always)
    func prefetch(_ slot: UInt32) {
        let offset: Int = Int(slot) &* stride
        let p = raw + offset
        ftrl_prefetch(p)
        if hasEMA { ftrl_prefetch(p + (slotBytes - 1)) }
    }

    /// Whether `slot` was ever active.
    @inline(__always)
    public func isActive(_ slot: Int) -> Bool {
        hasEMA ? step(UInt32(slot)).pointee != 0 : self.slot(UInt32(slot)).mark != 0
    }

    /// The number of slots that were ever active.
    public var activeCount: Int {
        var count = 0
        for s in 0..<slotCount where isActive(s) { count += 1 }
        return count
    }

    /// The slots that were ever active, ascending (one pass over the table).
    func activeSlots() -> [UInt32] {
        var out: [UInt32] = []
        for s in 0..<slotCount where isActive(s) { out.append(UInt32(truncatingIfNeeded: s)) }
        return out
    }

    /// Sets a slot's state and marks it active (used when loading a model);
    /// with EMA also its average and step (>= 1).
    func restore(slot: Int, w: F, n: F, z: F, average: F = 0, step: UInt32 = 0) {
        let s = self.slot(UInt32(slot))
        s.w = w
        s.n = n
        s.z = z
        if hasEMA {
            s.average = average
            self.step(UInt32(slot)).pointee = step
        } else {
            s.mark = 1
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
