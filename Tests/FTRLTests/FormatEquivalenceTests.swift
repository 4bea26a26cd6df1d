import Foundation
import Testing
@testable import FTRL

/// A CSV log and the LibSVM log of the same hashed features train the same
/// model: the delimited path adds nothing but the features it documents.
struct FormatEquivalenceTests {
    static func csv(rows: Int) -> String {
        var state: UInt64 = 77
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        var text = "id,click,site,\"ad, slot\",n\r\n"
        for r in 0..<rows {
            let site = ["a", "b", "c\"d", "", "e,f"][Int(next() % 5)]
            let slot = next() % 40
            let n = Int(next() % 200) - 20
            let quotedSite =
                site.contains(",") || site.contains("\"") ? "\"" + site.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : site
            text += "\(r),\(next() % 3 == 0 ? 1 : 0),\(quotedSite),s\(slot),\(n)\r\n"
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

        // The features of every row, as the CSV path computes them.
        let stream = ExampleStream(paths: [csvPath], hasher: config.hasher, schema: config.schema)
        var libsvm = ""
        while let block = try stream.next() {
            for e in 0..<block.count {
                libsvm += block.labels[e] == 1 ? "1" : "0"
                for j in block.offsets[e]..<block.offsets[e + 1] {
                    #expect(block.slots[j] != 0, "slot 0 cannot be written as a LibSVM index")
                    libsvm += " \(block.slots[j]):\(block.values[j])"
                }
                libsvm += "\n"
            }
            stream.recycle(block)
        }
        _ = stream.finish()
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
