import FTRLTestSupport
import Foundation
import Testing
@testable import FTRL

/// CSV (RFC 4180) and TSV rows: quoting, line ends, missing values, the
/// hashing of each kind of column, and refusals that name line, column and text.
struct DelimitedParserTests {
    static let hasher = FeatureHasher(kind: .murmur3, seed: 7, bits: 22)

    /// Parses `body` (rows only) under a schema whose columns are `names`.
    static func parse(_ body: String, names: [String], format: InputFormat = .csv, _ configure: (inout InputSchema) -> Void = { _ in })
        throws(FTRLError) -> (ExampleBlock, FieldPlan)
    {
        var schema = InputSchema()
        schema.format = format
        configure(&schema)
        let columns = try ResolvedColumns(schema: schema, names: names, named: true)
        let plan = FieldPlan(schema: schema, columns: columns, present: names.indices.map { $0 }, hashSeed: hasher.seed)
        let parser = DelimitedParser(plan: plan, format: format, hasher: hasher)
        let block = ExampleBlock(exampleCapacity: 64)
        let bytes = Array(body.utf8)
        _ = try bytes.withUnsafeBufferPointer { buf throws(FTRLError) in
            try parser.parse(buf.baseAddress!, from: 0, to: buf.count, into: block, firstLine: 2)
        }
        return (block, plan)
    }

    /// The slot of a categorical value, computed from the documented rule
    /// with the independent reference hash (not the library's).
    static func slot(_ column: String, _ value: String) -> UInt32 {
        ReferenceMurmur3.hash(value, seed: ReferenceMurmur3.hash(column, seed: 7)) & 0x3F_FFFF
    }

    static func features(_ block: ExampleBlock, _ e: Int) -> [UInt32: Double] {
        var out: [UInt32: Double] = [:]
        for j in block.offsets[e]..<block.offsets[e + 1] { out[block.slots[j], default: 0] += block.values[j] }
        return out
    }

    /// Each row with the (column, value) features it must give.
    @Test(arguments: [
        ("1,a,b\n", [["x", "a"], ["y", "b"]]),
        ("1,\"a\",b\n", [["x", "a"], ["y", "b"]]),
        ("1,\"a,x\",b\n", [["x", "a,x"], ["y", "b"]]),
        ("1,\"say \"\"hi\"\"\",b\n", [["x", "say \"hi\""], ["y", "b"]]),
        ("1,\"two\r\nlines\",b\r\n", [["x", "two\r\nlines"], ["y", "b"]]),
        ("1,a,b\r\n", [["x", "a"], ["y", "b"]]),
        ("1,a,\"\"\n", [["x", "a"]]),
        ("1,,b\n", [["y", "b"]]),
        ("1,a,b", [["x", "a"], ["y", "b"]]),
        ("\n\r\n1,a,b\n\n", [["x", "a"], ["y", "b"]]),
    ])
    func rfc4180(_ row: String, _ pairs: [[String]]) throws {
        let (block, _) = try Self.parse(row, names: ["click", "x", "y"]) { $0.missingFeatures = false }
        #expect(block.count == 1)
        #expect(block.labels[0] == 1)
        var expected: [UInt32: Double] = [:]
        for pair in pairs { expected[Self.slot(pair[0], pair[1]), default: 0] += 1 }
        #expect(Self.features(block, 0) == expected)
    }

    @Test func sameValueInTwoColumnsIsTwoFeatures() throws {
        let (block, _) = try Self.parse("0,v,v\n", names: ["label", "a", "b"])
        #expect(Self.features(block, 0).count == 2)
        #expect(Self.slot("a", "v") != Self.slot("b", "v"))
    }

    @Test func missingValuesAddAMissingFeaturePerColumn() throws {
        let (on, _) = try Self.parse("0,,v\n", names: ["label", "a", "b"])
        let (off, _) = try Self.parse("0,,v\n", names: ["label", "a", "b"]) { $0.missingFeatures = false }
        #expect(Self.features(on, 0).count == 2)
        #expect(Self.features(off, 0).count == 1)
    }

    @Test func numericTransforms() throws {
        let names = ["label", "n"]
        let (log1p, _) = try Self.parse("1,-3\n0,0\n", names: names) { $0.numeric = ["n"] }
        #expect(Array(Self.features(log1p, 0).values) == [-Foundation.log1p(3)])
        #expect(Self.features(log1p, 1).isEmpty)  // a zero adds nothing
        let (raw, _) = try Self.parse("1,-3\n", names: names) {
            $0.numeric = ["n"]; $0.numericTransform = .raw
        }
        #expect(Array(Self.features(raw, 0).values) == [-3])
        // Buckets: 5 and 7 share floor(log2) = 2; 9 does not; 1 stands alone.
        let (bucket, _) = try Self.parse("1,5\n1,7\n1,9\n1,1\n", names: names) {
            $0.numeric = ["n"]; $0.numericTransform = .bucket
        }
        let keys = (0..<4).map { Array(Self.features(bucket, $0).keys) }
        #expect(keys[0] == keys[1])
        #expect(keys[0] != keys[2])
        #expect(keys[3] != keys[0] && keys[3] != keys[2])
    }

    @Test func interactionsCrossPresentValues() throws {
        let names = ["label", "a", "b", "c"]
        let (block, _) = try Self.parse("1,x,y,z\n1,x,,z\n", names: names) {
            $0.interactions = [["a", "b"]]; $0.missingFeatures = false
        }
        #expect(Self.features(block, 0).count == 4)  // a, b, c and a x b
        #expect(Self.features(block, 1).count == 2)  // b missing: no cross
        let (all, _) = try Self.parse("1,x,y,z\n", names: names) {
            $0.allInteractions = true; $0.missingFeatures = false
        }
        #expect(Self.features(all, 0).count == 6)
    }

    @Test func weightColumn() throws {
        let (block, _) = try Self.parse("1,x,2.5\n0,y,0\n", names: ["label", "a", "w"]) { $0.weight = "w" }
        #expect(block.hasWeights)
        #expect(block.weights[0] == 2.5 && block.weights[1] == 0)
    }

    @Test func tsvHasNoQuoting() throws {
        let (block, _) = try Self.parse("1\t\"a\"\tb\n", names: ["label", "x", "y"], format: .tsv) { $0.missingFeatures = false }
        #expect(Self.features(block, 0)[Self.slot("x", "\"a\"")] == 1)
    }

    @Test(arguments: [
        ("1,a\n", "expected 3 fields, found 2", "1,a"),
        ("1,a,b,c\n", "expected 3 fields, found 4", "1,a,b,c"),
        ("1,\"a,b\n", "unterminated quote", "1,\\\"a,b"),
        ("1,\"a\"x,b\n", "unexpected text after a closing quote", "1,\\\"a\\\"x,b"),
        ("1,a,12x\n", "column \"n\": expected a number", "12x"),
        ("2,a,1\n", "column \"label\": expected a label", "2"),
        (",a,1\n", "column \"label\": expected a label", ""),
    ])
    func refusals(_ row: String, _ message: String, _ text: String) {
        #expect {
            _ = try Self.parse("1,ok,3\n" + row, names: ["label", "c", "n"]) { $0.numeric = ["n"] }
        } throws: { error in
            guard let e = error as? FTRLError else { return false }
            return e.kind == .data && e.line == 3 && e.message.contains(message) && e.text == text
        }
    }

    @Test func columnResolution() throws {
        let names = ["label"] + (1...13).map { "I\($0)" } + (1...3).map { "C\($0)" } + ["day-of-week"]
        var schema = InputSchema()
        schema.format = .csv
        schema.numeric = ["I1-I13"]
        schema.ignore = ["day-of-week"]
        let r = try ResolvedColumns(schema: schema, names: names, named: true)
        #expect(r.roles.filter { $0 == .numeric }.count == 13)
        #expect(r.roles.last == .ignore)
        #expect(r.roles[14] == .categorical)
        schema.numeric = ["I1-I14"]
        #expect { _ = try ResolvedColumns(schema: schema, names: names, named: true) } throws: {
            ($0 as? FTRLError)?.message.contains("\"I1-I14\"") == true
        }
        schema.numeric = ["C1"]
        schema.categorical = ["C1-C3"]
        #expect { _ = try ResolvedColumns(schema: schema, names: names, named: true) } throws: {
            ($0 as? FTRLError)?.message.contains("two roles") == true
        }
        // Without a label named label, click or Label a named file needs --label; a headerless one uses its first column.
        #expect(throws: FTRLError.self) { _ = try ResolvedColumns(schema: InputSchema(), names: ["y", "a"], named: true) }
        #expect(try ResolvedColumns(schema: InputSchema(), names: ["1", "2"], named: false).roles == [.label, .categorical])
        #expect(try ResolvedColumns(schema: InputSchema(), names: ["a", "click"], named: true).roles == [.categorical, .label])
    }
}
