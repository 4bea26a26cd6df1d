/// The named fields of one slot of state, the layout that the weight table,
/// the bias, the update, EMA and the model file share (Vowpal Wabbit's FTRL
/// keeps `w`, `z` and `n` side by side the same way, so that one cache line
/// serves a slot's whole update):
///
///     scalar 0   w        the weight
///     scalar 1   n        the sum of squared gradients
///     scalar 2   z        the FTRL-Proximal linear term
///     scalar 3   mark     plain slots: 1 once the slot was active, else 0
///                average  EMA slots: the moving average of w
///
/// An EMA slot also keeps the step its average was last brought to, as a
/// 32-bit number after the four scalars (`WeightTable.step(_:)`); 0 means
/// never active. A view, not storage: it reads and writes the table's memory.
@frozen
public struct Slot<F: FTRLScalar> {
    /// The first scalar of the slot.
    public let base: UnsafeMutablePointer<F>

    /// The scalars of a slot.
    public static var scalars: Int { 4 }

    @inline(__always)
    public init(_ base: UnsafeMutablePointer<F>) {
        self.base = base
    }

    /// The weight.
    public var w: F {
        @inline(__always) get { base[0] }
        @inline(__always) nonmutating set { base[0] = newValue }
    }

    /// The accumulator of squared gradients.
    public var n: F {
        @inline(__always) get { base[1] }
        @inline(__always) nonmutating set { base[1] = newValue }
    }

    /// The linear term.
    public var z: F {
        @inline(__always) get { base[2] }
        @inline(__always) nonmutating set { base[2] = newValue }
    }

    /// Plain slots: 1 once active, 0 before (then `n` is implied).
    public var mark: F {
        @inline(__always) get { base[3] }
        @inline(__always) nonmutating set { base[3] = newValue }
    }

    /// EMA slots: the moving average of `w`.
    public var average: F {
        @inline(__always) get { base[3] }
        @inline(__always) nonmutating set { base[3] = newValue }
    }

    /// Whether any of `w`, `n`, `z` is not a finite number: 0 when all are
    /// finite, NaN otherwise (`x - x`), so that a step sums it over its
    /// slots and checks once instead of branching per slot.
    @inline(__always)
    var nonFiniteProbe: F { (w - w) + (n - n) + (z - z) }
}
