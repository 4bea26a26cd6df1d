import FTRLTestSupport
import Foundation
import Testing
@testable import FTRL

/// The parsers' naming mode (`ftrl-model top`): the same slots as without
/// it, one name per feature beside them, each the documented name of the
/// value it hashed.
struct FeatureNamingTests {
    static let names = ["label", "site", "app", "hour", "count"]
    static let body = """
        1,s1,a1,3,0
        0,s2,,70,5
        1,"s,3",a1,-9,1
        0,s1,a2,1.5,

        """

    static func parse(naming: Bool, transform: NumericTransform) throws -> (ExampleBlock, FieldPlan) {
        var schema = InputSchema()
        schema.format = .csv
        schema.numeric = ["hour", "count"]
        schema.numericTransform = transform
        schema.interactions = [["site", "app"]]
        let columns = try ResolvedColumns(schema: schema, names: Self.names, named: true)
        let hasher = FeatureHasher(kind: .murmur3, seed: 3, bits: 20)
        let plan = FieldPlan(schema: schema, columns: columns, present: Self.names.indices.map { $0 }, hashSeed: hasher.seed)
        let parser = DelimitedParser(plan: plan, format: .csv, hasher: hasher, naming: naming)
        let block = ExampleBlock(exampleCapacity: 16)
        let bytes = Array(Self.body.utf8)
        _ = try bytes.withUnsafeBufferPointer { buf throws(FTRLError) in
            try parser.parse(buf.baseAddress!, from: 0, to: buf.count, into: block, firstLine: 2)
        }
        return (block, plan)
    }

    @Test(arguments: [NumericTransform.log1p, .bucket])
    func delimitedNamesSitBesideTheSameSlots(_ transform: NumericTransform) throws {
        let (plain, _) = try Self.parse(naming: false, transform: transform)
        let (named, _) = try Self.parse(naming: true, transform: transform)
        let n = plain.offsets[plain.count]
        #expect(plain.count == 4 && named.count == 4)
        #expect(Array(UnsafeBufferPointer(start: plain.slots, count: n)) == Array(UnsafeBufferPointer(start: named.slots, count: n)))
        #expect(plain.names.isEmpty)
        #expect(named.names.count == n)
        let rows = (0..<4).map { e in Array(named.names[named.offsets[e]..<named.offsets[e + 1]]) }
        if transform == .log1p {
            #expect(rows[0] == ["site=s1", "app=a1", "hour", "site=s1^app=a1"], "a numeric 0 adds no feature")
            #expect(rows[1] == ["site=s2", "app=(missing)", "hour", "count"], "no cross without app")
            #expect(rows[2] == ["site=s,3", "app=a1", "hour", "count", "site=s,3^app=a1"])
            #expect(rows[3] == ["site=s1", "app=a2", "hour", "count=(missing)", "site=s1^app=a2"])
        } else {
            #expect(rows[0] == ["site=s1", "app=a1", "hour=[2,4)", "count=0", "site=s1^app=a1"])
            #expect(rows[1] == ["site=s2", "app=(missing)", "hour=[64,128)", "count=[4,8)"])
            #expect(rows[2] == ["site=s,3", "app=a1", "hour=-[8,16)", "count=1", "site=s,3^app=a1"])
            #expect(rows[3] == ["site=s1", "app=a2", "hour=1", "count=(missing)", "site=s1^app=a2"])
        }
        // A name is one slot: the same name twice is the same slot.
        var slotOf: [String: UInt32] = [:]
        for j in 0..<n {
            if let s = slotOf[named.names[j]] { #expect(s == named.slots[j], "\(named.names[j])") }
            slotOf[named.names[j]] = named.slots[j]
        }
    }

    @Test func libsvmNamesAreTheIndices() throws {
        let hasher = FeatureHasher(kind: .murmur3, seed: 0, bits: 18)
        let block = ExampleBlock(exampleCapacity: 8)
        let bytes = Array("1 3:1 10:0.5\n# a comment\n0 007:2 3:1\n".utf8)
        _ = try bytes.withUnsafeBufferPointer { buf throws(FTRLError) in
            try LibSVMParser(hasher: hasher, naming: true).parse(buf.baseAddress!, from: 0, to: buf.count, into: block, firstLine: 1)
        }
        #expect(block.count == 2)
        #expect(block.names == ["3", "10", "7", "3"])
        #expect(block.slots[0] == hasher.slot(ofIndex: 3) && block.slots[2] == hasher.slot(ofIndex: 7))
    }
}
