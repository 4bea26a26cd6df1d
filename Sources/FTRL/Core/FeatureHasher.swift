/// How a feature index becomes a slot of the kernel table.
public enum HashKind: String, Sendable, CaseIterable {
    /// MurmurHash3 (x86, 32-bit) of the index, masked to `bits`.
    case murmur3
    /// The index itself; an index that does not fit the table is an error.
    case identity
}

/// Maps feature indices to slots of a table of `2^bits` slots.
///
/// With `murmur3` the key is the index as an unsigned 64-bit integer, fed to
/// MurmurHash3_x86_32 as its 8 little-endian bytes with the hash seed; the
/// slot is the low `bits` bits of the hash. The mapping is part of a model's
/// meaning, so a test pins it.
public struct FeatureHasher: Sendable, Equatable {
    /// The mapping.
    public let kind: HashKind
    /// The MurmurHash3 seed.
    public let seed: UInt32
    /// log2 of the number of slots.
    public let bits: Int
    /// `2^bits - 1`.
    public let mask: UInt64

    /// Creates a hasher.
    /// - Parameters:
    ///   - kind: murmur3 or identity.
    ///   - seed: the MurmurHash3 seed.
    ///   - bits: log2 of the table size, 1...32.
    public init(kind: HashKind, seed: UInt32, bits: Int) {
        self.kind = kind
        self.seed = seed
        self.bits = bits
        self.mask = (UInt64(1) << UInt64(bits)) &- 1
    }

    /// The slot of a feature index, or nil when `identity` is used and the
    /// index does not fit the table.
    @inline(__always)
    public func slot(ofIndex index: UInt64) -> UInt32? {
        switch kind {
        case .murmur3:
            return UInt32(truncatingIfNeeded: UInt64(MurmurHash3.hash(index, seed: seed)) & mask)
        case .identity:
            return index <= mask ? UInt32(truncatingIfNeeded: index) : nil
        }
    }
}

extension FeatureHasher {
    /// Replaces each of the `count` indices at `p` (each below 2^32) by its
    /// slot, as `slot(ofIndex:)` maps it: a loop without branches, so that
    /// the hashes of a line overlap in the pipeline instead of each waiting
    /// on the parsing around it.
    /// - Returns: false when `identity` is used and an index does not fit
    ///   the table (the run is then partly replaced).
    @inline(__always)
    func slots(ofIndices p: UnsafeMutablePointer<UInt32>, count: Int) -> Bool {
        let mask = UInt32(truncatingIfNeeded: self.mask)
        switch kind {
        case .murmur3:
            let seed = self.seed
            for k in 0..<count { p[k] = MurmurHash3.hash(UInt64(p[k]), seed: seed) & mask }
            return true
        case .identity:
            var fits = true
            for k in 0..<count { fits = fits && p[k] <= mask }
            return fits
        }
    }
}

/// MurmurHash3_x86_32 (Austin Appleby's public-domain design).
public enum MurmurHash3 {
    @inline(__always)
    static func mixKey(_ k: UInt32) -> UInt32 {
        var k = k &* 0xcc9e_2d51
        k = (k << 15) | (k >> 17)
        return k &* 0x1b87_3593
    }

    @inline(__always)
    static func mixHash(_ h: UInt32, _ k: UInt32) -> UInt32 {
        var h = h ^ mixKey(k)
        h = (h << 13) | (h >> 19)
        return h &* 5 &+ 0xe654_6b64
    }

    @inline(__always)
    static func finalize(_ h: UInt32, length: Int) -> UInt32 {
        var h = h ^ UInt32(truncatingIfNeeded: length)
        h ^= h >> 16
        h = h &* 0x85eb_ca6b
        h ^= h >> 13
        h = h &* 0xc2b2_ae35
        h ^= h >> 16
        return h
    }

    /// The hash of `bytes`.
    /// - Parameters:
    ///   - bytes: the key.
    ///   - seed: the seed.
    /// - Returns: the 32-bit hash.
    @inline(__always)
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt32) -> UInt32 {
        let n = bytes.count
        // Eight bytes (a Criteo value's hex digits) as one little-endian word.
        if n == 8 { return hash(UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self)), seed: seed) }
        var h = seed
        let blocks = n / 4
        for b in 0..<blocks {
            h = mixHash(h, UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 &* b, as: UInt32.self)))
        }
        var k: UInt32 = 0
        let tail = 4 * blocks
        switch n & 3 {
        case 3:
            k ^= UInt32(bytes[tail + 2]) << 16
            fallthrough
        case 2:
            k ^= UInt32(bytes[tail + 1]) << 8
            fallthrough
        case 1:
            k ^= UInt32(bytes[tail])
            h ^= mixKey(k)
        default:
            break
        }
        return finalize(h, length: n)
    }

    /// The hash of an unsigned 64-bit integer as its 8 little-endian bytes;
    /// equal to `hash(bytes:seed:)` on those bytes, without the loop.
    @inline(__always)
    public static func hash(_ value: UInt64, seed: UInt32) -> UInt32 {
        var h = mixHash(seed, UInt32(truncatingIfNeeded: value))
        h = mixHash(h, UInt32(truncatingIfNeeded: value >> 32))
        return finalize(h, length: 8)
    }
}
