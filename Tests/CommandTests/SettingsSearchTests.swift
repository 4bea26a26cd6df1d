import FTRLTestSupport
import Foundation
import Testing

/// `ftrl-train` with lists of optimizer values: every setting's model is
/// the one a run with that setting alone writes (byte for byte), the ranking
/// is by the logloss those runs report, validation keeps each setting's best
/// epoch (the model `--epochs k` writes), and a search that cannot fit its
/// tables is refused before reading data.
struct SettingsSearchTests {
    static let log = PipelineTests.sampleLog(rows: 3000)
    static let holdout = PipelineTests.sampleLog(rows: 1000, seed: 11)

    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
    }

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test(arguments: [[String](), ["--ema", "--dtype", "float64", "--batch-size", "8"], ["--epochs", "2"]])
    func everySettingsModelIsTheModelOfItsOwnRun(_ extra: [String]) throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.log)
        let common = ["--bits", "12"] + extra
        let run = try Tools.run(
            "ftrl-train",
            common + [
                "--learning-rate", "0.05,0.2,0.8", "--l1", "0,1", "-m", dir.path("chosen.ftrl"), "--models-dir", dir.path("all"),
                "--search-json", dir.path("s.json"), data,
            ])
        #expect(run.status == 0, "\(run.stderr)")
        var alone: [String: Double] = [:]
        for lr in ["0.05", "0.2", "0.8"] {
            for l1 in ["0", "1"] {
                let one = dir.path("one-\(lr)-\(l1).ftrl")
                let single = try Tools.run("ftrl-train", common + ["--learning-rate", lr, "--l1", l1, "-m", one, data])
                #expect(single.status == 0, "\(single.stderr)")
                #expect(try Self.bytes(one) == Self.bytes(dir.path("all/learning-rate-\(lr)_l1-\(l1).ftrl")), "lr \(lr) l1 \(l1)")
                alone["\(lr)/\(l1)"] = metric("progressive logloss", in: single.stderr)
            }
        }
        // The progressive logloss each run reports; ranked by that of the
        // pass's second half, which a run resumed at its start reports.
        let report = try Self.json(dir.path("s.json"))
        #expect(report["ranked_by"] as? String == "second_half_logloss")
        let settings = try #require(report["settings"] as? [[String: Any]])
        #expect(settings.count == 6)
        let lines = Self.log.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        var previous = -Double.infinity
        for s in settings {
            let setting = try #require(s["setting"] as? [String: Double])
            let (lr, l1) = (Self.typed(setting["learning_rate"]!), Self.typed(setting["l1_regularization_strength"]!))
            let loss = try #require(s["progressive_logloss"] as? Double)
            #expect(abs(loss - alone["\(lr)/\(l1)"]!) < 5e-6, "\(lr)/\(l1)")
            let later = try #require(s["second_half_logloss"] as? Double)
            let rest = try #require(s["second_half_examples"] as? Double)
            #expect(later >= previous)
            previous = later
            guard extra.isEmpty else { continue }  // batches of 8 and epochs: the halves are checked on the plain runs
            let cut = lines.count - Int(rest)
            #expect(cut > 0 && cut <= lines.count / 2)
            let head = try dir.write("head-\(lr)-\(l1).svm", lines[..<cut].joined(separator: "\n") + "\n")
            let tail = try dir.write("tail-\(lr)-\(l1).svm", lines[cut...].joined(separator: "\n") + "\n")
            let first = dir.path("head-\(lr)-\(l1).ftrl")
            let flags = common + ["--learning-rate", lr, "--l1", l1]
            #expect(try Tools.run("ftrl-train", flags + ["-q", "-m", first, head]).status == 0)
            let resumed = try Tools.run("ftrl-train", flags + ["--resume", first, tail])
            #expect(abs((metric("progressive logloss", in: resumed.stderr) ?? .nan) - later) < 5e-6, "\(resumed.stderr)")
        }
        let best = try #require(settings.first?["model"] as? String)
        #expect(try Self.bytes(dir.path("chosen.ftrl")) == Self.bytes(best))
        // The table on stderr, best first, names the chosen one.
        #expect(run.stderr.contains("6 settings ranked by progressive logloss over the second half"))
        #expect(run.stderr.contains("<- chosen, -m \(dir.path("chosen.ftrl"))"))
    }

    /// The flag of each optimizer key of `--search-json`'s settings.
    static let flags = [
        "learning_rate": "--learning-rate", "learning_rate_power": "--learning-rate-power",
        "initial_accumulator_value": "--initial-accumulator-value", "l1_regularization_strength": "--l1",
        "l2_regularization_strength": "--l2", "l2_shrinkage_regularization_strength": "--l2-shrinkage", "beta": "--beta",
    ]

    /// A worker trains up to four of its settings as the lanes of one vector
    /// update: each lane's model is still its own run's, byte for byte, with
    /// what may differ per lane (power, shrinkage, beta, initial accumulator),
    /// in float64 with batches (duplicate slots summed per step), with
    /// importance weights, and with a worker's settings split into lanes of
    /// four and one (ten settings on two workers).
    @Test(arguments: [
        ["--learning-rate", "0.05,0.4", "--learning-rate-power", "-0.5,-0.3", "--l2-shrinkage", "0,0.3"],
        [
            "--learning-rate", "0.05,0.1,0.2,0.4,0.8", "--beta", "0,1", "--initial-accumulator-value", "0.5", "--dtype", "float64",
            "--batch-size", "8", "--weights",
        ],
    ])
    func settingsTrainedAsLanesMatchTheirOwnRuns(_ flags: [String]) throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.log)
        var common = ["--bits", "10"]
        var search = flags
        if search.last == "--weights" {
            search.removeLast()
            let rows = Self.log.split(separator: "\n").count
            let weights = try dir.write("w.txt", (0..<rows).map { String(Double($0 % 7) / 3) }.joined(separator: "\n") + "\n")
            common += ["--example-weights", weights]
        }
        let run = try Tools.run(
            "ftrl-train", common + search + ["-q", "--models-dir", dir.path("all"), "--search-json", dir.path("s.json"), data])
        #expect(run.status == 0, "\(run.stderr)")
        let settings = try #require(try Self.json(dir.path("s.json"))["settings"] as? [[String: Any]])
        let expected = search.enumerated().filter { $0.element.contains(",") }.map { $0.element.split(separator: ",").count }
        #expect(settings.count == expected.reduce(1, *))
        let fixed = stride(from: 0, to: search.count, by: 2).filter { !search[$0 + 1].contains(",") }.flatMap { search[$0...$0 + 1] }
        for s in settings {
            let setting = try #require(s["setting"] as? [String: Double])
            var own = common + fixed
            for (key, value) in setting.sorted(by: { $0.key < $1.key }) {
                let flag = try #require(Self.flags[key], "\(key)")
                if search.contains(flag) && search[search.firstIndex(of: flag)! + 1].contains(",") { own += [flag, Self.typed(value)] }
            }
            let alone = dir.path("alone.ftrl")
            let single = try Tools.run("ftrl-train", own + ["-q", "-m", alone, data])
            #expect(single.status == 0, "\(single.stderr)")
            let model = try #require(s["model"] as? String)
            #expect(try Self.bytes(alone) == Self.bytes(model), "\(own)")
        }
    }

    /// On a9a the whole pass and its second half rank 0.1 and 0.4 apart:
    /// the ranking (and so the choice) follows the second half.
    @Test func theRankingFollowsTheSecondHalfOfThePass() throws {
        let dir = try TemporaryDirectory()
        let data = Tools.root.appendingPathComponent("data-samples/a9a-train.libsvm.gz").path
        let run = try Tools.run(
            "ftrl-train", ["-q", "--bits", "14", "--learning-rate", "0.05,0.1,0.2,0.4,0.8", "--search-json", dir.path("s.json"), data])
        #expect(run.status == 0, "\(run.stderr)")
        let settings = try #require(try Self.json(dir.path("s.json"))["settings"] as? [[String: Any]])
        let later = settings.compactMap { $0["second_half_logloss"] as? Double }
        let whole = settings.compactMap { $0["progressive_logloss"] as? Double }
        #expect(later.count == 5 && later == later.sorted())
        #expect(whole != whole.sorted(), "the two halves agree on this data: the test would not tell them apart")
    }

    /// Values as the flag takes them: 0.2, 1.
    static func typed(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : "\(x)" }

    /// On a9a (real rows, so later epochs overfit), learning rate 0.1
    /// stops improving on the held-out rows after its second epoch.
    @Test func validationKeepsEachSettingsBestEpochAndStopsEarly() throws {
        let dir = try TemporaryDirectory()
        let data = Tools.root.appendingPathComponent("data-samples/a9a-train.libsvm.gz").path
        let valid = Tools.root.appendingPathComponent("data-samples/a9a-test.libsvm.gz").path
        let common = ["--bits", "14", "--l1", "0"]
        let run = try Tools.run(
            "ftrl-train",
            common + [
                "--learning-rate", "0.1,1", "--epochs", "8", "--patience", "1", "--validation", valid, "-m", dir.path("chosen.ftrl"),
                "--models-dir", dir.path("all"), "--search-json", dir.path("s.json"), data,
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try Self.json(dir.path("s.json"))
        #expect(report["ranked_by"] as? String == "validation_logloss")
        let settings = try #require(report["settings"] as? [[String: Any]])
        var stopped = false
        for s in settings {
            let rate = try #require((s["setting"] as? [String: Double])?["learning_rate"])
            let epoch = try #require(s["best_epoch"] as? Double)
            let trained = try #require(s["epochs_trained"] as? Double)
            let model = try #require(s["model"] as? String)
            if trained < 8 { stopped = true }
            #expect(trained == min(8, epoch + 1), "patience 1: one epoch without progress stops it")
            // The kept model is what --epochs <best epoch> writes ...
            let alone = dir.path("alone-\(rate).ftrl")
            let single = try Tools.run(
                "ftrl-train", common + ["--learning-rate", Self.typed(rate), "--epochs", String(Int(epoch)), "-q", "-m", alone, data])
            #expect(single.status == 0, "\(single.stderr)")
            #expect(try Self.bytes(alone) == Self.bytes(model), "learning rate \(rate), epoch \(epoch)")
            // ... and its validation logloss is what ftrl-predict measures on it.
            let scored = try Tools.run("ftrl-predict", ["-m", model, "--metrics", valid])
            let measured = try #require(metric("logloss", in: scored.stderr))
            #expect(abs(measured - (s["validation_logloss"] as? Double ?? .nan)) < 5e-6)
        }
        // A learning rate of 0.1 on a9a stops improving before 8 epochs.
        #expect(stopped, "\(run.stderr)")
        let first = try #require(settings.first?["model"] as? String)
        #expect(try Self.bytes(dir.path("chosen.ftrl")) == Self.bytes(first))
    }

    @Test func autoSearchesTheDocumentedLearningRates() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.log)
        let run = try Tools.run(
            "ftrl-train",
            ["--bits", "12", "--learning-rate", "auto", "-q", "-m", dir.path("m.ftrl"), "--search-json", dir.path("s.json"), data])
        #expect(run.status == 0, "\(run.stderr)")
        let settings = try #require(try Self.json(dir.path("s.json"))["settings"] as? [[String: Any]])
        let rates = Set(settings.compactMap { ($0["setting"] as? [String: Double])?["learning_rate"] })
        let help = try Tools.run("ftrl-train", ["--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
        let documented = try #require(help.range(of: #"auto searches ([0-9.,]+)\."#, options: .regularExpression))
        let listed = help[documented].dropFirst("auto searches ".count).dropLast().split(separator: ",").compactMap { Double($0) }
        #expect(rates == Set(listed) && rates.count >= 6, "\(help[documented])")
        #expect(run.stderr.isEmpty, "-q: \(run.stderr)")
    }

    @Test func aSettingThatDivergesDropsOutAndTheOthersGoOn() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.log)
        // Without l2, a learning rate of 3e38 overflows float32 within a few
        // steps; it shares a worker's vector update with 0.1.
        let run = try Tools.run(
            "ftrl-train",
            [
                "--bits", "12", "--l2", "0", "--learning-rate", "0.1,3e38,0.2,0.4", "-m", dir.path("m.ftrl"), "--models-dir",
                dir.path("all"), "--search-json", dir.path("s.json"), data,
            ])
        #expect(run.status == 0, "one setting failing leaves the others: \(run.stderr)")
        let settings = try #require(try Self.json(dir.path("s.json"))["settings"] as? [[String: Any]], "\(run.stderr)")
        let failed = settings.filter { $0["failure"] is String }
        #expect(failed.count == 1)
        #expect((failed.first?["failure"] as? String)?.contains("diverged") == true)
        #expect(run.stderr.contains("failed: training diverged"))
        #expect(((settings.last?["setting"] as? [String: Double])?["learning_rate"]) == 3e38, "ranked last")
        #expect(try Self.bytes(dir.path("m.ftrl")) == Self.bytes(#require(settings[0]["model"] as? String)))
        // Every other setting is its own run's, the one that diverged beside them none.
        let alone = dir.path("alone.ftrl")
        for rate in ["0.1", "0.2", "0.4"] {
            #expect(
                try Tools.run("ftrl-train", ["--bits", "12", "--l2", "0", "--learning-rate", rate, "-q", "-m", alone, data]).status == 0)
            #expect(try Self.bytes(alone) == Self.bytes(dir.path("all/learning-rate-\(rate).ftrl")), "\(rate)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path("all/learning-rate-3e38.ftrl")))
        // It failed at the step, and after the examples, that its own run reports.
        let diverging = try Tools.run("ftrl-train", ["--bits", "12", "--l2", "0", "--learning-rate", "3e38", "-q", "-m", alone, data])
        #expect(diverging.status != 0)
        let reason = try #require(failed.first?["failure"] as? String)
        #expect(diverging.stderr.contains(reason), "\(diverging.stderr) / \(reason)")
    }

    @Test(arguments: [
        (["--learning-rate", "0.1,0.1"], "lists a value twice"),
        (["--learning-rate", "0.1,0.2", "--checkpoint-every", "100"], "--checkpoint-every cannot be combined"),
        (["--l1", "auto"], "auto is a grid of learning rates"),
        (["--learning-rate", "0.1,-1"], "learning_rate"),
        (["--learning-rate", "0.1,0.2", "--validation", "/nonexistent/v.svm"], "/nonexistent/v.svm"),
    ])
    func badSearchesAreRefusedBeforeTraining(_ flags: [String], _ named: String) throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.log)
        let model = dir.path("m.ftrl")
        let run = try Tools.run("ftrl-train", ["--bits", "12", "-m", model, "--models-dir", dir.path("all")] + flags + [data])
        #expect(run.status == 64 || run.status == 66, "\(run.stderr)")
        #expect(run.stderr.contains(named), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: model))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir.path("all"))) ?? []).isEmpty)
    }

    @Test func printConfigShowsEverySetting() throws {
        let run = try Tools.run("ftrl-train", ["--learning-rate", "0.1,0.4", "--l2", "0,2", "--print-config"])
        #expect(run.status == 0, "\(run.stderr)")
        let configs = run.stdout.split(separator: "\n{").count
        #expect(configs == 4, "\(run.stdout)")
    }

    /// Auto's six settings at 2^26 slots need 6 GiB of dense tables: in a 3 GiB
    /// cgroup they are refused before any input is read, with a --bits that fits.
    @Test func aSearchWhoseTablesDoNotFitIsRefusedUpFront() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.log)
        let group = try MemoryCgroup(limit: 3 << 30)
        let train = Tools.binDirectory.appendingPathComponent("ftrl-train").path
        let run = try group.run("'\(train)' -q --bits 26 --table dense --learning-rate auto -m '\(dir.path("m.ftrl"))' '\(data)'")
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("6 settings need 6 tables of 2^26 slots, 6144 MiB"), "\(run.stderr)")
        #expect(run.stderr.contains("lower --bits to 24 or less"), "\(run.stderr)")
        let fits = try group.run("'\(train)' -q --bits 24 --learning-rate auto -m '\(dir.path("m.ftrl"))' '\(data)'")
        #expect(fits.status == 0, "\(fits.stderr)")
    }
}
