import FTRLTestSupport
import Foundation
import Testing

/// CSV and TSV logs through the tools: format detection, the schema flags,
/// scoring with or without header and label, and bad rows.
struct DelimitedInputTests {
    /// A Criteo-shaped TSV: label, 2 integer columns, 3 categorical columns.
    static func tsv(rows: Int, label: Bool = true) -> String {
        var random = TestRandom(seed: 11)
        func next() -> UInt64 { random.next() >> 33 }
        var out = ""
        for _ in 0..<rows {
            let a = next() % 20
            let b = next() % 7
            let i1 = next() % 4 == 0 ? "" : String(next() % 100)
            let y = (a % 3 == 0 || b == 2) ? 1 : 0
            var fields = [i1, String(next() % 5), String(format: "%08x", a), "b\(b)", next() % 3 == 0 ? "" : "c\(next() % 50)"]
            if label { fields.insert(String(y), at: 0) }
            out += fields.joined(separator: "\t") + "\n"
        }
        return out
    }

    static let columns = "label,I1,I2,C1,C2,C3"

    @Test func tsvTrainsAndScoresWithAndWithoutLabel() throws {
        let dir = try TemporaryDirectory()
        let train = try dir.write("train.tsv", Self.tsv(rows: 3000))
        let model = dir.path("m.ftrl")
        let run = try Tools.run("ftrl-train", ["-q", "--columns", Self.columns, "--numeric", "I1-I2", "--bits", "16", "-m", model, train])
        #expect(run.status == 0, "\(run.stderr)")
        let info = try Tools.run("ftrl-model", ["info", model]).stdout
        #expect(info.contains("\"format\": \"tsv\""))
        #expect(info.contains("\"columns\": [\"label\", \"I1\", \"I2\", \"C1\", \"C2\", \"C3\"]"))

        let labeled = try Tools.run("ftrl-predict", ["-m", model, "--metrics", train])
        #expect(labeled.status == 0)
        #expect((metric("auc", in: labeled.stderr) ?? 0) > 0.9, "\(labeled.stderr)")
        // The same rows without the label column score the same, without metrics.
        let unlabeled = try dir.write("test.tsv", Self.tsv(rows: 3000, label: false))
        let scores = try Tools.run("ftrl-predict", ["-m", model, "--metrics", unlabeled])
        #expect(scores.status == 0)
        #expect(scores.stdout == labeled.stdout)
        #expect(scores.stderr.contains("no labels"))
        // And with a header line added.
        let headed = try dir.write("headed.tsv", Self.columns.replacingOccurrences(of: ",", with: "\t") + "\n" + Self.tsv(rows: 3000))
        let h = try Tools.run("ftrl-predict", ["-m", model, headed])
        #expect(h.stdout == labeled.stdout)
    }

    @Test func csvHeaderMapsColumnsByName() throws {
        let dir = try TemporaryDirectory()
        let rows = Self.tsv(rows: 2000).split(separator: "\n").map { $0.replacingOccurrences(of: "\t", with: ",") }
        let train = try dir.write("train.csv", Self.columns + "\n" + rows.joined(separator: "\n") + "\n")
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--numeric", "I1-I2", "--bits", "16", "-m", model, train]).status == 0)
        let base = try Tools.run("ftrl-predict", ["-m", model, train]).stdout
        // Columns reordered (the label last), found by the header's names.
        let reordered = rows.map { line -> String in
            var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let y = f.removeFirst()
            return (f + [y]).joined(separator: ",")
        }
        let other = try dir.write("other.csv", "I1,I2,C1,C2,C3,label\n" + reordered.joined(separator: "\n") + "\n")
        #expect(try Tools.run("ftrl-predict", ["-m", model, other]).stdout == base)
    }

    /// Several CSV files, each with its header, read as one log; resuming on
    /// the second gives the same model as one run over both.
    @Test func csvFilesWithHeadersAndResume() throws {
        let dir = try TemporaryDirectory()
        let rows = Self.tsv(rows: 2000).split(separator: "\n").map { $0.replacingOccurrences(of: "\t", with: ",") }
        let header = Self.columns + "\n"
        let all = try dir.write("all.csv", header + rows.joined(separator: "\n") + "\n")
        let a = try dir.write("a.csv", header + rows[0..<800].joined(separator: "\n") + "\n")
        let b = try dir.write("b.csv", header + rows[800...].joined(separator: "\n") + "\n")
        let flags = ["-q", "--bits", "15", "--numeric", "I1-I2", "--interactions", "C1:C2"]
        #expect(try Tools.run("ftrl-train", flags + ["-m", dir.path("one.ftrl"), all]).status == 0)
        #expect(try Tools.run("ftrl-train", flags + ["-m", dir.path("two.ftrl"), a, b]).status == 0)
        #expect(try Tools.run("ftrl-train", flags + ["-m", dir.path("r.ftrl"), a]).status == 0)
        let resumed = try Tools.run("ftrl-train", ["-q", "--resume", dir.path("r.ftrl"), "-m", dir.path("r.ftrl"), b])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let one = try Data(contentsOf: URL(fileURLWithPath: dir.path("one.ftrl")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path("two.ftrl"))) == one)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path("r.ftrl"))) == one)
        // A file whose header disagrees is refused, naming it.
        let other = try dir.write("other.csv", "label,I1,I2,C1,C2,C9\n" + rows[0..<10].joined(separator: "\n") + "\n")
        let refused = try Tools.run("ftrl-train", flags + ["-m", dir.path("x.ftrl"), a, other])
        #expect(refused.status == 65)
        #expect(refused.stderr.contains("other.csv:1:"), "\(refused.stderr)")
    }

    @Test func weightColumnEqualsExampleWeightsFile() throws {
        let dir = try TemporaryDirectory()
        let rows = Self.tsv(rows: 1000).split(separator: "\n").map(String.init)
        // Tenths are not exact in binary: the column must reach a float64 model as float64.
        let weights = rows.indices.map { String(Double($0 % 7) / 10) }
        let withWeights = try dir.write("w.tsv", zip(rows, weights).map { $0 + "\t" + $1 }.joined(separator: "\n") + "\n")
        let plain = try dir.write("p.tsv", rows.joined(separator: "\n") + "\n")
        let weightFile = try dir.write("w.txt", weights.joined(separator: "\n") + "\n")
        let flags = ["-q", "--bits", "14", "--dtype", "float64", "--numeric", "I1-I2"]
        #expect(
            try Tools.run("ftrl-train", flags + ["--columns", Self.columns + ",w", "--weight", "w", "-m", dir.path("a.ftrl"), withWeights])
                .status == 0)
        #expect(
            try Tools.run(
                "ftrl-train", flags + ["--columns", Self.columns, "--example-weights", weightFile, "-m", dir.path("b.ftrl"), plain]
            ).status == 0)
        let a = try Tools.run("ftrl-model", ["state", dir.path("a.ftrl")]).stdout
        let b = try Tools.run("ftrl-model", ["state", dir.path("b.ftrl")]).stdout
        #expect(a == b)
    }

    @Test func flagsChangeTheModelAsDocumented() throws {
        let dir = try TemporaryDirectory()
        let train = try dir.write("train.tsv", Self.tsv(rows: 1500))
        func state(_ flags: [String]) throws -> String {
            let run = try Tools.run(
                "ftrl-train", ["-q", "--bits", "16", "--columns", Self.columns, "-m", dir.path("m.ftrl")] + flags + [train])
            #expect(run.status == 0, "\(flags): \(run.stderr)")
            return try Tools.run("ftrl-model", ["state", dir.path("m.ftrl")]).stdout
        }
        let base = try state(["--numeric", "I1-I2"])
        let rowsOf = { (s: String) in s.split(separator: "\n").count }
        // Ignoring a column removes its features.
        #expect(rowsOf(try state(["--numeric", "I1-I2", "--ignore", "C3"])) < rowsOf(base))
        // Numeric columns as categorical give one feature per value.
        #expect(rowsOf(try state([])) > rowsOf(base))
        // Buckets, raw values and the missing features change the model.
        #expect(try state(["--numeric", "I1-I2", "--numeric-transform", "bucket"]) != base)
        #expect(try state(["--numeric", "I1-I2", "--numeric-transform", "raw"]) != base)
        #expect(rowsOf(try state(["--numeric", "I1-I2", "--no-missing-features"])) < rowsOf(base))
        // Interactions add features.
        #expect(rowsOf(try state(["--numeric", "I1-I2", "--interactions", "C1:C2"])) > rowsOf(base))
        #expect(
            rowsOf(try state(["--numeric", "I1-I2", "--interactions", "all"]))
                > rowsOf(try state(["--numeric", "I1-I2", "--interactions", "C1:C2"])))
        // An explicit --categorical list leaves other columns out.
        #expect(rowsOf(try state(["--numeric", "I1-I2", "--categorical", "C1"])) < rowsOf(base))
        // --format tsv for a file whose name says nothing; --header skips a first line.
        let noName = try dir.write("train.data", Self.tsv(rows: 1500))
        let byFlag = try Tools.run(
            "ftrl-train",
            ["-q", "--bits", "16", "--format", "tsv", "--columns", Self.columns, "--numeric", "I1-I2", "-m", dir.path("f.ftrl"), noName])
        #expect(byFlag.status == 0)
        #expect(try Tools.run("ftrl-model", ["state", dir.path("f.ftrl")]).stdout == base)
        let headed = try dir.write("headed.tsv", "label\tI1\tI2\tC1\tC2\tC3\n" + Self.tsv(rows: 1500))
        #expect(
            try Tools.run("ftrl-train", ["-q", "--bits", "16", "--header", "--numeric", "I1-I2", "-m", dir.path("h.ftrl"), headed]).status
                == 0)
        #expect(try Tools.run("ftrl-model", ["state", dir.path("h.ftrl")]).stdout == base)
        // The same rows as a headerless CSV on standard input: features hang on
        // column names and values, not on the format.
        let csv = try dir.write("rows.csv", Self.tsv(rows: 1500).replacingOccurrences(of: "\t", with: ","))
        let fromStdin = try Tools.run(
            "ftrl-train",
            [
                "-q", "--bits", "16", "--format", "csv", "--no-header", "--columns", Self.columns, "--numeric", "I1-I2", "-m",
                dir.path("c.ftrl"), "-",
            ],
            stdin: URL(fileURLWithPath: csv))
        #expect(fromStdin.status == 0, "\(fromStdin.stderr)")
        #expect(try Tools.run("ftrl-model", ["state", dir.path("c.ftrl")]).stdout == base)
    }

    @Test func presetCriteoAndAvazu() throws {
        let dir = try TemporaryDirectory()
        let criteo = try Tools.run("ftrl-train", ["--print-config", "--preset", "criteo"])
        #expect(criteo.stdout.contains("\"numeric\": [\"I1-I13\"]"))
        #expect(criteo.stdout.contains("\"header\": false"))
        let avazu = try Tools.run("ftrl-train", ["--print-config", "--preset", "avazu"])
        #expect(avazu.stdout.contains("\"label\": \"click\""))
        #expect(avazu.stdout.contains("\"ignore\": [\"id\"]"))
        let bad = try Tools.run("ftrl-train", ["--print-config", "--preset", "kaggle"])
        #expect(bad.status == 64)
        _ = dir
    }

    struct BadCase: CustomTestStringConvertible, Sendable {
        var name: String
        var text: String
        var flags: [String]
        var parts: [String]
        /// 65 for a bad file; 64 when the flags name columns the file lacks.
        var status: Int32 = 65
        var testDescription: String { name }
    }

    @Test(arguments: [
        BadCase(
            name: "wrong field count", text: "label,a,n\n1,x,3\n0,y\n", flags: [],
            parts: ["bad.csv:3:", "expected 3 fields, found 2", "\"0,y\""]),
        BadCase(name: "unterminated quote", text: "label,a,n\n1,x,3\n0,\"y,4\n", flags: [], parts: ["bad.csv:3:", "unterminated quote"]),
        BadCase(
            name: "not a number", text: "label,a,n\n1,x,3\n0,y,four\n", flags: [],
            parts: ["bad.csv:3:", "column \"n\"", "expected a number", "\"four\""]),
        BadCase(name: "bad label", text: "label,a,n\n1,x,3\nyes,y,4\n", flags: [], parts: ["bad.csv:3:", "column \"label\"", "\"yes\""]),
        BadCase(
            name: "header lacks a column", text: "label,a,m\n1,x,3\n", flags: [], parts: ["bad.csv:1:", "no column \"n\""], status: 64),
        BadCase(name: "no label column", text: "y,a,n\n1,x,3\n", flags: [], parts: ["bad.csv:1:", "no label column"], status: 64),
        BadCase(
            name: "column given two roles", text: "label,a,n\n1,x,3\n", flags: ["--categorical", "n"],
            parts: ["bad.csv:1:", "column \"n\" is given two roles"], status: 64),
        BadCase(
            name: "duplicate column names", text: "label,a,a,n\n1,x,y,3\n", flags: [],
            parts: ["bad.csv:1:", "names column \"a\" twice (fields 2 and 3)"]),
        BadCase(
            name: "text after a closing quote in the header", text: "label,\"a\"b,n\n1,x,3\n", flags: [],
            parts: ["bad.csv:1:", "unexpected text after a closing quote"]),
    ])
    func badRowsNameFileLineColumnAndText(_ c: BadCase) throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("bad.csv", c.text)
        let run = try Tools.run("ftrl-train", ["--bits", "10", "--numeric", "n", "-m", dir.path("m.ftrl")] + c.flags + [path])
        #expect(run.status == c.status, "\(run.stderr)")
        for part in c.parts { #expect(run.stderr.contains(part), "\(part): \(run.stderr)") }
        #expect(!FileManager.default.fileExists(atPath: dir.path("m.ftrl")))
    }

    @Test func schemaFlagsOnLibSVMAreRefused() throws {
        let run = try Tools.run("ftrl-train", ["--print-config", "--label", "y"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("--format"))
    }

    /// The real logs of ../shared/data, when present.
    @Test func realCriteoAndAvazu() throws {
        let dir = try TemporaryDirectory()
        if let criteo = RealDataTests.available("criteo/train.tsv.gz") {
            // The first 20,000 rows train, the next 5,000 are held out.
            let split = Process()
            split.executableURL = URL(fileURLWithPath: "/bin/sh")
            split.arguments = [
                "-c",
                "zcat '\(criteo.path)' | head -n 25000 > '\(dir.path("c.tsv"))'; head -n 20000 '\(dir.path("c.tsv"))' | gzip > '\(dir.path("train.tsv.gz"))'; tail -n 5000 '\(dir.path("c.tsv"))' | cut -f 2- > '\(dir.path("test.tsv"))'; tail -n 5000 '\(dir.path("c.tsv"))' > '\(dir.path("test-labeled.tsv"))'",
            ]
            try split.run()
            split.waitUntilExit()
            let train = try Tools.run("ftrl-train", ["-q", "--preset", "criteo", "-m", dir.path("c.ftrl"), dir.path("train.tsv.gz")])
            #expect(train.status == 0, "\(train.stderr)")
            let labeled = try Tools.run("ftrl-predict", ["-m", dir.path("c.ftrl"), "--metrics", dir.path("test-labeled.tsv")])
            #expect((metric("auc", in: labeled.stderr) ?? 0) > 0.7, "\(labeled.stderr)")
            // Criteo's unlabeled test rows (39 fields) score without any flag.
            let unlabeled = try Tools.run("ftrl-predict", ["-m", dir.path("c.ftrl"), dir.path("test.tsv")])
            #expect(unlabeled.status == 0)
            #expect(unlabeled.stdout == labeled.stdout)
        }
        if let avazu = RealDataTests.available("avazu/train.csv.gz") {
            let train = try Tools.run("ftrl-train", ["--preset", "avazu", "-m", dir.path("a.ftrl"), avazu.path])
            #expect(train.status == 0, "\(train.stderr)")
            #expect(train.stderr.contains("8,087 examples"))
            let scored = try Tools.run("ftrl-predict", ["-m", dir.path("a.ftrl"), "--metrics", avazu.path])
            #expect((metric("auc", in: scored.stderr) ?? 0) > 0.7)
        }
        if let tiny = RealDataTests.available("criteo-tiny-csv/train.csv") {
            // Header Id,Label,I1..I13,C1..C26 with CRLF line ends.
            let train = try Tools.run(
                "ftrl-train", ["--label", "Label", "--ignore", "Id", "--numeric", "I1-I13", "-m", dir.path("t.ftrl"), tiny.path])
            #expect(train.status == 0, "\(train.stderr)")
            #expect(train.stderr.contains("1,999 examples"))
        }
    }
}
