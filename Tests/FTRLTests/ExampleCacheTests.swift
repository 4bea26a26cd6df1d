import FTRLTestSupport
import Foundation
import Testing
@testable import FTRL

/// The example cache's file: blocks written and read back are the blocks,
/// bit for bit; its checks find every kind of damage.
struct ExampleCacheTests {
    /// A block of `count` examples with every kind of value the cache codes
    /// (1, +0, -0, a float32, a float64, a NaN), labels 0, 1 and none, and
    /// importance weights when asked.
    static func block(_ count: Int, seed: UInt64, bits: Int, weights: Bool) -> ExampleBlock {
        var random = TestRandom(seed: seed)
        let block = ExampleBlock(exampleCapacity: ExampleStream.blockExamples)
        let mask = bits == 32 ? UInt32.max : (UInt32(1) << UInt32(bits)) - 1
        let values: [Double] = [1, 0, -0.0, 0.5, 0.1, .nan, -3e300, 2, 1e-7]
        for e in 0..<count {
            let n = Int(random.next() % 140)  // more than 127: a two-byte count
            block.reserveFeatures(n)
            let start = block.offsets[e]
            for j in 0..<n {
                block.slots[start + j] = UInt32(truncatingIfNeeded: random.next()) & mask
                block.values[start + j] = values[Int(random.next() % UInt64(values.count))]
            }
            block.offsets[e + 1] = start + n
            block.labels[e] = [Float(0), 1, .nan][e % 3]
            block.weights[e] = Double(e) / 7
            block.count = e + 1
        }
        block.hasWeights = weights
        return block
    }

    static func same(_ a: ExampleBlock, _ b: ExampleBlock) -> Bool {
        guard a.count == b.count, a.hasWeights == b.hasWeights else { return false }
        for e in 0...a.count where a.offsets[e] != b.offsets[e] { return false }
        for e in 0..<a.count {
            if a.labels[e].bitPattern != b.labels[e].bitPattern { return false }
            if a.hasWeights && a.weights[e].bitPattern != b.weights[e].bitPattern { return false }
        }
        for j in 0..<a.offsets[a.count] {
            if a.slots[j] != b.slots[j] || a.values[j].bitPattern != b.values[j].bitPattern { return false }
        }
        return true
    }

    @Test(arguments: [8, 16, 24, 31, 32])
    func blocksComeBackBitForBit(_ bits: Int) throws {
        let dir = try Scratch()
        let path = dir.path("c.cache")
        let provenance = "{\"test\": \(bits)}"
        let written = [
            Self.block(1024, seed: 1, bits: bits, weights: true), Self.block(17, seed: 2, bits: bits, weights: false),
            Self.block(1, seed: 3, bits: bits, weights: true),
        ]
        let writer = try ExampleCacheWriter(target: path, provenance: provenance, bits: bits)
        for b in written { writer.append(b) }
        #expect(writer.commit(columns: ["a", "b,c"]))
        #expect(ExampleCache.check(path: path, provenance: provenance) == .valid(examples: 1042, columns: ["a", "b,c"]))
        #expect(ExampleCache.check(path: path, provenance: "{}") == .stale)
        let stream = try ExampleStream(cache: path, columns: ["a", "b,c"])
        var read = 0
        while let block = try stream.next() {
            #expect(Self.same(block, written[read]), "block \(read)")
            read += 1
            stream.recycle(block)
        }
        #expect(read == 3)
        #expect(stream.columnNames == ["a", "b,c"])
        _ = stream.finish()
    }

    /// Every byte changed, and the file cut anywhere, makes the check fail:
    /// a damaged cache is never read.
    @Test func anyDamageIsFound() throws {
        let dir = try Scratch()
        let path = dir.path("c.cache")
        let writer = try ExampleCacheWriter(target: path, provenance: "p", bits: 20)
        writer.append(Self.block(40, seed: 4, bits: 20, weights: false))
        writer.append(Self.block(30, seed: 5, bits: 20, weights: true))
        #expect(writer.commit(columns: nil))
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(ExampleCache.check(path: path, provenance: "p") == .valid(examples: 70, columns: nil))
        let bad = dir.path("bad.cache")
        for i in stride(from: 0, to: good.count, by: max(1, good.count / 400)) {
            var copy = good
            copy[i] ^= 0x10
            try copy.write(to: URL(fileURLWithPath: bad))
            let check = ExampleCache.check(path: bad, provenance: "p")
            #expect(check != .valid(examples: 70, columns: nil), "byte \(i) changed")
        }
        for cut in [good.count - 1, good.count - 9, good.count / 2, 20, 0] {
            try good.prefix(cut).write(to: URL(fileURLWithPath: bad))
            if case .valid = ExampleCache.check(path: bad, provenance: "p") { Issue.record("cut at \(cut) was read") }
        }
        #expect(ExampleCache.check(path: dir.path("none"), provenance: "p") == .missing)
    }

    /// An abandoned cache leaves no file behind.
    @Test func anAbandonedCacheLeavesNothing() throws {
        let dir = try Scratch()
        let writer = try ExampleCacheWriter(target: dir.path("c.cache"), provenance: "p", bits: 20)
        writer.append(Self.block(10, seed: 6, bits: 20, weights: false))
        writer.abandon()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).isEmpty)
    }
}
