/// Decoded input text from one file, cut at a line end.
final class TextChunk {
    private(set) var bytes: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    var length = 0
    /// The file the text comes from.
    var path = ""
    /// Whether this chunk starts its file (line numbers restart at 1).
    var startsFile = false
    /// Whether it holds the start of a record longer than the limit, and nothing else.
    var oversized = false

    init(capacity: Int) {
        self.capacity = capacity
        bytes = .allocate(capacity: capacity)
    }

    deinit { bytes.deallocate() }

    /// Doubles the capacity, keeping the contents (for a line longer than a chunk).
    func grow() {
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
        bigger.update(from: bytes, count: length)
        bytes.deallocate()
        bytes = bigger
        capacity *= 2
    }
}
