import CFTRLShims
import Glibc

/// The kernel: `2^bits` slots, each holding `w`, `n`, `z` and a mark side by
/// side in one contiguous buffer, so one cache line serves a slot's whole
/// update (the layout of Vowpal Wabbit's FTRL).
///
/// The buffer is fresh anonymous memory, zero until written, which the
/// kernel maps only when first touched: untouched slots cost no memory.
/// A zero mark means "never active": such a slot holds `w = 0`, `z = 0` and
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
        // Fresh anonymous pages read as zero and cost nothing until written;
        // huge pages make the first touch of a big table far cheaper (one
        // fault and one clear per 2 MiB instead of per 4 KiB).
        let bytes = (slotCount * Self.stride * MemoryLayout<F>.stride + (2 << 20) - 1) & ~((2 << 20) - 1)
        let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let raw, raw != MAP_FAILED else {
            throw FTRLError(.usage, "cannot allocate \(bytes >> 20) MiB for a table of 2^\(bits) slots (lower --bits)")
        }
        if bytes >= 4 << 20 { _ = madvise(raw, bytes, MADV_HUGEPAGE) }
        mappedBytes = bytes
        base = raw.bindMemory(to: F.self, capacity: slotCount * Self.stride)
    }

    private let mappedBytes: Int

    deinit { munmap(base, mappedBytes) }

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
