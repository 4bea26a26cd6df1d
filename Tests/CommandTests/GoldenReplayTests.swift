import FTRLTestSupport
import Foundation
import Testing

/// Replays TensorFlow's golden vectors through the command-line tools, as a
/// user would: train with the case's config and identity hashing, then
/// compare `ftrl-model state`, `ftrl-model weights`, `ftrl-predict` and the
/// step count with the expected files.
struct GoldenReplayTests {
    static let golden = Tools.fixtures.appendingPathComponent("golden")

    /// Every case folder of the fixtures.
    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: golden.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: golden.appendingPathComponent("\($0)/config.json").path) }.sorted()
    }()

    @Test func allCasesPresent() {
        #expect(Self.cases.count == 37)
    }

    /// The sparse table's model file is the dense table's, byte for byte.
    @Test(arguments: cases)
    func sparseWritesTheDenseBytes(_ name: String) throws {
        let dir = Self.golden.appendingPathComponent(name)
        let scratch = try TemporaryDirectory()
        var files: [Data] = []
        for table in ["dense", "sparse"] {
            let model = scratch.path("\(table).ftrl")
            let train = try Self.train(dir, table: table, model: model)
            #expect(train.status == 0, "\(train.stderr)")
            files.append(try Data(contentsOf: URL(fileURLWithPath: model)))
        }
        #expect(files[0] == files[1] && !files[0].isEmpty)
    }

    /// `ftrl-train` on the case in `dir` with its config, identity hashing and `table`.
    static func train(_ dir: URL, table: String, model: String) throws -> ToolRun {
        var args = ["--config", dir.appendingPathComponent("config.json").path, "--hash", "identity", "--table", table, "-m", model]
        let weights = dir.appendingPathComponent("train.weights")
        if FileManager.default.fileExists(atPath: weights.path) { args += ["--example-weights", weights.path] }
        args.append(dir.appendingPathComponent("train.libsvm").path)
        return try Tools.run("ftrl-train", args)
    }

    struct Tolerance {
        var abs: Double
        var rel: Double
        func check(_ actual: Double, _ expected: Double) -> Bool {
            Swift.abs(actual - expected) <= abs + rel * Swift.abs(expected)
        }
    }

    /// Every case with each weight table (`--table dense|sparse`).
    @Test(arguments: cases, ["dense", "sparse"])
    func replay(_ name: String, _ table: String) throws {
        let dir = Self.golden.appendingPathComponent(name)
        let configText = try String(contentsOf: dir.appendingPathComponent("config.json"), encoding: .utf8)
        let float32 = configText.contains("\"float32\"")
        let tol = float32 ? Tolerance(abs: 1e-6, rel: 1e-4) : Tolerance(abs: 1e-12, rel: 1e-9)
        let scratch = try TemporaryDirectory()
        let model = scratch.path("model.ftrl")
        let train = try Self.train(dir, table: table, model: model)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.isEmpty)

        // State: the same slots, and w, n, z within tolerance.
        let state = try Tools.run("ftrl-model", ["state", model])
        #expect(state.status == 0)
        let actualState = tsvRows(state.stdout)
        let expectedState = tsvRows(try String(contentsOf: dir.appendingPathComponent("expected_state.tsv"), encoding: .utf8))
        #expect(actualState.map { $0[0] } == expectedState.map { $0[0] }, "active slots differ")
        for (a, e) in zip(actualState, expectedState) where a[0] == e[0] {
            for k in 1...3 {
                #expect(tol.check(Double(a[k])!, Double(e[k])!), "slot \(a[0]) column \(k): \(a[k]) vs \(e[k])")
            }
            // The moving average, or empty without EMA.
            if e[4].isEmpty {
                #expect(a[4].isEmpty)
            } else {
                #expect(tol.check(Double(a[4]) ?? .nan, Double(e[4])!), "slot \(a[0]) ema: \(a[4]) vs \(e[4])")
            }
        }

        // Exported weights.
        let weightsRun = try Tools.run("ftrl-model", ["weights", model])
        let actualWeights = tsvRows(weightsRun.stdout)
        let expectedWeights = tsvRows(try String(contentsOf: dir.appendingPathComponent("expected_final_weights.tsv"), encoding: .utf8))
        #expect(actualWeights.map { $0[0] } == expectedWeights.map { $0[0] }, "nonzero slots differ")
        for (a, e) in zip(actualWeights, expectedWeights) where a[0] == e[0] {
            #expect(tol.check(Double(a[1])!, Double(e[1])!), "weight of slot \(a[0]): \(a[1]) vs \(e[1])")
        }

        // Predictions, printed so they read back exactly.
        let predict = try Tools.run("ftrl-predict", ["-m", model, dir.appendingPathComponent("test.libsvm").path])
        #expect(predict.status == 0)
        #expect(predict.stderr.isEmpty)
        let actual = predict.stdout.split(separator: "\n").map { Double($0)! }
        let expected = try String(contentsOf: dir.appendingPathComponent("expected_predictions.txt"), encoding: .utf8)
            .split(separator: "\n").map { Double($0)! }
        #expect(actual.count == expected.count)
        for (a, e) in zip(actual, expected) {
            #expect(tol.check(a, e), "prediction \(a) vs \(e)")
        }

        // Steps.
        let info = try Tools.run("ftrl-model", ["info", model])
        let json = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as! [String: Any]
        let iterations = try String(contentsOf: dir.appendingPathComponent("expected_iterations.txt"), encoding: .utf8)
        #expect((json["iterations"] as! NSNumber).intValue == Int(iterations.trimmingCharacters(in: .whitespacesAndNewlines))!)
    }
}
