import FTRLTestSupport
import Foundation
import Testing
@testable import FTRL

struct MetricsTests {
    /// AUC by hand: positives at 0.9 and 0.4, negatives at 0.4 and 0.1.
    /// Pairs (pos, neg): (0.9,0.4) 1, (0.9,0.1) 1, (0.4,0.4) 1/2, (0.4,0.1) 1 -> 3.5 / 4.
    @Test func aucWithTies() {
        var m = Metrics()
        m.add(0.9, label: true)
        m.add(0.4, label: true)
        m.add(0.4, label: false)
        m.add(0.1, label: false)
        #expect(m.auc == 0.875)
        #expect(abs(m.logLoss - (-log(0.9) - log(0.4) - log(0.6) - log(0.9)) / 4) < 1e-15)
        #expect(abs(m.calibration - 1.8 / 2) < 1e-15)
    }

    /// AUC equals the fraction of correctly ordered pairs, counted directly.
    @Test func aucMatchesPairCount() {
        var random = TestRandom(seed: 5)
        var m = Metrics()
        var items: [(Double, Bool)] = []
        for _ in 0..<400 {
            let state = random.next()
            let p = Double(state >> 59) / 32
            let y = (state >> 20) % 3 == 0
            items.append((p, y))
            m.add(p, label: y)
        }
        var good = 0.0
        var pairs = 0.0
        for (p, y) in items where y {
            for (q, z) in items where !z {
                pairs += 1
                good += p > q ? 1 : (p == q ? 0.5 : 0)
            }
        }
        #expect(abs(m.auc - good / pairs) < 1e-12)
    }
}

struct ConfigTests {
    @Test func jsonRoundTrip() throws {
        var c = FTRLConfig()
        c.learningRate = 0.037
        c.l2Shrinkage = 1e-5
        c.bits = 20
        c.dtype = .float64
        c.hash = .identity
        c.hashSeed = 77
        c.batchSize = 16
        let text = c.jsonText
        let back = try FTRLConfig(jsonText: text)
        #expect(back == c)
        #expect(back.jsonText == text)
    }

    @Test func goldenConfigsRead() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Fixtures/golden/l1/config.json"), encoding: .utf8)
        let c = try FTRLConfig(jsonText: text)
        #expect(c.l1 == 0.15)
        #expect(c.dtype == .float64)
        #expect(c.exampleWeights == false)
    }

    @Test func unknownKeyNamed() {
        #expect {
            _ = try FTRLConfig(jsonText: "{\"learning_rate\": 0.1, \"l3\": 2}")
        } throws: { ($0 as? FTRLError)?.message.contains("\"l3\"") == true }
    }

    /// A character outside the BMP is written in JSON as a UTF-16
    /// surrogate pair (`\ud83d\ude00`, as Python's json.dumps does);
    /// a half of a pair is refused.
    @Test func surrogatePairsRead() throws {
        let json = try JSON.parse("{\"label\": \"\\ud83d\\ude00 \\u00e9\\u20AC\"}")
        #expect(json["label"] == .string("\u{1F600} \u{E9}\u{20AC}"))
        for bad in ["\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"", "\"\\ud83dx\"", "\"\\u12G4\""] {
            #expect(throws: FTRLError.self, "\(bad)") { _ = try JSON.parse(bad) }
        }
    }

    /// Control characters in names are written as escapes (never raw to a
    /// terminal) and read back to the same text.
    @Test func controlCharactersAreEscaped() throws {
        let name = "a\u{1B}[31m\u{7F}\u{9B}b\u{E9}"
        let text = JSON.string(name).rendered()
        #expect(text == "\"a\\u001b[31m\\u007f\\u009bb\u{E9}\"")
        #expect(try JSON.parse(text) == .string(name))
    }

    @Test func badJSONRefused() {
        for text in ["", "{", "{\"a\" 1}", "[1,]", "{\"learning_rate\": 0.1} x", "{\"learning_rate\": \"fast\"}"] {
            #expect(throws: FTRLError.self, "\(text)") { _ = try FTRLConfig(jsonText: text) }
        }
    }
}
