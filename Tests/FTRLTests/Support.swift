import FTRLTestSupport
import Foundation
@testable import FTRL

/// The unit tests' scratch folders are the shared `TemporaryDirectory`.
typealias Scratch = TemporaryDirectory

/// Parses `text` as LibSVM into one block.
func parse(_ text: String, hasher: FeatureHasher = FeatureHasher(kind: .identity, seed: 0, bits: 20)) throws(FTRLError) -> ExampleBlock {
    let parser = LibSVMParser(hasher: hasher)
    let block = ExampleBlock(exampleCapacity: 64)
    let bytes = Array(text.utf8)
    _ = try bytes.withUnsafeBufferPointer { buf throws(FTRLError) in
        try parser.parse(buf.baseAddress!, from: 0, to: buf.count, into: block, firstLine: 1)
    }
    return block
}

/// Trains a fresh model on `paths` and returns its state rows.
func trainedState(_ config: FTRLConfig, _ paths: [String]) throws -> [String] {
    let model = try Model<Double>(config: config)
    _ = try Trainer(model: model).train(paths: paths, weights: nil, weightsPath: nil)
    return stateRows(model)
}

func stateRows<F: FTRLScalar>(_ model: Model<F>) -> [String] {
    var rows: [String] = []
    for (s, row) in model.table.activeRows() {
        let slot = model.table.slot(row: row)
        rows.append("\(s) \(slot.w) \(slot.n) \(slot.z)")
    }
    rows.append("bias \(model.bias.w) \(model.bias.n) \(model.bias.z) \(model.iterations)")
    return rows
}
