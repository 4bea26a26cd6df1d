import CFTRLShims
import Foundation
import Glibc

/// The kernel: `2^bits` slots, each holding `w`, `n`, `z` and a mark side by
/// side in one contiguous buffer, so one cache line serves a slot's whole
/// update (the layout of Vowpal Wabbit's FTRL). With EMA a second array
/// holds each slot's moving average and the step it was last brought to.
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
    /// The start of the slot storage: w, n, z, mark per slot.
    let base: UnsafeMutablePointer<F>
    /// The moving averages, when the model keeps them.
    let ema: UnsafeMutablePointer<EMASlot<F>>?
    private let regions: [(UnsafeMutableRawPointer, Int)]
    private let populating = NSCondition()
    private var populateThreads = 0
    private var prefaulted = false

    /// Allocates a table of zeroed slots.
    /// - Parameters:
    ///   - bits: log2 of the slot count.
    ///   - withEMA: whether to keep moving averages too.
    /// - Throws: `FTRLError` when the memory cannot be had.
    public init(bits: Int, withEMA: Bool) throws(FTRLError) {
        self.bits = bits
        slotCount = 1 << bits
        let slotBytes = slotCount * 4 * MemoryLayout<F>.stride
        let main = try Self.map(slotBytes, bits)
        base = main.bindMemory(to: F.self, capacity: slotCount * 4)
        var regions = [(main, Self.rounded(slotBytes))]
        if withEMA {
            let bytes = slotCount * MemoryLayout<EMASlot<F>>.stride
            let raw = try Self.map(bytes, bits)
            ema = raw.bindMemory(to: EMASlot<F>.self, capacity: slotCount)
            regions.append((raw, Self.rounded(bytes)))
        } else {
            ema = nil
        }
        self.regions = regions
    }

    private static func rounded(_ bytes: Int) -> Int { (bytes + 4095) & ~4095 }

    private static func map(_ bytes: Int, _ bits: Int) throws(FTRLError) -> UnsafeMutableRawPointer {
        // Transparent huge pages were measured and dropped: after another big
        // process the kernel's compaction stalled first touches, 0.2-0.6 s per 1M rows.
        let raw = mmap(nil, rounded(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let raw, raw != MAP_FAILED else {
            throw FTRLError(.usage, "cannot allocate \(bytes >> 20) MiB for a table of 2^\(bits) slots (lower --bits)")
        }
        return raw
    }

    deinit {
        populating.lock()
        while populateThreads > 0 { populating.wait() }
        populating.unlock()
        for (p, n) in regions { munmap(p, n) }
    }

    /// Faults the table's pages in on helper threads while input starts to
    /// flow: the kernel maps and zeroes them in bulk, far cheaper than one
    /// page fault at a time in the trainer's loop (0.97 s -> 0.80 s for 1M
    /// rows at 24 bits). MADV_POPULATE_WRITE never changes what a page
    /// holds, so it cannot race with the trainer's writes.
    func prefault() {
        if prefaulted { return }
        prefaulted = true
        for (p, bytes) in regions where bytes >= 16 << 20 {
            populateThreads += 1
            let address = Int(bitPattern: p)
            let thread = Thread { [self] in
                let step = 8 << 20
                var offset = 0
                while offset < bytes {
                    let length = min(step, bytes - offset)
                    if madvise(UnsafeMutableRawPointer(bitPattern: address + offset), length, 23 /* MADV_POPULATE_WRITE */) != 0 {
                        break
                    }
                    offset += length
                }
                populating.lock()
                populateThreads -= 1
                populating.broadcast()
                populating.unlock()
            }
            thread.start()
        }
    }

    /// The state of `slot`: w, n, z, mark.
    @inline(__always)
    public func pointer(_ slot: UInt32) -> UnsafeMutablePointer<F> {
        base + (Int(slot) &* 4)
    }

    /// The raw weight of `slot` (not the exported average of an EMA model).
    @inline(__always)
    public func weight(_ slot: UInt32) -> F {
        base[Int(slot) &* 4]
    }

    /// Asks the CPU to bring `slot` into cache.
    @inline(__always)
    func prefetch(_ slot: UInt32) {
        ftrl_prefetch(base + (Int(slot) &* 4))
        if let ema { ftrl_prefetch(ema + Int(slot)) }
    }

    /// Whether `slot` was ever active.
    @inline(__always)
    public func isActive(_ slot: Int) -> Bool {
        base[slot &* 4 &+ 3] != 0
    }

    /// The number of slots that were ever active.
    public var activeCount: Int {
        var count = 0
        var p = base + 3
        for _ in 0..<slotCount {
            if p.pointee != 0 { count += 1 }
            p += 4
        }
        return count
    }

    /// Sets a slot's state and marks it active (used when loading a model).
    func restore(slot: Int, w: F, n: F, z: F) {
        let p = base + slot * 4
        p[0] = w
        p[1] = n
        p[2] = z
        p[3] = 1
    }
}
