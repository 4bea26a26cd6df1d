import FTRLTestSupport
import Foundation
import Testing

/// `ftrl-train --cache FILE`: the first pass writes the parsed examples, later
/// epochs and later runs read them, and the model is byte for byte the model
/// of the text; a cache of other inputs or settings, or a damaged one, is
/// rebuilt with a warning; what cannot be cached is refused up front.
struct CacheCommandTests {
    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// The logs: LibSVM, CSV with a header (the model records its columns
    /// from the cache too) and TSV with a weight column.
    static func inputs(_ dir: TemporaryDirectory) throws -> [(name: String, path: String, flags: [String])] {
        let tsv = DelimitedInputTests.tsv(rows: 3000)
        let csv = DelimitedInputTests.columns + "\n" + tsv.replacingOccurrences(of: "\t", with: ",")
        var random = TestRandom(seed: 21)
        let weighted = tsv.split(separator: "\n").map { "\($0)\t\(Double(random.next() % 8) / 4)" }.joined(separator: "\n") + "\n"
        return [
            ("libsvm", try dir.write("d.svm", PipelineTests.sampleLog(rows: 3000)), []),
            ("csv", try dir.write("d.csv", csv), ["--numeric", "I1-I2"]),
            (
                "tsv", try dir.write("d.tsv", weighted),
                ["--columns", DelimitedInputTests.columns + ",W", "--weight", "W", "--numeric-transform", "bucket", "--numeric", "I1-I2"]
            ),
        ]
    }

    @Test func aCachedRunIsTheTextsRunAndLaterRunsReadTheCache() throws {
        let dir = try TemporaryDirectory()
        for input in try Self.inputs(dir) {
            let common = input.flags + ["--bits", "16", "--epochs", "3"]
            let cache = dir.path("\(input.name).cache")
            let text = try Tools.run("ftrl-train", common + ["-q", "-m", dir.path("text.ftrl"), input.path])
            #expect(text.status == 0, "\(text.stderr)")
            // First run: epoch 1 from the text, writing the cache; epochs 2 and 3 from it.
            let first = try Tools.run("ftrl-train", common + ["--cache", cache, "-m", dir.path("first.ftrl"), input.path])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stderr.contains("wrote the cache \(cache); later epochs read it"), "\(first.stderr)")
            #expect(try Self.bytes(dir.path("first.ftrl")) == Self.bytes(dir.path("text.ftrl")), "\(input.name)")
            // Second run: every epoch from the cache, the same model.
            let second = try Tools.run("ftrl-train", common + ["--cache", cache, "--profile", "-m", dir.path("second.ftrl"), input.path])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stderr.contains("examples read from the cache \(cache)"), "\(second.stderr)")
            #expect(second.stderr.contains("input thread (read, gunzip 0.000 s; reading the cache "), "\(second.stderr)")
            #expect(!second.stderr.contains("warning"))
            #expect(try Self.bytes(dir.path("second.ftrl")) == Self.bytes(dir.path("text.ftrl")), "\(input.name)")
            // A search from the cache: each setting's model as its own run from the text.
            let search = try Tools.run(
                "ftrl-train",
                common + ["-q", "--cache", cache, "--learning-rate", "0.1,0.3", "--models-dir", dir.path("s-\(input.name)"), input.path])
            #expect(search.status == 0, "\(search.stderr)")
            #expect(try Self.bytes(dir.path("s-\(input.name)/learning-rate-0.1.ftrl")) == Self.bytes(dir.path("text.ftrl")))
        }
    }

    /// Another input, another setting that changes the examples, or a
    /// changed input file each make the cache stale; damage of any kind
    /// makes it damaged. Either way it is rebuilt, with a warning, and the
    /// model is the text's; the rebuilt cache is read by the next run.
    @Test func aStaleOrDamagedCacheIsRebuiltWithAWarning() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", PipelineTests.sampleLog(rows: 2000))
        let other = try dir.write("e.svm", PipelineTests.sampleLog(rows: 2000, seed: 9))
        let cache = dir.path("c.cache")
        func train(_ flags: [String], _ input: String) throws -> ToolRun {
            let run = try Tools.run("ftrl-train", ["--bits", "14", "--cache", cache, "-m", dir.path("m.ftrl")] + flags + [input])
            #expect(run.status == 0, "\(run.stderr)")
            return run
        }
        _ = try train([], data)
        let stale = "warning: rebuilding the cache \(cache): it was made from other inputs or settings"
        #expect(try train([], other).stderr.contains(stale))
        #expect(try train(["--bits", "15"], other).stderr.contains(stale))
        #expect(try train(["--bits", "15"], other).stderr.contains("examples read from the cache"))
        // The input rewritten (its time and size change): stale.
        try (PipelineTests.sampleLog(rows: 2001, seed: 9)).write(toFile: other, atomically: false, encoding: .utf8)
        #expect(try train(["--bits", "15"], other).stderr.contains(stale))
        let good = try Self.bytes(cache)
        let text = try Tools.run("ftrl-train", ["-q", "--bits", "15", "-m", dir.path("text.ftrl"), other])
        #expect(text.status == 0)
        // A byte changed in a record, and the file cut short.
        var flipped = good
        flipped[good.count / 2] ^= 0x01
        for damaged in [flipped, good.prefix(good.count - 100)] {
            try damaged.write(to: URL(fileURLWithPath: cache))
            let run = try train(["--bits", "15"], other)
            #expect(run.stderr.contains("warning: rebuilding the cache \(cache): it is damaged"), "\(run.stderr)")
            #expect(try Self.bytes(dir.path("m.ftrl")) == Self.bytes(dir.path("text.ftrl")))
            #expect(try Self.bytes(cache) == good, "the rebuilt cache is the cache")
        }
    }

    @Test func whatCannotBeCachedIsRefused() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", PipelineTests.sampleLog(rows: 100))
        let stdin = try Tools.run(
            "ftrl-train", ["--cache", dir.path("c.cache"), "-m", dir.path("m.ftrl"), "-"], stdin: URL(fileURLWithPath: data))
        #expect(stdin.status == 64)
        #expect(stdin.stderr.contains("--cache needs regular files"), "\(stdin.stderr)")
        let onInput = try Tools.run("ftrl-train", ["--cache", data, "-m", dir.path("m.ftrl"), data])
        #expect(onInput.status == 64)
        #expect(onInput.stderr.contains("--cache \(data) is the input \(data)"), "\(onInput.stderr)")
        #expect(try String(contentsOfFile: data, encoding: .utf8) == PipelineTests.sampleLog(rows: 100))
    }

    /// SIGINT in the first pass: the model is written as always, and no
    /// cache (nor a temporary file) is left, since the pass was not whole.
    @Test func anInterruptedFirstPassLeavesNoCache() throws {
        let dir = try TemporaryDirectory()
        // A million rows: the first pass takes far longer than the 150 ms before the signal.
        let data = try dir.write("d.svm", PipelineTests.sampleLog(rows: 1_000_000))
        let train = Process()
        train.executableURL = Tools.binDirectory.appendingPathComponent("ftrl-train")
        train.arguments = ["-q", "--bits", "18", "--cache", dir.path("c.cache"), "-m", dir.path("m.ftrl"), data]
        try train.run()
        usleep(150_000)
        kill(train.processIdentifier, SIGINT)
        train.waitUntilExit()
        #expect(train.terminationStatus == 130)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted()
        #expect(left == ["d.svm", "m.ftrl"], "\(left)")
    }
}
