/// Decimal digits read eight bytes at a time ("SWAR": SIMD within a
/// register), for the parsers' common case of short numbers: one load
/// finds where a run of digits ends and a few multiplications give its
/// value, with no branch per byte (whose mispredictions at a number's end
/// cost more than the arithmetic).
///
/// The caller guarantees that the eight bytes at `p` are readable.
enum DigitRun {
    /// The leading decimal digits among the eight bytes at `p`: how many
    /// there are (0 to 8; 8 when the run may go on past them) and their value.
    @inline(__always)
    static func read(_ p: UnsafePointer<UInt8>) -> (count: Int, value: UInt64) {
        let word = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        let count = digitCount(word)
        return (count, value(word, count: count))
    }

    /// How many of the word's bytes, from its lowest (the first in memory),
    /// are ASCII digits before the first that is not (8 when all are).
    ///
    /// A byte is a digit when its high nibble is 3 and stays 3 after adding
    /// 6 (0x30-0x39, not 0x3A-0x3F). The addition can carry out of a byte
    /// only from a byte of 0xFA or more, which is itself not a digit, so the
    /// carry only disturbs bytes after the first non-digit.
    @inline(__always)
    static func digitCount(_ word: UInt64) -> Int {
        let high: UInt64 = 0xF0F0_F0F0_F0F0_F0F0
        let threes: UInt64 = 0x3030_3030_3030_3030
        let notDigit = ((word & high) ^ threes) | (((word &+ 0x0606_0606_0606_0606) & high) ^ threes)
        return notDigit.trailingZeroBitCount &>> 3
    }

    /// The value of the first `count` (0 to 8) bytes of the word, which are digits.
    @inline(__always)
    static func value(_ word: UInt64, count: Int) -> UInt64 {
        // The digits moved to the word's top, so that the bytes below them
        // are leading zeros of an eight-digit number.
        let digits = (word & 0x0F0F_0F0F_0F0F_0F0F) &<< UInt64(truncatingIfNeeded: 64 &- 8 &* count)
        let kept = count == 0 ? 0 : digits
        // Pairs, then quadruples, then the eight digits (the first digit is the lowest byte).
        let pairs = (kept &* 10) &+ (kept &>> 8)
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        let low = (pairs & mask) &* 0x000F_4240_0000_0064  // 100 + 10^6 << 32
        let high = ((pairs &>> 16) & mask) &* 0x0000_2710_0000_0001  // 1 + 10^4 << 32
        return (low &+ high) &>> 32
    }

    /// The first of the eight bytes at `p` that is `a` or `b`, or 8 when none is.
    @inline(__always)
    static func firstOf(_ a: UInt8, _ b: UInt8, in p: UnsafePointer<UInt8>) -> Int {
        let word = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        let ones: UInt64 = 0x0101_0101_0101_0101
        let found = zeroBytes(word ^ (ones &* UInt64(a))) | zeroBytes(word ^ (ones &* UInt64(b)))
        return found.trailingZeroBitCount &>> 3
    }

    /// The high bit of each zero byte of `x` set (exact for the lowest zero
    /// byte; a borrow may also mark bytes above it, which no caller reads).
    @inline(__always)
    static func zeroBytes(_ x: UInt64) -> UInt64 {
        (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
    }

    /// 10^k for k in 0...7.
    @inline(__always)
    static func power(_ k: Int) -> UInt64 {
        switch k {
        case 0: return 1
        case 1: return 10
        case 2: return 100
        case 3: return 1000
        case 4: return 10000
        case 5: return 100_000
        case 6: return 1_000_000
        default: return 10_000_000
        }
    }
}
