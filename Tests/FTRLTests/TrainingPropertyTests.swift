import FTRLTestSupport
import Foundation
import Testing
@testable import FTRL

/// The model depends on the examples and their order only: not on
/// compression, not on how the rows are split into files, not on block
/// boundaries.
struct TrainingPropertyTests {
    static func log(_ rows: Int) -> String {
        var random = TestRandom(seed: 2024)
        func next() -> UInt64 { random.next() >> 33 }
        return (0..<rows).map { _ in
            let k = Int(next() % 6)
            let feats = (0..<k).map { _ in "\(next() % 5000 + 1):\(Double(next() % 100) / 25)" }
            return "\(next() % 4 == 0 ? 1 : 0) " + feats.joined(separator: " ")
        }.joined(separator: "\n") + "\n"
    }

    static var config: FTRLConfig {
        var c = FTRLConfig()
        c.bits = 12
        c.batchSize = 3
        c.dtype = .float64
        c.l2Shrinkage = 0.05
        return c
    }

    @Test func gzipAndPlainGiveTheSameModel() throws {
        let dir = try Scratch()
        let plain = try dir.write("d.svm", Self.log(9000))
        shell("gzip -c '\(plain)' > '\(dir.path("d.svm.gz"))'")
        #expect(try trainedState(Self.config, [plain]) == trainedState(Self.config, [dir.path("d.svm.gz")]))
    }

    @Test(arguments: [[4500], [1, 2, 3], [2999, 3000, 3001], [0, 9000], [4096, 8192]])
    func anySplitIntoFilesGivesTheSameModel(_ cuts: [Int]) throws {
        let dir = try Scratch()
        let rows = Self.log(9000).split(separator: "\n").map(String.init)
        let whole = try dir.write("all.svm", rows.joined(separator: "\n") + "\n")
        var parts: [String] = []
        var start = 0
        for (i, cut) in (cuts + [rows.count]).enumerated() {
            let text = rows[start..<cut].map { $0 + "\n" }.joined()
            let path = try dir.write("part\(i).svm", text)
            if i % 2 == 1 {
                shell("gzip '\(path)'")
                parts.append(path + ".gz")
            } else {
                parts.append(path)
            }
            start = cut
        }
        #expect(try trainedState(Self.config, [whole]) == trainedState(Self.config, parts))
    }

    @Test func lastLineWithoutNewlineIsRead() throws {
        let dir = try Scratch()
        let a = try dir.write("a.svm", "1 1:1\n0 2:1\n1 3:1\n")
        let b = try dir.write("b.svm", "1 1:1\n0 2:1\n1 3:1")
        #expect(try trainedState(Self.config, [a]) == trainedState(Self.config, [b]))
    }

    /// One example by hand: batch 1, float64, lr 0.5, p = -0.5, n0 = 0.1,
    /// l1 = 0, l2 = 0, beta = 0, features 1:1 and 2:2, label 1.
    /// p = sigmoid(0) = 0.5, so g = -0.5 on slot 1, -1 on slot 2, -0.5 on the bias.
    @Test func handComputedStep() throws {
        var c = FTRLConfig()
        c.bits = 4
        c.hash = .identity
        c.dtype = .float64
        c.learningRate = 0.5
        c.initialAccumulatorValue = 0.1
        c.l1 = 0
        c.l2 = 0
        c.beta = 0
        let dir = try Scratch()
        let path = try dir.write("one.svm", "1 1:1 2:2\n")
        let model = try Model<Double>(config: c)
        _ = try Trainer(model: model).train(paths: [path], weights: nil, weightsPath: nil)
        func expected(_ g: Double) -> (w: Double, n: Double, z: Double) {
            let n = 0.1 + g * g
            let sigma = (n.squareRoot() - 0.1.squareRoot()) / 0.5
            let z = g - sigma * 0
            return (-z / (n.squareRoot() / 0.5), n, z)
        }
        for (slot, g) in [(UInt32(1), -0.5), (2, -1.0)] {
            let p = model.table.slot(row: slot)  // a dense table: rows are slots
            let e = expected(g)
            #expect(abs(p.w - e.w) < 1e-15 && abs(p.n - e.n) < 1e-15 && abs(p.z - e.z) < 1e-15)
        }
        let e = expected(-0.5)
        #expect(abs(model.bias.w - e.w) < 1e-15)
        #expect(model.iterations == 1)
        #expect(!model.table.isActive(3))
    }
}
