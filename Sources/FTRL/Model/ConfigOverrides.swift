/// Settings given on the command line, each nil when not given; they
/// override a config file or a resumed model's config.
public struct ConfigOverrides: Sendable {
    public var learningRate: Double?
    public var learningRatePower: Double?
    public var initialAccumulatorValue: Double?
    public var l1: Double?
    public var l2: Double?
    public var l2Shrinkage: Double?
    public var beta: Double?
    public var batchSize: Int?
    public var epochs: Int?
    public var bits: Int?
    public var dtype: DType?
    public var hash: HashKind?
    public var hashSeed: UInt32?

    public init() {}

    /// Applies the given settings to `config`.
    /// - Returns: the names (Keras keys) of the settings that changed a value.
    @discardableResult
    public func apply(to config: inout FTRLConfig) -> [String] {
        var changed: [String] = []
        func set<T: Equatable>(_ value: T?, _ path: WritableKeyPath<FTRLConfig, T>, _ name: String) {
            guard let value else { return }
            if config[keyPath: path] != value { changed.append(name) }
            config[keyPath: path] = value
        }
        set(learningRate, \.learningRate, "learning_rate")
        set(learningRatePower, \.learningRatePower, "learning_rate_power")
        set(initialAccumulatorValue, \.initialAccumulatorValue, "initial_accumulator_value")
        set(l1, \.l1, "l1_regularization_strength")
        set(l2, \.l2, "l2_regularization_strength")
        set(l2Shrinkage, \.l2Shrinkage, "l2_shrinkage_regularization_strength")
        set(beta, \.beta, "beta")
        set(batchSize, \.batchSize, "batch_size")
        set(epochs, \.epochs, "epochs")
        set(bits, \.bits, "bits")
        set(dtype, \.dtype, "dtype")
        set(hash, \.hash, "hash")
        set(hashSeed, \.hashSeed, "hash_seed")
        return changed
    }

    /// The settings that change what a stored model means and so cannot
    /// differ when resuming it.
    static let meaningKeys: Set<String> = ["bits", "dtype", "hash", "hash_seed"]
}
