import Glibc

/// Parses CSV (RFC 4180: quoted fields, `""` for a quote, separators and
/// line breaks inside quotes) and TSV (no quoting) rows into examples,
/// following a `FieldPlan`: each categorical value becomes one feature
/// hashed from its column and its bytes, each numeric value one feature of
/// its column, and crossed columns one feature per pair of present values.
///
/// Slots: a categorical value hashes to MurmurHash3(value bytes, seed =
/// MurmurHash3(column name, hash seed)); a numeric column's feature to
/// MurmurHash3 of no bytes with the column's seed; a cross of columns A and
/// B to MurmurHash3 of the two values' 32-bit hashes (8 bytes, A's first)
/// with seed MurmurHash3("A\u{1F}B", hash seed); each masked to `bits`.
final class DelimitedParser {
    let plan: FieldPlan
    private let separator: UInt8
    private let quoting: Bool
    private let mask: UInt32
    private let decimals = DecimalParser()
    private var scratch: UnsafeMutablePointer<UInt8>
    private var scratchCapacity = 4096
    private let hashes: UnsafeMutablePointer<UInt32>
    private let present: UnsafeMutablePointer<Bool>
    private let perRecord: Int
    private let specs: UnsafeMutablePointer<FieldPlan.Field>
    private let fieldCount: Int
    /// log1p(k) for the small whole numbers that most count columns hold.
    private let log1pTable: UnsafeMutablePointer<Double>
    private static var tabulated: Int { 4096 }
    /// The first problem in the record being parsed (cold path).
    private var failure: FTRLError?
    /// Whether each feature's name goes into `ExampleBlock.names` (`column=value`,
    /// a numeric column by its name, `A=x^B=y` for a cross), and each
    /// present field's value name, for its crosses.
    let naming: Bool
    private var valueNames: [String]
    /// The field whose value each example carries in `ExampleBlock.groups`, or -1.
    var groupField = -1
    /// The block being filled, while naming.
    private var namingBlock: ExampleBlock?

    init(plan: FieldPlan, format: InputFormat, hasher: FeatureHasher, naming: Bool = false) {
        self.plan = plan
        self.naming = naming
        valueNames = naming ? [String](repeating: "", count: plan.fields.count) : []
        separator = format.separator
        quoting = format == .csv
        mask = UInt32(truncatingIfNeeded: hasher.mask)
        scratch = .allocate(capacity: scratchCapacity)
        hashes = .allocate(capacity: max(plan.fields.count, 1))
        present = .allocate(capacity: max(plan.fields.count, 1))
        present.initialize(repeating: false, count: max(plan.fields.count, 1))
        perRecord = plan.fields.count + plan.crosses.count + 1
        fieldCount = plan.fields.count
        specs = .allocate(capacity: max(fieldCount, 1))
        for (i, f) in plan.fields.enumerated() { specs[i] = f }
        log1pTable = .allocate(capacity: Self.tabulated)
        for k in 0..<Self.tabulated { log1pTable[k] = log1p(Double(k)) }
    }

    deinit {
        specs.deallocate()
        log1pTable.deallocate()
        scratch.deallocate()
        hashes.deallocate()
        present.deallocate()
    }

    /// Parses the records of `text[start..<end]` into `block` until it is
    /// full or the text ends (`end` follows a record's line break or is the
    /// end of the input).
    /// - Returns: where parsing stopped and how many lines it consumed.
    /// - Throws: `FTRLError` (.data) naming the column and the text, with
    ///   `line` = `firstLine` + the lines before the bad record.
    func parse(_ text: UnsafePointer<UInt8>, from start: Int, to end: Int, into block: ExampleBlock, firstLine: Int)
        throws(FTRLError) -> (next: Int, lines: Int)
    {
        var count = block.count
        let capacity = block.exampleCapacity
        var position = start
        var lines = 0
        defer { block.count = count }
        block.hasWeights = plan.hasWeight
        if naming { namingBlock = block }
        defer { if naming { namingBlock = nil } }
        while position < end && count < capacity {
            var f = block.offsets[count]
            if f + perRecord > block.featureCapacity {
                block.count = count
                block.reserveFeatures(perRecord)
            }
            let recordLine = firstLine + lines
            do throws(FTRLError) {
                let (next, newlines, kept) = try record(text, position, end, block, &f, count)
                position = next
                lines += newlines
                if kept {
                    count += 1
                    block.offsets[count] = f
                }
            } catch var error {
                error.line = recordLine
                throw error
            }
        }
        return (min(position, end), lines)
    }

    /// One record from `start`: returns where the next begins, the line
    /// breaks consumed, and whether it was an example (not a blank line).
    @inline(__always)
    private func record(
        _ text: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ block: ExampleBlock, _ f: inout Int, _ e: Int
    ) throws(FTRLError) -> (Int, Int, Bool) {
        // A blank line is no record.
        var probe = start
        if probe < end && text[probe] == 0x0D { probe += 1 }
        if probe == end || text[probe] == 0x0A { return (min(probe + 1, end), 1, false) }

        let slots = block.slots
        let values = block.values
        let specs = self.specs
        let fieldCount = self.fieldCount
        var i = start
        var field = 0
        var newlines = 0
        var label = Float.nan
        var weight: Double = 1
        var atEnd = false
        var failed = false
        while !atEnd {
            var valueStart = i
            var valueEnd: Int
            var bytes = UnsafePointer<UInt8>(text)
            if quoting && i < end && text[i] == UInt8(ascii: "\"") {
                // A quoted field: copy it unescaped into the scratch buffer.
                var n = 0
                i += 1
                while true {
                    guard let q = memchr(text + i, Int32(UInt8(ascii: "\"")), end - i) else {
                        throw FTRLError(.data, "unterminated quote", text: Self.quote(text, start, end))
                    }
                    let qi = UnsafePointer(q.assumingMemoryBound(to: UInt8.self)) - text
                    let piece = qi - i
                    if n + piece + 1 > scratchCapacity { growScratch(n + piece + 1) }
                    (scratch + n).update(from: text + i, count: piece)
                    for k in i..<qi where text[k] == 0x0A { newlines += 1 }
                    n += piece
                    if qi + 1 < end && text[qi + 1] == UInt8(ascii: "\"") {
                        scratch[n] = UInt8(ascii: "\"")
                        n += 1
                        i = qi + 2
                    } else {
                        i = qi + 1
                        break
                    }
                }
                bytes = UnsafePointer(scratch)
                valueStart = 0
                valueEnd = n
                if i < end && text[i] == 0x0D && i + 1 < end && text[i + 1] == 0x0A { i += 1 }
                if i < end && text[i] != separator && text[i] != 0x0A {
                    throw FTRLError(.data, "unexpected text after a closing quote", text: Self.quote(text, start, end))
                }
            } else {
                // The field's end, eight bytes at a time while the text lasts.
                while i &+ 8 <= end {
                    let k = DigitRun.firstOf(separator, 0x0A, in: text + i)
                    i &+= k
                    if k < 8 { break }
                }
                while i < end && text[i] != separator && text[i] != 0x0A { i += 1 }
                valueEnd = i
                if valueEnd > valueStart && text[valueEnd - 1] == 0x0D && (i == end || text[i] == 0x0A) { valueEnd -= 1 }
            }
            if i >= end || text[i] == 0x0A {
                atEnd = true
                newlines += 1
            }
            i += 1
            if field == groupField { group(bytes + valueStart, valueEnd - valueStart) }
            if field < fieldCount && !failed {
                // A bad value is reported after the field count is checked.
                failed = !take(
                    specs[field], field, bytes + valueStart, valueEnd - valueStart,
                    readable: bytes == text ? end - valueStart : valueEnd - valueStart, slots, values, &f, &label, &weight)
            }
            field += 1
        }
        if field != fieldCount {
            throw FTRLError(.data, "expected \(fieldCount) fields, found \(field)", text: Self.quote(text, start, min(i, end)))
        }
        if failed, let failure {
            self.failure = nil
            throw failure
        }
        for (a, b, seed) in plan.crosses where present[a] && present[b] {
            let key = UInt64(hashes[a]) | UInt64(hashes[b]) << 32
            slots[f] = MurmurHash3.hash(key, seed: seed) & mask
            values[f] = 1
            f += 1
            if naming { namingBlock?.names.append(valueNames[a] + "^" + valueNames[b]) }
        }
        block.labels[e] = label
        block.weights[e] = weight
        if groupField >= 0 { block.groups.append(groupValue) }
        return (min(i, end), newlines, true)
    }

    /// Turns one field's value into features, the label or the weight.
    /// - Returns: false, with `failure` set, for a value that does not fit its column.
    @inline(__always)
    private func take(
        _ spec: FieldPlan.Field, _ field: Int, _ value: UnsafePointer<UInt8>, _ length: Int, readable: Int,
        _ slots: UnsafeMutablePointer<UInt32>, _ values: UnsafeMutablePointer<Double>, _ f: inout Int,
        _ label: inout Float, _ weight: inout Double
    ) -> Bool {
        if length == 0 && (spec.role == .categorical || spec.role == .numeric) {
            // A missing value: only the column's missing feature, if wanted.
            if plan.missingFeatures {
                slots[f] = spec.missingHash & mask
                values[f] = 1
                f += 1
                if naming { name(field, "(missing)", value: false) }
            }
            present[field] = false
            return true
        }
        switch spec.role {
        case .skip:
            break
        case .categorical:
            emitValue(MurmurHash3.hash(UnsafeRawBufferPointer(start: value, count: length), seed: spec.seed), field, slots, values, &f)
            if naming { name(field, String(decoding: UnsafeBufferPointer(start: value, count: length), as: UTF8.self)) }
        case .numeric:
            let v: Double
            // Whole numbers of up to 8 digits (most count columns) in one
            // eight-byte read: the same double as `DecimalParser`'s.
            if length <= 8 && readable >= 8, case let (digits, whole) = DigitRun.read(value), digits == length {
                v = Double(whole)
            } else {
                guard let parsed = decimals.parse(value, 0, length), parsed.isFinite else {
                    return fail(field, "expected a number", value, length)
                }
                v = parsed
            }
            switch plan.transform {
            case .bucket:
                emitValue(Self.bucketHash(v, seed: spec.seed), field, slots, values, &f)
                if naming { name(field, Self.bucketName(v)) }
            case .log1p, .raw:
                let x = plan.transform == .raw ? v : signedLog1p(v)
                if x != 0 {
                    slots[f] = spec.numericHash & mask
                    values[f] = x
                    f += 1
                    if naming { name(field, nil) }
                }
            }
        case .label:
            if length == 1 && (value[0] == UInt8(ascii: "1") || value[0] == UInt8(ascii: "0")) {
                label = value[0] == UInt8(ascii: "1") ? 1 : 0
            } else {
                switch decimals.parse(value, 0, length) {
                case .some(1): label = 1
                case .some(0), .some(-1): label = 0
                default:
                    return fail(field, "expected a label 0, 1, -1 or +1", value, length)
                }
            }
        case .weight:
            guard let v = decimals.parse(value, 0, length), v.isFinite, v >= 0 else {
                return fail(field, "expected a weight (a finite number >= 0)", value, length)
            }
            weight = v
        }
        return true
    }

    /// A feature of value 1 for a value's hash, remembered for crosses.
    @inline(__always)
    private func emitValue(
        _ h: UInt32, _ field: Int, _ slots: UnsafeMutablePointer<UInt32>, _ values: UnsafeMutablePointer<Double>, _ f: inout Int
    ) {
        slots[f] = h & mask
        values[f] = 1
        f += 1
        hashes[field] = h
        present[field] = true
    }

    /// The grouping column's value in the record being parsed.
    private var groupValue = ""

    @inline(never)
    private func group(_ value: UnsafePointer<UInt8>, _ length: Int) {
        groupValue = String(decoding: UnsafeBufferPointer(start: value, count: length), as: UTF8.self)
    }

    /// Names the feature just emitted for `field`: `column=value`, or the
    /// column alone (`value` nil: a numeric column's value feature); a value
    /// feature's name is kept for the field's crosses.
    @inline(never)
    private func name(_ field: Int, _ value: String?, value isValue: Bool = true) {
        let full = value.map { plan.names[field] + "=" + $0 } ?? plan.names[field]
        namingBlock?.names.append(full)
        if isValue && value != nil { valueNames[field] = full }
    }

    /// The name of a numeric value's bucket (see `bucketHash`): `-2` to
    /// `2` for small values (floored), else the power-of-two range, `[8,16)`
    /// or `-[8,16)`.
    static func bucketName(_ v: Double) -> String {
        if abs(v) <= 2 { return String(Int64(v.rounded(.down))) }
        let b = Int64(log2(abs(v)).rounded(.down))
        let range = "[\(b >= 63 ? "2^\(b)" : String(Int64(1) << b)),\(b >= 62 ? "2^\(b + 1)" : String(Int64(1) << (b + 1))))"
        return v < 0 ? "-" + range : range
    }

    /// `sign(v) * log1p(|v|)`, from the table for small whole numbers.
    @inline(__always)
    private func signedLog1p(_ v: Double) -> Double {
        if v >= 0 && v < Double(Self.tabulated) && v == v.rounded(.towardZero) { return log1pTable[Int(v)] }
        return v < 0 ? -log1p(-v) : log1p(v)
    }

    @inline(never)
    private func fail(_ field: Int, _ message: String, _ value: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        failure = FTRLError(.data, "column \"\(plan.names[field])\": \(message)", text: Self.quote(value, 0, length))
        return false
    }

    /// The hash of a numeric value's bucket: small integers (-2...2) stand
    /// for themselves, other values for the sign and floor(log2 |v|).
    static func bucketHash(_ v: Double, seed: UInt32) -> UInt32 {
        var key: Int64
        if abs(v) <= 2 {
            key = Int64(v.rounded(.down))
        } else {
            let b = Int64(log2(abs(v)).rounded(.down))
            key = v < 0 ? -(1000 + b) : 1000 + b
        }
        return withUnsafeBytes(of: &key) { MurmurHash3.hash($0, seed: seed) }
    }

    private func growScratch(_ needed: Int) {
        var capacity = scratchCapacity * 2
        while capacity < needed { capacity *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        bigger.update(from: scratch, count: scratchCapacity)
        scratch.deallocate()
        scratch = bigger
        scratchCapacity = capacity
    }

    static func quote(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> String {
        var stop = start
        while stop < end && bytes[stop] != 0x0A { stop += 1 }
        if stop > start && bytes[stop - 1] == 0x0D { stop -= 1 }
        return FTRLError.quote(UnsafeRawBufferPointer(start: bytes + start, count: stop - start))
    }

    /// Splits one record (a header) into its field strings.
    /// - Returns: the fields and where the next record starts, or nil when
    ///   the text holds no complete record.
    static func fields(
        _ text: UnsafePointer<UInt8>, _ start: Int, _ end: Int, format: InputFormat
    ) throws(FTRLError) -> (fields: [String], next: Int, lines: Int)? {
        var out: [String] = []
        var i = start
        var current: [UInt8] = []
        var lines = 0
        if i >= end { return nil }
        while true {
            if format == .csv && i < end && text[i] == UInt8(ascii: "\"") {
                i += 1
                while true {
                    guard i < end else { throw FTRLError(.data, "unterminated quote", text: quote(text, start, end)) }
                    if text[i] == UInt8(ascii: "\"") {
                        if i + 1 < end && text[i + 1] == UInt8(ascii: "\"") {
                            current.append(UInt8(ascii: "\""))
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    if text[i] == 0x0A { lines += 1 }
                    current.append(text[i])
                    i += 1
                }
                if i < end && text[i] == 0x0D && i + 1 < end && text[i + 1] == 0x0A { i += 1 }
                if i < end && text[i] != format.separator && text[i] != 0x0A {
                    throw FTRLError(.data, "unexpected text after a closing quote", text: quote(text, start, end))
                }
            } else {
                while i < end && text[i] != format.separator && text[i] != 0x0A {
                    current.append(text[i])
                    i += 1
                }
                if current.last == 0x0D && (i == end || text[i] == 0x0A) { current.removeLast() }
            }
            out.append(String(decoding: current, as: UTF8.self))
            current.removeAll(keepingCapacity: true)
            if i >= end || text[i] == 0x0A {
                return (out, min(i + 1, end), lines + 1)
            }
            i += 1
        }
    }
}
