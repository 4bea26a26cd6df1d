import FTRLTestSupport
import Foundation
import Testing

@testable import FTRL

/// The trainer and the scorer take blocks from any producer: blocks made by
/// hand, of any sizes, give the model the file reader gives, and the scores
/// are the logistic of the linear score.
struct BlockFeedingTests {
    /// Blocks of `sizes` rows (cycled) parsed from `rows` with the model's hasher.
    static func blocks(_ rows: [String], sizes: [Int], hasher: FeatureHasher) throws -> [ExampleBlock] {
        var out: [ExampleBlock] = []
        var at = 0
        var k = 0
        while at < rows.count {
            let n = min(sizes[k % sizes.count], rows.count - at)
            out.append(try parse(rows[at..<at + n].joined(separator: "\n") + "\n", hasher: hasher))
            at += n
            k += 1
        }
        return out
    }

    @Test(arguments: [[1], [7, 1, 64], [64], [5, 3]])
    func handMadeBlocksTrainAsTheFileReaderDoes(_ sizes: [Int]) throws {
        var config = TrainingPropertyTests.config
        config.batchSize = 5  // batches that span blocks
        config.useEMA = true
        let text = TrainingPropertyTests.log(3000)
        let dir = try Scratch()
        let path = try dir.write("d.svm", text)
        let fromFile = try trainedState(config, [path])

        let model = try Model<Double>(config: config)
        let trainer = Trainer(model: model)
        let rows = text.split(separator: "\n").map(String.init)
        var fed = 0
        var loss = 0.0
        for block in try Self.blocks(rows, sizes: sizes, hasher: model.hasher) {
            let result = try trainer.feed(block)
            #expect(result.examples == block.count)
            fed += result.examples
            loss += result.logLossSum
        }
        try trainer.flush()
        #expect(fed == 3000 && model.examples == 3000)
        #expect(stateRows(model) == fromFile)
        #expect(loss > 0 && loss.isFinite)
    }

    @Test func scoresAreTheLogisticOfTheLinearScore() throws {
        var config = TrainingPropertyTests.config
        config.dtype = .float32
        let text = TrainingPropertyTests.log(2000)
        let dir = try Scratch()
        let model = try Model<Float>(config: config)
        _ = try Trainer(model: model).train(paths: [try dir.write("d.svm", text)], weights: nil, weightsPath: nil)
        let predictor = Predictor(model: model)
        let rows = text.split(separator: "\n").map(String.init)
        var scores: [Float] = []
        var count = 0
        for block in try Self.blocks(rows, sizes: [33], hasher: model.hasher) {
            try predictor.score(block, into: &scores)
            #expect(scores.count == block.count)
            for e in 0..<block.count {
                var linear: Float = 0
                for j in block.offsets[e]..<block.offsets[e + 1] {
                    linear += model.table.weight(ofSlot: block.slots[j]) * Float(block.values[j])
                }
                #expect(scores[e] == 1 / (1 + expf(-(linear + model.bias.w))))
                count += 1
            }
        }
        #expect(count == 2000)
    }
}
