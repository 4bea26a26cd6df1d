import FTRLTestSupport
import CZlib
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
            _ = try Trainer(model: m).train(paths: [data], weights: nil, weightsPath: nil)
            try ModelFile.write(m, to: path)
        case .float64:
            let m = try Model<Double>(config: c)
            _ = try Trainer(model: m).train(paths: [data], weights: nil, weightsPath: nil)
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

    /// The model writer goes past the page cache (`O_DIRECT`, whole 4 KiB
    /// blocks from aligned memory, the last partial block through the cache)
    /// or through it: the same bytes either way, ending in the CRC-32 of all
    /// before it (zlib's, as the reader checks it), for files that end
    /// inside a block, on a block's end, and after runs larger than the buffer.
    @Test(arguments: [100, 8192 - 4, 3_000_000])
    func directAndCachedWritesGiveTheSameBytes(size: Int) throws {
        let dir = try Scratch()
        var rng = SplitMix(seed: UInt64(size))
        let content = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        var files: [[UInt8]] = []
        for direct in [true, false] {
            let path = dir.path("\(direct).bin")
            let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
            #expect(fd >= 0)
            let writer = FileWriter(fd: fd, reportAs: path, direct: direct)
            #expect(writer.writesDirect == direct, "the scratch folder takes direct writes")
            // A few bytes, a few numbers, then the rest as one run from memory.
            let small = min(size, 7)
            writer.bytes(Array(content[0..<small]))
            var k = small
            while k + 4 <= min(size, 31) {
                writer.u32(UInt32(content[k]) | UInt32(content[k + 1]) << 8 | UInt32(content[k + 2]) << 16 | UInt32(content[k + 3]) << 24)
                k += 4
            }
            content.withUnsafeBytes { writer.bytes(from: $0.baseAddress! + k, count: size - k) }
            try writer.finish()
            files.append(try ModelFile.readAll(path: path))
        }
        #expect(files[0] == files[1])
        #expect(files[0].count == size + 4)
        #expect(Array(files[0].prefix(size)) == content)
        let crc = content.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32(size))) }
        let tail = files[0].suffix(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(tail == crc)
    }

    /// Counting a big dense table's active slots (each save does) uses a
    /// helper thread and ends it: 64 counts leave no threads behind. Other
    /// suites start and end threads meanwhile, hence the margin; a leak
    /// would leave 64.
    @Test func countingActiveSlotsLeavesNoThreadBehind() throws {
        let table = try WeightTable<Float>(bits: 20, withEMA: false, layout: .dense)
        try table.restore(slot: 5, w: 1, n: 1, z: 1)
        try table.restore(slot: (1 << 20) - 1, w: 1, n: 1, z: 1)
        func threads() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count }
        let before = try threads()
        for _ in 0..<64 { #expect(table.activeCount == 2) }
        let after = try threads()
        #expect(after - before < 16, "\(before) threads before 64 counts, \(after) after")
    }

    /// A file is read whole: a regular file (read at its size), an empty
    /// one, and a pipe of 2.5 MiB (read 1 MiB at a time) give their bytes.
    @Test func readAllReadsFilesAndPipesWhole() throws {
        let dir = try Scratch()
        var random = TestRandom(seed: 5)
        let bytes = (0..<(5 << 19)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let file = dir.path("bytes")
        #expect(FileManager.default.createFile(atPath: file, contents: Data(bytes)))
        #expect(try ModelFile.readAll(path: file) == bytes)
        #expect(try ModelFile.readAll(path: try dir.write("empty", "")) == [])
        let fifo = dir.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let writer = Thread {
            let fd = open(fifo, O_WRONLY)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        writer.start()
        #expect(try ModelFile.readAll(path: fifo) == bytes)
    }

    /// The config read from a model file's first bytes (to start reading
    /// the input while the model loads) is the config the whole file holds;
    /// a version 1 file, a pipe and a file of other bytes give none.
    @Test(arguments: DType.allCases)
    func thePeekedConfigIsTheFilesConfig(_ dtype: DType) throws {
        let (dir, path) = try Self.trained(dtype)
        let config = try #require(ModelFile.peekConfig(path: path))
        #expect(try config.jsonText == ModelFile.read(path: path).config.jsonText)
        let v1 = Tools.fixtures.appendingPathComponent("model-v1")
        for name in try FileManager.default.contentsOfDirectory(atPath: v1.path) where name.hasSuffix(".ftrl") {
            #expect(ModelFile.peekConfig(path: v1.appendingPathComponent(name).path) == nil, "\(name)")
        }
        #expect(ModelFile.peekConfig(path: try dir.write("other.txt", "hello")) == nil)
        let fifo = dir.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(ModelFile.peekConfig(path: fifo) == nil)  // not opened for its bytes: no writer needed
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

    /// A model whose checksum is right but whose numbers no training could
    /// make (NaN, infinity, a negative accumulator) is refused by name.
    @Test(arguments: [Float.nan, Float.infinity, -1])
    func nonFiniteStateIsRefused(_ bad: Float) throws {
        let (dir, path) = try Self.trained(.float32)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // The first slot's n: in the slots section (name length 5, "slots",
        // u64 length), after K (u64), the slot number and w.
        let header = [UInt8(5)] + Array("slots".utf8)
        let at = (0..<bytes.count - header.count).first { Array(bytes[$0..<$0 + header.count]) == header }!
        let n = at + header.count + 8 + 8 + 4 + 4
        withUnsafeBytes(of: bad.bitPattern.littleEndian) { for k in 0..<4 { bytes[n + k] = $0[k] } }
        let crc = bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count - 4))) }
        withUnsafeBytes(of: crc.littleEndian) { for k in 0..<4 { bytes[bytes.count - 4 + k] = $0[k] } }
        let p = try dir.write("nan.ftrl", bytes)
        #expect {
            _ = try ModelFile.read(path: p)
        } throws: { ($0 as? FTRLError)?.message.contains("non-finite number or a negative accumulator") == true }
    }

    /// The sweep for stale temporary files reads directory entries only up
    /// to their names' ends: in a folder of thousands of names of every
    /// length some entry ends a readdir buffer, where copying a whole dirent
    /// read past the buffer (AddressSanitizer caught it in `make fuzz`; this
    /// runs under it in `make sanitize`). Stale files are still removed.
    @Test func staleSweepReadsOnlyTheNames() throws {
        let dir = try Scratch()
        var random = TestRandom(seed: 3)
        for i in 0..<3000 {
            let rng = random.next()
            let name = String(repeating: "n", count: Int(rng >> 59) + 1) + "\(i)"
            _ = try dir.write(name, [])
        }
        let target = dir.path("m.ftrl")
        let stale = try dir.write("m.ftrl.tmp-999999999-abcdef", [1])
        AtomicFile.removeStaleTemporaries(of: target)
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).count == 3000)
    }

    /// The temporary file of a write is fresh (O_EXCL): it is never one a
    /// symlink planted beside the target points through.
    @Test func temporaryFilesAreFreshAndUnpredictable() throws {
        let dir = try Scratch()
        let target = dir.path("m.ftrl")
        let a = try AtomicFile.createTemporary(beside: target, reportAs: target)
        let b = try AtomicFile.createTemporary(beside: target, reportAs: target)
        close(a.fd)
        close(b.fd)
        #expect(a.path != b.path)
        #expect(a.path.hasPrefix(target + ".tmp-\(getpid())-"))
        // The stale-file sweep leaves the files of a live process (this one).
        AtomicFile.removeStaleTemporaries(of: target)
        #expect(FileManager.default.fileExists(atPath: a.path))
    }
}
