import FTRLTestSupport
import Testing
@testable import FTRL

/// The parsers' eight-byte paths (`DigitRun`; `LibSVMParser.fastLine`; the
/// delimited parser's field scan and whole numbers) against references
/// written here with Swift's own splitting and number parsing and the
/// reference MurmurHash3.
struct EightBytePathTests {
    /// Count and value of the leading digits of eight bytes, one byte at a time.
    static func reference(_ bytes: [UInt8]) -> (Int, UInt64) {
        var count = 0
        var value: UInt64 = 0
        while count < 8, bytes[count] >= 0x30, bytes[count] <= 0x39 {
            value = value * 10 + UInt64(bytes[count] - 0x30)
            count += 1
        }
        return (count, value)
    }

    @Test func digitRunsMatchAByteLoop() {
        var random = TestRandom(seed: 8)
        // Digits, their neighbours in ASCII, bytes whose +6 carries, and others.
        let others: [UInt8] = [0x2F, 0x3A, 0x3F, 0x20, 0x09, 0x0A, 0x0D, 0x2E, 0x3A, 0x65, 0x00, 0xFA, 0xFF, 0x2D, 0x40, 0xB0]
        for _ in 0..<200_000 {
            let digits = random.below(9)
            var bytes = (0..<8).map { _ in UInt8(0x30 + random.below(10)) }
            if digits < 8 { bytes[digits] = others[random.below(others.count)] }
            for k in (digits + 1)..<max(8, digits + 1) where random.below(3) == 0 {
                bytes[k] = others[random.below(others.count)]
            }
            let run = bytes.withUnsafeBufferPointer { DigitRun.read($0.baseAddress!) }
            let expected = Self.reference(bytes)
            #expect(run.count == expected.0 && run.value == expected.1, "\(bytes)")
        }
        // Every length, with the largest digits.
        for n in 0...8 {
            let bytes = Array(repeating: UInt8(ascii: "9"), count: n) + Array(repeating: UInt8(ascii: " "), count: 8 - n)
            let run = bytes.withUnsafeBufferPointer { DigitRun.read($0.baseAddress!) }
            #expect(run.count == n && run.value == (n == 0 ? 0 : UInt64(String(repeating: "9", count: n))!))
        }
    }

    /// A row in one of the forms the eight-byte path reads, or one it leaves
    /// to the general parser (long indices, exponents, `+` signs, comments,
    /// several blanks, leading blanks).
    static func randomRow(_ random: inout TestRandom) -> String {
        let labels = ["0", "1", "-1", "+1", "0", "1", "1.0", "-1.0"]
        var row = random.below(50) == 0 ? " " : ""
        row += labels[random.below(labels.count)]
        for _ in 0..<random.below(45) {
            row += [" ", " ", " ", " ", "\t", "  "][random.below(6)]
            let digits = 1 + random.below(random.below(6) == 0 ? 12 : 8)
            var index = String(1 + random.below(9))
            for _ in 1..<digits { index += String(random.below(10)) }
            row += index + ":"
            switch random.below(10) {
            case 0...3: row += "1"
            case 4: row += ["0", "-0", ".5", "5.", "-1", "+2", "1e2", "2.5E-3", "0.000001"][random.below(9)]
            default:
                if random.below(4) == 0 { row += "-" }
                var whole = ""
                for _ in 0..<random.below(random.below(4) == 0 ? 10 : 4) { whole += String(random.below(10)) }
                var fraction = ""
                for _ in 0..<random.below(random.below(4) == 0 ? 10 : 7) { fraction += String(random.below(10)) }
                if whole.isEmpty && fraction.isEmpty { whole = "7" }
                row += whole + (fraction.isEmpty && random.below(2) == 0 ? "" : "." + fraction)
            }
        }
        if random.below(10) == 0 { row += " " }
        if random.below(30) == 0 { row += " # a comment 3:1" }
        return row + (random.below(8) == 0 ? "\r\n" : "\n")
    }

    /// The examples of LibSVM text, read with `split`, `UInt64(_:)` and `Double(_:)`.
    static func referenceParse(_ text: String, hasher: FeatureHasher) -> [[UInt64]] {
        var examples: [[UInt64]] = []
        // Lines split on the byte (a Character would join "\r\n").
        for bytes in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var line = Substring(decoding: bytes, as: UTF8.self)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = tokens.first else { continue }
            let label: Float = Double(first)! == 1 ? 1 : 0
            var example = [UInt64(label.bitPattern)]
            for token in tokens.dropFirst() {
                let parts = token.split(separator: ":")
                example.append(UInt64(hasher.slot(ofIndex: UInt64(parts[0])!)!))
                example.append(Double(parts[1])!.bitPattern)
            }
            examples.append(example)
        }
        return examples
    }

    @Test func randomRowsReadAsTheReferenceReadsThem() throws {
        var random = TestRandom(seed: 2026)
        let hasher = FeatureHasher(kind: .murmur3, seed: 7, bits: 24)
        var text = ""
        for _ in 0..<3000 { text += random.below(40) == 0 ? "\n" : Self.randomRow(&random) }
        let block = ExampleBlock(exampleCapacity: 4096)
        let bytes = Array(text.utf8)
        let (next, _) = try bytes.withUnsafeBufferPointer { buf throws(FTRLError) in
            try LibSVMParser(hasher: hasher).parse(buf.baseAddress!, from: 0, to: buf.count, into: block, firstLine: 1)
        }
        #expect(next == bytes.count)
        let expected = Self.referenceParse(text, hasher: hasher)
        let got = blockContents(block)
        #expect(got.count == expected.count)
        for (e, (a, b)) in zip(got, expected).enumerated() where a != b {
            Issue.record("example \(e) differs: \(a) against \(b)")
            break
        }
    }

    /// Errors in the middle of long text (where lines take the eight-byte
    /// path) name the same line and token as at its end.
    @Test(arguments: [
        ("2 3:1", "expected a label", "2"),
        ("1 3", "expected 'index:value'", "3"),
        ("1 0:1", "index 0", "0:1"),
        ("1 4:1.2.3", "not a number", "4:1.2.3"),
        ("1 4:-", "not a number", "4:-"),
        ("1 4:1x", "not a number", "4:1x"),
        ("1 4:12345678.1", "", ""),
        ("1 123456789012:0.5", "", ""),
        ("1 5:1\r\r", "not a number", "5:1\\r"),
        ("10 3:1", "expected a label", "10"),
    ])
    func errorsInLongText(_ row: String, _ message: String, _ token: String) throws {
        let before = String(repeating: "1 3:1 4:0.5\n", count: 5)
        let after = String(repeating: "0 7:1\n", count: 5)
        let text = before + row + "\n" + after
        if message.isEmpty {
            // Forms the general parser reads: the same examples as the reference.
            let hasher = FeatureHasher(kind: .murmur3, seed: 0, bits: 20)
            #expect(blockContents(try parse(text, hasher: hasher)) == Self.referenceParse(text, hasher: hasher))
            return
        }
        #expect {
            _ = try parse(text)
        } throws: { error in
            guard let e = error as? FTRLError else { return false }
            return e.line == 6 && e.message.contains(message) && e.text == token
        }
    }

    /// A TSV row of a label, `numeric` number columns and `categorical`
    /// string columns: whole numbers of 1 to 10 digits, decimals, negatives,
    /// zeros and empty fields; strings of 0 to 20 bytes.
    static func randomTSVRow(_ random: inout TestRandom, numeric: Int, categorical: Int) -> String {
        var fields = [String(random.below(2))]
        for _ in 0..<numeric {
            switch random.below(8) {
            case 0: fields.append("")
            case 1: fields.append("0")
            case 2: fields.append("-" + String(random.below(1000)))
            case 3: fields.append(String(random.below(1000)) + "." + String(random.below(100)))
            default:
                var digits = String(1 + random.below(9))
                for _ in 0..<random.below(random.below(5) == 0 ? 10 : 5) { digits += String(random.below(10)) }
                fields.append(digits)
            }
        }
        let alphabet = Array("0123456789abcdef-_ .xyzXYZ")
        for _ in 0..<categorical {
            let length = random.below(5) == 0 ? random.below(21) : 8
            fields.append(String((0..<length).map { _ in alphabet[random.below(alphabet.count)] }))
        }
        return fields.joined(separator: "\t") + (random.below(10) == 0 ? "\r\n" : "\n")
    }

    @Test func randomTSVRowsReadAsTheReferenceReadsThem() throws {
        var random = TestRandom(seed: 4242)
        let numeric = 5
        let categorical = 6
        let names = ["label"] + (1...numeric).map { "n\($0)" } + (1...categorical).map { "c\($0)" }
        var schema = InputSchema()
        schema.format = .tsv
        schema.numeric = ["n1-n\(numeric)"]
        schema.numericTransform = .raw
        schema.missingFeatures = false
        let hasher = FeatureHasher(kind: .murmur3, seed: 7, bits: 22)
        let columns = try ResolvedColumns(schema: schema, names: names, named: true)
        let plan = FieldPlan(schema: schema, columns: columns, present: names.indices.map { $0 }, hashSeed: hasher.seed)
        var text = ""
        for _ in 0..<2000 { text += Self.randomTSVRow(&random, numeric: numeric, categorical: categorical) }
        let block = ExampleBlock(exampleCapacity: 4096)
        let bytes = Array(text.utf8)
        let (next, _) = try bytes.withUnsafeBufferPointer { buf throws(FTRLError) in
            try DelimitedParser(plan: plan, format: .tsv, hasher: hasher).parse(
                buf.baseAddress!, from: 0, to: buf.count, into: block, firstLine: 1)
        }
        #expect(next == bytes.count)
        // The reference: the documented hashing rule, Double(_:) for numbers.
        var expected: [[UInt64]] = []
        for line in text.utf8.split(separator: 0x0A) {
            var row = String(decoding: line, as: UTF8.self)
            if row.hasSuffix("\r") { row.removeLast() }
            let fields = row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            var example = [UInt64(Float(fields[0] == "1" ? 1 : 0).bitPattern)]
            for (k, field) in fields.enumerated().dropFirst() where !field.isEmpty {
                let seed = ReferenceMurmur3.hash(names[k], seed: 7)
                if k <= numeric {
                    let v = Double(field)!
                    if v != 0 { example += [UInt64(ReferenceMurmur3.hash("", seed: seed) & 0x3F_FFFF), v.bitPattern] }
                } else {
                    example += [UInt64(ReferenceMurmur3.hash(field, seed: seed) & 0x3F_FFFF), Double(1).bitPattern]
                }
            }
            expected.append(example)
        }
        let got = blockContents(block)
        #expect(got.count == expected.count)
        for (e, (a, b)) in zip(got, expected).enumerated() where a != b {
            Issue.record("row \(e) differs: \(a) against \(b)")
            break
        }
    }
}
