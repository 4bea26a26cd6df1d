import FTRLTestSupport
import Foundation
import Testing
@testable import FTRL

/// The unit tests' scratch folders are the shared `TemporaryDirectory`.
typealias Scratch = TemporaryDirectory

/// Parses `text` as LibSVM into one block, twice: as it is, where no line
/// has the 16 bytes after it that the eight-byte path needs, and followed by
/// a comment line long enough that every line of `text` takes that path. The
/// two must give the same examples, or the same error.
func parse(_ text: String, hasher: FeatureHasher = FeatureHasher(kind: .identity, seed: 0, bits: 20)) throws(FTRLError) -> ExampleBlock {
    let plain = Result { () throws(FTRLError) in try parseOnce(text, hasher: hasher) }
    let padded = Result { () throws(FTRLError) in try parseOnce(text + "#" + String(repeating: " ", count: 24) + "\n", hasher: hasher) }
    switch (plain, padded) {
    case (.success(let a), .success(let b)):
        if blockContents(a) != blockContents(b) { Issue.record("the eight-byte path read \(text.debugDescription) differently") }
        return a
    case (.failure(let a), .failure(let b)):
        if a.message != b.message || a.line != b.line || a.text != b.text {
            Issue.record("the eight-byte path refused \(text.debugDescription) differently: \(b.message)")
        }
        throw a
    case (.success, .failure(let e)), (.failure(let e), .success):
        Issue.record("only one path accepted \(text.debugDescription): \(e.message)")
        throw e
    }
}

/// Parses `text` as LibSVM into one block, as it is.
func parseOnce(_ text: String, hasher: FeatureHasher) throws(FTRLError) -> ExampleBlock {
    let parser = LibSVMParser(hasher: hasher)
    let block = ExampleBlock(exampleCapacity: 64)
    let bytes = Array(text.utf8)
    _ = try bytes.withUnsafeBufferPointer { buf throws(FTRLError) in
        try parser.parse(buf.baseAddress!, from: 0, to: buf.count, into: block, firstLine: 1)
    }
    return block
}

/// A block's examples as plain values: labels, and each example's slots and value bit patterns in order.
func blockContents(_ block: ExampleBlock) -> [[UInt64]] {
    (0..<block.count).map { e in
        [UInt64(block.labels[e].bitPattern)]
            + (block.offsets[e]..<block.offsets[e + 1]).flatMap { [UInt64(block.slots[$0]), block.values[$0].bitPattern] }
    }
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
