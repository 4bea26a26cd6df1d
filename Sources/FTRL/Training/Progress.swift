import Glibc

/// Writes a line to standard error.
public func printError(_ line: String) {
    var text = line
    if !text.hasSuffix("\n") { text += "\n" }
    fputs(text, stderr)
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
