/// Parses LibSVM rows, `label idx:val idx:val ...`, from raw bytes.
///
/// Labels are `0`/`1` or `-1`/`+1` (written in any numeric form equal to
/// those); indices are decimal integers from 1; a row may have no features;
/// blank lines and `#` comments are skipped; CRLF line ends are accepted.
/// Indices become kernel slots through the `FeatureHasher`, so the block
/// holds what the trainer needs and nothing more.
struct LibSVMParser {
    let hasher: FeatureHasher

    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    /// Parses one line (without its `\n`) into `block`.
    /// - Returns: false for a blank or comment line, true when an example was added.
    /// - Throws: `FTRLError` (.data) with the offending token; the caller adds the file and line.
    @inline(__always)
    func parseLine(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ lineEnd: Int, into block: ExampleBlock) throws(FTRLError) -> Bool {
        var end = lineEnd
        if end > start && bytes[end - 1] == 0x0D { end -= 1 }
        var i = start
        while i < end && Self.isSpace(bytes[i]) { i += 1 }
        if i == end || bytes[i] == UInt8(ascii: "#") { return false }

        // Label.
        let labelStart = i
        while i < end && !Self.isSpace(bytes[i]) { i += 1 }
        let label: Float
        switch DecimalParser.parse(bytes, labelStart, i) {
        case .some(1): label = 1
        case .some(0), .some(-1): label = 0
        default:
            throw FTRLError(.data, "expected a label 0, 1, -1 or +1", text: Self.token(bytes, labelStart, i))
        }

        let e = block.count
        var f = block.offsets[e]
        block.reserveFeatures(((end - i) >> 2) + 1)
        let slots = block.slots
        let values = block.values
        while true {
            while i < end && Self.isSpace(bytes[i]) { i += 1 }
            if i == end || bytes[i] == UInt8(ascii: "#") { break }
            let tokenStart = i
            // Index: decimal digits up to ':'.
            var index: UInt64 = 0
            var overflow = false
            while i < end, bytes[i] &- 48 < 10 {
                let (m, o1) = index.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(bytes[i] &- 48))
                overflow = overflow || o1 || o2
                index = a
                i += 1
            }
            if i == tokenStart || i == end || bytes[i] != UInt8(ascii: ":") {
                while i < end && !Self.isSpace(bytes[i]) { i += 1 }
                let text = Self.token(bytes, tokenStart, i)
                if bytes[tokenStart] == UInt8(ascii: "-") {
                    throw FTRLError(.data, "negative feature index", text: text)
                }
                throw FTRLError(.data, "expected 'index:value'", text: text)
            }
            if overflow {
                throw FTRLError(.data, "feature index too large", text: Self.token(bytes, tokenStart, Self.tokenEnd(bytes, i, end)))
            }
            if index == 0 {
                throw FTRLError(.data, "feature index 0 (indices start at 1)", text: Self.token(bytes, tokenStart, Self.tokenEnd(bytes, i, end)))
            }
            i += 1
            let valueStart = i
            while i < end && !Self.isSpace(bytes[i]) { i += 1 }
            guard let value = DecimalParser.parse(bytes, valueStart, i) else {
                throw FTRLError(.data, "value is not a number", text: Self.token(bytes, tokenStart, i))
            }
            if !value.isFinite {
                throw FTRLError(.data, "value is not finite", text: Self.token(bytes, tokenStart, i))
            }
            guard let slot = hasher.slot(ofIndex: index) else {
                throw FTRLError(
                    .data, "index \(index) does not fit a table of 2^\(hasher.bits) slots (--bits \(hasher.bits), --hash identity)",
                    text: Self.token(bytes, tokenStart, i))
            }
            slots[f] = slot
            values[f] = value
            f += 1
        }
        block.labels[e] = label
        block.count = e + 1
        block.offsets[e + 1] = f
        return true
    }

    static func tokenEnd(_ bytes: UnsafePointer<UInt8>, _ from: Int, _ end: Int) -> Int {
        var i = from
        while i < end && !isSpace(bytes[i]) { i += 1 }
        return i
    }

    static func token(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> String {
        FTRLError.quote(UnsafeRawBufferPointer(start: bytes + start, count: end - start))
    }
}
