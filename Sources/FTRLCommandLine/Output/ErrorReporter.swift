import FTRL
import Glibc

/// Writes a line to standard error, with control characters (terminal
/// escape sequences among them) shown as `\xNN`: messages quote column
/// names, paths and other text that came from the input.
public func printError(_ line: String) {
    writeError(terminalSafe(line) + "\n")
}

/// Writes `text` to standard error as it is.
func writeError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }  // nowhere left to report to
        bytes = bytes.dropFirst(n)
    }
}

/// `text` with the C0 and C1 control characters and DEL written as `\xNN`,
/// so that printing it cannot move the cursor, recolour or retitle a terminal.
public func terminalSafe(_ text: String) -> String {
    if !text.unicodeScalars.contains(where: isControl) { return text }
    var out = ""
    for u in text.unicodeScalars {
        if isControl(u) {
            let hex = String(u.value, radix: 16)
            out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
        } else {
            out.unicodeScalars.append(u)
        }
    }
    return out
}

@inline(__always)
private func isControl(_ u: Unicode.Scalar) -> Bool {
    u.value < 0x20 || (u.value >= 0x7F && u.value <= 0x9F)
}

extension FTRLError {
    /// Prints the error as `COMMAND: error: ...` on standard error, then
    /// each note as `COMMAND: note: ...`: the one error reporter of every command.
    public func report(as command: String) {
        if kind == .closedPipe { return }
        printError("\(command): error: \(self)")
        for note in notes { printError("\(command): note: \(note)") }
    }
}

/// Runs a command's body, turning a library error into its report on
/// standard error and the exit code it stands for: the one place where the
/// commands meet `FTRLError`.
/// - Parameters:
///   - command: the name the report starts with (`ftrl-train`, `ftrl-model info`).
///   - body: the command's work; it returns an exit status (0 for success).
/// - Returns: the status `body` returned, or the error's exit code.
public func reportingErrors(as command: String, _ body: () throws(FTRLError) -> Int32) -> Int32 {
    do {
        return try body()
    } catch {
        error.report(as: command)
        return error.exitCode
    }
}
