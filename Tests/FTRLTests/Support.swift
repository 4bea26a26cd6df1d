import Foundation
@testable import FTRL

/// A directory removed when the value goes away.
final class Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ftrl-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        try Data(bytes).write(to: url.appendingPathComponent(name))
        return path(name)
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Array(text.utf8))
    }
}

/// Runs a shell command (gzip, cat) and fails loudly if it does.
func shell(_ command: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    try! p.run()
    p.waitUntilExit()
    precondition(p.terminationStatus == 0, "failed: \(command)")
}

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
    _ = try Trainer(model: model).train(paths: paths, weights: nil, weightsPath: nil, progress: Progress(prefix: "", interval: nil))
    return stateRows(model)
}

func stateRows<F: FTRLScalar>(_ model: Model<F>) -> [String] {
    var rows: [String] = []
    for s in 0..<model.table.slotCount where model.table.isActive(s) {
        let p = model.table.pointer(UInt32(s))
        rows.append("\(s) \(p[0]) \(p[1]) \(p[2])")
    }
    rows.append("bias \(model.bias[0]) \(model.bias[1]) \(model.bias[2]) \(model.iterations)")
    return rows
}
