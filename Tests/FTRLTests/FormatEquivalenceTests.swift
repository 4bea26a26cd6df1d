import FTRLTestSupport
import Foundation
import Testing
@testable import FTRL

/// A CSV log and the LibSVM log of the same features train the same model:
/// the delimited path adds nothing but the features it documents. The
/// LibSVM file is written from the rows themselves with the README's rules
/// and the independent `ReferenceMurmur3`, not from the CSV path's output.
struct FormatEquivalenceTests {
    struct Row {
        var click: Int
        var site: String
        var slot: String
        var n: Int
    }

    static func rows(_ count: Int) -> [Row] {
        var random = TestRandom(seed: 77)
        func next() -> UInt64 { random.next() >> 33 }
        return (0..<count).map { _ in
            let site = ["a", "b", "c\"d", "", "e,f"][Int(next() % 5)]
            let slot = "s\(next() % 40)"
            let n = Int(next() % 200) - 20
            return Row(click: next() % 3 == 0 ? 1 : 0, site: site, slot: slot, n: n)
        }
    }

    static func csv(rows: Int) -> String {
        var text = "id,click,site,\"ad, slot\",n\r\n"
        for (r, row) in Self.rows(rows).enumerated() {
            let site = row.site
            let quotedSite =
                site.contains(",") || site.contains("\"") ? "\"" + site.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : site
            text += "\(r),\(row.click),\(quotedSite),\(row.slot),\(row.n)\r\n"
        }
        return text
    }

    @Test func csvAndEquivalentLibSVMGiveTheSameModel() throws {
        let dir = try Scratch()
        let csvPath = try dir.write("log.csv", Self.csv(rows: 3000))
        var config = FTRLConfig()
        config.bits = 18
        config.dtype = .float64
        config.batchSize = 2
        config.schema.format = .csv
        config.schema.ignore = ["id"]
        config.schema.numeric = ["n"]
        config.schema.interactions = [["site", "ad, slot"]]

        // Each row's features by the documented rules: a categorical value
        // under its column's seed, a missing value as the byte 0, n as
        // sign * log1p|n| (nothing for 0), and site x "ad, slot" when both are present.
        let mask: UInt32 = (1 << 18) - 1
        func seed(_ column: String) -> UInt32 { ReferenceMurmur3.hash(column, seed: 0) }
        let crossSeed = ReferenceMurmur3.hash("site\u{1F}ad, slot", seed: 0)
        var libsvm = ""
        for row in Self.rows(3000) {
            var features: [(UInt32, Double)] = []
            let siteHash = ReferenceMurmur3.hash(row.site, seed: seed("site"))
            features.append(row.site.isEmpty ? (ReferenceMurmur3.hash([0], seed: seed("site")) & mask, 1) : (siteHash & mask, 1))
            let slotHash = ReferenceMurmur3.hash(row.slot, seed: seed("ad, slot"))
            features.append((slotHash & mask, 1))
            if row.n != 0 {
                features.append(
                    (ReferenceMurmur3.hash([], seed: seed("n")) & mask, row.n < 0 ? -log1p(Double(-row.n)) : log1p(Double(row.n))))
            }
            if !row.site.isEmpty {
                let key = ReferenceMurmur3.bytes(siteHash) + ReferenceMurmur3.bytes(slotHash)
                features.append((ReferenceMurmur3.hash(key, seed: crossSeed) & mask, 1))
            }
            libsvm += "\(row.click)"
            for (slot, value) in features {
                #expect(slot != 0, "slot 0 cannot be written as a LibSVM index")
                libsvm += " \(slot):\(value)"
            }
            libsvm += "\n"
        }
        let svmPath = try dir.write("log.svm", libsvm)

        let fromCSV = try trainedState(config, [csvPath])
        var identity = config
        identity.schema = InputSchema()
        identity.hash = .identity
        let fromSVM = try trainedState(identity, [svmPath])
        #expect(fromCSV == fromSVM)
        #expect(fromCSV.count > 100)
    }

    /// An ignored column changes nothing: a column's features depend on its
    /// name, not its position.
    @Test func ignoredColumnChangesNothing() throws {
        let dir = try Scratch()
        let text = Self.csv(rows: 500)
        let withID = try dir.write("a.csv", text)
        let lines = text.split(separator: "\r\n").map { line -> String in
            // Drop the id column (the first field; ids have no quotes or commas).
            String(line[line.index(after: line.firstIndex(of: ",")!)...])
        }
        let withoutID = try dir.write("b.csv", lines.joined(separator: "\n") + "\n")
        var config = FTRLConfig()
        config.bits = 16
        config.dtype = .float64
        config.schema.format = .csv
        config.schema.numeric = ["n"]
        var ignoring = config
        ignoring.schema.ignore = ["id"]
        #expect(try trainedState(ignoring, [withID]) == trainedState(config, [withoutID]))
    }
}
