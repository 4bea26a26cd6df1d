import Foundation

/// Runs the built command-line tools the way a user does and captures what
/// they print, so tests can check stdout, stderr and the exit code.
public struct ToolRun {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

public enum Tools {
    /// The package root, found from this file's path.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Test fixtures (golden vectors, small edge-case files).
    public static let fixtures = root.appendingPathComponent("Tests/Fixtures")

    /// Where the built executables are: `FTRL_BIN_DIR`, or beside the test bundle.
    public static let binDirectory: URL = {
        if let dir = ProcessInfo.processInfo.environment["FTRL_BIN_DIR"] {
            return URL(fileURLWithPath: dir)
        }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("ftrl-train").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir
    }()

    /// Runs `tool` with `arguments`; `stdin` is a file to feed it, or nothing.
    public static func run(_ tool: String, _ arguments: [String], stdin: URL? = nil) throws -> ToolRun {
        let process = Process()
        process.executableURL = binDirectory.appendingPathComponent(tool)
        process.arguments = arguments
        let scratch = try TemporaryDirectory()
        let out = scratch.url.appendingPathComponent("stdout")
        let err = scratch.url.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out)
        let errHandle = try FileHandle(forWritingTo: err)
        process.standardOutput = outHandle
        process.standardError = errHandle
        if let stdin {
            process.standardInput = try FileHandle(forReadingFrom: stdin)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return ToolRun(
            status: process.terminationStatus,
            stdout: try String(contentsOf: out, encoding: .utf8),
            stderr: try String(contentsOf: err, encoding: .utf8))
    }
}

extension Tools {
    /// Runs `script` with /bin/sh, standard output discarded, and returns its
    /// status and standard error (for limits and redirections a test sets up
    /// in the shell: `ulimit -f`, `> /dev/full`).
    public static func runShell(_ script: String) throws -> ToolRun {
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", script]
        shell.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        shell.standardError = errors
        try shell.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        return ToolRun(status: shell.terminationStatus, stdout: "", stderr: stderr)
    }

    /// A process that runs `tool` as a shell would start it, with SIGINT and
    /// SIGTERM unblocked: the test runner's threads block them, and a blocked
    /// signal would wait for the tool's own handler. Not started yet.
    public static func asFromAShell(_ tool: String, _ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "python3", "-c",
                "import os, signal, sys; signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT]); os.execv(sys.argv[1], sys.argv[1:])",
                binDirectory.appendingPathComponent(tool).path,
            ] + arguments
        return process
    }
}

/// A directory of its own for one test, removed when the value goes away.
public final class TemporaryDirectory {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ftrl-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// A path inside the directory.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `text` to `name` and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: url.appendingPathComponent(name))
        return path(name)
    }

    /// Writes `bytes` to `name` and returns its path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        try write(name, bytes: bytes)
    }

    /// Writes `bytes` to `name` and returns its path.
    @discardableResult
    public func write(_ name: String, bytes: [UInt8]) throws -> String {
        try Data(bytes).write(to: url.appendingPathComponent(name))
        return path(name)
    }
}

/// Gzip-compresses a file with the system's gzip, as users' files are made.
public func gzipFile(_ path: String, to target: String) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "gzip -c -n '\(path)' > '\(target)'"]
    try p.run()
    p.waitUntilExit()
    precondition(p.terminationStatus == 0, "gzip failed")
}

/// A figure of a metrics line (`logloss 0.45678  auc 0.76543 ...`), or nil
/// when stderr has none: tests `#require` it rather than crash on a missing line.
public func metric(_ name: String, in stderr: String) -> Double? {
    stderr.components(separatedBy: name + " ").dropFirst().first.flatMap { Double($0.prefix { "0123456789.-+e".contains($0) }) }
}

/// Parses a TSV with a header into rows of fields.
public func tsvRows(_ text: String) -> [[String]] {
    text.split(separator: "\n", omittingEmptySubsequences: true).dropFirst().map {
        $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    }
}

/// Runs a shell command (gzip, cat) and stops the test run loudly if it fails.
public func shell(_ command: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    try! p.run()
    p.waitUntilExit()
    precondition(p.terminationStatus == 0, "failed: \(command)")
}

/// A small deterministic generator for test data (Knuth's MMIX linear
/// congruential generator): the same rows on every run and machine.
public struct TestRandom {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits (the high ones are the good ones).
    public mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state
    }

    /// A number in 0..<n.
    public mutating func below(_ n: Int) -> Int { Int((next() >> 33) % UInt64(n)) }

    /// A number in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
