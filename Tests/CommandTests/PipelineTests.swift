import FTRLTestSupport
import Foundation
import Testing

/// The tools in shell pipelines: stdin, quiet stdout, metrics and progress
/// on stderr, resume, config round trip and refused model files.
struct PipelineTests {
    static func sampleLog(rows: Int, seed: UInt64 = 7) -> String {
        var random = TestRandom(seed: seed)
        func next() -> UInt64 { random.next() >> 33 }
        var text = ""
        for _ in 0..<rows {
            let a = next() % 50 + 1
            let b = next() % 50 + 51
            let c = next() % 1000 + 101
            let label = (a % 3 == 0 || b % 5 == 0) ? 1 : 0
            text += "\(label) \(a):1 \(b):1 \(c):0.5\n"
        }
        return text
    }

    @Test func stdinEqualsFile() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.sampleLog(rows: 2000))
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "12", "-m", dir.path("file.ftrl"), data]).status == 0)
        let piped = try Tools.run(
            "ftrl-train", ["-q", "--bits", "12", "-m", dir.path("stdin.ftrl"), "-"], stdin: URL(fileURLWithPath: data))
        #expect(piped.status == 0)
        let noArg = try Tools.run("ftrl-train", ["-q", "--bits", "12", "-m", dir.path("noarg.ftrl")], stdin: URL(fileURLWithPath: data))
        #expect(noArg.status == 0)
        let a = try Tools.run("ftrl-model", ["state", dir.path("file.ftrl")]).stdout
        #expect(a == (try Tools.run("ftrl-model", ["state", dir.path("stdin.ftrl")]).stdout))
        #expect(a == (try Tools.run("ftrl-model", ["state", dir.path("noarg.ftrl")]).stdout))

        let fromFile = try Tools.run("ftrl-predict", ["-m", dir.path("file.ftrl"), data])
        let fromStdin = try Tools.run("ftrl-predict", ["-m", dir.path("file.ftrl"), "-"], stdin: URL(fileURLWithPath: data))
        #expect(fromFile.stdout == fromStdin.stdout)
        #expect(fromFile.stdout.split(separator: "\n").count == 2000)
    }

    /// Progressive validation scores each example before it is learned: with
    /// one batch larger than the input, every example is scored by the
    /// resumed model's weights, so the progressive logloss is the logloss
    /// ftrl-predict reports for the same rows and model.
    @Test func progressiveLogLossScoresBeforeLearning() throws {
        let dir = try TemporaryDirectory()
        let first = try dir.write("a.svm", Self.sampleLog(rows: 2000, seed: 3))
        let second = try dir.write("b.svm", Self.sampleLog(rows: 500, seed: 4))
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "12", "-m", model, first]).status == 0)
        let scored = try Tools.run("ftrl-predict", ["-m", model, "--metrics", second])
        let expected = try #require(metric("logloss", in: scored.stderr), "\(scored.stderr)")
        let run = try Tools.run(
            "ftrl-train", ["--progress-every", "1000", "--resume", model, "--batch-size", "1000", "-m", dir.path("n.ftrl"), second])
        #expect(run.status == 0, "\(run.stderr)")
        let progressive = try #require(metric("progressive logloss", in: run.stderr), "\(run.stderr)")
        #expect(abs(progressive - expected) < 2e-6, "\(progressive) vs \(expected)")
        #expect(expected < 0.69)
    }

    @Test func predictPrintsOnlyProbabilitiesAndMetricsOnStderr() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.sampleLog(rows: 3000))
        let model = dir.path("m.ftrl")
        let train = try Tools.run("ftrl-train", ["--bits", "12", "--progress-every", "0", "-m", model, data])
        #expect(train.status == 0)
        #expect(train.stdout.isEmpty)
        #expect(train.stderr.contains("3,000 examples"))
        #expect(train.stderr.contains("progressive logloss"))
        let quiet = try Tools.run("ftrl-train", ["-q", "--bits", "12", "-m", model, data])
        #expect(quiet.stderr.isEmpty)

        let run = try Tools.run("ftrl-predict", ["-m", model, "--metrics", data])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 3000)
        for line in lines {
            let p = Double(line)!
            #expect(p > 0 && p < 1)
        }
        #expect(run.stderr.contains("logloss"))
        #expect(run.stderr.contains("auc"))
        #expect(run.stderr.contains("calibration"))
        #expect(run.stderr.contains("examples 3,000"))
        // The labels follow a rule the features carry: the model must have learned it.
        let auc = try #require(metric("auc", in: run.stderr), "\(run.stderr)")
        #expect(auc > 0.9)
    }

    @Test func resumeEqualsOneRun() throws {
        let dir = try TemporaryDirectory()
        let log = Self.sampleLog(rows: 1500).split(separator: "\n", omittingEmptySubsequences: false)
        let a = try dir.write("a.svm", log[0..<600].joined(separator: "\n") + "\n")
        let b = try dir.write("b.svm", log[600...].joined(separator: "\n"))
        let both = try dir.write("ab.svm", log.joined(separator: "\n"))
        for batch in ["1", "4"] {
            let flags = ["-q", "--bits", "11", "--batch-size", batch, "--l2-shrinkage", "0.01"]
            #expect(try Tools.run("ftrl-train", flags + ["-m", dir.path("one.ftrl"), both]).status == 0)
            #expect(try Tools.run("ftrl-train", flags + ["-m", dir.path("two.ftrl"), a]).status == 0)
            let resumed = try Tools.run("ftrl-train", ["-q", "--resume", dir.path("two.ftrl"), "-m", dir.path("two.ftrl"), b])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            let one = try Tools.run("ftrl-model", ["state", dir.path("one.ftrl")]).stdout
            let two = try Tools.run("ftrl-model", ["state", dir.path("two.ftrl")]).stdout
            #expect(one == two, "batch \(batch)")
            let info = try Tools.run("ftrl-model", ["info", dir.path("two.ftrl")]).stdout
            #expect(info.contains("\"examples\": 1500"))
        }
    }

    @Test func printConfigRoundTrips() throws {
        let dir = try TemporaryDirectory()
        let first = try Tools.run("ftrl-train", ["--print-config", "--learning-rate", "0.25", "--bits", "20", "--dtype", "float64"])
        #expect(first.status == 0)
        let path = try dir.write("c.json", first.stdout)
        let second = try Tools.run("ftrl-train", ["--print-config", "--config", path])
        #expect(second.stdout == first.stdout)
        #expect(first.stdout.contains("\"learning_rate\": 0.25"))
        // Golden configs are read as they are.
        let golden = Tools.fixtures.appendingPathComponent("golden/l2/config.json").path
        let g = try Tools.run("ftrl-train", ["--print-config", "--config", golden])
        #expect(g.status == 0)
        #expect(g.stdout.contains("\"l2_regularization_strength\": 0.5"))
    }

    @Test func corruptTruncatedAndForeignModelsAreRefused() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.sampleLog(rows: 300))
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", model, data]).status == 0)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: model)))

        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x01
        let cases: [(String, [UInt8], String)] = [
            ("truncated.ftrl", Array(bytes[0..<(bytes.count - 9)]), "truncated"),
            ("header.ftrl", Array(bytes[0..<10]), "truncated"),
            ("flipped.ftrl", flipped, "checksum"),
            ("foreign.ftrl", Array("1 1:1 2:3\n".utf8), "magic"),
            ("empty.ftrl", [], "magic"),
        ]
        for (name, content, reason) in cases {
            let path = try dir.write(name, bytes: content)
            for (tool, args) in [("ftrl-predict", ["-m", path, data]), ("ftrl-model", ["info", path]), ("ftrl-model", ["state", path])] {
                let run = try Tools.run(tool, args)
                #expect(run.status == 65, "\(tool) \(name)")
                #expect(run.stdout.isEmpty)
                #expect(run.stderr.contains(name) && run.stderr.contains(reason), "\(tool) \(name): \(run.stderr)")
            }
            let resume = try Tools.run("ftrl-train", ["--resume", path, "-m", dir.path("out.ftrl"), data])
            #expect(resume.status == 65)
        }
    }

    @Test func modelIsSmallWhateverTheBits() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.sampleLog(rows: 200))
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "26", "-m", dir.path("m.ftrl"), data]).status == 0)
        let size = try FileManager.default.attributesOfItem(atPath: dir.path("m.ftrl"))[.size] as! Int
        #expect(size < 50_000)
        let info = try Tools.run("ftrl-model", ["info", dir.path("m.ftrl")]).stdout
        #expect(info.contains("\"slots\": 67108864"))
    }
}
