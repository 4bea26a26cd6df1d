import FTRL
import Glibc

/// Prints a run's progress to standard error. On a terminal, one line
/// redrawn in place, about five times a second; elsewhere (a pipe, a file,
/// a log) plain lines, at most one every `interval` seconds.
public final class Progress {
    let interval: Double
    let prefix: String
    let start = Progress.now()
    var nextReport: Double
    /// Whether the progress line is redrawn in place (standard error is a terminal).
    public let inPlace: Bool
    /// Whether a line drawn in place is on the screen.
    private var drawn = false

    /// A reporter; `interval` nil means quiet. `terminal`: whether standard
    /// error is a terminal (by default, as `isatty` says).
    public init(prefix: String, interval: Double?, terminal: Bool = isatty(2) != 0) {
        self.prefix = prefix
        inPlace = terminal && interval != nil
        let every = interval.map { terminal ? min($0, 0.2) : $0 } ?? .infinity
        self.interval = every
        nextReport = start + every
    }

    deinit {
        clear()
    }

    /// Whether reports are printed at all.
    public var isQuiet: Bool { interval == .infinity }

    /// Seconds since the start.
    public var elapsed: Double { Progress.now() - start }

    /// Reports the message when the interval has passed (the message is made only then).
    @inline(__always)
    public func tick(_ message: () -> String) {
        if interval == .infinity { return }
        let now = Progress.now()
        if now >= nextReport {
            nextReport = now + interval
            if inPlace { draw(message()) } else { printError(prefix + message()) }
        }
    }

    /// Prints a line unless quiet (below the line drawn in place, which it clears).
    public func say(_ message: String) {
        clear()
        if !isQuiet { printError(prefix + message) }
    }

    /// Removes the line drawn in place, if any: before anything else goes to standard error.
    public func clear() {
        if drawn {
            writeError("\r\u{1B}[K")
            drawn = false
        }
    }

    /// Draws `text` over the current line, cut to the terminal's width so that it never wraps.
    private func draw(_ text: String) {
        var line = terminalSafe(prefix + text)
        let width = Self.columns()
        if line.count >= width { line = String(line.prefix(max(0, width - 1))) }
        writeError("\r" + line + "\u{1B}[K")
        drawn = true
    }

    /// The terminal's width in columns (80 when it does not say).
    private static func columns() -> Int {
        var size = winsize()
        if ioctl(2, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    /// The share done as a percentage, and the time left at the pace so
    /// far: `42.0%  0:13 left`; empty when the input's size is not known.
    public func share(_ input: InputShare) -> String {
        guard let done = input.done, done > 0 else { return "" }
        let left = elapsed * (1 - done) / done
        return "\(fixed(done * 100, 1))%  \(Self.clock(left)) left  "
    }

    /// Seconds as `m:ss` or `h:mm:ss`.
    static func clock(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        let (h, m, r) = (s / 3600, s / 60 % 60, s % 60)
        func two(_ x: Int) -> String { x < 10 ? "0\(x)" : "\(x)" }
        return h > 0 ? "\(h):\(two(m)):\(two(r))" : "\(m):\(two(r))"
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
