import FTRLTestSupport
import Foundation
import Testing

/// The promises of the README's "Safety" section, each as a user would
/// break them: a model path that is also the input, a planted symlink, a
/// bad row after a checkpoint, a signal while a model loads, settings or
/// values that overflow, a pipe read twice, odd CSV, a full disk, too
/// little memory, hostile column names.
struct SafetyTests {
    static let rows = PipelineTests.sampleLog(rows: 3000)

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    // MARK: Nothing the run reads is ever overwritten

    /// `-m` naming the training file, under its own name, another spelling,
    /// a hard link, a symlink, or standard input redirected from it, is
    /// refused before anything is written; the data survives byte for byte.
    @Test func modelPathThatIsAnInputIsRefused() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", "1 5:1\n0 6:1\n")
        try FileManager.default.linkItem(atPath: data, toPath: dir.path("hard.svm"))
        try FileManager.default.createSymbolicLink(atPath: dir.path("sym.svm"), withDestinationPath: data)
        let before = try Self.bytes(data)
        let spellings = [data, dir.url.path + "/./d.svm", dir.path("hard.svm"), dir.path("sym.svm")]
        for model in spellings {
            let run = try Tools.run("ftrl-train", ["-q", "--bits", "8", "-m", model, data])
            #expect(run.status == 64, "\(model): \(run.stderr)")
            #expect(run.stderr.contains("would destroy it"), "\(run.stderr)")
            #expect(try Self.bytes(data) == before, "\(model) overwrote the input")
        }
        let piped = try Tools.run("ftrl-train", ["-q", "--bits", "8", "-m", data], stdin: URL(fileURLWithPath: data))
        #expect(piped.status == 64)
        #expect(piped.stderr.contains("is standard input"), "\(piped.stderr)")
        // The weights file and the config are inputs too.
        let weights = try dir.write("w.txt", "1\n1\n")
        let w = try Tools.run("ftrl-train", ["-q", "--bits", "8", "--example-weights", weights, "-m", weights, data])
        #expect(w.status == 64)
        #expect(try String(contentsOfFile: weights, encoding: .utf8) == "1\n1\n")
        #expect(try Self.bytes(data) == before)
    }

    /// The temporary file is made with O_EXCL under an unguessable name:
    /// symlinks planted under every name the old scheme (`M.tmp-PID`) could
    /// use for the next processes are never written through.
    @Test func plantedSymlinksAreNotFollowed() throws {
        let dir = try TemporaryDirectory()
        let victim = try dir.write("victim", "precious\n")
        let data = try dir.write("d.svm", Self.rows)
        let model = dir.path("m.ftrl")
        let last = Int(
            try String(contentsOfFile: "/proc/sys/kernel/ns_last_pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        for pid in (last + 1)...(last + 300) {
            try FileManager.default.createSymbolicLink(atPath: "\(model).tmp-\(pid)", withDestinationPath: victim)
        }
        let run = try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", model, data])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(try Tools.run("ftrl-model", ["info", model]).status == 0)
    }

    /// Temporary files of writers killed with `kill -9` (their process is
    /// gone) are removed by the next write; those of a live process stay.
    @Test func staleTemporaryFilesAreRemoved() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.rows)
        let model = dir.path("m.ftrl")
        // A process that has ended: its PID is free.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let stale = try dir.write("m.ftrl.tmp-\(gone.processIdentifier)-Ab12Cd", "half a model")
        let live = try dir.write("m.ftrl.tmp-1-Xy34Zw", "pid 1 is always alive")
        let other = try dir.write("n.ftrl.tmp-\(gone.processIdentifier)-Ab12Cd", "another model's")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", model, data]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(FileManager.default.fileExists(atPath: other))
    }

    /// `-m` must be a regular file (or a symlink to one, which is followed:
    /// the link stays and its target is replaced).
    @Test func modelPathMustBeARegularFile() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.rows)
        // A FIFO of the test's own (never /dev/null: a tool with this bug
        // run as root would rename its model over the device).
        let fifo = dir.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        for (path, what) in [(fifo, "not a pipe"), (dir.url.path, "not a directory")] {
            let run = try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", path, data])
            #expect(run.status == 64, "\(run.stderr)")
            #expect(run.stderr.contains(what), "\(run.stderr)")
        }
        let real = dir.path("real.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", real, data]).status == 0)
        try FileManager.default.createSymbolicLink(atPath: dir.path("link.ftrl"), withDestinationPath: real)
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "10", "--epochs", "2", "-m", dir.path("link.ftrl"), data]).status == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.path("link.ftrl"))
        #expect(attributes[.type] as? FileAttributeType == .typeSymbolicLink)
        let info = try Tools.run("ftrl-model", ["info", real])
        #expect(info.stdout.contains("\"examples\": 6000"), "\(info.stdout)")
    }

    /// A write that fails half-way at the model's own path (the file-size
    /// limit stands in for a full disk: EFBIG after the first 4 MiB):
    /// exit 74, the old model byte for byte, no temporary file left. (The
    /// limit stays above 1 MiB, which ThreadSanitizer's runtime needs.)
    @Test func failedWriteKeepsTheOldModel() throws {
        let dir = try TemporaryDirectory()
        let data = dir.path("wide.svm")
        let awk = Process()
        awk.executableURL = URL(fileURLWithPath: "/bin/sh")
        awk.arguments = [
            "-c",
            "awk 'BEGIN{srand(5); for(i=0;i<80000;i++){printf \"%d\", i%2; for(j=0;j<10;j++) printf \" %d:1\", int(rand()*4194303)+1; print \"\"}}' > '\(data)'",
        ]
        try awk.run()
        awk.waitUntilExit()
        #expect(awk.terminationStatus == 0)
        let model = dir.path("m.ftrl")
        let flags = ["-q", "--bits", "22", "-m", model, data]
        #expect(try Tools.run("ftrl-train", flags).status == 0)
        let old = try Self.bytes(model)
        #expect(old.count > 9 << 20)
        let train = Tools.binDirectory.appendingPathComponent("ftrl-train").path
        // SIGXFSZ ignored, so that the write fails with EFBIG instead of killing;
        // 8192 blocks is 4 MiB (dash, 512-byte blocks) or 8 MiB (bash).
        let run = try Tools.runShell("trap '' XFSZ; ulimit -f 8192; exec '\(train)' " + flags.map { "'\($0)'" }.joined(separator: " "))
        let stderr = run.stderr
        #expect(run.status == 74, "\(stderr)")
        #expect(stderr.contains("File too large"), "\(stderr)")
        #expect(stderr.contains("\(model) is unchanged"), "\(stderr)")
        #expect(try Self.bytes(model) == old)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    // MARK: Checkpoints never replace the model

    /// A bad row after three checkpoints: exit 65, `-m` is the old model
    /// byte for byte, and the checkpoint is a complete model of the rows
    /// before it, which `--resume` continues. A run that succeeds removes
    /// its checkpoint.
    @Test func checkpointsGoToTheirOwnFile() throws {
        let dir = try TemporaryDirectory()
        let good = try dir.write("good.svm", Self.rows)
        let bad = try dir.write("bad.svm", Self.rows + "x 1:1\n")
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", model, good]).status == 0)
        let old = try Self.bytes(model)

        let run = try Tools.run(
            "ftrl-train", ["--bits", "10", "--progress-every", "1000", "--checkpoint-every", "1000", "-m", model, bad])
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.stderr.contains("bad.svm:3001:"), "\(run.stderr)")
        #expect(run.stderr.contains("note: the last checkpoint, after 3,000 examples, is in \(model).checkpoint"), "\(run.stderr)")
        #expect(try Self.bytes(model) == old, "-m changed by a failed run")
        // The checkpoint is the model of the 3,000 good rows.
        let fresh = dir.path("fresh.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", fresh, good]).status == 0)
        #expect(try Self.bytes(model + ".checkpoint") == Self.bytes(fresh))

        // Success: -m is written, the checkpoint removed; --checkpoint names another file.
        let elsewhere = dir.path("ck.ftrl")
        let ok = try Tools.run(
            "ftrl-train", ["-q", "--bits", "10", "--checkpoint-every", "1000", "--checkpoint", elsewhere, "-m", model, good])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try Self.bytes(model) == Self.bytes(fresh))
        #expect(!FileManager.default.fileExists(atPath: elsewhere))
        let same = try Tools.run("ftrl-train", ["-q", "--checkpoint-every", "10", "--checkpoint", model, "-m", model, good])
        #expect(same.status == 64)
        #expect(same.stderr.contains("same file"), "\(same.stderr)")
    }

    // MARK: A signal always ends with a written, resumable model

    /// SIGTERM while `--resume` loads a model (before the first example):
    /// exit 143, and `-m` holds the resumed state byte for byte. The model
    /// comes through a FIFO, so the signal lands mid-load for certain: the
    /// first half is written, the signal sent, then the rest.
    @Test func signalWhileAModelLoads() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.rows)
        let saved = dir.path("saved.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "16", "-m", saved, data]).status == 0)
        let bytes = try Self.bytes(saved)
        let fifo = dir.path("model.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let out = dir.path("out.ftrl")
        let process = Tools.asFromAShell("ftrl-train", ["--resume", fifo, "-m", out, data])
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Opening the FIFO returns once ftrl-train has opened it to load the model.
        guard let writer = FileHandle(forWritingAtPath: fifo) else {
            Issue.record("cannot open the FIFO")
            process.terminate()
            return
        }
        // A reader killed by the signal must fail this test, not end it by SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        try writer.write(contentsOf: bytes.prefix(bytes.count / 2))
        Thread.sleep(forTimeInterval: 0.2)
        kill(process.processIdentifier, SIGTERM)
        Thread.sleep(forTimeInterval: 0.2)
        try? writer.write(contentsOf: bytes.dropFirst(bytes.count / 2))
        try? writer.close()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "killed by the signal: \(stderr)")
        #expect(process.terminationStatus == 143, "\(stderr)")
        #expect(stderr.contains("stopped by SIGTERM after 0 examples"), "\(stderr)")
        #expect(FileManager.default.fileExists(atPath: out))
        if FileManager.default.fileExists(atPath: out) {
            #expect(try Self.bytes(out) == bytes)
        }
    }

    // MARK: Never a model of NaN

    @Test(arguments: [
        (["--learning-rate", "1e-320"], "rounds to 0 in float32"),
        (["--learning-rate", "1e-320", "--dtype", "float64"], "1 / learning_rate overflows"),
        (["--initial-accumulator-value", "1e39"], "initial_accumulator_value 1e+39 is too large for float32"),
        (["--l2-shrinkage", "1e39"], "l2_shrinkage_regularization_strength 1e+39 is too large for float32"),
        (["--l2-shrinkage", "1e308", "--dtype", "float64"], "2 * l2_shrinkage_regularization_strength overflows float64"),
        (["--beta", "1e38", "--learning-rate", "1e-3"], "beta / (2 * learning_rate) overflows float32"),
    ])
    func settingsThatOverflowAreRefused(_ flags: [String], _ message: String) throws {
        let dir = try TemporaryDirectory()
        let run = try Tools.run("ftrl-train", flags + ["-m", dir.path("m"), try dir.write("d.svm", Self.rows)])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("m")))
    }

    /// Values that pass every check but overflow the update: the run stops
    /// at that step with exit 65 and the old model is kept.
    @Test func overflowingExamplesStopTheRun() throws {
        let dir = try TemporaryDirectory()
        let model = dir.path("m.ftrl")
        let data = try dir.write("d.svm", Self.rows)
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", model, data]).status == 0)
        let old = try Self.bytes(model)
        let weights = try dir.write("w.txt", String(repeating: "1\n", count: 1500) + String(repeating: "1e39\n", count: 1500))
        let csv = try dir.write("w.csv", "label,w,a\n1,1,x\n0,1e39,y\n1,1,z\n")
        let huge = try dir.write("huge.svm", "1 1:1\n0 2:1e300\n")
        let cases: [([String], String)] = [
            (["--example-weights", weights, data], "step 1501"),
            (["--weight", "w", csv], "step 2"),
            ([huge], "step 2"),
            (["--dtype", "float64", huge], "overflowed float64"),
        ]
        for (args, part) in cases {
            let run = try Tools.run("ftrl-train", ["--bits", "10", "-m", model] + args)
            #expect(run.status == 65, "\(args): \(run.stderr)")
            #expect(run.stderr.contains("training diverged"), "\(run.stderr)")
            #expect(run.stderr.contains(part), "\(run.stderr)")
            #expect(run.stderr.contains("\(model) is unchanged"), "\(run.stderr)")
            #expect(try Self.bytes(model) == old)
        }
    }

    /// Scoring never prints NaN or a certainty made of an infinity: a value
    /// that overflows the model's precision is an error naming the example.
    @Test func scoringThatOverflowsIsRefused() throws {
        let dir = try TemporaryDirectory()
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", model, try dir.write("d.svm", Self.rows)]).status == 0)
        let run = try Tools.run("ftrl-predict", ["-m", model, try dir.write("huge.svm", "1 1:1\n0 999:1e300\n")])
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.stderr.contains("example 2 cannot be scored: its log-odds overflow float32"), "\(run.stderr)")
        #expect(!run.stdout.contains("nan"))
    }

    // MARK: Inputs read more than once

    /// `--epochs 3` on a pipe, a FIFO or standard input is refused at once
    /// (it used to train one pass, or hang on a FIFO); `/dev/stdin`
    /// redirected from a regular file can be read again and is accepted.
    @Test func epochsNeedRereadableInput() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.rows)
        let fifo = dir.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/bash")
        let train = Tools.binDirectory.appendingPathComponent("ftrl-train").path
        shell.arguments = [
            "-c",
            """
            t='\(train)'; m='\(dir.path("m.ftrl"))'
            timeout 20 "$t" -q --epochs 3 -m "$m" <(cat '\(data)'); echo "procsub $?"
            cat '\(data)' | timeout 20 "$t" -q --epochs 3 -m "$m" /dev/stdin; echo "devstdin $?"
            cat '\(data)' | timeout 20 "$t" -q --epochs 3 -m "$m"; echo "stdin $?"
            timeout 20 "$t" -q --epochs 3 -m "$m" '\(fifo)'; echo "fifo $?"
            timeout 20 "$t" -q --epochs 3 -m "$m" /dev/stdin < '\(data)'; echo "redirected $?"
            """,
        ]
        let out = Pipe()
        shell.standardOutput = out
        shell.standardError = FileHandle.nullDevice
        try shell.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        #expect(text == "procsub 64\ndevstdin 64\nstdin 64\nfifo 64\nredirected 0\n", "\(text)")
        let info = try Tools.run("ftrl-model", ["info", dir.path("m.ftrl")])
        #expect(info.stdout.contains("\"examples\": 9000"), "\(info.stdout)")
    }

    // MARK: CSV the reader and the parser read alike

    /// A quote inside an unquoted field (`5'11"`) is an ordinary character
    /// wherever the row is. It used to flip the reader's idea of "inside
    /// quotes", so that a later quoted field with a line break in it was cut
    /// in two between chunks: the same rows trained or failed depending on
    /// where they stood.
    @Test func strayQuoteReadsTheSameInAnyPosition() throws {
        let dir = try TemporaryDirectory()
        var rows: [String] = []
        var random = TestRandom(seed: 5)
        for i in 0..<300_000 {
            let rng = random.next()
            rows.append("\(i % 2),\(["a", "b", "c"][Int(rng >> 40) % 3]),\(["x", "y"][Int(rng >> 50) % 2])")
        }
        let pair = ["1,5'11\",z", "0,\"two\nlines\",y"]
        let header = "label,h,c\n"
        for (name, at) in [("early.csv", 10), ("late.csv", 299_990)] {
            var these = rows
            these.insert(contentsOf: pair, at: at)
            let path = try dir.write(name, header + these.joined(separator: "\n") + "\n")
            let run = try Tools.run("ftrl-train", ["--bits", "12", "--progress-every", "1000", "-m", path + ".ftrl", path])
            #expect(run.status == 0, "\(name): \(run.stderr)")
            #expect(run.stderr.contains("300,002 examples"), "\(name): \(run.stderr)")
            let scored = try Tools.run("ftrl-predict", ["-m", path + ".ftrl", path])
            #expect(scored.status == 0, "\(scored.stderr)")
            #expect(scored.stdout.split(separator: "\n").count == 300_002)
        }
    }

    /// An unterminated quote no longer reads the rest of a large file into
    /// memory: the record is refused at its line once it passes 64 MiB.
    @Test func unterminatedQuoteIsRefusedAtItsLine() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("open.csv")
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.write(Data("label,a\n1,x\n0,\"never closed\n".utf8))
        let block = Data(String(repeating: "1,abcdefgh\n", count: 100_000).utf8)
        for _ in 0..<70 { handle.write(block) }
        try handle.close()
        let run = try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", dir.path("m"), path])
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.stderr.contains("open.csv:3:"), "\(run.stderr)")
        #expect(run.stderr.contains("longer than 64 MiB"), "\(run.stderr)")
    }

    /// A UTF-8 byte-order mark before the header is not part of the first
    /// column's name: the model is the one of the same file without it.
    @Test func byteOrderMarkIsSkipped() throws {
        let dir = try TemporaryDirectory()
        let body = "label,a,\"b\"\n1,x,p\n0,y,q\n1,x,q\n"
        let plain = try dir.write("plain.csv", body)
        let marked = try dir.write("bom.csv", bytes: [0xEF, 0xBB, 0xBF] + Array(body.utf8))
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", dir.path("a.ftrl"), plain]).status == 0)
        let run = try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", dir.path("b.ftrl"), marked])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Self.bytes(dir.path("a.ftrl")) == Self.bytes(dir.path("b.ftrl")))
        // And scoring a file with a mark finds its header.
        let p = try Tools.run("ftrl-predict", ["-m", dir.path("a.ftrl"), marked])
        #expect(p.status == 0, "\(p.stderr)")
        #expect(p.stdout.split(separator: "\n").count == 3)
    }

    /// Names given twice: refused when training, so that no model exists
    /// that its own training file cannot be scored with.
    @Test func duplicateColumnNamesAreRefused() throws {
        let dir = try TemporaryDirectory()
        let tsv = try dir.write("d.tsv", "1\tx\ty\n0\tz\tw\n")
        let run = try Tools.run("ftrl-train", ["-q", "--columns", "label,a,a", "-m", dir.path("m"), tsv])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("column \"a\" is named twice"), "\(run.stderr)")
    }

    // MARK: Output that cannot be written is an error

    @Test func fullStandardOutputIsAnError() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.rows)
        let model = dir.path("m.ftrl")
        #expect(try Tools.run("ftrl-train", ["-q", "--bits", "10", "-m", model, data]).status == 0)
        let train = Tools.binDirectory.appendingPathComponent("ftrl-train").path
        let predict = Tools.binDirectory.appendingPathComponent("ftrl-predict").path
        let inspect = Tools.binDirectory.appendingPathComponent("ftrl-model").path
        for command in [
            "'\(inspect)' info '\(model)'", "'\(inspect)' state '\(model)'", "'\(inspect)' weights '\(model)'",
            "'\(train)' --print-config", "'\(predict)' -m '\(model)' '\(data)'",
        ] {
            let run = try Tools.runShell(command + " > /dev/full")
            let stderr = run.stderr
            #expect(run.status == 74, "\(command): \(stderr)")
            #expect(stderr.contains("No space left on device"), "\(command): \(stderr)")
        }
    }

    // MARK: Memory

    /// `--bits 29 --table dense` in a memory cgroup of 3 GiB: refused up front
    /// with the size needed and a --bits that fits, instead of the kernel's
    /// kill; `auto` takes the sparse table there and trains.
    @Test func tableLargerThanTheMemoryLimitIsRefused() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.rows)
        let group = try MemoryCgroup(limit: 3 << 30)
        let train = Tools.binDirectory.appendingPathComponent("ftrl-train").path
        let run = try group.run("'\(train)' -q --bits 29 --table dense -m '\(dir.path("m.ftrl"))' '\(data)'")
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("a table of 2^29 slots needs 8192 MiB"), "\(run.stderr)")
        #expect(run.stderr.contains("lower --bits to 27 or less"), "\(run.stderr)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter {
            $0.contains(".tmp") || $0.hasSuffix(".ftrl")
        }
        #expect(leftovers.isEmpty)
        // The size it suggests fits and trains.
        let fits = try group.run("'\(train)' -q --bits 27 --table dense -m '\(dir.path("m.ftrl"))' '\(data)'")
        #expect(fits.status == 0, "\(fits.stderr)")
        let sparse = try group.run("'\(train)' -q --bits 29 -m '\(dir.path("m.ftrl"))' '\(data)'")
        #expect(sparse.status == 0, "\(sparse.stderr)")
    }

    // MARK: Hygiene

    /// Terminal escape sequences in a header reach the terminal as text.
    @Test func controlCharactersInMessagesAreEscaped() throws {
        let dir = try TemporaryDirectory()
        let csv = try dir.write("esc.csv", "\u{1B}[31mred\u{1B}]0;owned\u{07},a\n1,x\n")
        let run = try Tools.run("ftrl-train", ["-q", "-m", dir.path("m"), csv])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(!run.stderr.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "\(run.stderr.debugDescription)")
        #expect(run.stderr.contains("\\x1b[31mred\\x1b]0;owned\\x07"), "\(run.stderr)")
    }

    /// Compressed formats other than gzip are named, from their magic bytes.
    @Test(
        arguments: [
            ([0x42, 0x5A, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59], "bzip2"),
            ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00, 0x04], "xz"),
            ([0x28, 0xB5, 0x2F, 0xFD, 0x24, 0x00], "zstd"),
            ([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00], "zip"),
            ([0x04, 0x22, 0x4D, 0x18, 0x64, 0x40], "lz4"),
        ] as [([UInt8], String)])
    func otherCompressionIsNamed(_ magic: [UInt8], _ name: String) throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("d.svm.x", bytes: magic + Array(repeating: 0x11, count: 64))
        let run = try Tools.run("ftrl-train", ["-q", "-m", dir.path("m"), path])
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.stderr.contains("d.svm.x: is \(name == "zip" ? "a zip archive" : name) data"), "\(run.stderr)")
    }

    /// A model path that cannot be written fails before any input is read
    /// (standard input here is a pipe that never ends: reading it would hang).
    @Test func unwritableModelFailsBeforeReading() throws {
        let dir = try TemporaryDirectory()
        let name = String(repeating: "m", count: 300)
        let process = Process()
        process.executableURL = Tools.binDirectory.appendingPathComponent("ftrl-train")
        process.arguments = ["-m", dir.path(name), "-"]
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let finished = !process.isRunning
        if !finished { process.terminate() }
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(finished, "still reading its input")
        #expect(process.terminationStatus == 74, "\(stderr)")
        #expect(stderr.contains("File name too long"), "\(stderr)")
    }

    /// A missing --config is reported as a config, not as a model.
    @Test func missingConfigIsNamedAsAConfig() throws {
        let dir = try TemporaryDirectory()
        let run = try Tools.run("ftrl-train", ["--config", dir.path("absent.json"), "--print-config"])
        #expect(run.status == 66)
        #expect(run.stderr.contains("cannot open config"), "\(run.stderr)")
    }
}

/// A child memory cgroup (v1 or v2) of the one this test runs in, with a
/// limit, removed when the value goes away. The test fails when none can
/// be made: it needs root and a cgroup file system, as CI has.
final class MemoryCgroup {
    let path: String
    let procs: String

    init(limit: Int) throws {
        let own = try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8).split(separator: "\n")
        var made: (String, String)?
        for line in own {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { continue }
            let name = "ftrl-test-\(UUID().uuidString)"
            if parts[1].split(separator: ",").contains("memory") {
                let dir = "/sys/fs/cgroup/memory" + parts[2] + "/" + name
                if mkdir(dir, 0o755) == 0 {
                    try "\(limit)".write(toFile: dir + "/memory.limit_in_bytes", atomically: false, encoding: .utf8)
                    made = (dir, dir + "/cgroup.procs")
                    break
                }
            } else if parts[0] == "0" {
                for mount in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
                    let parent = mount + parts[2]
                    guard FileManager.default.fileExists(atPath: parent + "/cgroup.controllers") else { continue }
                    let dir = parent + "/" + name
                    if mkdir(dir, 0o755) == 0,
                        (try? "\(limit)".write(toFile: dir + "/memory.max", atomically: false, encoding: .utf8)) != nil
                    {
                        made = (dir, dir + "/cgroup.procs")
                        break
                    }
                    rmdir(dir)
                }
            }
        }
        guard let made else {
            Issue.record("cannot make a memory cgroup here (needs root and a writable cgroup file system)")
            throw CocoaError(.featureUnsupported)
        }
        (path, procs) = made
    }

    deinit { rmdir(path) }

    /// Runs a shell command inside the cgroup.
    func run(_ command: String) throws -> ToolRun {
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "echo $$ > '\(procs)' && exec " + command]
        let out = Pipe()
        let errors = Pipe()
        shell.standardOutput = out
        shell.standardError = errors
        try shell.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        return ToolRun(status: shell.terminationStatus, stdout: stdout, stderr: stderr)
    }
}
