import FTRLTestSupport
import Testing
@testable import FTRL

/// The LibSVM grammar and its edge cases, including those the real logs in
/// `../shared/data` hold (+1/-1 labels, CRLF, rows without features, a
/// trailing blank line).
struct LibSVMParserTests {
    struct Row: Equatable, CustomStringConvertible {
        var label: Float
        var features: [UInt32: Double]
        var description: String { "\(label) \(features.sorted { $0.key < $1.key })" }
    }

    static func rows(_ block: ExampleBlock) -> [Row] {
        (0..<block.count).map { e in
            var f: [UInt32: Double] = [:]
            for j in block.offsets[e]..<block.offsets[e + 1] { f[block.slots[j], default: 0] += block.values[j] }
            return Row(label: block.labels[e], features: f)
        }
    }

    @Test(arguments: [
        ("1 3:1 10:0.5\n", [Row(label: 1, features: [3: 1, 10: 0.5])]),
        ("0 3:1\n", [Row(label: 0, features: [3: 1])]),
        ("+1 3:1\n", [Row(label: 1, features: [3: 1])]),
        ("-1 3:1\n", [Row(label: 0, features: [3: 1])]),
        ("1.0 3:1\n", [Row(label: 1, features: [3: 1])]),
        ("1 3:1\r\n0 4:2\r\n", [Row(label: 1, features: [3: 1]), Row(label: 0, features: [4: 2])]),
        ("1\n0 \n", [Row(label: 1, features: [:]), Row(label: 0, features: [:])]),
        ("1 3:1\n\n\n0 4:1\n\n", [Row(label: 1, features: [3: 1]), Row(label: 0, features: [4: 1])]),
        ("  1\t3:1   4:-2.5e-1 \n", [Row(label: 1, features: [3: 1, 4: -0.25])]),
        ("1 3:1 3:2\n", [Row(label: 1, features: [3: 3])]),
        ("# a comment line\n1 3:1 # trailing comment 9:9\n", [Row(label: 1, features: [3: 1])]),
        ("1 7:0\n", [Row(label: 1, features: [7: 0])]),
        ("0 1048575:1\n", [Row(label: 0, features: [1_048_575: 1])]),
        ("1 5:.5 6:5. 7:-0 8:1E2\n", [Row(label: 1, features: [5: 0.5, 6: 5, 7: 0, 8: 100])]),
    ])
    func accepts(_ text: String, _ expected: [Row]) throws {
        #expect(Self.rows(try parse(text)) == expected)
    }

    @Test(arguments: [
        ("2 3:1", "expected a label", "2"),
        ("0.5 3:1", "expected a label", "0.5"),
        ("click 3:1", "expected a label", "click"),
        ("1 3", "expected 'index:value'", "3"),
        ("1 x:1", "expected 'index:value'", "x:1"),
        ("1 :1", "expected 'index:value'", ":1"),
        ("1 0:1", "index 0", "0:1"),
        ("1 -4:1", "negative feature index", "-4:1"),
        ("1 4:", "not a number", "4:"),
        ("1 4:1.2.3", "not a number", "4:1.2.3"),
        ("1 4:inf", "not finite", "4:inf"),
        ("1 4:-nan", "not finite", "4:-nan"),
        ("1 4:1e999", "not finite", "4:1e999"),
        ("1 1048576:1", "does not fit", "1048576:1"),
        ("1 3:1\r\r", "not a number", "3:1\\r"),
    ])
    func refuses(_ text: String, _ message: String, _ token: String) {
        #expect {
            _ = try parse("1 1:1\n" + text + "\n")
        } throws: { error in
            guard let e = error as? FTRLError else { return false }
            return e.kind == .data && e.line == 2 && e.message.contains(message) && e.text == token
        }
    }

    /// The decimal fast path gives the same double as strtod.
    @Test func decimalsMatchStrtod() {
        var random = TestRandom(seed: 99)
        func next() -> UInt64 { random.next() >> 17 }
        var samples = [
            "0", "1", "-1", "0.1", "0.3", "1e-5", "123456789012345678", "9007199254740993", "1.7976931348623157e308",
            "4.9e-324", "2.2250738585072014e-308", "0.000001234", "-0.0", "12345.678e-3", "1e22", "1e23",
            // Long decimals (a spreadsheet's full expansion) are numbers too.
            "0." + String(repeating: "1", count: 500), String(repeating: "9", count: 450) + "e-449",
            "1." + String(repeating: "0", count: 5000) + "1",
        ]
        // Mantissas of 16 to 19 digits, where a fast path taken too far would round twice.
        for _ in 0..<20_000 {
            var digits = String(next() % 9 + 1)
            for _ in 0..<(15 + Int(next() % 4)) { digits += String(next() % 10) }
            let point = Int(next() % UInt64(digits.count + 1))
            samples.append(String(digits.prefix(point)) + "." + String(digits.dropFirst(point)) + "e" + String(Int(next() % 30) - 15))
        }
        for _ in 0..<20_000 {
            let digits = String(next() % 10_000_000_000)
            let point = Int(next() % UInt64(digits.count + 1))
            var s = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
            if next() % 3 == 0 { s += "e" + String(Int(next() % 60) - 30) }
            if next() % 2 == 0 { s = "-" + s }
            samples.append(s)
        }
        for s in samples {
            let bytes = Array(s.utf8)
            let fast = bytes.withUnsafeBufferPointer { DecimalParser().parse($0.baseAddress!, 0, $0.count) }
            #expect(fast?.bitPattern == strtod(s, nil).bitPattern, "\(s)")
        }
    }
}

import Glibc
