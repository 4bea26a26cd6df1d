import FTRLTestSupport
import Foundation
import Testing
@testable import FTRL

/// A model read only to score keeps its nonzero weights in `CompactWeights`:
/// every lookup is the dense table's weight, so scores are the same bits.
struct CompactWeightsTests {
    @Test func lookupsAreTheWeightsInsertedAndZeroElsewhere() {
        var random = TestRandom(seed: 99)
        var truth: [UInt32: Float] = [:]
        // Slots from the whole 32-bit range, the empty marker's value included.
        var inserted: [UInt32] = [0xFFFF_FFFF, 0, 1]
        while inserted.count < 5000 { inserted.append(UInt32(truncatingIfNeeded: random.next())) }
        // Sized for 100 of them: the table must double to take the rest.
        let weights = CompactWeights<Float>(count: 100)
        for s in inserted where truth[s] == nil {
            let w = Float(Int(random.next() % 2001) - 1000) / 7
            if w == 0 { continue }
            truth[s] = w
            weights.insert(s, w)
        }
        for (s, w) in truth { #expect(weights.weight(s) == w, "slot \(s)") }
        var missing = 0
        while missing < 5000 {
            let s = UInt32(truncatingIfNeeded: random.next())
            if truth[s] == nil {
                #expect(weights.weight(s) == 0)
                missing += 1
            }
        }
        #expect(weights.slots == truth.keys.sorted())
    }

    /// A model read to score holds its nonzero weights in a table sized for
    /// them, not for its active slots (an L1 model keeps few weights of many
    /// slots): 3,000 active slots, 100 nonzero weights, 256 entries.
    @Test(arguments: DType.allCases)
    func aCompactModelIsSizedForItsNonzeroWeights(_ dtype: DType) throws {
        let dir = try Scratch()
        let path = dir.path("m.ftrl")
        var c = FTRLConfig()
        c.bits = 16
        c.dtype = dtype
        var nonzero: [UInt32: Double] = [:]
        func fill<F: FTRLScalar>(_ m: Model<F>) throws {
            for k in 0..<3000 {
                let w = k % 30 == 7 ? Double(k) / 8 - 100 : 0
                if w != 0 { nonzero[UInt32(k * 21)] = w }
                try m.table.restore(slot: k * 21, w: F(fromDouble: w), n: 1, z: 0)
            }
            try ModelFile.write(m, to: path)
        }
        if dtype == .float32 { try fill(try Model<Float>(config: c)) } else { try fill(try Model<Double>(config: c)) }
        #expect(nonzero.count == 100)
        switch try ModelFile.read(path: path, compact: true) {
        case .float32(let m):
            let compact = try #require(m.compact)
            #expect(compact.capacity == 256)
            for (s, w) in nonzero { #expect(compact.weight(s).asDouble == w) }
        case .float64(let m):
            let compact = try #require(m.compact)
            #expect(compact.capacity == 256)
            for (s, w) in nonzero { #expect(compact.weight(s).asDouble == w) }
        }
        #expect(try ModelFile.read(path: path).open(ActiveCount()) == 3000)
    }

    private struct ActiveCount: ModelBody {
        func run<F: FTRLScalar>(_ m: Model<F>) -> Int { m.table.activeCount }
    }

    /// A model file read compact scores every example to the same bits as
    /// read into the dense table, in float32 and float64.
    @Test(arguments: DType.allCases)
    func aCompactModelScoresAsTheDenseOne(_ dtype: DType) throws {
        let (dir, path) = try ModelFileTests.trained(dtype)  // the directory lives as long as it is held
        defer { withExtendedLifetime(dir) {} }
        let models = (try ModelFile.read(path: path), try ModelFile.read(path: path, compact: true))
        // Rows the model learned from (the first of its log), hashed as it hashes them.
        let block = try parse(TrainingPropertyTests.log(60), hasher: models.0.config.hasher)
        #expect(block.count == 60)
        switch models {
        case (.float32(let dense), .float32(let compact)):
            #expect(dense.compact == nil && compact.compact != nil)
            for e in 0..<block.count { #expect(dense.margin(block, e).bitPattern == compact.margin(block, e).bitPattern) }
            #expect(compact.weightedSlots == dense.table.activeSlots().filter { dense.table.weight(ofSlot: $0) != 0 })
        case (.float64(let dense), .float64(let compact)):
            for e in 0..<block.count { #expect(dense.margin(block, e).bitPattern == compact.margin(block, e).bitPattern) }
        default:
            Issue.record("the precision changed")
        }
    }
}
