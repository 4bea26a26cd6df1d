import Glibc

/// Groups thousands: 1234567 -> "1,234,567".
public func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}

/// Groups thousands of an unsigned count.
public func grouped(_ n: UInt64) -> String { grouped(Int(clamping: n)) }

/// A number with `places` decimals.
public func fixed(_ x: Double, _ places: Int) -> String {
    var buf = [CChar](repeating: 0, count: 64)
    _ = withVaList([x]) { vsnprintf(&buf, 64, "%.\(places)f", $0) }
    return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
