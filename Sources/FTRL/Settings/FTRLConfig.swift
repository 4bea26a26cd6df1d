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
    // Each property is one entry of `Setting.all`, which holds its config
    // key, flag, default and range; the values below are placeholders that
    // `init()` replaces with the table's defaults.

    /// `learning_rate`: the constant step size alpha (when no schedule is set).
    public var learningRate = 0.0
    /// `learning_rate` as a Keras schedule object, or nil for the constant rate.
    public var schedule: LearningRateSchedule? = nil
    /// `learning_rate_power`: `p` <= 0; -0.5 is the usual square root.
    public var learningRatePower = 0.0
    /// `initial_accumulator_value`: the starting `n` of every slot.
    public var initialAccumulatorValue = 0.0
    /// `l1_regularization_strength`.
    public var l1 = 0.0
    /// `l2_regularization_strength` (stabilisation: it enters `q`).
    public var l2 = 0.0
    /// `l2_shrinkage_regularization_strength`: adds `2 * l2s * w` to the gradient of active slots.
    public var l2Shrinkage = 0.0
    /// `beta`: enters `q` as `beta / (2 * lr)`.
    public var beta = 0.0
    /// `clipnorm`: each variable's gradient scaled to at most this L2 norm.
    public var clipnorm: Double? = nil
    /// `clipvalue`: each gradient number clipped to [-v, v].
    public var clipvalue: Double? = nil
    /// `global_clipnorm`: kernel and bias gradients scaled to at most this joint L2 norm.
    public var globalClipnorm: Double? = nil
    /// `use_ema`: keep exponential moving averages of the weights and export them.
    public var useEMA = false
    /// `ema_momentum`: `a <- m * a + (1 - m) * w` after every step.
    public var emaMomentum = 0.0
    /// `ema_overwrite_frequency`: every this many steps, set the weights to their averages.
    public var emaOverwriteFrequency: Int? = nil
    /// Examples per step.
    public var batchSize = 0
    /// Passes over the input.
    public var epochs = 0
    /// log2 of the kernel table size.
    public var bits = 0
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

    /// The defaults of `Setting.all` (see the README for how they were chosen).
    public init() {
        self = Self.defaults
    }

    private init(placeholders: Void) {}

    /// The table's defaults, built once.
    private static let defaults: FTRLConfig = {
        var config = FTRLConfig(placeholders: ())
        for setting in Setting.all {
            do throws(FTRLError) {
                try setting.assign(setting.defaultValue, to: &config)
            } catch {
                preconditionFailure("the default of \(setting.key) does not read: \(error)")
            }
        }
        return config
    }()

    /// The hasher this config describes.
    public var hasher: FeatureHasher { FeatureHasher(kind: hash, seed: hashSeed, bits: bits) }

    /// Refuses settings the optimizer cannot run with, naming the setting:
    /// each setting's own range (from the table), then the rules that tie
    /// settings together.
    /// - Throws: `FTRLError` (.usage).
    public func validate() throws(FTRLError) {
        func bad(_ message: String) -> FTRLError { FTRLError(.usage, message) }
        for setting in Setting.all { try setting.validate(self) }
        if schedule == nil && l2 + beta / (2 * learningRate) < 0 {
            throw bad("l2_regularization_strength + beta / (2 * learning_rate) must be >= 0")
        }
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
    /// The config as JSON: every setting of `Setting.all` under its key, in the table's order.
    public var json: JSON {
        .object(Setting.all.map { ($0.key, $0.value(in: self)) })
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
            guard let setting = Setting.named(key) else { throw FTRLError(.usage, "unknown config key \"\(key)\"") }
            try setting.assign(value, to: &self)
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
    public func renderedIntegers(extra: Set<String> = [], level: Int = 0) -> String {
        guard case .object(let members) = self else { return rendered() }
        let integerKeys = extra.union(Setting.all.filter(\.isInteger).map(\.key)).union([
            "iterations", "examples", "decay_steps", "first_decay_steps", "warmup_steps", "boundaries",
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
