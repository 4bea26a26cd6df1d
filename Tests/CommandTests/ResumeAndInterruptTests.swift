import FTRLTestSupport
import Foundation
import Testing

/// Long runs can stop and continue: resuming is exact for every golden
/// config, an interrupt leaves a complete model, checkpoints are models.
struct ResumeAndInterruptTests {
    static let golden = Tools.fixtures.appendingPathComponent("golden")

    static func lines(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init).filter { !$0.isEmpty }
    }

    /// Training on A, then resuming on B, writes the very same model file as
    /// one run over A then B, when A ends on a batch boundary (one epoch).
    @Test(arguments: GoldenReplayTests.cases)
    func resumeIsBitIdentical(_ name: String) throws {
        let dir = Self.golden.appendingPathComponent(name)
        let scratch = try TemporaryDirectory()
        let config = dir.appendingPathComponent("config.json").path
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config))) as! [String: Any]
        let batch = (json["batch_size"] as! NSNumber).intValue
        // The rows (and weights), repeated when a batch is larger than half of them.
        var rows = try Self.lines(dir.appendingPathComponent("train.libsvm"))
        let weightsURL = dir.appendingPathComponent("train.weights")
        var weights = FileManager.default.fileExists(atPath: weightsURL.path) ? try Self.lines(weightsURL) : nil
        let once = (rows, weights)
        while rows.count < 2 * batch + 1 {
            rows += once.0
            weights = weights.map { $0 + once.1! }
        }
        let cut = rows.count / 2 / batch * batch

        let all = try scratch.write("all.svm", rows.joined(separator: "\n") + "\n")
        let a = try scratch.write("a.svm", rows[0..<cut].joined(separator: "\n") + "\n")
        let b = try scratch.write("b.svm", rows[cut...].joined(separator: "\n") + "\n")
        var allArgs = ["-q", "--config", config, "--hash", "identity", "--epochs", "1"]
        var aArgs = allArgs
        var bArgs = ["-q"]
        if let weights {
            allArgs += ["--example-weights", try scratch.write("all.w", weights.joined(separator: "\n") + "\n")]
            aArgs += ["--example-weights", try scratch.write("a.w", weights[0..<cut].joined(separator: "\n") + "\n")]
            bArgs += ["--example-weights", try scratch.write("b.w", weights[cut...].joined(separator: "\n") + "\n")]
        }
        let one = try Tools.run("ftrl-train", allArgs + ["-m", scratch.path("one.ftrl"), all])
        #expect(one.status == 0, "\(one.stderr)")
        let first = try Tools.run("ftrl-train", aArgs + ["-m", scratch.path("two.ftrl"), a])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try Tools.run("ftrl-train", bArgs + ["--resume", scratch.path("two.ftrl"), "-m", scratch.path("two.ftrl"), b])
        #expect(second.status == 0, "\(second.stderr)")
        let oneBytes = try Data(contentsOf: URL(fileURLWithPath: scratch.path("one.ftrl")))
        let twoBytes = try Data(contentsOf: URL(fileURLWithPath: scratch.path("two.ftrl")))
        #expect(oneBytes == twoBytes, "resumed model differs from one run")
    }

    /// SIGINT while ftrl-train waits for more input on a pipe: it finishes
    /// the batch, writes a complete model, exits 130, and that model equals
    /// an uninterrupted run over the examples it consumed.
    @Test(arguments: [("SIGINT", SIGINT, Int32(130)), ("SIGTERM", SIGTERM, Int32(143))])
    func interruptLeavesACompleteModel(_ name: String, _ signal: Int32, _ status: Int32) throws {
        let scratch = try TemporaryDirectory()
        let rows = PipelineTests.sampleLog(rows: 5000).split(separator: "\n").map(String.init)
        let model = scratch.path("m.ftrl")
        let process = Process()
        process.executableURL = Tools.binDirectory.appendingPathComponent("ftrl-train")
        process.arguments = [
            "--bits", "12", "--batch-size", "4", "--schedule", "exponential-decay", "--decay-steps", "100",
            "--decay-rate", "0.5", "--ema", "--ema-overwrite-frequency", "7", "-m", model, "-",
        ]
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // 3000 rows, then nothing more (the pipe stays open): the trainer
        // consumes them and waits for input when the signal comes.
        input.fileHandleForWriting.write(Data((rows[0..<3000].joined(separator: "\n") + "\n").utf8))
        Thread.sleep(forTimeInterval: 1.5)
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!process.isRunning)
        if process.isRunning { process.terminate() }
        try? input.fileHandleForWriting.close()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == status, "\(stderr)")
        #expect(stderr.contains("stopped by \(name)"), "\(stderr)")

        let info = try Tools.run("ftrl-model", ["info", model])
        #expect(info.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as! [String: Any]
        let consumed = (json["examples"] as! NSNumber).intValue
        #expect(consumed == 3000)
        // The same first examples, uninterrupted.
        let head = try scratch.write("head.svm", rows[0..<consumed].joined(separator: "\n") + "\n")
        let again = try Tools.run(
            "ftrl-train",
            [
                "-q", "--bits", "12", "--batch-size", "4", "--schedule", "exponential-decay",
                "--decay-steps", "100", "--decay-rate", "0.5", "--ema", "--ema-overwrite-frequency", "7",
                "-m", scratch.path("again.ftrl"), head,
            ])
        #expect(again.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == Data(contentsOf: URL(fileURLWithPath: scratch.path("again.ftrl"))))
    }

    /// Checkpointing does not change the model a run ends with, and the
    /// state a checkpoint holds (here the second, after 800 examples) resumed
    /// on the rest ends at the same bytes. (SafetyTests reads a checkpoint
    /// left by a failed run.)
    @Test func checkpointsAreResumableModels() throws {
        let scratch = try TemporaryDirectory()
        let rows = PipelineTests.sampleLog(rows: 1000).split(separator: "\n").map(String.init)
        let data = try scratch.write("d.svm", rows.joined(separator: "\n") + "\n")
        let run = try Tools.run(
            "ftrl-train",
            [
                "--bits", "12", "--batch-size", "8", "--checkpoint-every", "400",
                "--progress-every", "1000", "-m", scratch.path("m.ftrl"), data,
            ])
        #expect(run.status == 0)
        #expect(run.stderr.components(separatedBy: "checkpoint:").count - 1 == 2, "\(run.stderr)")
        // A run cut at the second checkpoint (800 examples) gives the same
        // model as one that stopped there.
        let cut = try scratch.write("800.svm", rows[0..<800].joined(separator: "\n") + "\n")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "12", "--batch-size", "8", "-m", scratch.path("800.ftrl"), cut]).status == 0)
        let rest = try scratch.write("rest.svm", rows[800...].joined(separator: "\n") + "\n")
        #expect(
            try Tools.run("ftrl-train", ["-q", "--resume", scratch.path("800.ftrl"), "-m", scratch.path("800.ftrl"), rest]).status == 0)
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: scratch.path("800.ftrl")))
                == Data(contentsOf: URL(fileURLWithPath: scratch.path("m.ftrl"))))
    }
}
