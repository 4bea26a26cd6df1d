/// MurmurHash3_x86_32 written for the tests from Austin Appleby's published
/// description (SMHasher, `MurmurHash3.cpp`), independently of the
/// library's implementation: blocks of four little-endian bytes mixed with
/// c1 = 0xcc9e2d51, c2 = 0x1b873593, rotations 15 and 13, `h * 5 +
/// 0xe6546b64`; the tail mixed the same way without the `h` step; then the
/// length and the final avalanche (shifts 16, 13, 16; 0x85ebca6b,
/// 0xc2b2ae35). Checked against the published vectors in
/// `ReferenceMurmur3Tests`, then used to compute where CSV features must land.
enum ReferenceMurmur3 {
    static func hash(_ bytes: [UInt8], seed: UInt32) -> UInt32 {
        let c1: UInt32 = 0xcc9e_2d51
        let c2: UInt32 = 0x1b87_3593
        func rotl(_ x: UInt32, _ r: UInt32) -> UInt32 { (x << r) | (x >> (32 - r)) }
        func mixK(_ k: UInt32) -> UInt32 { rotl(k &* c1, 15) &* c2 }
        var h = seed
        let blocks = bytes.count / 4
        for b in 0..<blocks {
            let i = b * 4
            let k = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            h ^= mixK(k)
            h = rotl(h, 13) &* 5 &+ 0xe654_6b64
        }
        var tail: UInt32 = 0
        let rest = bytes.count & 3
        if rest >= 3 { tail ^= UInt32(bytes[blocks * 4 + 2]) << 16 }
        if rest >= 2 { tail ^= UInt32(bytes[blocks * 4 + 1]) << 8 }
        if rest >= 1 {
            tail ^= UInt32(bytes[blocks * 4])
            h ^= mixK(tail)
        }
        h ^= UInt32(truncatingIfNeeded: bytes.count)
        h ^= h >> 16
        h = h &* 0x85eb_ca6b
        h ^= h >> 13
        h = h &* 0xc2b2_ae35
        h ^= h >> 16
        return h
    }

    static func hash(_ text: String, seed: UInt32) -> UInt32 { hash(Array(text.utf8), seed: seed) }

    /// Little-endian bytes of an integer.
    static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
