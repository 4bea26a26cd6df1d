/// A run of parsed examples, stored flat: the trainer and the predictor walk
/// it without any per-example allocation, and the reader thread refills it.
///
/// Example `e` has label `labels[e]` (0 or 1, NaN when the input has no
/// label), importance weight `weights[e]` (when `hasWeights`) and the
/// features `slots[offsets[e]..<offsets[e+1]]` with `values[...]` beside them.
public final class ExampleBlock {
    /// The most examples a block holds.
    public let exampleCapacity: Int
    /// How many examples it holds now.
    public internal(set) var count = 0
    /// 0 or 1 per example; NaN for an unlabeled example.
    public let labels: UnsafeMutablePointer<Float>
    /// An importance weight per example, from a weight column.
    public let weights: UnsafeMutablePointer<Double>
    /// Whether `weights` holds the examples' weights (else they are all 1).
    public internal(set) var hasWeights = false
    /// `count + 1` feature offsets.
    public let offsets: UnsafeMutablePointer<Int>
    /// Kernel slots of all features.
    public private(set) var slots: UnsafeMutablePointer<UInt32>
    /// Feature values, beside `slots`.
    public private(set) var values: UnsafeMutablePointer<Double>
    private(set) var featureCapacity: Int
    /// The name of each feature, beside `slots`, when the stream was asked
    /// for names (`ftrl-model top`); empty otherwise.
    public internal(set) var names: [String] = []
    /// Each example's value of the grouping column, when the stream was
    /// asked for one (`ftrl-predict --metrics-by`); empty otherwise.
    public internal(set) var groups: [String] = []

    /// Creates an empty block.
    /// - Parameter exampleCapacity: the most examples it holds.
    public init(exampleCapacity: Int = 2048) {
        self.exampleCapacity = exampleCapacity
        labels = .allocate(capacity: exampleCapacity)
        weights = .allocate(capacity: exampleCapacity)
        offsets = .allocate(capacity: exampleCapacity + 1)
        featureCapacity = exampleCapacity * 16
        slots = .allocate(capacity: featureCapacity)
        values = .allocate(capacity: featureCapacity)
        offsets[0] = 0
    }

    deinit {
        labels.deallocate()
        weights.deallocate()
        offsets.deallocate()
        slots.deallocate()
        values.deallocate()
    }

    /// Whether another example fits.
    var isFull: Bool { count == exampleCapacity }

    /// Empties the block.
    func reset() {
        count = 0
        hasWeights = false
        offsets[0] = 0
        if !names.isEmpty { names.removeAll(keepingCapacity: true) }
        if !groups.isEmpty { groups.removeAll(keepingCapacity: true) }
    }

    /// Makes room for `extra` more features after the current ones.
    @inline(__always)
    func reserveFeatures(_ extra: Int) {
        let needed = offsets[count] + extra
        if needed > featureCapacity { grow(to: needed) }
    }

    @inline(never)
    private func grow(to needed: Int) {
        var newCapacity = featureCapacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newSlots = UnsafeMutablePointer<UInt32>.allocate(capacity: newCapacity)
        let newValues = UnsafeMutablePointer<Double>.allocate(capacity: newCapacity)
        let used = offsets[count]
        newSlots.update(from: slots, count: used)
        newValues.update(from: values, count: used)
        slots.deallocate()
        values.deallocate()
        slots = newSlots
        values = newValues
        featureCapacity = newCapacity
    }
}
