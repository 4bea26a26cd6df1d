extension SIMD4: GradientSum where Scalar: FTRLScalar {}

/// Sums the gradient of one step per slot: the duplicates of a batch (the
/// same slot from several features or examples) become one number per active
/// slot before the update, as the contract requires.
///
/// An open-addressing table keyed by slot, cleared in O(1) between steps by a
/// step stamp; the active slots are kept in first-seen order. A struct of
/// pointers that cannot be copied: it owns its buffers and frees them once,
/// when it goes away (or when `grow()` replaces them), so a double free or a
/// use after free cannot be written.
struct GradientAccumulator<F: GradientSum>: ~Copyable {
    private var keys: UnsafeMutablePointer<UInt32>
    private var stamps: UnsafeMutablePointer<UInt32>
    private var positions: UnsafeMutablePointer<Int32>
    private var capacity: Int
    private var shift: UInt32
    private var stamp: UInt32 = 1

    /// The active slots of the step, in first-seen order.
    private(set) var slots: UnsafeMutablePointer<UInt32>
    /// The summed gradient beside each slot.
    private(set) var gradients: UnsafeMutablePointer<F>
    /// How many slots are active.
    private(set) var count = 0

    init(capacity: Int = 256) {
        self.capacity = capacity
        shift = UInt32(32 - capacity.trailingZeroBitCount)
        keys = .allocate(capacity: capacity)
        stamps = .allocate(capacity: capacity)
        stamps.initialize(repeating: 0, count: capacity)
        positions = .allocate(capacity: capacity)
        slots = .allocate(capacity: capacity / 2)
        gradients = .allocate(capacity: capacity / 2)
    }

    deinit {
        keys.deallocate()
        stamps.deallocate()
        positions.deallocate()
        slots.deallocate()
        gradients.deallocate()
    }

    /// Adds `gradient(j)` to the gradient of `slots[j]` for each `j` in
    /// `range`, in order, making those slots active: one example's features
    /// in one call, with the table's fields held in registers for the whole
    /// run (not reloaded after every store).
    @inline(__always)
    mutating func add(_ slots: UnsafePointer<UInt32>, _ range: Range<Int>, gradient: (Int) -> F) {
        while (count &+ range.count) &* 2 >= capacity { grow() }
        let keys = self.keys
        let stamps = self.stamps
        let positions = self.positions
        let active = self.slots
        let sums = self.gradients
        let stamp = self.stamp
        let shift = self.shift
        let mask = capacity &- 1
        var count = self.count
        for j in range {
            let slot = slots[j]
            let g = gradient(j)
            var h = Int((slot &* 0x9E37_79B1) >> shift)
            while true {
                if stamps[h] != stamp {
                    stamps[h] = stamp
                    keys[h] = slot
                    positions[h] = Int32(truncatingIfNeeded: count)
                    active[count] = slot
                    sums[count] = g
                    count &+= 1
                    break
                }
                if keys[h] == slot {
                    sums[Int(positions[h])] += g
                    break
                }
                h = (h &+ 1) & mask
            }
        }
        self.count = count
    }

    /// Forgets every slot: the next step starts empty.
    @inline(__always)
    mutating func clear() {
        count = 0
        stamp &+= 1
        if stamp == 0 {
            stamps.update(repeating: 0, count: capacity)
            stamp = 1
        }
    }

    @inline(never)
    private mutating func grow() {
        var bigger = GradientAccumulator(capacity: capacity * 2)
        bigger.add(slots, 0..<count) { gradients[$0] }
        self = bigger  // the old buffers are freed by the old value's deinit
    }
}
