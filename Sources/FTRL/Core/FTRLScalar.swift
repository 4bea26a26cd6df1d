import Glibc

/// The floating-point types a model can be trained in (`--dtype`).
///
/// Every quantity of a float32 model is computed in float32, as TensorFlow
/// does for a float32 variable; the protocol gives the generic trainer the
/// few maths functions it needs in the model's own precision.
public protocol FTRLScalar: BinaryFloatingPoint, LosslessStringConvertible, Sendable, Codable, SIMDScalar, GradientSum {
    /// `x` to the power `y`.
    static func power(_ x: Self, _ y: Self) -> Self
    /// `e^x`.
    static func exponential(_ x: Self) -> Self
    /// The natural logarithm.
    static func logarithm(_ x: Self) -> Self
    /// The cosine.
    static func cosine(_ x: Self) -> Self
    /// The dtype name, `float32` or `float64`.
    static var dtypeName: String { get }
    /// The value as the nearest `Double` (exact for both types).
    var asDouble: Double { get }
    /// The value nearest to `d`.
    init(fromDouble d: Double)
}

/// What a step's gradients are summed in: a scalar, or the lanes of several
/// settings trained together (`LaneTrainer`).
public protocol GradientSum {
    static func += (sum: inout Self, term: Self)
}

extension Float: FTRLScalar {
    @inline(__always) public static func power(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    @inline(__always) public static func exponential(_ x: Float) -> Float { expf(x) }
    @inline(__always) public static func logarithm(_ x: Float) -> Float { logf(x) }
    @inline(__always) public static func cosine(_ x: Float) -> Float { cosf(x) }
    public static var dtypeName: String { "float32" }
    @inline(__always) public var asDouble: Double { Double(self) }
    @inline(__always) public init(fromDouble d: Double) { self = Float(d) }
}

extension Double: FTRLScalar {
    @inline(__always) public static func power(_ x: Double, _ y: Double) -> Double { pow(x, y) }
    @inline(__always) public static func exponential(_ x: Double) -> Double { exp(x) }
    @inline(__always) public static func logarithm(_ x: Double) -> Double { log(x) }
    @inline(__always) public static func cosine(_ x: Double) -> Double { cos(x) }
    public static var dtypeName: String { "float64" }
    @inline(__always) public var asDouble: Double { self }
    @inline(__always) public init(fromDouble d: Double) { self = d }
}

/// The logistic function in the model's precision.
@inline(__always)
func sigmoid<F: FTRLScalar>(_ x: F) -> F {
    1 / (1 + F.exponential(-x))
}
