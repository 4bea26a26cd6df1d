/// A logistic-regression model over hashed features and its full training
/// state: the config, the kernel table, the bias and the step counter.
public final class Model<F: FTRLScalar> {
    /// The settings it was trained with.
    public var config: FTRLConfig
    /// The kernel.
    public let table: WeightTable<F>
    /// The bias slot: w, n, z, mark (always active).
    public let bias: UnsafeMutablePointer<F>
    /// Steps taken (Keras `iterations`).
    public var iterations: UInt64 = 0
    /// Examples consumed by training, over all epochs and resumes.
    public var examples: UInt64 = 0

    /// A fresh model: every weight 0.
    /// - Parameter config: the settings; its `dtype` must match `F`.
    /// - Throws: `FTRLError` when the table cannot be allocated.
    public init(config: FTRLConfig) throws(FTRLError) {
        self.config = config
        table = try WeightTable(bits: config.bits)
        bias = .allocate(capacity: 4)
        bias.initialize(repeating: 0, count: 4)
        bias[1] = F(fromDouble: config.initialAccumulatorValue)
        bias[3] = 1
    }

    deinit { bias.deallocate() }

    /// The feature mapping of this model.
    public var hasher: FeatureHasher { config.hasher }

    /// The exported bias (`finalize`d).
    public var exportedBias: F { bias[0] }

    /// The exported weight of a slot.
    @inline(__always)
    public func exportedWeight(_ slot: UInt32) -> F { table.weight(slot) }

    /// The probability of a click for one example of `block`.
    @inline(__always)
    public func predict(_ block: ExampleBlock, _ e: Int) -> F {
        var m: F = 0
        let slots = block.slots
        let values = block.values
        for j in block.offsets[e]..<block.offsets[e + 1] {
            m += table.weight(slots[j]) * F(fromDouble: values[j])
        }
        return sigmoid(m + bias[0])
    }
}

/// A model of either precision, as read from a file.
public enum AnyModel {
    case float32(Model<Float>)
    case float64(Model<Double>)

    /// The config of the model.
    public var config: FTRLConfig {
        switch self {
        case .float32(let m): return m.config
        case .float64(let m): return m.config
        }
    }
}
