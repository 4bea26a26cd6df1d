import FTRLTestSupport
import Foundation
import Testing
@testable import FTRL

/// Where each kind of CSV/TSV feature lands, computed with the independent
/// `ReferenceMurmur3` from the rules the README states (its "Features"
/// paragraph), never from the library's own hashing: a change of byte order,
/// seed, missing-value marker, bucket key or cross key fails here.
struct CSVSlotPinningTests {
    /// The published MurmurHash3_x86_32 vectors (SMHasher's verification
    /// values as listed with the algorithm; the mmh3 package agrees).
    @Test(arguments: [
        ("", UInt32(0), UInt32(0)),
        ("", 1, 0x514E_28B7),
        ("", 0xFFFF_FFFF, 0x81F1_6F39),
        ("\0\0\0\0", 0, 0x2362_F9DE),
        ("aaaa", 0x9747_B28C, 0x5A97_808A),
        ("aaa", 0x9747_B28C, 0x283E_0130),
        ("aa", 0x9747_B28C, 0x5D21_1726),
        ("a", 0x9747_B28C, 0x7FA0_9EA6),
        ("abcd", 0x9747_B28C, 0xF047_8627),
        ("abc", 0x9747_B28C, 0xC84A_62DD),
        ("ab", 0x9747_B28C, 0x7487_5592),
        ("Hello, world!", 0x9747_B28C, 0x2488_4CBA),
        ("The quick brown fox jumps over the lazy dog", 0x9747_B28C, 0x2FA8_26CD),
    ])
    func referenceMatchesPublishedVectors(_ key: String, _ seed: UInt32, _ expected: UInt32) {
        #expect(ReferenceMurmur3.hash(key, seed: seed) == expected)
    }

    static func features(
        _ body: String, names: [String], format: InputFormat = .csv, hashSeed: UInt32, bits: Int,
        _ configure: (inout InputSchema) -> Void
    ) throws -> [[UInt32: Double]] {
        var schema = InputSchema()
        schema.format = format
        configure(&schema)
        let hasher = FeatureHasher(kind: .murmur3, seed: hashSeed, bits: bits)
        let columns = try ResolvedColumns(schema: schema, names: names, named: true)
        let plan = FieldPlan(schema: schema, columns: columns, present: names.indices.map { $0 }, hashSeed: hashSeed)
        let parser = DelimitedParser(plan: plan, format: format, hasher: hasher)
        let block = ExampleBlock(exampleCapacity: 64)
        let bytes = Array(body.utf8)
        _ = try bytes.withUnsafeBufferPointer { buf throws(FTRLError) in
            try parser.parse(buf.baseAddress!, from: 0, to: buf.count, into: block, firstLine: 1)
        }
        return (0..<block.count).map { e in
            var out: [UInt32: Double] = [:]
            for j in block.offsets[e]..<block.offsets[e + 1] { out[block.slots[j], default: 0] += block.values[j] }
            return out
        }
    }

    /// The README's rules, with the reference hash.
    struct Rules {
        var hashSeed: UInt32
        var mask: UInt32
        func seed(_ column: String) -> UInt32 { ReferenceMurmur3.hash(column, seed: hashSeed) }
        func valueHash(_ column: String, _ value: String) -> UInt32 { ReferenceMurmur3.hash(value, seed: seed(column)) }
        func categorical(_ column: String, _ value: String) -> UInt32 { valueHash(column, value) & mask }
        func numeric(_ column: String) -> UInt32 { ReferenceMurmur3.hash([], seed: seed(column)) & mask }
        func missing(_ column: String) -> UInt32 { ReferenceMurmur3.hash([0], seed: seed(column)) & mask }
        /// A bucket's key is a signed 64-bit integer, little-endian.
        func bucketHash(_ column: String, key: Int64) -> UInt32 {
            ReferenceMurmur3.hash(ReferenceMurmur3.bytes(key), seed: seed(column))
        }
        func cross(_ a: String, _ hashA: UInt32, _ b: String, _ hashB: UInt32) -> UInt32 {
            let key = ReferenceMurmur3.bytes(hashA) + ReferenceMurmur3.bytes(hashB)
            return ReferenceMurmur3.hash(key, seed: ReferenceMurmur3.hash(a + "\u{1F}" + b, seed: hashSeed)) & mask
        }
    }

    @Test(arguments: [(UInt32(0), 24), (7, 22), (0xDEAD_BEEF, 18)])
    func categoricalNumericAndMissing(_ hashSeed: UInt32, _ bits: Int) throws {
        let r = Rules(hashSeed: hashSeed, mask: UInt32((1 << bits) - 1))
        let names = ["label", "site", "app", "count", "price"]
        let rows = try Self.features("1,a.com,\"x,y\",3,-2.5\n0,,z,0,\n", names: names, hashSeed: hashSeed, bits: bits) {
            $0.numeric = ["count", "price"]
        }
        #expect(rows.count == 2)
        #expect(
            rows[0] == [
                r.categorical("site", "a.com"): 1, r.categorical("app", "x,y"): 1, r.numeric("count"): log1p(3),
                r.numeric("price"): -log1p(2.5),
            ])
        // An empty value adds its column's missing feature; a numeric 0 adds nothing.
        #expect(rows[1] == [r.missing("site"): 1, r.categorical("app", "z"): 1, r.missing("price"): 1])
        // TSV hashes alike, with no quoting.
        let tsv = try Self.features("1\ta.com\t\"q\"\t3\t-2.5\n", names: names, format: .tsv, hashSeed: hashSeed, bits: bits) {
            $0.numeric = ["count", "price"]
        }
        #expect(tsv[0][r.categorical("site", "a.com")] == 1)
        #expect(tsv[0][r.categorical("app", "\"q\"")] == 1)
        let raw = try Self.features("1,a.com,x,3,-2.5\n", names: names, hashSeed: hashSeed, bits: bits) {
            $0.numeric = ["count", "price"]
            $0.numericTransform = .raw
            $0.missingFeatures = false
        }
        #expect(
            raw[0] == [r.categorical("site", "a.com"): 1, r.categorical("app", "x"): 1, r.numeric("count"): 3, r.numeric("price"): -2.5])
    }

    /// Buckets: -2..2 are their own key (rounded down); beyond, the sign and
    /// 1000 + floor(log2 |v|).
    @Test func bucketKeys() throws {
        let r = Rules(hashSeed: 3, mask: 0xF_FFFF)
        let values: [(String, Int64)] = [
            ("0", 0), ("1", 1), ("1.5", 1), ("2", 2), ("-0.5", -1), ("-2", -2), ("3", 1001), ("7.9", 1002), ("8", 1003),
            ("-3", -1001), ("1e6", 1019), ("-1024", -1010),
        ]
        let body = values.map { "1,\($0.0)\n" }.joined()
        let rows = try Self.features(body, names: ["label", "n"], hashSeed: 3, bits: 20) {
            $0.numeric = ["n"]
            $0.numericTransform = .bucket
        }
        for (row, (text, key)) in zip(rows, values) {
            #expect(row == [r.bucketHash("n", key: key) & r.mask: 1], "\(text) -> \(key)")
        }
    }

    /// A cross hashes the two full value hashes, the earlier column's first,
    /// under the seed of "A" 0x1F "B"; a bucketed numeric column crosses by its bucket.
    @Test func crosses() throws {
        let r = Rules(hashSeed: 11, mask: 0x3F_FFFF)
        let names = ["label", "a", "b", "n"]
        let rows = try Self.features("1,x,y,5\n0,x,,5\n", names: names, hashSeed: 11, bits: 22) {
            $0.numeric = ["n"]
            $0.numericTransform = .bucket
            $0.interactions = [["b", "a"], ["a", "n"]]
            $0.missingFeatures = false
        }
        let ha = r.valueHash("a", "x")
        let hb = r.valueHash("b", "y")
        let hn = r.bucketHash("n", key: 1002)
        #expect(
            rows[0] == [
                ha & r.mask: 1, hb & r.mask: 1, hn & r.mask: 1, r.cross("a", ha, "b", hb): 1, r.cross("a", ha, "n", hn): 1,
            ])
        // b is missing: no a x b.
        #expect(rows[1] == [ha & r.mask: 1, hn & r.mask: 1, r.cross("a", ha, "n", hn): 1])
    }
}
