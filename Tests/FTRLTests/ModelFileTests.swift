import Foundation
import Testing
@testable import FTRL

/// A model file reads back to the same state, and damage is refused.
struct ModelFileTests {
    static func trained(_ dtype: DType) throws -> (Scratch, String) {
        let dir = try Scratch()
        var c = FTRLConfig()
        c.bits = 14
        c.dtype = dtype
        let data = try dir.write("d.svm", TrainingPropertyTests.log(2000))
        let path = dir.path("m.ftrl")
        switch dtype {
        case .float32:
            let m = try Model<Float>(config: c)
            _ = try Trainer(model: m).train(paths: [data], weights: nil, weightsPath: nil, progress: Progress(prefix: "", interval: nil))
            try ModelFile.write(m, to: path)
        case .float64:
            let m = try Model<Double>(config: c)
            _ = try Trainer(model: m).train(paths: [data], weights: nil, weightsPath: nil, progress: Progress(prefix: "", interval: nil))
            try ModelFile.write(m, to: path)
        }
        return (dir, path)
    }

    @Test(arguments: DType.allCases)
    func roundTrip(_ dtype: DType) throws {
        let (dir, path) = try Self.trained(dtype)
        let loaded = try ModelFile.read(path: path)
        #expect(loaded.config.dtype == dtype)
        #expect(loaded.config.bits == 14)
        // Writing what was read gives the same bytes.
        let again = dir.path("again.ftrl")
        switch loaded {
        case .float32(let m):
            #expect(m.iterations == 2000)
            #expect(m.examples == 2000)
            try ModelFile.write(m, to: again)
        case .float64(let m):
            #expect(m.iterations == 2000)
            try ModelFile.write(m, to: again)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: again)) == Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func everyDamagedByteOrCutIsRefused() throws {
        let (dir, path) = try Self.trained(.float32)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var positions = Array(stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)))
        positions.append(bytes.count - 1)
        for k in positions {
            var damaged = bytes
            damaged[k] ^= 0x10
            let p = try dir.write("flip.ftrl", damaged)
            #expect(throws: FTRLError.self, "byte \(k)") { _ = try ModelFile.read(path: p) }
        }
        for cut in [0, 7, 12, 40, bytes.count / 2, bytes.count - 1] {
            let p = try dir.write("cut.ftrl", Array(bytes[0..<cut]))
            #expect(throws: FTRLError.self, "cut \(cut)") { _ = try ModelFile.read(path: p) }
        }
    }

    @Test func failedWriteLeavesTheOldFile() throws {
        let (dir, path) = try Self.trained(.float64)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        guard case .float64(let m) = try ModelFile.read(path: path) else { Issue.record("dtype"); return }
        #expect(throws: FTRLError.self) { try ModelFile.write(m, to: dir.path("no/such/dir/m.ftrl")) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }
}
