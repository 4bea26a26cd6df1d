import Glibc

/// Parses LibSVM rows, `label idx:val idx:val ...`, from raw bytes.
///
/// Labels are `0`/`1` or `-1`/`+1` (written in any numeric form equal to
/// those); indices are decimal integers from 1; a row may have no features;
/// blank lines and `#` comments are skipped; CRLF line ends are accepted.
/// Indices become kernel slots through the `FeatureHasher`, so the block
/// holds what the trainer needs and nothing more.
struct LibSVMParser {
    let hasher: FeatureHasher
    private let decimals = DecimalParser()
    /// Whether each feature's index goes into `ExampleBlock.names` as its name.
    let naming: Bool

    init(hasher: FeatureHasher, naming: Bool = false) {
        self.hasher = hasher
        self.naming = naming
    }

    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    /// Parses the lines of `text[start..<end]` into `block` until the block
    /// is full or the text ends. `end` must follow a `\n` or be the end of
    /// the input.
    /// - Returns: where parsing stopped and how many lines it consumed.
    /// - Throws: `FTRLError` (.data) with `line` = `firstLine` + the lines
    ///   before the bad one; the examples before it stay in the block.
    func parse(_ text: UnsafePointer<UInt8>, from start: Int, to end: Int, into block: ExampleBlock, firstLine: Int)
        throws(FTRLError) -> (next: Int, lines: Int)
    {
        var count = block.count
        let capacity = block.exampleCapacity
        let labels = block.labels
        let offsets = block.offsets
        var slots = block.slots
        var values = block.values
        var featureCapacity = block.featureCapacity
        var f = offsets[count]
        var position = start
        var lines = 0
        defer { block.count = count }
        while position < end && count < capacity {
            let lineEnd: Int
            if let nl = memchr(text + position, 0x0A, end - position) {
                lineEnd = UnsafePointer(nl.assumingMemoryBound(to: UInt8.self)) - text
            } else {
                lineEnd = end
            }
            // Room for every feature the line could hold ("i:v" plus a separator).
            let most = ((lineEnd - position) >> 2) + 1
            if f + most > featureCapacity {
                block.count = count
                block.reserveFeatures(most)
                slots = block.slots
                values = block.values
                featureCapacity = block.featureCapacity
            }
            // A line followed by 16 bytes of text takes the eight-byte path
            // (`fastLine`), which leaves to `parseLine` any line it does not
            // read to the end: the rare forms and every error.
            if !naming && lineEnd &+ 16 <= end, let label = fastLine(text, position, lineEnd, slots, values, &f) {
                labels[count] = label
                count += 1
                offsets[count] = f
                lines += 1
                position = lineEnd + 1
                continue
            }
            f = offsets[count]
            do throws(FTRLError) {
                if let label = try parseLine(text, position, lineEnd, slots, values, &f, block) {
                    labels[count] = label
                    count += 1
                    offsets[count] = f
                } else {
                    f = offsets[count]
                }
            } catch var error {
                error.line = firstLine + lines
                throw error
            }
            lines += 1
            position = lineEnd + 1
        }
        return (min(position, end), lines)
    }

    /// Whether `b` ends a token: a space, a tab or a line end.
    @inline(__always)
    static func endsToken(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    /// Reads a line in the common forms of click logs, eight bytes at a
    /// time (`DigitRun`): a label `0`, `1`, `-1` or `+1` first in the line;
    /// single spaces or tabs between tokens; indices of 1 to 8 digits; values
    /// `1`, or decimals with at most 7 digits before and after the point,
    /// which `DecimalParser` would read to the same double (their digits
    /// make an exact double, divided once by an exact power of ten).
    /// `text[lineEnd]` is the line's `\n` and the 16 bytes after it are text.
    /// - Returns: the label, with the features written from `f` on; or nil
    ///   for any other line, which `parseLine` then reads (or refuses).
    @inline(__always)
    private func fastLine(
        _ b: UnsafePointer<UInt8>, _ start: Int, _ lineEnd: Int, _ slots: UnsafeMutablePointer<UInt32>,
        _ values: UnsafeMutablePointer<Double>, _ f: inout Int
    ) -> Float? {
        var i = start
        let label: Float
        let first = b[i]
        if first == UInt8(ascii: "1") || first == UInt8(ascii: "0") {
            label = first == UInt8(ascii: "1") ? 1 : 0
            i &+= 1
        } else if (first == UInt8(ascii: "+") || first == UInt8(ascii: "-")) && b[i &+ 1] == UInt8(ascii: "1") {
            label = first == UInt8(ascii: "+") ? 1 : 0
            i &+= 2
        } else {
            return nil
        }
        var k = f
        while true {
            // Between tokens: spaces and tabs, then the line's end or a feature.
            let c = b[i]
            if Self.isSpace(c) {
                i &+= 1
                while Self.isSpace(b[i]) { i &+= 1 }
            } else if !(i == lineEnd || (c == 0x0D && i &+ 1 == lineEnd)) {
                return nil
            }
            if i == lineEnd || (b[i] == 0x0D && i &+ 1 == lineEnd) { break }
            // The index: 1 to 8 digits, then ':'.
            let (n, index) = DigitRun.read(b + i)
            if n == 0 || b[i &+ n] != UInt8(ascii: ":") || index == 0 { return nil }
            i &+= n &+ 1
            let value: Double
            if b[i] == UInt8(ascii: "1") && Self.endsToken(b[i &+ 1]) {
                value = 1
                i &+= 1
            } else {
                let negative = b[i] == UInt8(ascii: "-")
                if negative { i &+= 1 }
                let (whole, wholeValue) = DigitRun.read(b + i)
                if whole == 8 { return nil }
                i &+= whole
                var mantissa = wholeValue
                var fraction = 0
                if b[i] == UInt8(ascii: ".") {
                    let (digits, digitsValue) = DigitRun.read(b + (i &+ 1))
                    if digits == 8 { return nil }
                    mantissa = mantissa &* DigitRun.power(digits) &+ digitsValue
                    fraction = digits
                    i &+= 1 &+ digits
                }
                // What follows must be a blank or the line's end: the loop's next turn checks.
                if whole &+ fraction == 0 { return nil }
                // At most 14 digits: below 2^53, so Double(mantissa) is exact.
                let magnitude = Double(mantissa) / decimals.powerOfTen(fraction)
                value = negative ? -magnitude : magnitude
            }
            // The index for now (8 digits fit 32 bits); hashed below.
            slots[k] = UInt32(truncatingIfNeeded: index)
            values[k] = value
            k &+= 1
        }
        guard hasher.slots(ofIndices: slots + f, count: k &- f) else { return nil }
        f = k
        return label
    }

    /// Parses one line (without its `\n`), writing features from `f` on.
    /// - Returns: the label, or nil for a blank or comment line.
    @inline(__always)
    private func parseLine(
        _ bytes: UnsafePointer<UInt8>, _ start: Int, _ lineEnd: Int,
        _ slots: UnsafeMutablePointer<UInt32>, _ values: UnsafeMutablePointer<Double>, _ f: inout Int, _ block: ExampleBlock
    ) throws(FTRLError) -> Float? {
        var end = lineEnd
        if end > start && bytes[end - 1] == 0x0D { end -= 1 }
        var i = start
        while i < end && Self.isSpace(bytes[i]) { i += 1 }
        if i == end || bytes[i] == UInt8(ascii: "#") { return nil }

        // Label: the common spellings first, then any number equal to 0, 1 or -1.
        let labelStart = i
        while i < end && !Self.isSpace(bytes[i]) { i += 1 }
        let label: Float
        let first = bytes[labelStart]
        if i == labelStart + 1 && (first == UInt8(ascii: "1") || first == UInt8(ascii: "0")) {
            label = first == UInt8(ascii: "1") ? 1 : 0
        } else {
            switch decimals.parse(bytes, labelStart, i) {
            case .some(1): label = 1
            case .some(0), .some(-1): label = 0
            default:
                throw FTRLError(.data, "expected a label 0, 1, -1 or +1", text: Self.token(bytes, labelStart, i))
            }
        }

        while true {
            while i < end && Self.isSpace(bytes[i]) { i += 1 }
            if i == end || bytes[i] == UInt8(ascii: "#") { break }
            let tokenStart = i
            // Index: decimal digits up to ':'.
            var index: UInt64 = 0
            var digits = 0
            while i < end, bytes[i] &- 48 < 10 {
                index = index &* 10 &+ UInt64(bytes[i] &- 48)
                digits += 1
                i += 1
            }
            if digits == 0 || i == end || bytes[i] != UInt8(ascii: ":") {
                throw indexError(bytes, tokenStart, end)
            }
            if digits > 19 { try checkIndexOverflow(bytes, tokenStart, i, end) }
            if index == 0 {
                throw FTRLError(
                    .data, "feature index 0 (indices start at 1)", text: Self.token(bytes, tokenStart, Self.tokenEnd(bytes, i, end)))
            }
            i += 1
            let valueStart = i
            let value: Double
            // One-hot features ("idx:1") are most of a click log.
            if i + 1 <= end && bytes[i] == UInt8(ascii: "1") && (i + 1 == end || Self.isSpace(bytes[i + 1])) {
                value = 1
                i += 1
            } else {
                while i < end && !Self.isSpace(bytes[i]) { i += 1 }
                guard let v = decimals.parse(bytes, valueStart, i) else {
                    throw FTRLError(.data, "value is not a number", text: Self.token(bytes, tokenStart, i))
                }
                if !v.isFinite {
                    throw FTRLError(.data, "value is not finite", text: Self.token(bytes, tokenStart, i))
                }
                value = v
            }
            guard let slot = hasher.slot(ofIndex: index) else {
                throw FTRLError(
                    .data, "index \(index) does not fit a table of 2^\(hasher.bits) slots (--bits \(hasher.bits), --hash identity)",
                    text: Self.token(bytes, tokenStart, i))
            }
            slots[f] = slot
            values[f] = value
            f += 1
            if naming { block.names.append(String(index)) }
        }
        return label
    }

    @inline(never)
    private func indexError(_ bytes: UnsafePointer<UInt8>, _ tokenStart: Int, _ end: Int) -> FTRLError {
        let text = Self.token(bytes, tokenStart, Self.tokenEnd(bytes, tokenStart, end))
        if bytes[tokenStart] == UInt8(ascii: "-") {
            return FTRLError(.data, "negative feature index", text: text)
        }
        return FTRLError(.data, "expected 'index:value'", text: text)
    }

    @inline(never)
    private func checkIndexOverflow(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ colon: Int, _ end: Int) throws(FTRLError) {
        var index: UInt64 = 0
        for k in start..<colon {
            let (m, o1) = index.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(bytes[k] &- 48))
            if o1 || o2 {
                throw FTRLError(.data, "feature index too large", text: Self.token(bytes, start, Self.tokenEnd(bytes, colon, end)))
            }
            index = a
        }
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

extension LibSVMParser: ExampleDecoder {
    /// A LibSVM file has nothing before its rows.
    func beginFile(_ chunk: TextChunk, position: inout Int, line: inout Int) throws(FTRLError) {}

    /// The parser writes nothing of its own while it decodes.
    func forAnotherThread() -> LibSVMParser { self }

    @inline(__always)
    func decode(_ text: UnsafePointer<UInt8>, from start: Int, to end: Int, into block: ExampleBlock, firstLine: Int)
        throws(FTRLError) -> (next: Int, lines: Int)
    {
        try parse(text, from: start, to: end, into: block, firstLine: firstLine)
    }
}
