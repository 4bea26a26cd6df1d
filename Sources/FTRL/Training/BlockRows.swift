/// The rows of a block's features in a trainer's table (`WeightTable.rows`):
/// for a sparse table a buffer the trainer keeps from block to block, filled
/// before the examples are trained, so that the hot loops index rows exactly
/// as they index a dense table's slots.
struct BlockRows: ~Copyable {
    private var buffer: UnsafeMutablePointer<UInt32>
    private var capacity = 0

    init() {
        buffer = .allocate(capacity: 1)
    }

    deinit {
        buffer.deallocate()
    }

    /// The rows of the features of examples `range` of `block` in `table`,
    /// indexed as `block.slots` (the slots themselves for a dense table).
    /// - Throws: `FTRLError` when a sparse table cannot grow.
    @inline(__always)
    mutating func of<F: FTRLScalar>(_ block: ExampleBlock, _ range: Range<Int>, in table: WeightTable<F>) throws(FTRLError)
        -> UnsafeMutablePointer<UInt32>
    {
        guard table.isSparse else { return block.slots }
        let lo = block.offsets[range.lowerBound]
        let hi = block.offsets[range.upperBound]
        if hi > capacity { grow(to: hi) }
        _ = try table.rows(of: block.slots + lo, hi - lo, into: buffer + lo)
        return buffer
    }

    @inline(never)
    private mutating func grow(to needed: Int) {
        buffer.deallocate()
        capacity = max(needed, capacity * 2)
        buffer = .allocate(capacity: capacity)
    }
}
