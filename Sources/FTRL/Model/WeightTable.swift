import CFTRLShims
import Foundation
import Glibc

/// The kernel: `2^bits` slots, each holding `w`, `n`, `z` and a mark side by
/// side in one contiguous buffer, so one cache line serves a slot's whole
/// update (the layout of Vowpal Wabbit's FTRL).
///
/// The buffer is fresh anonymous memory, zero until written, which the
/// kernel maps only when first touched, so reading a model for scoring costs
/// memory only where it has weights. Training calls `prefault()`, which maps
/// the whole table on a helper thread (2^bits x 16 bytes in float32, as
/// Vowpal Wabbit's table). A zero mark means "never active": such a slot holds `w = 0`, `z = 0` and
/// an implied `n = initial_accumulator_value`, written at its first update.
public final class WeightTable<F: FTRLScalar> {
    /// Scalars per slot: w, n, z, mark.
    @usableFromInline static var stride: Int { 4 }
    /// log2 of the slot count.
    public let bits: Int
    /// The number of slots.
    public let slotCount: Int
    /// The start of the slot storage.
    @usableFromInline let base: UnsafeMutablePointer<F>

    /// Allocates a table of zeroed slots.
    /// - Parameter bits: log2 of the slot count.
    /// - Throws: `FTRLError` when the memory cannot be had.
    public init(bits: Int) throws(FTRLError) {
        self.bits = bits
        slotCount = 1 << bits
        // Fresh anonymous pages read as zero. (Transparent huge pages were
        // measured and dropped: after another big process the kernel's
        // compaction stalled the first touches, 0.2-0.6 s per 1M rows.)
        let bytes = (slotCount * Self.stride * MemoryLayout<F>.stride + 4095) & ~4095
        let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let raw, raw != MAP_FAILED else {
            throw FTRLError(.usage, "cannot allocate \(bytes >> 20) MiB for a table of 2^\(bits) slots (lower --bits)")
        }
        mappedBytes = bytes
        base = raw.bindMemory(to: F.self, capacity: slotCount * Self.stride)
    }

    private let mappedBytes: Int
    private let populating = NSCondition()
    private var populateRunning = false
    private var populateCancelled = false

    /// Faults the table's pages in on a helper thread while input starts to
    /// flow: the kernel maps and zeroes them in bulk, far cheaper than one
    /// page fault at a time in the trainer's loop (0.97 s -> 0.80 s for 1M
    /// rows at 24 bits). MADV_POPULATE_WRITE never changes what a page
    /// holds, so it cannot race with the trainer's writes.
    func prefault() {
        let bytes = mappedBytes
        guard bytes >= 16 << 20, !populateRunning else { return }
        populateRunning = true
        let address = Int(bitPattern: base)
        let thread = Thread { [self] in
            let step = 8 << 20
            var offset = 0
            while offset < bytes {
                populating.lock()
                let stop = populateCancelled
                populating.unlock()
                if stop { break }
                let length = min(step, bytes - offset)
                if madvise(UnsafeMutableRawPointer(bitPattern: address + offset), length, 23 /* MADV_POPULATE_WRITE */) != 0 { break }
                offset += length
            }
            populating.lock()
            populateRunning = false
            populating.broadcast()
            populating.unlock()
        }
        thread.start()
    }

    deinit {
        populating.lock()
        populateCancelled = true
        while populateRunning { populating.wait() }
        populating.unlock()
        munmap(base, mappedBytes)
    }

    /// The state of `slot`: w, n, z, mark.
    @inline(__always)
    public func pointer(_ slot: UInt32) -> UnsafeMutablePointer<F> {
        base + (Int(slot) &* 4)
    }

    /// The weight of `slot`.
    @inline(__always)
    public func weight(_ slot: UInt32) -> F {
        base[Int(slot) &* 4]
    }

    /// Asks the CPU to bring `slot` into cache.
    @inline(__always)
    func prefetch(_ slot: UInt32) {
        ftrl_prefetch(base + (Int(slot) &* 4))
    }

    /// Whether `slot` was ever active.
    @inline(__always)
    public func isActive(_ slot: Int) -> Bool {
        base[slot &* 4 &+ 3] != 0
    }

    /// The number of slots that were ever active.
    public var activeCount: Int {
        var count = 0
        for s in 0..<slotCount where base[s &* 4 &+ 3] != 0 { count += 1 }
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
