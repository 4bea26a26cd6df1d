import FTRLTestSupport
import Testing
@testable import FTRL

/// The reader cuts its chunks where the parser's records end: wherever a
/// read stops, the rows parse to the same examples (or the same error).
struct RecordSplitterTests {
    static let hasher = FeatureHasher(kind: .murmur3, seed: 3, bits: 20)

    static func csvParser(_ format: InputFormat) throws -> ChunkingOracle.Parse {
        var schema = InputSchema()
        schema.format = format
        let names = ["label", "a", "b"]
        let columns = try ResolvedColumns(schema: schema, names: names, named: true)
        let plan = FieldPlan(schema: schema, columns: columns, present: [0, 1, 2], hashSeed: hasher.seed)
        let parser = DelimitedParser(plan: plan, format: format, hasher: hasher)
        return { (text, from, to, block, line) throws(FTRLError) in
            try parser.parse(text, from: from, to: to, into: block, firstLine: line)
        }
    }

    /// Rows that stress the quoting rules: quoted separators and line
    /// breaks, doubled quotes, stray quotes in unquoted fields, CRLF, blank lines.
    static let pieces = [
        "1,a,b\n", "0,\"x,y\",c\n", "1,\"two\nlines\",d\n", "0,5'11\",e\n", "1,\"say \"\"hi\"\"\",f\n",
        "0,\"crlf\",x\r\n", "1,plain,\"q\"\r\n", "\n", "0,\"\"\"\",g\n", "1,a\"b\"c,\"\n\n\"\n", "0,,\n",
    ]

    static func texts(count: Int, seed: UInt64) -> [[UInt8]] {
        var random = TestRandom(seed: seed)
        return (0..<count).map { _ in
            var text = ""
            for _ in 0..<12 {
                let rng = random.next()
                text += pieces[Int(rng >> 33) % pieces.count]
            }
            return Array(text.utf8)
        }
    }

    @Test func everyCutOfValidCSVReadsTheSame() throws {
        let parse = try Self.csvParser(.csv)
        for text in Self.texts(count: 40, seed: 11) {
            let whole = ChunkingOracle.read(text, format: .csv, cut: -1, parse: parse)
            guard case .examples(let rows) = whole else {
                Issue.record("valid text refused: \(whole) in \(String(decoding: text, as: UTF8.self).debugDescription)")
                continue
            }
            #expect(rows.count >= 1)
            for cut in 0...text.count {
                let chunked = ChunkingOracle.read(text, format: .csv, cut: cut, parse: parse)
                #expect(chunked == whole, "cut at \(cut) of \(String(decoding: text, as: UTF8.self).debugDescription)")
            }
        }
    }

    /// Broken rows (an unterminated quote, text after a closing quote, a
    /// short row) fail the same way, at the same line, wherever the cut is.
    @Test(arguments: ["1,a,b\n0,\"open,c\n1,x,y\n", "1,a,b\n0,\"a\"b,c\n", "1,a,b\n0,x\n1,\"q\nq\",r\n", "1,\"a\"\"\n"])
    func everyCutOfBrokenCSVFailsTheSame(_ body: String) throws {
        let parse = try Self.csvParser(.csv)
        let text = Array(body.utf8)
        let whole = ChunkingOracle.read(text, format: .csv, cut: -1, parse: parse)
        guard case .failure = whole else {
            Issue.record("broken text accepted: \(body.debugDescription)")
            return
        }
        for cut in 0...text.count {
            #expect(ChunkingOracle.read(text, format: .csv, cut: cut, parse: parse) == whole, "cut at \(cut)")
        }
    }

    /// In TSV and LibSVM a quote is an ordinary character and every line break ends a record.
    @Test func quotesDoNotMatterInTSVOrLibSVM() throws {
        let tsv = Array("1\t\"a\tb\n0\tx\"\ty\n1\t\"\t\"\n".utf8)
        let parse = try Self.csvParser(.tsv)
        let whole = ChunkingOracle.read(tsv, format: .tsv, cut: -1, parse: parse)
        guard case .examples(let rows) = whole else {
            Issue.record("TSV refused: \(whole)")
            return
        }
        #expect(rows.count == 3)
        for cut in 0...tsv.count { #expect(ChunkingOracle.read(tsv, format: .tsv, cut: cut, parse: parse) == whole) }

        let libsvm = Array("1 3:1 4:0.5\n\n# note \"\n0 7:2\r\n1\n".utf8)
        let parser = LibSVMParser(hasher: Self.hasher)
        let parseLibSVM: ChunkingOracle.Parse = { (text, from, to, block, line) throws(FTRLError) in
            try parser.parse(text, from: from, to: to, into: block, firstLine: line)
        }
        let reference = ChunkingOracle.read(libsvm, format: .libsvm, cut: -1, parse: parseLibSVM)
        guard case .examples(let examples) = reference else {
            Issue.record("LibSVM refused: \(reference)")
            return
        }
        #expect(examples.count == 3)
        for cut in 0...libsvm.count {
            #expect(ChunkingOracle.read(libsvm, format: .libsvm, cut: cut, parse: parseLibSVM) == reference)
        }
    }

    /// Scanning in pieces finds the same last record end as scanning at once.
    @Test func incrementalScanEqualsOneScan() {
        for text in Self.texts(count: 20, seed: 5) {
            text.withUnsafeBufferPointer { buf in
                var once = RecordSplitter(format: .csv)
                once.scan(buf.baseAddress!, upTo: buf.count)
                for step in [1, 2, 3, 7, 16] {
                    var pieces = RecordSplitter(format: .csv)
                    var end = 0
                    while end < buf.count {
                        end = min(end + step, buf.count)
                        pieces.scan(buf.baseAddress!, upTo: end)
                    }
                    #expect(pieces.lastEnd == once.lastEnd, "step \(step)")
                }
            }
        }
    }
}
