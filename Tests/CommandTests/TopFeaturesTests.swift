import FTRLTestSupport
import Foundation
import Testing

/// `ftrl-model top`: the weighted slots named by replaying logs, each with
/// its slot's weight, the rows of its name, and the names it shares the
/// slot with.
struct TopFeaturesTests {
    /// A CSV log: click, site (40 values), app (25 values), n (a count).
    static func log(rows: Int) -> (text: String, rows: [[String]]) {
        var random = TestRandom(seed: 5)
        var table: [[String]] = []
        for _ in 0..<rows {
            let site = "s\(random.next() % 40)"
            let app = "a\(random.next() % 25)"
            let n = "\(random.next() % 4)"
            let click = (site.hasSuffix("7") || app == "a3") && random.next() % 3 != 0 ? "1" : "0"
            table.append([click, site, app, n])
        }
        return ("click,site,app,n\n" + table.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n", table)
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// `ftrl-model weights` as slot -> weight.
    static func weights(_ model: String) throws -> [Double: Double] {
        let run = try Tools.run("ftrl-model", ["weights", model])
        var out: [Double: Double] = [:]
        for line in run.stdout.split(separator: "\n").dropFirst() where !line.hasPrefix("bias") {
            let cells = line.split(separator: "\t")
            out[Double(cells[0])!] = Double(cells[1])!
        }
        return out
    }

    @Test func csvFeaturesAreNamedWithTheirSlotsWeightsAndRows() throws {
        let dir = try TemporaryDirectory()
        let (text, rows) = Self.log(rows: 3000)
        let data = try dir.write("d.csv", text)
        let model = dir.path("m.ftrl")
        // 2^8 slots for about 1,100 names: collisions are sure.
        let train = try Tools.run(
            "ftrl-train", ["--bits", "8", "--numeric", "n", "--interactions", "site:app", "--l1", "0.5", "-q", "-m", model, data])
        #expect(train.status == 0, "\(train.stderr)")
        let run = try Tools.run("ftrl-model", ["top", model, data, "-n", "1000", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let top = try Self.json(run.stdout)
        #expect(top["rows"] as? Double == 3000)
        let features = try #require(top["features"] as? [[String: Any]])
        let weights = try Self.weights(model)
        #expect(features.count == weights.count, "every slot with a nonzero weight")
        // Occurrences of every name, counted here from the rows.
        var occurrences: [String: Int] = [:]
        for r in rows {
            occurrences["site=\(r[1])", default: 0] += 1
            occurrences["app=\(r[2])", default: 0] += 1
            if r[3] != "0" { occurrences["n", default: 0] += 1 }
            occurrences["site=\(r[1])^app=\(r[2])", default: 0] += 1
        }
        var previous = Double.infinity
        var collided = 0
        var seen: Set<String> = []
        for f in features {
            let slot = try #require(f["slot"] as? Double)
            let weight = try #require(f["weight"] as? Double)
            // The same number (JSON text and TSV text both read back, within their last digit).
            #expect(abs((weights[slot] ?? .nan) - weight) < 1e-12, "slot \(slot)")
            #expect(abs(weight) <= previous, "largest absolute weight first")
            previous = abs(weight)
            let name = try #require(f["name"] as? String)
            #expect(f["count"] as? Double == Double(occurrences[name] ?? -1), "\(name)")
            let collisions = try #require(f["collisions"] as? [[String: Any]])
            if !collisions.isEmpty { collided += 1 }
            for c in collisions {
                let other = try #require(c["name"] as? String)
                #expect(c["count"] as? Double == Double(occurrences[other] ?? -1), "\(other)")
                #expect((c["count"] as? Double ?? 0) <= (f["count"] as? Double ?? 0), "the name of most rows leads")
            }
            // A name hashes to one slot.
            for n in [name] + collisions.compactMap({ $0["name"] as? String }) { #expect(seen.insert(n).inserted, "\(n) twice") }
        }
        #expect(collided > 10, "names sharing slots are listed")
        // The table for a terminal.
        let table = try Tools.run("ftrl-model", ["top", model, data, "-n", "5"])
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.count == 7 && lines[0].hasPrefix("rank") && lines[6].hasPrefix("bias "), "\(table.stdout)")
        #expect(lines[1].contains(try #require(features.first?["name"] as? String)))
    }

    @Test func libsvmFeaturesAreNamedByTheirIndex() throws {
        let dir = try TemporaryDirectory()
        let text = PipelineTests.sampleLog(rows: 2000)
        let data = try dir.write("d.svm", text)
        let model = dir.path("m.ftrl")
        // With the identity hash a slot is its index: the name must be the slot.
        #expect(try Tools.run("ftrl-train", ["--hash", "identity", "--bits", "16", "-q", "-m", model, data]).status == 0)
        let run = try Tools.run("ftrl-model", ["top", model, data, "-n", "20", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        var rowsWith: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            for token in line.split(separator: " ").dropFirst() { rowsWith[String(token.split(separator: ":")[0]), default: 0] += 1 }
        }
        let features = try #require(try Self.json(run.stdout)["features"] as? [[String: Any]])
        #expect(features.count == 20)
        for f in features {
            let name = try #require(f["name"] as? String)
            #expect(Double(name) == f["slot"] as? Double)
            #expect(f["count"] as? Double == Double(rowsWith[name] ?? -1))
            #expect((f["collisions"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func withoutLogsOrWithAMissingOneItIsRefused() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", PipelineTests.sampleLog(rows: 100))
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["--bits", "12", "-q", "-m", model, data]).status == 0)
        let none = try Tools.run("ftrl-model", ["top", model])
        #expect(none.status == 64 && none.stderr.contains("Missing expected argument '<file> ...'"), "\(none.stderr)")
        let missing = try Tools.run("ftrl-model", ["top", model, dir.path("nope.svm")])
        #expect(missing.status == 66 && missing.stderr.contains("nope.svm"), "\(missing.stderr)")
    }
}
