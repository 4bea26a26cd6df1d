import Glibc

/// Finds where records end in decoded text, so that the reader can cut its
/// chunks between records and the parser never sees half of one.
///
/// It follows the parser's own rules, so both always agree on where a
/// record ends: in CSV a quote opens a quoted field only at the start of a
/// field, `""` inside one is a quote, and line breaks inside one belong to
/// the field; a quote anywhere else (`5'11"`) is an ordinary character. In
/// LibSVM and TSV every line break ends a record.
///
/// The scan is incremental: text appended to a chunk is scanned once, however
/// many times the reader asks, so a long record arriving slowly through a
/// pipe costs linear time.
struct RecordSplitter {
    private enum State {
        /// At the start of a field: a quote here opens a quoted field.
        case fieldStart
        /// Inside an unquoted field.
        case unquoted
        /// Inside a quoted field.
        case quoted
        /// Just after a quote inside a quoted field: it closed the field, or
        /// it is the first of `""`.
        case quoteInQuoted
    }

    private let quoting: Bool
    private let separator: UInt8
    private var state = State.fieldStart
    /// How many bytes of the chunk were scanned.
    private(set) var scanned = 0
    /// The offset of the last line break that ends a record, or -1.
    private(set) var lastEnd = -1

    /// A splitter for `format`, at the start of a record.
    init(format: InputFormat) {
        quoting = format == .csv
        separator = format.separator
    }

    /// Starts over on a new chunk, which begins with a record.
    mutating func reset() {
        state = .fieldStart
        scanned = 0
        lastEnd = -1
    }

    /// Scans `bytes[scanned..<length]`, the text appended since the last call.
    mutating func scan(_ bytes: UnsafePointer<UInt8>, upTo length: Int) {
        let quote = UInt8(ascii: "\"")
        let newline: UInt8 = 0x0A
        var i = scanned
        scanned = length
        if i >= length { return }
        if !quoting || (state != .quoted && state != .quoteInQuoted && memchr(bytes + i, Int32(quote), length - i) == nil) {
            // No quote to follow: the last line break ends a record.
            var k = length - 1
            while k >= i && bytes[k] != newline { k -= 1 }
            if k >= i { lastEnd = k }
            let last = bytes[length - 1]
            state = last == newline || last == separator ? .fieldStart : .unquoted
            return
        }
        var s = state
        while i < length {
            let b = bytes[i]
            switch s {
            case .fieldStart, .unquoted:
                if b == newline {
                    lastEnd = i
                    s = .fieldStart
                } else if b == separator {
                    s = .fieldStart
                } else if b == quote && s == .fieldStart {
                    s = .quoted
                } else {
                    s = .unquoted
                }
            case .quoted:
                if b == quote { s = .quoteInQuoted }
            case .quoteInQuoted:
                if b == quote {
                    s = .quoted
                } else if b == newline {
                    lastEnd = i
                    s = .fieldStart
                } else if b == separator {
                    s = .fieldStart
                } else {
                    // Text after a closing quote: the parser refuses the
                    // record; until then it reads on as an unquoted field.
                    s = .unquoted
                }
            }
            i += 1
        }
        state = s
    }
}
