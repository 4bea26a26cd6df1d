import Glibc

/// Prints a run's progress lines to standard error, at most one every
/// `interval` seconds.
public final class Progress {
    let interval: Double
    let prefix: String
    let start = Progress.now()
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
    public var elapsed: Double { Progress.now() - start }

    /// Prints the message when the interval has passed (the message is made only then).
    @inline(__always)
    public func tick(_ message: () -> String) {
        if interval == .infinity { return }
        let now = Progress.now()
        if now >= nextReport {
            nextReport = now + interval
            printError(prefix + message())
        }
    }

    /// Prints a line unless quiet.
    public func say(_ message: String) {
        if !isQuiet { printError(prefix + message) }
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
