/// A JSON value, with objects keeping their key order so that configs are
/// written back exactly as they were laid out.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value of `key` in an object.
    public subscript(key: String) -> JSON? {
        if case .object(let members) = self {
            return members.first { $0.0 == key }?.1
        }
        return nil
    }

    /// Parses JSON text.
    /// - Parameter text: the document.
    /// - Returns: the value.
    /// - Throws: `FTRLError` (.usage) with the byte offset of the problem.
    public static func parse(_ text: String) throws(FTRLError) -> JSON {
        var reader = Reader(bytes: Array(text.utf8))
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        if reader.index != reader.bytes.count { throw reader.error("unexpected text after the JSON value") }
        return value
    }

    /// The value as compact-but-readable JSON: objects one key per line with
    /// `indent` spaces, numbers in the shortest form that reads back exactly.
    public func rendered(indent: Int = 2, level: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent * (level + 1))
        let close = String(repeating: " ", count: indent * level)
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d): return JSON.format(d)
        case .string(let s): return JSON.quote(s)
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[" + items.map { $0.rendered(indent: 0, level: 0) }.joined(separator: ", ") + "]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            if indent == 0 {
                return "{" + members.map { JSON.quote($0.0) + ": " + $0.1.rendered(indent: 0) }.joined(separator: ", ") + "}"
            }
            let body = members.map { pad + JSON.quote($0.0) + ": " + $0.1.rendered(indent: indent, level: level + 1) }
            return "{\n" + body.joined(separator: ",\n") + "\n" + close + "}"
        }
    }

    /// A number as JSON: integers without a fraction, others in Swift's
    /// shortest round-trip form.
    public static func format(_ d: Double) -> String {
        if d == d.rounded() && abs(d) < 1e15 {
            return d == 0 && d.sign == .minus ? "-0.0" : String(Int64(d)) + ".0"
        }
        return "\(d)"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                // Control characters (C1 and DEL too) as escapes: a config
                // printed to a terminal cannot carry escape sequences.
                if u.value < 0x20 || (u.value >= 0x7F && u.value <= 0x9F) {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        func error(_ message: String) -> FTRLError {
            FTRLError(.usage, "invalid JSON at byte \(index): \(message)")
        }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func literal(_ word: String, _ value: JSON) throws(FTRLError) -> JSON {
            let w = Array(word.utf8)
            if index + w.count <= bytes.count && Array(bytes[index..<index + w.count]) == w {
                index += w.count
                return value
            }
            throw error("unexpected character")
        }

        mutating func value(depth: Int) throws(FTRLError) -> JSON {
            if depth > 64 { throw error("nested too deeply") }
            guard index < bytes.count else { throw error("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["):
                index += 1
                var items: [JSON] = []
                skipSpace()
                if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(items)
                }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard index < bytes.count else { throw error("unexpected end in array") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                    throw error("expected ',' or ']'")
                }
            case UInt8(ascii: "{"):
                index += 1
                var members: [(String, JSON)] = []
                skipSpace()
                if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                }
                while true {
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key") }
                    let key = try string()
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
                    index += 1
                    skipSpace()
                    if members.contains(where: { $0.0 == key }) { throw error("duplicate key \"\(key)\"") }
                    members.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard index < bytes.count else { throw error("unexpected end in object") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                    throw error("expected ',' or '}'")
                }
            default:
                let start = index
                while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                guard !text.isEmpty, let d = Double(text), d.isFinite else {
                    index = start
                    throw error("expected a value")
                }
                return .number(d)
            }
        }

        /// Four hex digits after `\u`, consumed.
        mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var v: UInt32 = 0
            for k in 0..<4 {
                let c = bytes[index + k]
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
                default: return nil
                }
                v = v << 4 | UInt32(d)
            }
            index += 4
            return v
        }

        mutating func string() throws(FTRLError) -> String {
            index += 1
            var out: [UInt8] = []
            while index < bytes.count {
                let b = bytes[index]
                index += 1
                if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if b == UInt8(ascii: "\\") {
                    guard index < bytes.count else { break }
                    let e = bytes[index]
                    index += 1
                    switch e {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard var v = hex4() else { throw error("bad \\u escape") }
                        if v >= 0xD800 && v < 0xDC00 {
                            // A UTF-16 surrogate pair: \uD83D\uDE00 is one scalar.
                            guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                            else { throw error("a high surrogate \\u escape without its low half") }
                            index += 2
                            guard let low = hex4(), low >= 0xDC00 && low < 0xE000 else {
                                throw error("a high surrogate \\u escape without its low half")
                            }
                            v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(v) else { throw error("a lone low surrogate \\u escape") }
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default: out.append(e)
                    }
                } else {
                    out.append(b)
                }
            }
            throw error("unterminated string")
        }
    }
}
