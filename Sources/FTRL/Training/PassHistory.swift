/// The running loss sums of a search's settings at block ends of the first
/// pass, thinned to at most `limit` points (every other one dropped when
/// full), so that the logloss of the pass's second half can be told at its
/// end without knowing the pass's length in advance.
struct PassHistory {
    private(set) var rows: [Int] = [0]
    private(set) var positives: [Int] = [0]
    private(set) var sums: [[Double]]
    private var every = 1
    private var seen = 0
    let limit: Int

    init(settings: Int, limit: Int = 4096) {
        sums = [[Double](repeating: 0, count: settings)]
        self.limit = limit
    }

    /// Records the running sums after a block.
    mutating func record(rows row: Int, positives p: Int, sums current: UnsafeMutableBufferPointer<Double>) {
        seen += 1
        guard seen % every == 0 else { return }
        rows.append(row)
        positives.append(p)
        sums.append(Array(current))
        if rows.count > limit {
            // Keep the first point (the start) and every other one after it.
            let keep = stride(from: 0, to: rows.count, by: 2)
            rows = keep.map { rows[$0] }
            positives = keep.map { positives[$0] }
            sums = keep.map { sums[$0] }
            every *= 2
        }
    }

    /// From the last recorded point at or before the middle of a pass of
    /// `total` rows with running sums `final` and `finalPositives` positives:
    /// the mean loss of each setting after it, its rows and positives.
    func secondHalf(total: Int, finalPositives: Int, final: UnsafeMutableBufferPointer<Double>) -> (
        means: [Double], rows: Int, positives: Int
    ) {
        var k = 0
        while k + 1 < rows.count && rows[k + 1] <= total / 2 { k += 1 }
        let n = total - rows[k]
        guard n > 0 else { return (Array(repeating: .nan, count: final.count), 0, 0) }
        return ((0..<final.count).map { (final[$0] - sums[k][$0]) / Double(n) }, n, finalPositives - positives[k])
    }
}
