import FTRLTestSupport
import Foundation
import Testing

/// The model file read by a decoder written from the README's layout table
/// alone (with its own CRC-32), against what the tools print: `ftrl-model
/// state` row for row, and `ftrl-model info`'s counters.
struct ModelFileLayoutTests {
    /// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bit by bit.
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    struct Decoded {
        var version: UInt32
        var kind: String
        var scalarSize: Int
        var config: [String: Any]
        var configText: String
        var iterations: UInt64
        /// Where the iterations counter is in the file.
        var iterationsOffset: Int
        var examples: UInt64
        var bias: [Double]
        var biasAverage: Double?
        /// slot, w, n, z, average, step
        var slots: [(UInt32, Double, Double, Double, Double?, UInt64?)]
        /// The bytes of the slot records (after K).
        var slotBytes: ArraySlice<UInt8>
        /// Section names in file order (version 2).
        var sections: [String]
        /// The curve section: interval, pending examples and sum, points (examples, mean logloss).
        var curve: (interval: UInt64, pendingCount: UInt64, pendingSum: Double, points: [(UInt64, Double)])?
    }

    /// Reads the layout of the README's "The model file" tables: version 2's
    /// named sections, or version 1's fixed header.
    static func decode(_ data: [UInt8]) throws -> Decoded {
        var at = 0
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard at + n <= data.count else { throw CocoaError(.fileReadCorruptFile) }
            defer { at += n }
            return data[at..<at + n]
        }
        func u32() throws -> UInt32 { try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        func u64() throws -> UInt64 { try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        #expect(Array(try take(8)) == Array("FTRLMODL".utf8))
        let version = try u32()
        var kind = "linear"
        var size = 0
        var configBytes: ArraySlice<UInt8> = []
        var iterationsOffset = 0
        var sections: [String] = []
        var bodies: [String: Int] = [:]  // section name -> payload offset
        if version == 1 {
            size = Int(try u32())
            configBytes = try take(Int(try u32()))
        } else {
            let count = try u32()
            for _ in 0..<count {
                let name = String(decoding: try take(Int(try take(1).first!)), as: UTF8.self)
                let length = Int(try u64())
                sections.append(name)
                bodies[name] = at
                let payload = try take(length)
                if name == "kind" { kind = String(decoding: payload, as: UTF8.self) }
                if name == "config" { configBytes = payload }
            }
            #expect(at == data.count - 4, "bytes between the sections and the checksum")
            at = bodies["counters"]!
            size = Int(try u32())
        }
        let config = try JSONSerialization.jsonObject(with: Data(configBytes)) as! [String: Any]
        func scalar() throws -> Double {
            size == 4 ? Double(Float(bitPattern: try u32())) : Double(bitPattern: try u64())
        }
        iterationsOffset = at
        let iterations = try u64()
        let examples = try u64()
        var k = 0
        if version == 1 {
            k = Int(try u64())
        } else {
            at = bodies["bias"]!
        }
        let bias = [try scalar(), try scalar(), try scalar()]
        let ema = config["use_ema"] as? Bool == true
        let biasAverage = ema ? try scalar() : nil
        if version != 1 {
            at = bodies["slots"]!
            k = Int(try u64())
        }
        let slotsStart = at
        var slots: [(UInt32, Double, Double, Double, Double?, UInt64?)] = []
        for _ in 0..<k {
            let slot = try u32()
            let w = try scalar()
            let n = try scalar()
            let z = try scalar()
            let average = ema ? try scalar() : nil
            let step = ema ? try u64() : nil
            slots.append((slot, w, n, z, average, step))
        }
        let slotBytes = data[slotsStart..<at]
        var curve: (interval: UInt64, pendingCount: UInt64, pendingSum: Double, points: [(UInt64, Double)])?
        if let start = bodies["curve"] {
            at = start
            let (interval, pendingCount, pendingSum) = (try u64(), try u64(), Double(bitPattern: try u64()))
            let points = try (0..<Int(try u64())).map { _ in (try u64(), Double(bitPattern: try u64())) }
            curve = (interval, pendingCount, pendingSum, points)
        }
        if version != 1 { at = data.count - 4 }
        let stored = try u32()
        #expect(at == data.count, "bytes after the checksum")
        #expect(stored == crc32(data[0..<(data.count - 4)]), "CRC-32")
        return Decoded(
            version: version, kind: kind, scalarSize: size, config: config, configText: String(decoding: configBytes, as: UTF8.self),
            iterations: iterations, iterationsOffset: iterationsOffset, examples: examples, bias: bias, biasAverage: biasAverage,
            slots: slots, slotBytes: slotBytes, sections: sections, curve: curve)
    }

    @Test(arguments: [["--dtype", "float32"], ["--dtype", "float64"], ["--ema", "--batch-size", "3"], ["--dtype", "float64", "--ema"]])
    func decoderFromTheREADMEAgreesWithTheTools(_ flags: [String]) throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", PipelineTests.sampleLog(rows: 1500))
        let model = dir.path("m.ftrl")
        let train = try Tools.run("ftrl-train", ["-q", "--bits", "12", "-m", model] + flags + [data])
        #expect(train.status == 0, "\(train.stderr)")
        let file = try Self.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: model))))
        let ema = flags.contains("--ema")
        #expect(file.version == 2)
        #expect(file.kind == "linear")
        #expect(file.sections == ["kind", "config", "counters", "bias", "slots", "curve"])
        // The curve: 1,500 examples make 15 points of the first interval, 100, none pending.
        let curve = try #require(file.curve)
        #expect(curve.interval == 100 && curve.pendingCount == 0 && curve.pendingSum == 0)
        #expect(curve.points.map(\.0) == (1...15).map { UInt64($0 * 100) })
        #expect(curve.points.allSatisfy { $0.1 > 0 && $0.1 < 2 })
        #expect(file.scalarSize == (flags.contains("float64") ? 8 : 4))
        #expect(file.config["bits"] as? Int == 12)
        #expect(file.examples == 1500)
        #expect(file.iterations == (flags.contains("3") ? 500 : 1500))
        #expect(file.slots.map { $0.0 } == file.slots.map { $0.0 }.sorted(), "slots ascending")

        // `ftrl-model state`: one row per stored slot with its n and z (and w
        // without EMA, where nothing is caught up), then the bias.
        let state = try Tools.run("ftrl-model", ["state", model])
        let rows = tsvRows(state.stdout)
        #expect(rows.count == file.slots.count + 1)
        for (row, slot) in zip(rows, file.slots) {
            #expect(UInt32(row[0]) == slot.0)
            #expect(Double(row[2]) == slot.2 && Double(row[3]) == slot.3, "\(row)")
            if !ema { #expect(Double(row[1]) == slot.1, "\(row)") }
            if let step = slot.5 { #expect(step >= 1 && step <= file.iterations) }
        }
        if let last = rows.last {
            #expect(last[0] == "bias")
            #expect(Double(last[1]) == file.bias[0] && Double(last[2]) == file.bias[1] && Double(last[3]) == file.bias[2])
            if let average = file.biasAverage { #expect(Double(last[4]) == average) }
        }

        // `ftrl-model info`: the counters are the file's.
        let info = try Tools.run("ftrl-model", ["info", model])
        let json = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as! [String: Any]
        #expect((json["active_slots"] as? NSNumber)?.intValue == file.slots.count)
        #expect((json["iterations"] as? NSNumber)?.uint64Value == file.iterations)
        #expect((json["examples"] as? NSNumber)?.uint64Value == file.examples)
        #expect((json["slots"] as? NSNumber)?.intValue == 4096)
        // The bias as printed (Foundation's JSON reader rounds some doubles; Double(String) does not).
        let printed = info.stdout.split(separator: "\n").first { $0.contains("\"bias\":") }
        let bias = printed.flatMap {
            Double($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces.union(.init(charactersIn: ","))))
        }
        if !ema {
            #expect((json["nonzero_weights"] as? NSNumber)?.intValue == file.slots.filter { $0.1 != 0 }.count)
            #expect(bias == file.bias[0], "\(printed ?? "no bias line")")
        } else {
            #expect(bias == file.biasAverage, "\(printed ?? "no bias line")")
        }
    }
}

/// README claims about the tools that no other test held them to.
struct DocumentedClaimsTests {
    /// "caps an EMA model at 4,294,967,294 steps": a model one step short of
    /// the cap (its step counter set in the file, the CRC-32 put right) takes
    /// one more step, and the next is refused by name; -m is not written.
    @Test func emaStepCap() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", PipelineTests.sampleLog(rows: 50))
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "10", "--ema", "-m", model, data]).status == 0)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: model)))
        let iterations = try ModelFileLayoutTests.decode(bytes).iterationsOffset
        let cap: UInt64 = 4_294_967_294
        for k in 0..<8 { bytes[iterations + k] = UInt8(truncatingIfNeeded: (cap - 1) >> (8 * k)) }
        let crc = ModelFileLayoutTests.crc32(bytes[0..<(bytes.count - 4)])
        for k in 0..<4 { bytes[bytes.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * k)) }
        let near = try dir.write("near.ftrl", bytes: bytes)
        let one = try dir.write("one.svm", "1 3:1\n")
        let ok = try Tools.run("ftrl-train", ["-q", "--resume", near, "-m", dir.path("last.ftrl"), one])
        #expect(ok.status == 0, "\(ok.stderr)")
        let info = try Tools.run("ftrl-model", ["info", dir.path("last.ftrl")])
        #expect(info.stdout.contains("\"iterations\": 4294967294"), "\(info.stdout)")
        let two = try dir.write("two.svm", "1 3:1\n0 4:1\n")
        let over = try Tools.run("ftrl-train", ["-q", "--resume", near, "-m", dir.path("over.ftrl"), two])
        #expect(over.status == 64, "\(over.stderr)")
        #expect(over.stderr.contains("can take at most 4294967294 steps"), "\(over.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("over.ftrl")))
    }

    /// "`--config` cannot be combined with `--resume`".
    @Test func configWithResumeIsRefused() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", PipelineTests.sampleLog(rows: 50))
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", model, data]).status == 0)
        let config = try dir.write("c.json", "{\"learning_rate\": 0.2}")
        let run = try Tools.run("ftrl-train", ["--resume", model, "--config", config, "-m", model, data])
        #expect(run.status == 64)
        #expect(run.stderr.contains("--config cannot be combined with --resume"), "\(run.stderr)")
    }

    /// "A closed pipe (`| head`) ends the tool quietly": nothing on stderr
    /// and the first line a probability, whether SIGPIPE ends it (status
    /// 141) or a parent had SIGPIPE ignored (EPIPE: status 0, as ripgrep).
    @Test(arguments: ["SIG_DFL", "SIG_IGN"])
    func headEndsScoringQuietly(_ disposition: String) throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", PipelineTests.sampleLog(rows: 200_000))
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "12", "-m", model, data]).status == 0)
        let predict = Tools.binDirectory.appendingPathComponent("ftrl-predict").path
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/bash")
        // python3 sets the disposition the tool starts with (an ignored signal stays ignored across exec).
        let start =
            "python3 -c 'import os, signal, sys; signal.signal(signal.SIGPIPE, signal.\(disposition)); os.execv(sys.argv[1], sys.argv[1:])'"
        shell.arguments = [
            "-c",
            "\(start) '\(predict)' -m '\(model)' '\(data)' 2> '\(dir.path("err"))' | head -n 1; echo \"status ${PIPESTATUS[0]}\"",
        ]
        let out = Pipe()
        shell.standardOutput = out
        try shell.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2, "\(text)")
        if lines.count == 2 {
            #expect(Double(lines[0]).map { $0 > 0 && $0 < 1 } == true, "\(text)")
            #expect(lines[1] == (disposition == "SIG_DFL" ? "status 141" : "status 0"), "\(text)")
        }
        #expect(try String(contentsOfFile: dir.path("err"), encoding: .utf8) == "")
    }
}

/// More README claims: header quoting, a second signal, shortest printing,
/// columns missing from a file to score.
struct MoreDocumentedClaimsTests {
    /// A header line follows RFC 4180 as rows do: a doubled quote in a
    /// quoted name is one quote, and a quoted separator is part of the name.
    @Test func headerWithDoubledQuotes() throws {
        let dir = try TemporaryDirectory()
        let csv = try dir.write("h.csv", "label,\"say \"\"hi\"\"\",\"a,b\"\n1,x,y\n0,z,y\n")
        let model = dir.path("m.ftrl")
        let run = try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", model, csv])
        #expect(run.status == 0, "\(run.stderr)")
        let info = try Tools.run("ftrl-model", ["info", model]).stdout
        #expect(info.contains(#""columns": ["label", "say \"hi\"", "a,b"]"#), "\(info)")
    }

    /// "a second signal ends it at once": the first SIGINT arrives while a
    /// resumed model is still coming through a FIFO (so the run cannot have
    /// finished), the second ends the process by the signal, and -m is untouched.
    @Test func secondSignalEndsTheRunAtOnce() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", PipelineTests.sampleLog(rows: 500))
        let saved = dir.path("saved.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "12", "-m", saved, data]).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: saved))
        let fifo = dir.path("model.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let process = Tools.asFromAShell("ftrl-train", ["--resume", fifo, "-m", saved, data])
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard let writer = FileHandle(forWritingAtPath: fifo) else {
            Issue.record("cannot open the FIFO")
            process.terminate()
            return
        }
        signal(SIGPIPE, SIG_IGN)
        try writer.write(contentsOf: bytes.prefix(100))
        Thread.sleep(forTimeInterval: 0.2)
        kill(process.processIdentifier, SIGINT)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(process.isRunning, "the first signal ended the run before the model was loaded")
        kill(process.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(!process.isRunning, "the second signal did not end the run")
        if process.isRunning { process.terminate() }
        try? writer.close()
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(process.terminationStatus == SIGINT)
        #expect(try Data(contentsOf: URL(fileURLWithPath: saved)) == bytes)
    }

    /// "Numbers print in the shortest form that reads back exactly": every
    /// float32 score reads back to the same float32, and no decimal with one
    /// significant digit fewer does.
    @Test func scoresPrintShortest() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", PipelineTests.sampleLog(rows: 2000))
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "12", "-m", model, data]).status == 0)
        let run = try Tools.run("ftrl-predict", ["-m", model, data])
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2000)
        var checked = 0
        for text in Set(lines) {
            guard let value = Float(text) else {
                Issue.record("not a number: \(text)")
                continue
            }
            // Significant digits of the printed form (plain decimal or e-notation).
            let mantissa = text.split(separator: "e")[0].filter { $0.isNumber }.drop { $0 == "0" }
            let digits = mantissa.reversed().drop { $0 == "0" }.count
            if digits > 1 {
                let shorter = String(format: "%.\(digits - 2)e", Double(value))
                #expect(Float(shorter) != value, "\(text) prints longer than \(shorter)")
            }
            #expect(Float(String(Double(value))) == value)
            checked += 1
        }
        #expect(checked > 100)
    }

    /// "columns ... found by name (in any order, missing ones counted as
    /// empty)": a file whose header lacks a column scores as the same rows
    /// with that column present and empty.
    @Test func missingColumnsOfAScoringFileAreEmpty() throws {
        let dir = try TemporaryDirectory()
        var rows = "label,a,b,c\n"
        for i in 0..<300 { rows += "\(i % 3 == 0 ? 1 : 0),a\(i % 7),b\(i % 5),c\(i % 2)\n" }
        let train = try dir.write("train.csv", rows)
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "12", "-m", model, train]).status == 0)
        let reordered = try dir.write("r.csv", "c,label,a\nc1,1,a3\nc0,0,a6\n")
        let empty = try dir.write("e.csv", "label,a,b,c\n1,a3,,c1\n0,a6,,c0\n")
        let r = try Tools.run("ftrl-predict", ["-m", model, reordered])
        let e = try Tools.run("ftrl-predict", ["-m", model, empty])
        #expect(r.status == 0 && e.status == 0, "\(r.stderr) \(e.stderr)")
        #expect(r.stdout == e.stdout)
        #expect(r.stdout.split(separator: "\n").count == 2)
        // And b's missing feature is in play: a b value scores differently.
        let filled = try Tools.run("ftrl-predict", ["-m", model, try dir.write("f.csv", "label,a,b,c\n1,a3,b1,c1\n0,a6,b1,c0\n")])
        #expect(filled.stdout != r.stdout)
    }
}
