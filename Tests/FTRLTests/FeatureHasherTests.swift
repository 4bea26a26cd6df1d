import FTRLTestSupport
import Testing
@testable import FTRL

/// The hash decides which slot a feature lands in, so it is part of every
/// model's meaning: these tests pin it against MurmurHash3's published
/// vectors and against fixed slots.
struct FeatureHasherTests {
    @Test(arguments: [
        ("", UInt32(0), UInt32(0)),
        ("", 1, 0x514E_28B7),
        ("", 0xFFFF_FFFF, 0x81F1_6F39),
        ("hello", 0, 0x248B_FA47),
        ("Hello, world!", 1234, 0xFAF6_CDB3),
        ("The quick brown fox jumps over the lazy dog", 0, 0x2E4F_F723),
        ("aaaa", 0x9747_B28C, 0x5A97_808A),
        ("abc", 0x9747_B28C, 0xC84A_62DD),
    ])
    func publishedVectors(_ key: String, _ seed: UInt32, _ expected: UInt32) {
        let h = Array(key.utf8).withUnsafeBytes { MurmurHash3.hash($0, seed: seed) }
        #expect(h == expected)
    }

    @Test func integerKeyIsItsEightLittleEndianBytes() {
        var state: UInt64 = 12345
        for _ in 0..<2000 {
            state = state &* 6364136223846793005 &+ 1
            let seed = UInt32(truncatingIfNeeded: state >> 40)
            // The library's integer path against the independent reference on the 8 bytes.
            #expect(MurmurHash3.hash(state, seed: seed) == ReferenceMurmur3.hash(ReferenceMurmur3.bytes(state), seed: seed))
        }
    }

    /// Fixed slots for fixed indices at the default settings: a change here
    /// would silently break every saved model. The expected slots were
    /// computed with the independent `mmh3` Python package:
    /// `mmh3.hash(struct.pack('<Q', i), 0, signed=False) & 0xffffff`.
    @Test func pinnedSlots() {
        let h = FeatureHasher(kind: .murmur3, seed: 0, bits: 24)
        let slots = [1, 2, 3, 100, 123_456_789].map { h.slot(ofIndex: UInt64($0))! }
        let expected = [1, 2, 3, 100, 123_456_789].map { ReferenceMurmur3.hash(ReferenceMurmur3.bytes(UInt64($0)), seed: 0) & 0xFF_FFFF }
        #expect(slots == expected)
        #expect(slots == [0x07_5D44, 0x1F_A2F4, 0x3B_57B3, 0x2B_1070, 0x20_FE31])
        let seeded = FeatureHasher(kind: .murmur3, seed: 42, bits: 24)
        #expect(seeded.slot(ofIndex: 1) != slots[0])
    }

    @Test func identityMapsIndexToSlotAndRefusesOverflow() {
        let h = FeatureHasher(kind: .identity, seed: 0, bits: 8)
        #expect(h.slot(ofIndex: 1) == 1)
        #expect(h.slot(ofIndex: 255) == 255)
        #expect(h.slot(ofIndex: 256) == nil)
    }
}
