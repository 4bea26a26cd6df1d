import CFTRLShims

/// The pieces of the FTRL update that need more than `SIMD4`'s arithmetic
/// operators, in four lanes at once: the square root and the selections of
/// `FTRLUpdate`, each on the concrete vector types. The generic SIMD
/// comparisons and `replace` run lane by lane, the concrete ones in a few
/// vector instructions (5x the whole update's speed, measured).
///
/// Each lane is what the scalar code computes: IEEE-754 rounds a lane's
/// square root as it rounds the scalar one, and `min` and `max` are written
/// out to keep Swift's choice on ties and NaN. `LaneTrainer` puts four
/// settings in the lanes, `FTRLUpdate.apply(_:_:_:_:gradients:)` four slots.
enum LaneMath {
    /// `max(min(z, l1), -l1)` as Swift computes it, then `(clamped - z) / q`, or 0 where `q` is 0.
    @inline(__always)
    static func weight<F: FTRLScalar>(z: SIMD4<F>, q: SIMD4<F>, l1: SIMD4<F>, negativeL1: SIMD4<F>) -> SIMD4<F> {
        if F.self == Float.self {
            typealias V = SIMD4<Float>
            return unsafeBitCast(
                Concrete.weight(
                    z: unsafeBitCast(z, to: V.self), q: unsafeBitCast(q, to: V.self), l1: unsafeBitCast(l1, to: V.self),
                    negativeL1: unsafeBitCast(negativeL1, to: V.self)), to: SIMD4<F>.self)
        } else {
            typealias V = SIMD4<Double>
            return unsafeBitCast(
                Concrete.weight(
                    z: unsafeBitCast(z, to: V.self), q: unsafeBitCast(q, to: V.self), l1: unsafeBitCast(l1, to: V.self),
                    negativeL1: unsafeBitCast(negativeL1, to: V.self)), to: SIMD4<F>.self)
        }
    }

    /// The square root of every lane.
    @inline(__always)
    static func squareRoot<F: FTRLScalar>(_ x: SIMD4<F>) -> SIMD4<F> {
        if F.self == Float.self {
            return unsafeBitCast(ftrl_sqrt4f(unsafeBitCast(x, to: SIMD4<Float>.self)), to: SIMD4<F>.self)
        } else {
            return unsafeBitCast(ftrl_sqrt4d(unsafeBitCast(x, to: SIMD4<Double>.self)), to: SIMD4<F>.self)
        }
    }

    /// `n`, or `initial` where `mark` is 0 (a slot never active).
    @inline(__always)
    static func accumulator<F: FTRLScalar>(_ n: SIMD4<F>, mark: SIMD4<F>, initial: SIMD4<F>) -> SIMD4<F> {
        if F.self == Float.self {
            typealias V = SIMD4<Float>
            return unsafeBitCast(
                Concrete.accumulator(
                    unsafeBitCast(n, to: V.self), mark: unsafeBitCast(mark, to: V.self), initial: unsafeBitCast(initial, to: V.self)),
                to: SIMD4<F>.self)
        } else {
            typealias V = SIMD4<Double>
            return unsafeBitCast(
                Concrete.accumulator(
                    unsafeBitCast(n, to: V.self), mark: unsafeBitCast(mark, to: V.self), initial: unsafeBitCast(initial, to: V.self)),
                to: SIMD4<F>.self)
        }
    }

    /// The selections for each precision.
    private enum Concrete {
        // Swift.min(z, l1) is `l1 < z ? l1 : z`; Swift.max(m, -l1) is `-l1 >= m ? -l1 : m`.
        @inline(__always)
        static func weight(z: SIMD4<Float>, q: SIMD4<Float>, l1: SIMD4<Float>, negativeL1: SIMD4<Float>) -> SIMD4<Float> {
            var clamped = z
            clamped.replace(with: l1, where: l1 .< z)
            clamped.replace(with: negativeL1, where: negativeL1 .>= clamped)
            var w = (clamped - z) / q
            w.replace(with: 0, where: q .== 0)
            return w
        }

        @inline(__always)
        static func weight(z: SIMD4<Double>, q: SIMD4<Double>, l1: SIMD4<Double>, negativeL1: SIMD4<Double>) -> SIMD4<Double> {
            var clamped = z
            clamped.replace(with: l1, where: l1 .< z)
            clamped.replace(with: negativeL1, where: negativeL1 .>= clamped)
            var w = (clamped - z) / q
            w.replace(with: 0, where: q .== 0)
            return w
        }

        @inline(__always)
        static func accumulator(_ n: SIMD4<Float>, mark: SIMD4<Float>, initial: SIMD4<Float>) -> SIMD4<Float> {
            n.replacing(with: initial, where: mark .== 0)
        }

        @inline(__always)
        static func accumulator(_ n: SIMD4<Double>, mark: SIMD4<Double>, initial: SIMD4<Double>) -> SIMD4<Double> {
            n.replacing(with: initial, where: mark .== 0)
        }
    }
}
