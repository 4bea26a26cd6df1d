/// Reads `--example-weights`: one non-negative importance weight per
/// training row, in row order (plain or gzip).
public enum ExampleWeightsFile {
    /// The weights of `path`.
    /// - Throws: `FTRLError` naming the line of a value that is not a finite number >= 0.
    public static func read(path: String) throws(FTRLError) -> [Double] {
        let stream = try ByteStream(path: path)
        var weights: [Double] = []
        var pending: [UInt8] = []
        let chunk = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 16)
        defer { chunk.deallocate() }
        var line = 0
        func take(_ bytes: [UInt8]) throws(FTRLError) {
            line += 1
            var b = bytes[...]
            if b.last == 0x0D { b = b.dropLast() }
            while let f = b.first, f == 0x20 || f == 0x09 { b = b.dropFirst() }
            while let l = b.last, l == 0x20 || l == 0x09 { b = b.dropLast() }
            if b.isEmpty { return }
            let value = Array(b).withUnsafeBufferPointer { DecimalParser().parse($0.baseAddress!, 0, $0.count) }
            guard let value, value.isFinite, value >= 0 else {
                throw FTRLError(
                    .data, "expected an example weight (a finite number >= 0)", path: path, line: line,
                    text: Array(b).withUnsafeBytes { FTRLError.quote($0) })
            }
            weights.append(value)
        }
        while true {
            let n = try stream.read(into: chunk, capacity: 1 << 16)
            if n == 0 { break }
            for i in 0..<n {
                if chunk[i] == 0x0A {
                    try take(pending)
                    pending.removeAll(keepingCapacity: true)
                } else {
                    pending.append(chunk[i])
                }
            }
        }
        if !pending.isEmpty { try take(pending) }
        return weights
    }
}
