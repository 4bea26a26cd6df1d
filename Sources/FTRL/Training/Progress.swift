import Glibc

/// Writes a line to standard error, with control characters (terminal
/// escape sequences among them) shown as `\xNN`: messages quote column
/// names, paths and other text that came from the input.
public func printError(_ line: String) {
    var text = terminalSafe(line)
    text += "\n"
    fputs(text, stderr)
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

/// Prints training progress to standard error every `interval` seconds.
public final class Progress {
    let interval: Double
    let prefix: String
    let start = Clock.now()
    var nextReport: Double

    /// A reporter; `interval` nil means quiet.
    public init(prefix: String, interval: Double?) {
        self.prefix = prefix
        self.interval = interval ?? .infinity
        nextReport = start + (interval ?? .infinity)
    }

    /// Whether reports are printed at all.
    public var isQuiet: Bool { interval == .infinity }

    /// Seconds since the start.
    public var elapsed: Double { Clock.now() - start }

    /// Reports when the interval has passed.
    @inline(__always)
    func tick(_ message: () -> String) {
        if interval == .infinity { return }
        let now = Clock.now()
        if now >= nextReport {
            nextReport = now + interval
            printError(prefix + message())
        }
    }

    /// Prints a line unless quiet.
    public func say(_ message: String) {
        if !isQuiet { printError(prefix + message) }
    }
}

/// Groups thousands: 1234567 -> "1,234,567".
func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}

/// A number with `places` decimals.
func fixed(_ x: Double, _ places: Int) -> String {
    var buf = [CChar](repeating: 0, count: 64)
    _ = withVaList([x]) { vsnprintf(&buf, 64, "%.\(places)f", $0) }
    return String(cString: buf)
}
