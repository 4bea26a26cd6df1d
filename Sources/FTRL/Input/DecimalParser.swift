import Glibc

/// Turns the text of a decimal number into the nearest `Double`.
///
/// The common forms in click logs (`1`, `0.5`, `-1.759`, `3e-2`) take a fast
/// path that is exact: when the digits fit in 2^53 and the power of ten is at
/// most 22, both are exact doubles and one IEEE multiplication or division
/// rounds correctly (Clinger's fast path). Everything else (long mantissas,
/// large exponents, `nan`, `inf`, hex floats) goes to `strtod`.
struct DecimalParser {
    /// Powers of ten that are exact in a double, 10^0 ... 10^22. A pointer
    /// held by the parser, so the hot path has no global to check.
    private let powersOfTen: UnsafePointer<Double> = DecimalParser.table

    // Written once, by the lazy initializer (which Swift runs exactly once,
    // thread-safely), and only read after: no thread can see it change.
    nonisolated(unsafe) private static let table: UnsafePointer<Double> = {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: 23)
        var x = 1.0
        for e in 0...22 {
            p[e] = x
            x *= 10
        }
        return UnsafePointer(p)
    }()

    /// 10^k as a double, for k in 0...22.
    @inline(__always)
    func powerOfTen(_ k: Int) -> Double { powersOfTen[k] }

    /// Parses `bytes[start..<end]` as a number.
    /// - Returns: the value (which may be infinite or NaN when the text says
    ///   so), or nil when the text is not a number.
    @inline(__always)
    func parse(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        var i = start
        if i == end { return nil }
        var negative = false
        if bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        } else if bytes[i] == UInt8(ascii: "+") {
            i += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        var sawDigit = false
        while i < end, bytes[i] &- 48 < 10 {
            sawDigit = true
            if digits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 48)
                if mantissa != 0 { digits += 1 }
            } else {
                return Self.slow(bytes, start, end)
            }
            i += 1
        }
        if i < end, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < end, bytes[i] &- 48 < 10 {
                sawDigit = true
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 48)
                    if mantissa != 0 { digits += 1 }
                    exponent -= 1
                } else {
                    return Self.slow(bytes, start, end)
                }
                i += 1
            }
        }
        if !sawDigit { return Self.slow(bytes, start, end) }
        if i < end, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            var expNegative = false
            if i < end, bytes[i] == UInt8(ascii: "-") {
                expNegative = true
                i += 1
            } else if i < end, bytes[i] == UInt8(ascii: "+") {
                i += 1
            }
            var e = 0
            var expDigits = 0
            while i < end, bytes[i] &- 48 < 10 {
                if e < 100_000 { e = e * 10 + Int(bytes[i] &- 48) }
                expDigits += 1
                i += 1
            }
            if expDigits == 0 { return nil }
            exponent += expNegative ? -e : e
        }
        if i != end { return nil }
        if mantissa == 0 { return negative ? -0.0 : 0.0 }
        if mantissa <= (1 << 53) && exponent >= -22 && exponent <= 22 {
            var value = Double(mantissa)
            if exponent < 0 {
                value /= powersOfTen[-exponent]
            } else {
                value *= powersOfTen[exponent]
            }
            return negative ? -value : value
        }
        return Self.slow(bytes, start, end)
    }

    /// `strtod` on a NUL-terminated copy of the token; nil unless it reads
    /// the whole token. Any length: a decimal with many digits is still a
    /// number (the copy is on the heap when it is long).
    @inline(never)
    static func slow(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        let length = end - start
        if length <= 0 { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buf -> Double? in
            for k in 0..<length { buf[k] = CChar(bitPattern: bytes[start + k]) }
            buf[length] = 0
            var endPtr: UnsafeMutablePointer<CChar>? = nil
            let value = strtod(buf.baseAddress!, &endPtr)
            guard let endPtr, endPtr == buf.baseAddress! + length else { return nil }
            return value
        }
    }
}
