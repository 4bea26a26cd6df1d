import FTRLTestSupport
import Foundation
import Testing

/// `ftrl-predict --metrics-by COLUMN`: the metrics of each value of a
/// column, recomputed here from the printed probabilities and the rows.
struct MetricsByTests {
    @Test func eachGroupsMetricsAreThoseOfItsRows() throws {
        let dir = try TemporaryDirectory()
        let (text, rows) = TopFeaturesTests.log(rows: 4000)
        let data = try dir.write("d.csv", text)
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["--bits", "14", "--numeric", "n", "-q", "-m", model, data]).status == 0)
        let run = try Tools.run(
            "ftrl-predict", ["-m", model, "--metrics", "--metrics-by", "app", "--metrics-json", dir.path("m.json"), data])
        #expect(run.status == 0, "\(run.stderr)")
        let probabilities = run.stdout.split(separator: "\n").map { Double($0)! }
        #expect(probabilities.count == rows.count)
        // Per app: rows, clicks and logloss from the printed probabilities.
        var byApp: [String: (count: Int, clicks: Int, loss: Double)] = [:]
        for (r, p) in zip(rows, probabilities) {
            let click = r[0] == "1"
            let q = min(max(p, 1e-15), 1 - 1e-15)
            byApp[r[2], default: (0, 0, 0)].count += 1
            byApp[r[2], default: (0, 0, 0)].clicks += click ? 1 : 0
            byApp[r[2], default: (0, 0, 0)].loss += click ? -log(q) : -log(1 - q)
        }
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path("m.json")))) as? [String: Any])
        #expect(json["count"] as? Double == 4000, "the overall metrics stay")
        let by = try #require(json["by"] as? [String: Any])
        #expect(by["column"] as? String == "app")
        let groups = try #require(by["groups"] as? [[String: Any]])
        #expect(groups.count == byApp.count)
        var previous = Int.max
        for g in groups {
            let value = try #require(g["value"] as? String)
            let expected = try #require(byApp[value])
            let count = Int(try #require(g["count"] as? Double))
            #expect(count == expected.count && Int(g["positives"] as? Double ?? -1) == expected.clicks, "\(value)")
            #expect(abs((g["logloss"] as? Double ?? .nan) - expected.loss / Double(expected.count)) < 1e-6, "\(value)")
            #expect(count <= previous, "largest groups first")
            previous = count
            #expect((g["calibration_table"] as? [Any])?.isEmpty == false)
        }
        // On stderr: the overall line, then the largest groups (at most 20), then how many more.
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1 + 20 + 1, "\(run.stderr)")
        #expect(lines[1].hasPrefix("ftrl-predict: app=\(groups[0]["value"] as? String ?? "?"): logloss "))
        #expect(lines[21] == "ftrl-predict: ... and \(groups.count - 20) smaller groups of app")
    }

    @Test(arguments: [
        (["--metrics-by", "app"], "add --metrics"),
        (["--metrics", "--metrics-by", "nope"], "the model has no such column"),
    ])
    func refusals(_ flags: [String], _ message: String) throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.csv", TopFeaturesTests.log(rows: 200).text)
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["--bits", "12", "-q", "-m", model, data]).status == 0)
        let run = try Tools.run("ftrl-predict", ["-m", model] + flags + [data])
        #expect(run.status == 64 && run.stderr.contains(message), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test func libsvmHasNoColumnsToGroupBy() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", PipelineTests.sampleLog(rows: 100))
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["--bits", "12", "-q", "-m", model, data]).status == 0)
        let run = try Tools.run("ftrl-predict", ["-m", model, "--metrics", "--metrics-by", "3", data])
        #expect(run.status == 64 && run.stderr.contains("LibSVM rows have no columns"), "\(run.stderr)")
    }
}
