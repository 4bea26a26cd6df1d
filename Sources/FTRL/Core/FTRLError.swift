/// The one error type of the library: what went wrong, where, and the exit
/// code (sysexits) a command should end with.
public struct FTRLError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The class of failure; it decides the exit code.
    public enum Kind: Int32, Sendable {
        /// Bad flags or settings (EX_USAGE).
        case usage = 64
        /// Bad input data or a bad model file (EX_DATAERR).
        case data = 65
        /// An input file that cannot be opened (EX_NOINPUT).
        case noInput = 66
        /// A read or write that failed (EX_IOERR).
        case io = 74
        /// The reader of standard output went away (`| head`): not a
        /// failure; the command ends at once, quietly, with status 0.
        case closedPipe = 0
    }

    /// The class of failure.
    public var kind: Kind
    /// What is wrong, without the location.
    public var message: String
    /// The file it concerns, if any (`-` is standard input).
    public var path: String?
    /// The 1-based line of `path`, if any.
    public var line: Int?
    /// The offending text, if any.
    public var text: String?
    /// Further lines for the user: what was kept, how to go on.
    public var notes: [String] = []

    /// Creates an error.
    /// - Parameters:
    ///   - kind: the class of failure.
    ///   - message: what is wrong.
    ///   - path: the file concerned.
    ///   - line: the 1-based line in that file.
    ///   - text: the offending text.
    public init(_ kind: Kind, _ message: String, path: String? = nil, line: Int? = nil, text: String? = nil) {
        self.kind = kind
        self.message = message
        self.path = path
        self.line = line
        self.text = text
    }

    /// The sysexits code for this error.
    public var exitCode: Int32 { kind.rawValue }

    /// `path:line: message in "text"`, the form every command prints after `NAME: error: `.
    public var description: String {
        var s = ""
        if let path {
            s += path == "-" ? "<stdin>" : path
            if let line { s += ":\(line)" }
            s += ": "
        }
        s += message
        if let text { s += " in \"\(text)\"" }
        return s
    }
}

extension FTRLError {
    /// Renders raw input bytes for a message: printable ASCII as it is,
    /// everything else escaped, cut to a readable length.
    static func quote(_ bytes: UnsafeRawBufferPointer, limit: Int = 60) -> String {
        var s = ""
        for (i, b) in bytes.enumerated() {
            if i == limit {
                s += "..."
                break
            }
            switch b {
            case 0x5C: s += "\\\\"
            case 0x22: s += "\\\""
            case 0x20...0x7E: s.unicodeScalars.append(Unicode.Scalar(b))
            case 0x09: s += "\\t"
            case 0x0D: s += "\\r"
            default:
                let hex = String(b, radix: 16)
                s += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return s
    }
}
