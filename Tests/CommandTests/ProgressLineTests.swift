import FTRLTestSupport
import Foundation
import Testing

/// `ftrl-train`'s progress on a terminal: one line redrawn in place (share
/// of the input read, time left, examples, rate, logloss), cleared before
/// the closing line; plain lines without control characters elsewhere.
/// The terminal is a pseudo-terminal from util-linux `script`.
struct ProgressLineTests {
    static let log = PipelineTests.sampleLog(rows: 30000)

    /// Runs `command` (a shell command line) with standard error on a
    /// pseudo-terminal and returns what the terminal received.
    static func onTerminal(_ command: String, in dir: TemporaryDirectory) throws -> String {
        let script = "/usr/bin/script"
        #expect(FileManager.default.isExecutableFile(atPath: script), "util-linux script is needed (apt-get install bsdutils)")
        let typescript = dir.path("typescript")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = ["-q", "-e", "-c", command, typescript]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(command)")
        return try String(decoding: Data(contentsOf: URL(fileURLWithPath: typescript)), as: UTF8.self)
    }

    /// The lines drawn in place: the text after each carriage return up to the erase-line sequence.
    static func drawn(_ screen: String) -> [String] {
        screen.components(separatedBy: "\r").dropFirst().compactMap { part in
            part.range(of: "\u{1B}[K").map { String(part[..<$0.lowerBound]) }
        }.filter { !$0.isEmpty }
    }

    @Test func aTerminalGetsOneLineRedrawnInPlace() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.log)
        let train = Tools.binDirectory.appendingPathComponent("ftrl-train").path
        let screen = try Self.onTerminal(
            "\(train) --bits 12 --progress-every 0 -m \(dir.path("m.ftrl")) \(data) > \(dir.path("out"))", in: dir)
        let lines = Self.drawn(screen)
        #expect(lines.count >= 5, "\(screen.debugDescription)")
        var previous = -1.0
        for line in lines {
            #expect(line.hasPrefix("ftrl-train: "), "\(line)")
            #expect(line.count < 80, "cut to the terminal's width: \(line)")
            // "ftrl-train: 42.0%  0:01 left  12,288 ex  ..."
            let words = line.split(separator: " ")
            let percent = try #require(Double(words[1].dropLast()), "\(line)")
            #expect(words[1].hasSuffix("%") && percent >= previous && percent <= 100, "\(line)")
            previous = percent
            #expect(words[3] == "left" && words[2].contains(":"), "\(line)")
            #expect(line.contains(" ex/s "), "\(line)")
        }
        #expect(previous > 50, "the share read grows to the end: \(lines)")
        // The closing line comes after the progress line is erased, on a line of its own.
        let close = try #require(screen.range(of: "ftrl-train: 30,000 examples in "), "\(screen.debugDescription)")
        #expect(screen[..<close.lowerBound].hasSuffix("\r\u{1B}[K"), "\(screen.debugDescription)")
        #expect(try String(contentsOfFile: dir.path("out"), encoding: .utf8).isEmpty, "standard output stays quiet")
    }

    @Test func inputOfUnknownSizeHasNoShareAndAPipeGetsPlainLines() throws {
        let dir = try TemporaryDirectory()
        let data = try dir.write("d.svm", Self.log)
        let train = Tools.binDirectory.appendingPathComponent("ftrl-train").path
        // Standard input from a pipe: its size is not known, so neither is the share.
        let screen = try Self.onTerminal("cat \(data) | \(train) --bits 12 --progress-every 0 -m \(dir.path("m.ftrl")) -", in: dir)
        let lines = Self.drawn(screen)
        #expect(!lines.isEmpty, "\(screen.debugDescription)")
        for line in lines { #expect(!line.contains("%") && !line.contains("left") && line.contains(" ex/s "), "\(line)") }
        // Standard error not a terminal: plain lines, as in a log file.
        let plain = try Tools.run("ftrl-train", ["--bits", "12", "--progress-every", "0", "-m", dir.path("p.ftrl"), data])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(!plain.stderr.contains("\r") && !plain.stderr.contains("\u{1B}"), "\(plain.stderr.debugDescription)")
        #expect(plain.stderr.split(separator: "\n").count >= 5)
        #expect(plain.stderr.contains(" examples  ") && plain.stderr.contains("progressive logloss"))
    }
}
