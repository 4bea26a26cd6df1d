import FTRLTestSupport
import Foundation
import Testing

/// The optimizer surface on the command line: schedules from flags equal
/// those from config files, config round trips, and refusals that name the
/// problem.
struct OptimizerFlagTests {
    static let golden = Tools.fixtures.appendingPathComponent("golden")

    /// `--print-config` output read back with `--config` prints the same bytes, for every golden config.
    @Test(arguments: GoldenReplayTests.cases)
    func printConfigRoundTripsByteForByte(_ name: String) throws {
        let scratch = try TemporaryDirectory()
        let config = Self.golden.appendingPathComponent("\(name)/config.json").path
        let first = try Tools.run("ftrl-train", ["--print-config", "--config", config])
        #expect(first.status == 0, "\(first.stderr)")
        let path = try scratch.write("c.json", first.stdout)
        let second = try Tools.run("ftrl-train", ["--print-config", "--config", path])
        #expect(second.stdout == first.stdout)
    }

    /// The same schedule given by flags and by a golden config trains the same model.
    @Test(arguments: [
        ("exp_decay", ["--schedule", "exponential-decay", "--learning-rate", "0.25", "--decay-steps", "5", "--decay-rate", "0.75"]),
        ("piecewise_constant", ["--schedule", "piecewise-constant-decay", "--boundaries", "5,12", "--values", "0.4,0.2,0.05"]),
        (
            "polynomial_decay_cycle",
            [
                "--schedule", "polynomial-decay", "--learning-rate", "0.4", "--decay-steps", "6",
                "--end-learning-rate", "0.03125", "--power", "2", "--cycle",
            ]
        ),
        (
            "cosine_decay_warmup",
            [
                "--schedule", "cosine-decay", "--learning-rate", "0.05", "--decay-steps", "12", "--alpha", "0.25",
                "--warmup-target", "0.4", "--warmup-steps", "5",
            ]
        ),
        (
            "cosine_decay_restarts",
            [
                "--schedule", "cosine-decay-restarts", "--learning-rate", "0.3", "--decay-steps", "4",
                "--t-mul", "2", "--m-mul", "0.5", "--alpha", "0.0625",
            ]
        ),
    ])
    func scheduleFlagsEqualConfig(_ name: String, _ flags: [String]) throws {
        let scratch = try TemporaryDirectory()
        let config = Self.golden.appendingPathComponent("\(name)/config.json").path
        let fromFile = try Tools.run("ftrl-train", ["--print-config", "--config", config])
        // The golden config with its schedule replaced by a constant rate...
        let constant = try Tools.run(
            "ftrl-train", ["--print-config", "--config", config, "--schedule", "constant", "--learning-rate", "0.3"])
        #expect(constant.status == 0)
        #expect(constant.stdout.contains("\"learning_rate\": 0.3,"), "\(constant.stdout)")
        // ...and the flags put the schedule back: flags that were ignored would leave the constant.
        let base = try scratch.write("constant.json", constant.stdout)
        let rebuilt = try Tools.run("ftrl-train", ["--print-config", "--config", base] + flags)
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(rebuilt.stdout == fromFile.stdout)
    }

    /// Schedule flags on --resume change the resumed model's schedule (and say so).
    @Test func scheduleFlagsOverAResumedSchedule() throws {
        let scratch = try TemporaryDirectory()
        let data = try scratch.write("d.svm", PipelineTests.sampleLog(rows: 100))
        let model = scratch.path("m.ftrl")
        let first = try Tools.run(
            "ftrl-train",
            ["-q", "--bits", "10", "--schedule", "exponential-decay", "--decay-steps", "50", "--decay-rate", "0.5", "-m", model, data])
        #expect(first.status == 0, "\(first.stderr)")
        let resumed = try Tools.run("ftrl-train", ["--resume", model, "--decay-rate", "0.9", "-m", model, data])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("learning_rate overridden"), "\(resumed.stderr)")
        let info = try Tools.run("ftrl-model", ["info", model]).stdout
        #expect(info.contains("\"decay_rate\": 0.9"), "\(info)")
        #expect(info.contains("\"decay_steps\": 50"), "\(info)")
        #expect(info.contains("\"class_name\": \"ExponentialDecay\""), "\(info)")
    }

    /// Lazy EMA over long gaps: a slot active at step 1 only, then idle for
    /// 1,000 and for 10,000 steps (past the 4,096 entries of the first table
    /// of m^k), has the average that stepping a = m a + (1 - m) w once per
    /// step gives.
    @Test(arguments: [1000, 10_000])
    func lazyAverageOverALongGap(_ gap: Int) throws {
        let scratch = try TemporaryDirectory()
        let flags = [
            "-q", "--bits", "4", "--hash", "identity", "--ema", "--ema-momentum", "0.999", "--dtype", "float64", "--l1", "0",
        ]
        let head = try scratch.write("head.svm", "1 1:1 2:1\n")
        let all = try scratch.write("all.svm", "1 1:1 2:1\n" + String(repeating: "0 2:1\n", count: gap))
        #expect(try Tools.run("ftrl-train", flags + ["-m", scratch.path("one.ftrl"), head]).status == 0)
        #expect(try Tools.run("ftrl-train", flags + ["-m", scratch.path("all.ftrl"), all]).status == 0)
        let start = tsvRows(try Tools.run("ftrl-model", ["state", scratch.path("one.ftrl")]).stdout).first { $0[0] == "1" }
        let end = tsvRows(try Tools.run("ftrl-model", ["state", scratch.path("all.ftrl")]).stdout).first { $0[0] == "1" }
        let w = try #require(start.flatMap { Double($0[1]) })
        var a = try #require(start.flatMap { Double($0[4]) })
        #expect(w != 0 && a != w)
        for _ in 0..<gap { a = 0.999 * a + (1 - 0.999) * w }
        let got = try #require(end.flatMap { Double($0[4]) })
        #expect(end.flatMap { Double($0[1]) } == w, "an idle slot keeps its weight")
        #expect(abs(got - a) <= 1e-12 * abs(w), "\(got) vs \(a)")
    }

    @Test func rateThatReachesZeroNamesTheStep() throws {
        let scratch = try TemporaryDirectory()
        let data = try scratch.write("d.svm", PipelineTests.sampleLog(rows: 50))
        let run = try Tools.run(
            "ftrl-train",
            [
                "--schedule", "polynomial-decay", "--learning-rate", "0.5", "--decay-steps", "10",
                "--end-learning-rate", "0", "--bits", "10", "-m", scratch.path("m.ftrl"), data,
            ])
        #expect(run.status == 64)
        #expect(run.stderr.contains("at step 10"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("m.ftrl")))
    }

    @Test(arguments: [
        (["--clipnorm", "1", "--global-clipnorm", "1"], "clipnorm and global_clipnorm"),
        (["--clipvalue", "0"], "clipvalue"),
        (["--ema-momentum", "1.5"], "ema_momentum"),
        (["--ema-overwrite-frequency", "0"], "ema_overwrite_frequency"),
        (["--schedule", "exponential-decay"], "decay_steps"),
        (["--schedule", "cosine-decay", "--decay-steps", "5", "--staircase"], "--staircase"),
        (["--decay-rate", "0.5"], "--schedule"),
        (["--schedule", "warp-speed"], "warp-speed"),
        (["--schedule", "piecewise-constant-decay", "--boundaries", "5", "--values", "1,2,3"], "one more value"),
    ])
    func refusedSettings(_ flags: [String], _ name: String) throws {
        let run = try Tools.run("ftrl-train", flags + ["--print-config"])
        #expect(run.status == 64, "\(flags)")
        #expect(run.stderr.contains(name), "\(run.stderr)")
    }

    @Test func resumeRefusesEMAChanges() throws {
        let scratch = try TemporaryDirectory()
        let data = try scratch.write("d.svm", PipelineTests.sampleLog(rows: 100))
        let model = scratch.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "10", "--ema", "-m", model, data]).status == 0)
        for flags in [["--no-ema"], ["--ema-momentum", "0.5"], ["--ema-overwrite-frequency", "3"]] {
            let run = try Tools.run("ftrl-train", ["--resume", model, "-m", model] + flags + [data])
            #expect(run.status == 64, "\(flags)")
        }
        let info = try Tools.run("ftrl-model", ["info", model])
        #expect(info.stdout.contains("\"use_ema\": true"))
        #expect(info.stdout.contains("\"iterations\": 100"))
    }

    /// EMA: the exported weights are the averages; scoring uses them.
    @Test func emaExportsAverages() throws {
        let scratch = try TemporaryDirectory()
        let data = try scratch.write("d.svm", PipelineTests.sampleLog(rows: 400))
        let model = scratch.path("m.ftrl")
        #expect(
            try Tools.run(
                "ftrl-train",
                ["-q", "--bits", "11", "--hash", "identity", "--ema", "--ema-momentum", "0.9", "--dtype", "float64", "-m", model, data]
            ).status == 0)
        let state = tsvRows(try Tools.run("ftrl-model", ["state", model]).stdout)
        let weights = tsvRows(try Tools.run("ftrl-model", ["weights", model]).stdout)
        var average: [String: Double] = [:]
        for row in state { average[row[0]] = Double(row[4]) }
        for row in weights {
            #expect(Double(row[1]) != nil && Double(row[1]) == average[row[0]], "slot \(row[0])")
        }
        // Scoring uses the averages: p = sigmoid(bias average + average of slot 3
        // + average of slot 60) for a one-row input (identity hashing: slot = index).
        let one = try scratch.write("one.svm", "1 3:1 60:1\n")
        let p = try #require(
            Double(try Tools.run("ftrl-predict", ["-m", model, one]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let bias = try #require(average["bias"])
        let a3 = try #require(average["3"])
        let a60 = try #require(average["60"])
        #expect(a3 != 0 && a60 != 0)
        let expected = 1 / (1 + exp(-(bias + a3 + a60)))
        #expect(abs(p - expected) <= 1e-12 * expected, "\(p) vs \(expected)")
    }
}
