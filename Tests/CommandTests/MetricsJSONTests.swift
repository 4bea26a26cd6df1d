import FTRLTestSupport
import Foundation
import Testing

/// `ftrl-predict --metrics-json`: every number recomputed here from the
/// probabilities the tool printed and the labels of the rows.
struct MetricsJSONTests {
    @Test func theMetricsAreThoseOfThePrintedProbabilities() throws {
        let dir = try TemporaryDirectory()
        let train = try dir.write("t.svm", PipelineTests.sampleLog(rows: 3000))
        let text = PipelineTests.sampleLog(rows: 1000, seed: 5)
        let test = try dir.write("v.svm", text)
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "12", "-m", model, train]).status == 0)
        let run = try Tools.run("ftrl-predict", ["-m", model, "--metrics-json", dir.path("m.json"), test])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty, "--metrics-json alone prints nothing: \(run.stderr)")
        // float32 probabilities in their shortest form: read back as the Float the tool held.
        let p = run.stdout.split(separator: "\n").compactMap { Float($0).map(Double.init) }
        let y = text.split(separator: "\n").map { $0.hasPrefix("1") }
        #expect(p.count == 1000 && y.count == 1000)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path("m.json")))) as? [String: Any])

        let n = Double(p.count)
        let positives = y.filter { $0 }.count
        var loss = 0.0
        for (q, label) in zip(p, y) {
            let c = min(max(q, 1e-15), 1 - 1e-15)
            loss -= label ? log(c) : log(1 - c)
        }
        loss /= n
        // AUC: the share of (click, non-click) pairs ranked right, ties counting one half.
        var right = 0.0
        for (a, la) in zip(p, y) where la {
            for (b, lb) in zip(p, y) where !lb { right += a > b ? 1 : (a == b ? 0.5 : 0) }
        }
        let auc = right / Double(positives * (p.count - positives))
        let rate = Double(positives) / n
        let entropy = -(rate * log(rate) + (1 - rate) * log(1 - rate))
        #expect(json["count"] as? Double == n)
        #expect(json["positives"] as? Double == Double(positives))
        #expect(abs((json["logloss"] as? Double ?? .nan) - loss) < 1e-9)
        #expect(abs((json["auc"] as? Double ?? .nan) - auc) < 1e-9)
        #expect(abs((json["normalized_entropy"] as? Double ?? .nan) - loss / entropy) < 1e-9)
        #expect(abs((json["calibration"] as? Double ?? .nan) - p.reduce(0, +) / Double(positives)) < 1e-9)

        // 20 buckets of 50, by prediction (non-clicks first among ties).
        let sorted = zip(p, y).sorted { $0.0 < $1.0 || ($0.0 == $1.0 && !$0.1 && $1.1) }
        let table = try #require(json["calibration_table"] as? [[String: Double]])
        #expect(table.count == 20)
        for (b, bucket) in table.enumerated() {
            let part = sorted[(b * 50)..<((b + 1) * 50)]
            #expect(bucket["count"] == 50)
            #expect(abs(bucket["mean_prediction"]! - part.map(\.0).reduce(0, +) / 50) < 1e-12)
            #expect(bucket["observed_rate"] == Double(part.filter(\.1).count) / 50)
        }
        #expect(table.map { $0["mean_prediction"]! } == table.map { $0["mean_prediction"]! }.sorted())
    }

    /// `ftrl-train --metrics-json`: progressive validation replayed by hand.
    /// With batches of one, example e is scored by the model of the first e
    /// rows: train on them, score row e, for every e.
    @Test func trainingWritesTheMetricsOfItsPredictionsBeforeLearning() throws {
        let dir = try TemporaryDirectory()
        let rows = PipelineTests.sampleLog(rows: 80, seed: 9).split(separator: "\n").map(String.init)
        let data = try dir.write("all.svm", rows.joined(separator: "\n") + "\n")
        let flags = ["-q", "--bits", "12", "--learning-rate", "0.5"]
        let run = try Tools.run(
            "ftrl-train", flags + ["--epochs", "2", "--metrics-json", dir.path("m.json"), "-m", dir.path("m.ftrl"), data])
        #expect(run.status == 0, "\(run.stderr)")
        var p: [Double] = [0.5]  // the empty model's score
        for e in 1..<rows.count {
            let head = try dir.write("head.svm", rows[..<e].joined(separator: "\n") + "\n")
            let row = try dir.write("row.svm", rows[e] + "\n")
            #expect(try Tools.run("ftrl-train", flags + ["-m", dir.path("h.ftrl"), head]).status == 0)
            let scored = try Tools.run("ftrl-predict", ["-m", dir.path("h.ftrl"), row])
            p.append(try #require(Float(scored.stdout.trimmingCharacters(in: .whitespacesAndNewlines)).map(Double.init)))
        }
        let y = rows.map { $0.hasPrefix("1") }
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path("m.json")))) as? [String: Any])
        // The first pass only, though the run took two.
        #expect(json["count"] as? Double == 80)
        var loss = 0.0
        for (q, label) in zip(p, y) { loss -= label ? log(q) : log(1 - q) }
        #expect(abs((json["logloss"] as? Double ?? .nan) - loss / 80) < 1e-12)
        var right = 0.0
        for (a, la) in zip(p, y) where la {
            for (b, lb) in zip(p, y) where !lb { right += a > b ? 1 : (a == b ? 0.5 : 0) }
        }
        let positives = y.filter { $0 }.count
        #expect(abs((json["auc"] as? Double ?? .nan) - right / Double(positives * (80 - positives))) < 1e-12)
        let sorted = zip(p, y).sorted { $0.0 < $1.0 || ($0.0 == $1.0 && !$0.1 && $1.1) }
        let table = try #require(json["calibration_table"] as? [[String: Double]])
        #expect(table.count == 20)
        for (b, bucket) in table.enumerated() {
            let part = sorted[(b * 4)..<((b + 1) * 4)]
            #expect(abs(bucket["mean_prediction"]! - part.map(\.0).reduce(0, +) / 4) < 1e-12)
            #expect(bucket["observed_rate"] == Double(part.filter(\.1).count) / 4)
        }
    }

    @Test func itIsRefusedWhereItWouldDestroyAnInputOrGoToStandardOutput() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("t.svm", PipelineTests.sampleLog(rows: 500))
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "12", "-m", model, data]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: data))
        let over = try Tools.run("ftrl-predict", ["-m", model, "--metrics-json", data, data])
        #expect(over.status == 64, "\(over.stderr)")
        #expect(over.stderr.contains("would destroy it"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: data)) == before)
        let stdout = try Tools.run("ftrl-predict", ["-m", model, "--metrics-json", "-", data])
        #expect(stdout.status == 64 && stdout.stderr.contains("needs a file"), "\(stdout.stderr)")
    }
}
