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
        let weights = CompactWeights<Float>(count: inserted.count)
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
