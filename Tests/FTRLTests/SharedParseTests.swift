import FTRLTestSupport
import Foundation
import Testing
@testable import FTRL

/// The parse that the input thread and the reader share (`ParseBoard`):
/// whichever thread parses a chunk, and in whatever order the chunks finish,
/// the reader gets the examples of one parse of the text from start to end,
/// in order, and an error after the examples before it, named by its line
/// in its file.
@Suite struct SharedParseTests {
    static let hasher = FeatureHasher(kind: .murmur3, seed: 7, bits: 20)

    /// A chunk's parse that the input thread starts first but may only go
    /// through once the reader has parsed a later chunk: the order in which
    /// chunks finish is then the reverse of the input's.
    final class ReaderFirst: FileDecoding, @unchecked Sendable {
        let parser = LibSVMParser(hasher: SharedParseTests.hasher)
        /// The input thread is inside its parse.
        let entered = DispatchSemaphore(value: 0)
        /// The reader has parsed its chunk.
        let readerDone = DispatchSemaphore(value: 0)

        func decode(
            onInputThread: Bool, _ text: UnsafePointer<UInt8>, from start: Int, to end: Int, into block: ExampleBlock, firstLine: Int
        ) throws(FTRLError) -> (next: Int, lines: Int) {
            if onInputThread {
                entered.signal()
                readerDone.wait()
                return try parser.parse(text, from: start, to: end, into: block, firstLine: firstLine)
            }
            defer { readerDone.signal() }
            return try parser.parse(text, from: start, to: end, into: block, firstLine: firstLine)
        }
    }

    static func fill(_ chunk: TextChunk, _ text: String, path: String) {
        let bytes = Array(text.utf8)
        chunk.length = bytes.count
        chunk.path = path
        bytes.withUnsafeBufferPointer { chunk.bytes.update(from: $0.baseAddress!, count: $0.count) }
    }

    static func examples(_ text: String) -> [ChunkingOracle.Example] {
        let parser = LibSVMParser(hasher: hasher)
        let outcome = ChunkingOracle.read(Array(text.utf8), format: .libsvm, cut: -1) { (t, from, to, block, line) throws(FTRLError) in
            try parser.parse(t, from: from, to: to, into: block, firstLine: line)
        }
        guard case .examples(let list) = outcome else { return [] }
        return list
    }

    static func examples(of block: ExampleBlock) -> [ChunkingOracle.Example] {
        (0..<block.count).map { e in
            let range = block.offsets[e]..<block.offsets[e + 1]
            return ChunkingOracle.Example(
                label: block.labels[e], slots: range.map { block.slots[$0] }, values: range.map { block.values[$0] })
        }
    }

    /// The input thread holds the first chunk while the reader parses the
    /// second: the blocks still come first chunk first, the error of the
    /// second chunk after the examples before it, with its line counted
    /// across both chunks of the file.
    @Test(arguments: [false, true])
    func aChunkParsedBeforeTheOneAheadOfItWaitsItsTurn(secondHasAnError: Bool) throws {
        let first = "1 1:1 2:0.5\n0 3:1\n1 4:2\n0 5:1 6:1\n1 7:1\n"
        let second = secondHasAnError ? "0 8:1\n1 9:1\n1 x:1\n0 10:1\n" : "0 8:1\n1 9:1\n1 11:1\n0 10:1\n"
        let board = ParseBoard(blocks: 4, exampleCapacity: 16, chunks: 2, chunkBytes: 4096)
        let a = try #require(board.takeChunk())
        let b = try #require(board.takeChunk())
        Self.fill(a, first, path: "a.svm")
        Self.fill(b, second, path: "a.svm")
        let gate = ReaderFirst()
        board.post(ParseJob(chunk: a, decoders: gate, startLine: 1, position: 0))
        board.post(ParseJob(chunk: b, decoders: gate, startLine: nil, position: 0))
        // The input thread, with no free chunk, claims the head and parses it.
        let inputDone = DispatchSemaphore(value: 0)
        Thread {
            _ = board.takeChunk()
            board.end(error: nil)
            inputDone.signal()
        }.start()
        gate.entered.wait()
        var got: [ChunkingOracle.Example] = []
        var failure: FTRLError?
        do throws(FTRLError) {
            while let block = try board.next() {
                got += Self.examples(of: block)
                block.reset()
                board.recycle(block)
            }
        } catch {
            failure = error
        }
        board.cancel()
        inputDone.wait()
        let seconds = board.parseSeconds
        #expect(seconds.input > 0 && seconds.reader > 0, "both threads parsed: \(seconds)")
        if secondHasAnError {
            #expect(got == Self.examples(first + "0 8:1\n1 9:1\n"))
            let error = try #require(failure)
            #expect(error.path == "a.svm")
            #expect(error.line == 8, "line 3 of the second chunk, after the first chunk's 5")
            #expect(error.text?.contains("x:1") == true, "\(error.text ?? "")")
        } else {
            #expect(failure == nil)
            #expect(got == Self.examples(first + second))
        }
    }

    /// Two blocks, three chunks: the input thread, at the end of its input,
    /// parses the two oldest chunks (a block each) and the reader the third
    /// once the first block is back. A thread that took the newest chunks
    /// first would leave both blocks behind the head, and the reader waiting
    /// for a block that never comes (here: no block within 20 s).
    @Test func theOldestChunkIsParsedFirstSoTheHeadAlwaysGetsABlock() throws {
        let texts = ["1 1:1\n0 2:1\n1 3:1\n", "0 4:1\n1 5:1\n0 6:1\n", "1 7:1\n1 8:1\n0 9:1\n"]
        let board = ParseBoard(blocks: 2, exampleCapacity: 4, chunks: 3, chunkBytes: 4096)
        let decoders = FileDecoders(LibSVMParser(hasher: Self.hasher))
        for (k, text) in texts.enumerated() {
            let chunk = try #require(board.takeChunk())
            Self.fill(chunk, text, path: "a.svm")
            board.post(ParseJob(chunk: chunk, decoders: decoders, startLine: k == 0 ? 1 : nil, position: 0))
        }
        board.end(error: nil)
        let got = Shared<[ChunkingOracle.Example]>([])
        let finished = DispatchSemaphore(value: 0)
        Thread {
            while let block = try? board.next() {
                got.update { $0 += Self.examples(of: block) }
                block.reset()
                board.recycle(block)
            }
            finished.signal()
        }.start()
        let inTime = finished.wait(timeout: .now() + 20) == .success
        #expect(inTime, "the reader waited for a block")
        board.cancel()
        if !inTime { finished.wait() }
        #expect(got.value == Self.examples(texts.joined()))
    }

    /// Files of many chunks, one of them with chunks of many blocks, read
    /// through the stream with two and six blocks in circulation, by a reader
    /// that keeps up and by one that lags (so the input thread parses more):
    /// the examples are those of each file parsed from start to end.
    @Test(.timeLimit(.minutes(2)), arguments: [2, 6], [false, true])
    func theStreamGivesTheExamplesOfOneParseInOrder(depth: Int, readerLags: Bool) throws {
        let dir = try Scratch()
        var rng = SplitMix(seed: UInt64(depth) * 31 + (readerLags ? 1 : 0))
        var long = ""
        for r in 0..<9000 {
            long += r % 3 == 0 ? "1" : "0"
            var index = 0
            for _ in 0..<(8 + Int(rng.next() % 40)) {
                index += 1 + Int(rng.next() % 5000)
                long += rng.next() % 4 == 0 ? " \(index):0.\(rng.next() % 1000)" : " \(index):1"
            }
            long += "\n"
        }
        var short = ""
        for r in 0..<120_000 { short += "\(r % 2) \(1 + r % 97):1\n" }
        let a = dir.path("long.svm")
        let b = dir.path("short.svm")
        try long.write(toFile: a, atomically: true, encoding: .utf8)
        try short.write(toFile: b, atomically: true, encoding: .utf8)
        shell("gzip -f '\(b)'")
        let expected = Self.examples(long) + Self.examples(short)
        let stream = ExampleStream(paths: [a, b + ".gz"], hasher: Self.hasher, depth: depth)
        var got: [ChunkingOracle.Example] = []
        got.reserveCapacity(expected.count)
        var blocks = 0
        while let block = try stream.next() {
            got += Self.examples(of: block)
            blocks += 1
            if readerLags && blocks % 4 == 0 { usleep(2000) }
            stream.recycle(block)
        }
        _ = stream.finish()
        #expect(got.count == expected.count)
        #expect(got == expected)
    }
}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
