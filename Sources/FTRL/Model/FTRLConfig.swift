/// The precision of a model's numbers.
public enum DType: String, Sendable, CaseIterable {
    case float32
    case float64
}

/// Everything that defines a training run and the model it makes: the
/// Keras `Ftrl` hyper-parameters (under their Keras names in JSON), the run
/// settings and the feature mapping.
///
/// It is written into every model file and printed by `--print-config`;
/// `FTRLConfig(json:)` reads it back (Keras `get_config` / `from_config`).
public struct FTRLConfig: Equatable, Sendable {
    /// `learning_rate`: the constant step size alpha (when no schedule is set).
    public var learningRate = 0.1
    /// `learning_rate` as a Keras schedule object, or nil for the constant rate.
    public var schedule: LearningRateSchedule? = nil
    /// `learning_rate_power`: `p` <= 0; -0.5 is the usual square root.
    public var learningRatePower = -0.5
    /// `initial_accumulator_value`: the starting `n` of every slot.
    public var initialAccumulatorValue = 0.1
    /// `l1_regularization_strength`.
    public var l1 = 0.1
    /// `l2_regularization_strength` (stabilisation: it enters `q`).
    public var l2 = 0.5
    /// `l2_shrinkage_regularization_strength`: adds `2 * l2s * w` to the gradient of active slots.
    public var l2Shrinkage = 0.0
    /// `beta`: enters `q` as `beta / (2 * lr)`.
    public var beta = 1.0
    /// `clipnorm`: each variable's gradient scaled to at most this L2 norm.
    public var clipnorm: Double? = nil
    /// `clipvalue`: each gradient number clipped to [-v, v].
    public var clipvalue: Double? = nil
    /// `global_clipnorm`: kernel and bias gradients scaled to at most this joint L2 norm.
    public var globalClipnorm: Double? = nil
    /// `use_ema`: keep exponential moving averages of the weights and export them.
    public var useEMA = false
    /// `ema_momentum`: `a <- m * a + (1 - m) * w` after every step.
    public var emaMomentum = 0.99
    /// `ema_overwrite_frequency`: every this many steps, set the weights to their averages.
    public var emaOverwriteFrequency: Int? = nil
    /// Examples per step.
    public var batchSize = 1
    /// Passes over the input.
    public var epochs = 1
    /// log2 of the kernel table size.
    public var bits = 24
    /// The precision of the model.
    public var dtype = DType.float32
    /// Whether the run reads per-example importance weights.
    public var exampleWeights = false
    /// How feature indices become slots.
    public var hash = HashKind.murmur3
    /// The MurmurHash3 seed.
    public var hashSeed: UInt32 = 0
    /// The input format and, for CSV and TSV, what the columns mean.
    public var schema = InputSchema()

    /// The defaults (see the README for how they were chosen).
    public init() {}

    /// The hasher this config describes.
    public var hasher: FeatureHasher { FeatureHasher(kind: hash, seed: hashSeed, bits: bits) }

    /// Refuses settings the optimizer cannot run with, naming the setting.
    /// - Throws: `FTRLError` (.usage).
    public func validate() throws(FTRLError) {
        func bad(_ message: String) -> FTRLError { FTRLError(.usage, message) }
        let numbers: [(String, Double)] = [
            ("learning_rate", learningRate), ("learning_rate_power", learningRatePower),
            ("initial_accumulator_value", initialAccumulatorValue), ("l1_regularization_strength", l1),
            ("l2_regularization_strength", l2), ("l2_shrinkage_regularization_strength", l2Shrinkage),
            ("beta", beta), ("ema_momentum", emaMomentum),
        ]
        for (name, value) in numbers where !value.isFinite {
            throw bad("\(name) must be a finite number, not \(value)")
        }
        if let schedule {
            try schedule.validate()
        } else if learningRate <= 0 {
            throw bad("learning_rate must be > 0, not \(learningRate)")
        }
        if learningRatePower > 0 { throw bad("learning_rate_power must be <= 0, not \(learningRatePower)") }
        if initialAccumulatorValue < 0 {
            throw bad("initial_accumulator_value must be >= 0, not \(initialAccumulatorValue)")
        }
        if l1 < 0 { throw bad("l1_regularization_strength must be >= 0, not \(l1)") }
        if l2 < 0 { throw bad("l2_regularization_strength must be >= 0, not \(l2)") }
        if l2Shrinkage < 0 { throw bad("l2_shrinkage_regularization_strength must be >= 0, not \(l2Shrinkage)") }
        if schedule == nil && l2 + beta / (2 * learningRate) < 0 {
            throw bad("l2_regularization_strength + beta / (2 * learning_rate) must be >= 0")
        }
        if batchSize < 1 { throw bad("batch_size must be >= 1, not \(batchSize)") }
        if epochs < 1 { throw bad("epochs must be >= 1, not \(epochs)") }
        if bits < 1 || bits > 32 { throw bad("bits must be between 1 and 32, not \(bits)") }
        if emaMomentum < 0 || emaMomentum > 1 { throw bad("ema_momentum must be in [0, 1], not \(emaMomentum)") }
        if let f = emaOverwriteFrequency, f < 1 { throw bad("ema_overwrite_frequency must be >= 1, not \(f)") }
        if clipnorm != nil && globalClipnorm != nil { throw bad("clipnorm and global_clipnorm cannot both be set") }
        if schema.format != .libsvm && hash == .identity {
            throw bad("hash identity maps LibSVM indices; CSV and TSV values are hashed (murmur3)")
        }
        if schema.format == .libsvm {
            let given = [
                ("--label", schema.label != nil), ("--weight", schema.weight != nil), ("--ignore", !schema.ignore.isEmpty),
                ("--numeric", !schema.numeric.isEmpty), ("--categorical", schema.categorical != nil),
                ("--interactions", !schema.interactions.isEmpty || schema.allInteractions), ("--columns", schema.columns != nil),
            ]
            if let (flag, _) = given.first(where: { $0.1 }) {
                throw bad("\(flag) describes CSV or TSV columns; the input format is libsvm (give --format csv or tsv)")
            }
        }
        if exampleWeights && schema.weight != nil {
            throw bad("example weights come either from a file (--example-weights) or from a column (--weight), not both")
        }
        for (name, value) in [("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", globalClipnorm)] {
            if let v = value, !(v > 0) || !v.isFinite { throw bad("\(name) must be > 0, not \(v)") }
        }
        switch dtype {
        case .float32: try validateRanges(Float.self)
        case .float64: try validateRanges(Double.self)
        }
    }

    /// Refuses numbers the model's precision cannot hold, and a constant
    /// learning rate whose update constants overflow it (each would train a
    /// model of NaN).
    private func validateRanges<F: FTRLScalar>(_: F.Type) throws(FTRLError) {
        let numbers: [(String, Double?)] = [
            ("learning_rate", learningRate), ("initial_accumulator_value", initialAccumulatorValue),
            ("l1_regularization_strength", l1), ("l2_regularization_strength", l2),
            ("l2_shrinkage_regularization_strength", l2Shrinkage), ("beta", beta), ("clipnorm", clipnorm),
            ("clipvalue", clipvalue), ("global_clipnorm", globalClipnorm),
        ]
        for case let (name, value?) in numbers where !F(fromDouble: value).isFinite {
            throw FTRLError(.usage, "\(name) \(value) is too large for \(F.dtypeName)")
        }
        if schedule == nil && F(fromDouble: learningRate) == 0 {
            throw FTRLError(.usage, "learning_rate \(learningRate) rounds to 0 in \(F.dtypeName)")
        }
        if schedule == nil, let problem = FTRLUpdate<F>(config: self, lr: F(fromDouble: learningRate)).problem {
            throw FTRLError(.usage, problem)
        }
    }
}

extension FTRLConfig {
    /// The config as JSON, Keras keys first, in a fixed order.
    public var json: JSON {
        func opt(_ d: Double?) -> JSON { d.map { .number($0) } ?? .null }
        return .object(
            [
                ("learning_rate", schedule?.json ?? .number(learningRate)),
                ("learning_rate_power", .number(learningRatePower)),
                ("initial_accumulator_value", .number(initialAccumulatorValue)),
                ("l1_regularization_strength", .number(l1)),
                ("l2_regularization_strength", .number(l2)),
                ("l2_shrinkage_regularization_strength", .number(l2Shrinkage)),
                ("beta", .number(beta)),
                ("clipnorm", opt(clipnorm)),
                ("clipvalue", opt(clipvalue)),
                ("global_clipnorm", opt(globalClipnorm)),
                ("use_ema", .bool(useEMA)),
                ("ema_momentum", .number(emaMomentum)),
                ("ema_overwrite_frequency", emaOverwriteFrequency.map { .number(Double($0)) } ?? .null),
                ("batch_size", .number(Double(batchSize))),
                ("epochs", .number(Double(epochs))),
                ("bits", .number(Double(bits))),
                ("dtype", .string(dtype.rawValue)),
                ("example_weights", .bool(exampleWeights)),
                ("hash", .string(hash.rawValue)),
                ("hash_seed", .number(Double(hashSeed))),
            ] + schema.jsonMembers)
    }

    /// The config as the JSON text that `init(json:)` reads back.
    public var jsonText: String {
        json.renderedIntegers()
    }

    /// Reads a config: keys missing from `json` keep the values of `base`;
    /// an unknown key is an error that names it.
    /// - Parameters:
    ///   - json: a JSON object with Keras keys.
    ///   - base: the values for keys the object does not have.
    /// - Throws: `FTRLError` (.usage).
    public init(json: JSON, base: FTRLConfig = FTRLConfig()) throws(FTRLError) {
        self = base
        guard case .object(let members) = json else { throw FTRLError(.usage, "a config must be a JSON object") }
        for (key, value) in members {
            func number() throws(FTRLError) -> Double {
                if case .number(let d) = value { return d }
                throw FTRLError(.usage, "config key \(key) must be a number")
            }
            func optionalNumber() throws(FTRLError) -> Double? {
                if case .null = value { return nil }
                return try number()
            }
            func integer() throws(FTRLError) -> Int {
                let d = try number()
                guard d == d.rounded(), abs(d) < 1e15 else { throw FTRLError(.usage, "config key \(key) must be an integer") }
                return Int(d)
            }
            func bool() throws(FTRLError) -> Bool {
                if case .bool(let b) = value { return b }
                throw FTRLError(.usage, "config key \(key) must be true or false")
            }
            func string() throws(FTRLError) -> String {
                if case .string(let s) = value { return s }
                throw FTRLError(.usage, "config key \(key) must be a string")
            }
            switch key {
            case "learning_rate":
                if case .object = value {
                    let s = try LearningRateSchedule(json: value)
                    schedule = s
                    if let initial = s.initialLearningRate { learningRate = initial }
                } else {
                    learningRate = try number()
                    schedule = nil
                }
            case "learning_rate_power": learningRatePower = try number()
            case "initial_accumulator_value": initialAccumulatorValue = try number()
            case "l1_regularization_strength": l1 = try number()
            case "l2_regularization_strength": l2 = try number()
            case "l2_shrinkage_regularization_strength": l2Shrinkage = try number()
            case "beta": beta = try number()
            case "clipnorm": clipnorm = try optionalNumber()
            case "clipvalue": clipvalue = try optionalNumber()
            case "global_clipnorm": globalClipnorm = try optionalNumber()
            case "use_ema": useEMA = try bool()
            case "ema_momentum": emaMomentum = try number()
            case "ema_overwrite_frequency":
                if case .null = value { emaOverwriteFrequency = nil } else { emaOverwriteFrequency = try integer() }
            case "batch_size": batchSize = try integer()
            case "epochs": epochs = try integer()
            case "bits": bits = try integer()
            case "dtype":
                let s = try string()
                guard let d = DType(rawValue: s) else { throw FTRLError(.usage, "config key dtype must be float32 or float64, not \(s)") }
                dtype = d
            case "example_weights": exampleWeights = try bool()
            case "hash":
                let s = try string()
                guard let h = HashKind(rawValue: s) else {
                    throw FTRLError(.usage, "config key hash must be murmur3 or identity, not \(s)")
                }
                hash = h
            case "hash_seed":
                let s = try integer()
                guard let seed = UInt32(exactly: s) else { throw FTRLError(.usage, "config key hash_seed must be in 0...4294967295") }
                hashSeed = seed
            default:
                if InputSchema.jsonKeys.contains(key) {
                    try schema.read(key: key, value: value)
                } else {
                    throw FTRLError(.usage, "unknown config key \"\(key)\"")
                }
            }
        }
    }

    /// Reads a config from JSON text.
    public init(jsonText: String, base: FTRLConfig = FTRLConfig()) throws(FTRLError) {
        try self.init(json: JSON.parse(jsonText), base: base)
    }
}

extension JSON {
    /// Renders like `rendered()`, but whole numbers of integer keys without
    /// `.0`, as Keras writes `batch_size` and `bits`.
    func renderedIntegers(extra: Set<String> = [], level: Int = 0) -> String {
        guard case .object(let members) = self else { return rendered() }
        let integerKeys = extra.union([
            "batch_size", "epochs", "bits", "hash_seed", "ema_overwrite_frequency", "iterations", "examples",
            "decay_steps", "first_decay_steps", "warmup_steps", "boundaries",
        ])
        let pad = String(repeating: "  ", count: level + 1)
        func integral(_ d: Double) -> Bool { d == d.rounded() && abs(d) < 1e15 }
        let body = members.map { key, value -> String in
            if integerKeys.contains(key) {
                if case .number(let d) = value, integral(d) {
                    return pad + JSON.quote(key) + ": " + String(Int64(d))
                }
                if case .array(let items) = value {
                    let numbers = items.compactMap { item -> Double? in
                        if case .number(let d) = item, integral(d) { return d }
                        return nil
                    }
                    if numbers.count == items.count {
                        return pad + JSON.quote(key) + ": [" + numbers.map { String(Int64($0)) }.joined(separator: ", ") + "]"
                    }
                }
            }
            if case .object = value {
                return pad + JSON.quote(key) + ": " + value.renderedIntegers(extra: extra, level: level + 1)
            }
            return pad + JSON.quote(key) + ": " + value.rendered(indent: 2, level: level + 1)
        }
        return "{\n" + body.joined(separator: ",\n") + "\n" + String(repeating: "  ", count: level) + "}"
    }
}
