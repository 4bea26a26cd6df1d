import FTRLTestSupport
import Foundation
import Testing

/// `--table sparse|dense|auto` through the tools: the same bytes either way
/// for training, resuming and searching; 32-bit models (sparse under `auto`)
/// that train, resume, merge and score as a small dense model with the same
/// slots; and a sparse table that outgrows its memory refused with a message.
struct SparseTableCommandTests {
    static let log = PipelineTests.sampleLog(rows: 3000)

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    static func train(_ arguments: [String]) throws {
        let run = try Tools.run("ftrl-train", ["-q"] + arguments)
        #expect(run.status == 0, "\(arguments): \(run.stderr)")
    }

    /// A model trained half with one table and resumed with the other is
    /// the model of one run, byte for byte.
    @Test(arguments: [("dense", "sparse"), ("sparse", "dense"), ("sparse", "sparse")])
    func resumingAcrossTablesIsOneRun(_ tables: (String, String)) throws {
        let dir = try TemporaryDirectory()
        let lines = Self.log.split(separator: "\n")
        let head = try dir.write("a.svm", lines[..<1500].joined(separator: "\n") + "\n")
        let tail = try dir.write("b.svm", lines[1500...].joined(separator: "\n") + "\n")
        let all = try dir.write("all.svm", Self.log)
        for ema in [[String](), ["--ema", "--ema-overwrite-frequency", "7"]] {
            let common = ["--bits", "16", "--batch-size", "4"] + ema
            try Self.train(common + ["--table", "dense", "-m", dir.path("one.ftrl"), all])
            try Self.train(common + ["--table", tables.0, "-m", dir.path("two.ftrl"), head])
            try Self.train(["--table", tables.1, "--resume", dir.path("two.ftrl"), "-m", dir.path("two.ftrl"), tail])
            #expect(try Self.bytes(dir.path("one.ftrl")) == Self.bytes(dir.path("two.ftrl")), "\(tables) \(ema)")
        }
    }

    /// A search's settings, as lanes (plain) and one trainer each (EMA),
    /// write the same models with either table.
    @Test(arguments: [[String](), ["--ema", "--dtype", "float64"]])
    func aSearchWritesTheSameModelsWithEitherTable(_ extra: [String]) throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.log)
        for table in ["dense", "sparse"] {
            try Self.train(
                ["--bits", "14", "--learning-rate", "0.05,0.2,0.8", "--l1", "0,1", "--table", table, "--models-dir", dir.path(table)]
                    + extra + [data])
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path("dense")).sorted()
        #expect(names.count == 6)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path("sparse")).sorted() == names)
        for name in names {
            #expect(try Self.bytes(dir.path("dense/\(name)")) == Self.bytes(dir.path("sparse/\(name)")), "\(name)")
        }
    }

    /// With identity hashing the log's indices are its slots at 20 and at 32
    /// bits alike: the 32-bit model (sparse under `auto`; 64 GiB dense) holds
    /// the same state, scores the same probabilities (EMA models load into a
    /// sparse table, others into compact weights), resumes, and merges.
    @Test(arguments: [[String](), ["--ema"]])
    func a32BitModelIsTheSmallModelWithTheSameSlots(_ extra: [String]) throws {
        let dir = try TemporaryDirectory()
        let lines = Self.log.split(separator: "\n")
        let head = try dir.write("a.svm", lines[..<1500].joined(separator: "\n") + "\n")
        let tail = try dir.write("b.svm", lines[1500...].joined(separator: "\n") + "\n")
        for bits in ["20", "32"] {
            let common = ["--bits", bits, "--hash", "identity", "--batch-size", "2"] + extra
            try Self.train(common + ["-m", dir.path("a\(bits).ftrl"), head])
            try Self.train(common + ["-m", dir.path("b\(bits).ftrl"), tail])
            try Self.train(["--resume", dir.path("a\(bits).ftrl"), "-m", dir.path("ab\(bits).ftrl"), tail])
            let merged = try Tools.run(
                "ftrl-model", ["merge", "-q", "-o", dir.path("m\(bits).ftrl"), dir.path("a\(bits).ftrl"), dir.path("b\(bits).ftrl")])
            #expect(merged.status == 0, "\(merged.stderr)")
        }
        for name in ["a", "ab", "m"] {
            let small = try Tools.run("ftrl-model", ["state", dir.path("\(name)20.ftrl")])
            let large = try Tools.run("ftrl-model", ["state", dir.path("\(name)32.ftrl")])
            #expect(small.status == 0 && large.status == 0, "\(large.stderr)")
            #expect(small.stdout.split(separator: "\n").count > 500)
            #expect(small.stdout == large.stdout, "\(name)")
            let scores = try ["20", "32"].map { bits in
                try Tools.run("ftrl-predict", ["-m", dir.path("\(name)\(bits).ftrl"), tail])
            }
            #expect(scores[0].status == 0 && scores[1].status == 0, "\(scores[1].stderr)")
            #expect(scores[0].stdout == scores[1].stdout && scores[0].stdout.split(separator: "\n").count == 1500)
        }
        let info = try Tools.run("ftrl-model", ["info", dir.path("ab32.ftrl")])
        #expect(info.stdout.contains("\"slots\": 4294967296"), "\(info.stdout)")
    }

    /// A sparse table grows with the slots seen; when the next doubling would
    /// not fit in a memory cgroup it is refused, with what it holds and what
    /// it needs, before the kernel kills the run, and no model is written.
    @Test func aSparseTableThatOutgrowsItsMemoryIsRefused() throws {
        let dir = try TemporaryDirectory()
        // About 6M distinct slots of 2^32: more than 200 MiB of rows and map.
        var random = TestRandom(seed: 5)
        var text = ""
        text.reserveCapacity(80 << 20)
        for _ in 0..<150_000 {
            text += random.next() % 2 == 0 ? "1" : "0"
            for _ in 0..<40 { text += " \(random.next() >> 33):1" }
            text += "\n"
        }
        let data = try dir.write("wide.svm", text)
        let model = dir.path("m.ftrl")
        try "previous".write(toFile: model, atomically: true, encoding: .utf8)
        let group = try MemoryCgroup(limit: 192 << 20)
        let train = Tools.binDirectory.appendingPathComponent("ftrl-train").path
        let run = try group.run("'\(train)' -q --bits 32 --hash identity --table sparse -m '\(model)' '\(data)'")
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("the sparse table holds"), "\(run.stderr)")
        #expect(run.stderr.contains("active slots of 2^32 and would need"), "\(run.stderr)")
        #expect(run.stderr.contains("the memory cgroup's limit of 192 MiB"), "\(run.stderr)")
        #expect(try String(contentsOfFile: model, encoding: .utf8) == "previous")
        // A search whose settings all fail so ends as a single run does: a
        // usage error, 64. Not under a sanitizer (make sanitize): the shadow
        // memory of two settings' rows, which the growth check cannot
        // foresee, gets the run killed first. `make test` runs it.
        let environment = ProcessInfo.processInfo.environment
        if environment["TSAN_OPTIONS"] != nil || environment["ASAN_OPTIONS"] != nil { return }
        let search = try group.run(
            "'\(train)' -q --bits 32 --hash identity --table sparse --learning-rate 0.05,0.1 -m '\(model)' '\(data)'")
        #expect(search.status == 64, "\(search.stderr)")
        #expect(search.stderr.contains("every setting failed"), "\(search.stderr)")
        #expect(search.stderr.contains("active slots of 2^32 and would need"), "\(search.stderr)")
        #expect(try String(contentsOfFile: model, encoding: .utf8) == "previous")
    }

    @Test func anUnknownTableIsAUsageError() throws {
        let run = try Tools.run("ftrl-train", ["--table", "hashed", "-m", "/dev/null", "x.svm"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("hashed"), "\(run.stderr)")
    }
}
