import FTRLTestSupport
import Foundation
import Testing

/// Bad input never crashes and never loses work: each case exits with the
/// sysexits code, names the file, line and offending text, and leaves an
/// existing model untouched.
struct BadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var status: Int32
        var message: [String]
        var testDescription: String { name }
    }

    static let good = "1 1:1 2:0.5\n0 3:1\n"

    static func text(_ name: String, _ s: String, _ status: Int32 = 65, _ message: String...) -> Case {
        Case(name: name, bytes: Array(s.utf8), status: status, message: message)
    }

    static let cases: [Case] = [
        text("bad label", good + "2 1:1\n", 65, "bad.svm:3:", "expected a label", "\"2\""),
        text("word label", "yes 1:1\n", 65, "bad.svm:1:", "\"yes\""),
        text("missing colon", good + "1 12x3\n", 65, "bad.svm:3:", "expected 'index:value'", "\"12x3\""),
        text("index zero", "1 0:1\n", 65, "bad.svm:1:", "index 0", "\"0:1\""),
        text("negative index", "0 1:1\n1 -3:1\n", 65, "bad.svm:2:", "negative feature index", "\"-3:1\""),
        text("nan value", "1 4:nan\n", 65, "bad.svm:1:", "not finite", "\"4:nan\""),
        text("infinite value", "1 4:1e400\n", 65, "bad.svm:1:", "not finite", "\"4:1e400\""),
        text("not a number", "1 4:abc\n", 65, "bad.svm:1:", "not a number", "\"4:abc\""),
        text("huge index", "1 99999999999999999999999:1\n", 65, "bad.svm:1:", "too large"),
        text("no examples", "\n\n# only a comment\n", 65, "no examples"),
        text("empty file", "", 65, "no examples"),
        Case(
            name: "binary junk", bytes: [0x00, 0x01, 0xFF, 0xFE, 0x20, 0x31, 0x0A], status: 65,
            message: ["bad.svm:1:", "\\x00\\x01\\xff\\xfe"]),
    ]

    @Test(arguments: cases)
    func refusedWithReason(_ c: Case) throws {
        let dir = try TemporaryDirectory()
        let input = try dir.write("bad.svm", bytes: c.bytes)
        // A good model already at -m must survive the failed run byte for byte.
        let model = dir.path("model.ftrl")
        let first = try Tools.run("ftrl-train", ["-q", "--bits", "8", "-m", model, try dir.write("good.svm", Self.good)])
        #expect(first.status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: model))

        let run = try Tools.run("ftrl-train", ["--bits", "8", "-m", model, input])
        #expect(run.status == c.status)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("ftrl-train: error: "), "\(run.stderr)")
        for part in c.message {
            #expect(run.stderr.contains(part), "stderr lacks \(part): \(run.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty)

        // The scorer refuses the same input the same way.
        let predict = try Tools.run("ftrl-predict", ["-m", model, input])
        if c.name != "no examples" && c.name != "empty file" {
            #expect(predict.status == c.status)
            #expect(predict.stderr.hasPrefix("ftrl-predict: error: "))
        }
    }

    @Test func gzipTruncatedAndCorrupt() throws {
        let dir = try TemporaryDirectory()
        var text = ""
        for i in 0..<3000 { text += "\(i % 2) \(i % 97 + 1):1 \(i % 13 + 200):0.25\n" }
        let plain = try dir.write("data.svm", text)
        try gzipFile(plain, to: dir.path("data.svm.gz"))
        let gz = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.path("data.svm.gz"))))

        let truncated = try dir.write("truncated.gz", bytes: Array(gz[0..<(gz.count / 2)]))
        let t = try Tools.run("ftrl-train", ["--bits", "10", "-m", dir.path("m"), truncated])
        #expect(t.status == 65)
        #expect(t.stderr.contains("truncated.gz"))
        #expect(t.stderr.contains("truncated gzip stream"))
        #expect(!FileManager.default.fileExists(atPath: dir.path("m")))

        var corrupt = gz
        for k in 40..<60 { corrupt[k] ^= 0x5A }
        let bad = try dir.write("corrupt.gz", bytes: corrupt)
        let c = try Tools.run("ftrl-train", ["--bits", "10", "-m", dir.path("m"), bad])
        #expect(c.status == 65)
        #expect(c.stderr.contains("corrupt.gz"))
        #expect(c.stderr.contains("gzip") || c.stderr.contains("expected"), "\(c.stderr)")

        let garbage = try dir.write("garbage.gz", bytes: gz + Array("junk".utf8))
        let g = try Tools.run("ftrl-train", ["--bits", "10", "-m", dir.path("m"), garbage])
        #expect(g.status == 65)
        #expect(g.stderr.contains("trailing garbage"))
    }

    /// The input is read in chunks cut at line ends and parsed as they are
    /// cut: a bad line megabytes into a gzip'd file, or into the second of
    /// two files, is still named by its own file and line (counted here
    /// from the text written), in LibSVM and in TSV with a header per file.
    @Test func aBadLineFarIntoTheInputIsNamedByItsFileAndLine() throws {
        let dir = try TemporaryDirectory()
        // Lines of uneven length, so that chunk ends fall inside lines.
        func rows(_ count: Int, tsv: Bool, header: Bool = true) -> String {
            var text = tsv && header ? "label\tc1\tc2\n" : ""
            for i in 0..<count {
                let pad = String(repeating: "7", count: i % 41)
                text += tsv ? "\(i % 2)\t\(i % 89)\ta\(pad)\n" : "\(i % 2) \(i % 89 + 1):1 \(i % 31 + 100):0.\(pad)5\n"
            }
            return text
        }
        for tsv in [false, true] {
            let ext = tsv ? "tsv" : "svm"
            let flags = tsv ? ["--format", "tsv", "--header", "--label", "label"] : []
            let good = rows(60_000, tsv: tsv)  // about 2 MiB: several chunks
            let goodLines = good.utf8.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            let bad = good + (tsv ? "2\t5\tx\n" : "1 12x3:1\n") + rows(100, tsv: tsv, header: false)
            let plain = try dir.write("bad.\(ext)", bad)
            try gzipFile(plain, to: dir.path("bad.\(ext).gz"))
            let first = try dir.write("first.\(ext)", good)
            for (inputs, named) in [([dir.path("bad.\(ext).gz")], "bad.\(ext).gz"), ([first, plain], "bad.\(ext)")] {
                let model = dir.path("m-\(ext)")
                let run = try Tools.run("ftrl-train", flags + ["--bits", "12", "-m", model] + inputs)
                #expect(run.status == 65, "\(run.stderr)")
                #expect(run.stderr.contains("\(named):\(goodLines + 1):"), "\(inputs): \(run.stderr)")
                #expect(!FileManager.default.fileExists(atPath: model))
            }
        }
    }

    @Test func missingFileIsNoInput() throws {
        let dir = try TemporaryDirectory()
        let run = try Tools.run("ftrl-train", ["-m", dir.path("m"), dir.path("absent.svm")])
        #expect(run.status == 66)
        #expect(run.stderr.contains("absent.svm"))
        #expect(run.stderr.contains("No such file"))
        let predict = try Tools.run("ftrl-predict", ["-m", dir.path("absent.ftrl")])
        #expect(predict.status == 66)
    }

    @Test(arguments: [
        (["--learning-rate", "0"], "learning_rate"),
        (["--learning-rate", "-1"], "learning_rate"),
        (["--l1", "-0.5"], "l1_regularization_strength"),
        (["--l2", "-1"], "l2_regularization_strength"),
        (["--l2-shrinkage", "-1"], "l2_shrinkage_regularization_strength"),
        (["--learning-rate-power", "0.5"], "learning_rate_power"),
        (["--initial-accumulator-value", "-1"], "initial_accumulator_value"),
        (["--batch-size", "0"], "batch_size"),
        (["--epochs", "0"], "epochs"),
        (["--bits", "40"], "bits"),
        (["--beta", "-4", "--l2", "0"], "beta"),
        (["--hash", "md5"], "hash"),
        (["--dtype", "float16"], "dtype"),
    ])
    func invalidSettingsRefusedBeforeReading(_ flags: [String], _ name: String) throws {
        let dir = try TemporaryDirectory()
        // The input does not exist: a usage error (64) rather than 66 shows that
        // settings are checked before any data is read.
        let run = try Tools.run("ftrl-train", flags + ["-m", dir.path("m"), dir.path("absent.svm")])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains(name), "\(run.stderr)")
    }

    @Test func configWithUnknownKeyIsRefused() throws {
        let dir = try TemporaryDirectory()
        let config = try dir.write("c.json", "{\"learning_rate\": 0.2, \"l1_regularisation_strength\": 1}")
        let run = try Tools.run("ftrl-train", ["--config", config, "--print-config"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("l1_regularisation_strength"))
    }

    @Test func resumeRefusesMeaningChanges() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("a.svm", Self.good)
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "8", "-m", model, data]).status == 0)
        for flags in [["--bits", "9"], ["--hash", "identity"], ["--hash-seed", "3"], ["--dtype", "float64"]] {
            let run = try Tools.run("ftrl-train", ["--resume", model, "-m", model] + flags + [data])
            #expect(run.status == 64, "\(flags)")
            #expect(run.stderr.contains("resumed model"))
        }
        let lr = try Tools.run("ftrl-train", ["--resume", model, "-m", model, "--learning-rate", "0.3", data])
        #expect(lr.status == 0)
        #expect(lr.stderr.contains("learning_rate overridden"))
    }
}
