import Glibc

/// Buffered writes to a file descriptor (standard output by default).
public final class OutputWriter {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let name: String

    /// A writer to `fd`, named `name` in messages.
    public init(fd: Int32 = 1, name: String = "<stdout>") {
        self.fd = fd
        self.name = name
        buffer.reserveCapacity(1 << 16)
    }

    /// Appends a line.
    @inline(__always)
    public func line(_ text: String) throws(FTRLError) {
        buffer.append(contentsOf: text.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Writes out what is buffered.
    public func flush() throws(FTRLError) {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE {
                    // SIGPIPE is ignored (a parent set it so): end as the signal would, quietly.
                    buffer.removeAll(keepingCapacity: true)
                    throw FTRLError(.closedPipe, "the reader of \(name) went away")
                }
                let reason = String(cString: strerror(errno))
                buffer.removeAll(keepingCapacity: true)
                throw FTRLError(.io, "write failed: \(reason)", path: name)
            }
            done += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
