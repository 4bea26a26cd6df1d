/// Settings given on the command line, each nil when not given; they
/// override a config file or a resumed model's config. Each property is the
/// `FTRLConfig` setting of the same name (the Keras key in the README).
public struct ConfigOverrides: Sendable {
    public var learningRate: Double?
    public var learningRatePower: Double?
    public var initialAccumulatorValue: Double?
    public var l1: Double?
    public var l2: Double?
    public var l2Shrinkage: Double?
    public var beta: Double?
    public var clipnorm: Double?
    public var globalClipnorm: Double?
    public var clipvalue: Double?
    public var useEMA: Bool?
    public var emaMomentum: Double?
    public var emaOverwriteFrequency: Int?
    public var batchSize: Int?
    public var epochs: Int?
    public var bits: Int?
    public var dtype: DType?
    public var hash: HashKind?
    public var hashSeed: UInt32?
    /// The schedule flags.
    public var schedule = ScheduleOptions()
    /// The input-format and column flags.
    public var input = SchemaOptions()

    public init() {}

    /// Applies the given settings to `config`.
    /// - Returns: the names (Keras keys) of the settings that changed a value.
    /// - Throws: `FTRLError` (.usage) for schedule flags that do not fit.
    @discardableResult
    public func apply(to config: inout FTRLConfig) throws(FTRLError) -> [String] {
        var changed: [String] = []
        func set<T: Equatable>(_ value: T?, _ path: WritableKeyPath<FTRLConfig, T>, _ name: String) {
            guard let value else { return }
            if config[keyPath: path] != value { changed.append(name) }
            config[keyPath: path] = value
        }
        func setOptional<T: Equatable>(_ value: T?, _ path: WritableKeyPath<FTRLConfig, T?>, _ name: String) {
            guard let value else { return }
            if config[keyPath: path] != value { changed.append(name) }
            config[keyPath: path] = value
        }
        let before = config.schedule
        let beforeRate = config.learningRate
        try schedule.apply(to: &config, learningRate: learningRate)
        if config.schedule != before || (config.schedule == nil && config.learningRate != beforeRate) {
            changed.append("learning_rate")
        }
        set(learningRatePower, \.learningRatePower, "learning_rate_power")
        set(initialAccumulatorValue, \.initialAccumulatorValue, "initial_accumulator_value")
        set(l1, \.l1, "l1_regularization_strength")
        set(l2, \.l2, "l2_regularization_strength")
        set(l2Shrinkage, \.l2Shrinkage, "l2_shrinkage_regularization_strength")
        set(beta, \.beta, "beta")
        setOptional(clipnorm, \.clipnorm, "clipnorm")
        setOptional(globalClipnorm, \.globalClipnorm, "global_clipnorm")
        setOptional(clipvalue, \.clipvalue, "clipvalue")
        set(useEMA, \.useEMA, "use_ema")
        set(emaMomentum, \.emaMomentum, "ema_momentum")
        setOptional(emaOverwriteFrequency, \.emaOverwriteFrequency, "ema_overwrite_frequency")
        set(batchSize, \.batchSize, "batch_size")
        set(epochs, \.epochs, "epochs")
        set(bits, \.bits, "bits")
        set(dtype, \.dtype, "dtype")
        set(hash, \.hash, "hash")
        set(hashSeed, \.hashSeed, "hash_seed")
        let schemaBefore = config.schema
        try input.apply(to: &config.schema)
        if config.schema != schemaBefore { changed.append("schema") }
        return changed
    }

    /// The settings that change what a stored model means, or how its stored
    /// averages were kept, and so cannot differ when resuming it.
    static let meaningKeys: Set<String> = [
        "bits", "dtype", "hash", "hash_seed", "use_ema", "ema_momentum", "ema_overwrite_frequency", "schema",
    ]
}

/// The `--schedule` flags: a Keras schedule built from flags, or the
/// parameters of the schedule already in force changed. Each property is the
/// schedule parameter of the same name (`decay_steps`, `t_mul`, ...).
public struct ScheduleOptions: Sendable {
    /// `constant` or a schedule name (Keras class name or its kebab-case form).
    public var name: String?
    public var decaySteps: Double?
    public var decayRate: Double?
    public var staircase: Bool?
    public var boundaries: [Double]?
    public var values: [Double]?
    public var endLearningRate: Double?
    public var power: Double?
    public var cycle: Bool?
    public var alpha: Double?
    public var warmupTarget: Double?
    public var warmupSteps: Double?
    public var tMul: Double?
    public var mMul: Double?

    public init() {}

    static let names: [String: String] = [
        "exponential-decay": "ExponentialDecay", "inverse-time-decay": "InverseTimeDecay",
        "piecewise-constant-decay": "PiecewiseConstantDecay", "polynomial-decay": "PolynomialDecay",
        "cosine-decay": "CosineDecay", "cosine-decay-restarts": "CosineDecayRestarts",
    ]

    /// The flags given, as (flag, Keras key, value).
    private var given: [(String, String, JSON)] {
        var out: [(String, String, JSON)] = []
        func add(_ flag: String, _ key: String, _ value: JSON?) { if let value { out.append((flag, key, value)) } }
        add("--decay-steps", "decay_steps", decaySteps.map { .number($0) })
        add("--decay-rate", "decay_rate", decayRate.map { .number($0) })
        add("--staircase", "staircase", staircase.map { .bool($0) })
        add("--boundaries", "boundaries", boundaries.map { .array($0.map { .number($0) }) })
        add("--values", "values", values.map { .array($0.map { .number($0) }) })
        add("--end-learning-rate", "end_learning_rate", endLearningRate.map { .number($0) })
        add("--power", "power", power.map { .number($0) })
        add("--cycle", "cycle", cycle.map { .bool($0) })
        add("--alpha", "alpha", alpha.map { .number($0) })
        add("--warmup-target", "warmup_target", warmupTarget.map { .number($0) })
        add("--warmup-steps", "warmup_steps", warmupSteps.map { .number($0) })
        add("--t-mul", "t_mul", tMul.map { .number($0) })
        add("--m-mul", "m_mul", mMul.map { .number($0) })
        return out
    }

    /// Applies the flags: `--schedule constant` drops a schedule; another
    /// name builds that schedule from the flags (with `--learning-rate` as its
    /// initial rate); parameter flags alone change the schedule in force;
    /// `--learning-rate` alone sets the constant rate, or the initial rate of
    /// the schedule in force.
    func apply(to config: inout FTRLConfig, learningRate: Double?) throws(FTRLError) {
        let flags = given
        if name == "constant" || name == "Constant" {
            if let (flag, _, _) = flags.first { throw FTRLError(.usage, "\(flag) does not apply to a constant learning rate") }
            config.schedule = nil
            if let learningRate { config.learningRate = learningRate }
            return
        }
        var className: String
        var members: [(String, JSON)] = []
        if let name {
            guard let c = Self.names[name] ?? (Self.names.values.contains(name) ? name : nil) else {
                throw FTRLError(
                    .usage,
                    "unknown --schedule \(name) (constant, \(Self.names.keys.sorted().joined(separator: ", ")))")
            }
            className = c
            if c == config.schedule?.className, case .object(let m)? = config.schedule?.json["config"] { members = m }
            let initial = learningRate ?? config.schedule?.initialLearningRate ?? config.learningRate
            if c != "PiecewiseConstantDecay" && !members.contains(where: { $0.0 == "initial_learning_rate" }) {
                members.append(("initial_learning_rate", .number(initial)))
            }
        } else if let schedule = config.schedule {
            className = schedule.className
            if case .object(let m)? = schedule.json["config"] { members = m }
        } else {
            if let (flag, _, _) = flags.first {
                throw FTRLError(.usage, "\(flag) needs a schedule: give --schedule NAME")
            }
            if let learningRate { config.learningRate = learningRate }
            return
        }
        if let learningRate, name == nil || className == config.schedule?.className {
            if className == "PiecewiseConstantDecay" {
                throw FTRLError(.usage, "--learning-rate does not apply to PiecewiseConstantDecay: set its --values")
            }
            members.removeAll { $0.0 == "initial_learning_rate" }
            members.append(("initial_learning_rate", .number(learningRate)))
        }
        for (flag, key, value) in flags {
            let k = className == "CosineDecayRestarts" && key == "decay_steps" ? "first_decay_steps" : key
            guard Self.accepts(className, k) else { throw FTRLError(.usage, "\(flag) does not apply to \(className)") }
            members.removeAll { $0.0 == k }
            members.append((k, value))
        }
        let schedule = try LearningRateSchedule(
            json: .object([("class_name", .string(className)), ("config", .object(members))]))
        config.schedule = schedule
        if let initial = schedule.initialLearningRate { config.learningRate = initial }
    }

    static func accepts(_ className: String, _ key: String) -> Bool {
        switch className {
        case "ExponentialDecay", "InverseTimeDecay": return ["decay_steps", "decay_rate", "staircase"].contains(key)
        case "PiecewiseConstantDecay": return ["boundaries", "values"].contains(key)
        case "PolynomialDecay": return ["decay_steps", "end_learning_rate", "power", "cycle"].contains(key)
        case "CosineDecay": return ["decay_steps", "alpha", "warmup_target", "warmup_steps"].contains(key)
        default: return ["first_decay_steps", "t_mul", "m_mul", "alpha"].contains(key)
        }
    }
}

/// The flags that describe CSV and TSV input; each property is the
/// `InputSchema` setting of the same name, `preset` a named layout.
public struct SchemaOptions: Sendable {
    public var preset: String?
    public var format: InputFormat?
    public var header: Bool?
    public var columns: [String]?
    public var label: String?
    public var weight: String?
    public var ignore: [String]?
    public var numeric: [String]?
    public var categorical: [String]?
    public var numericTransform: NumericTransform?
    public var interactions: String?
    public var missingFeatures: Bool?

    public init() {}

    /// Whether any flag was given.
    public var isEmpty: Bool {
        preset == nil && format == nil && header == nil && columns == nil && label == nil && weight == nil && ignore == nil
            && numeric == nil && categorical == nil && numericTransform == nil && interactions == nil && missingFeatures == nil
    }

    /// Applies the flags: a preset first, then each flag given.
    func apply(to schema: inout InputSchema) throws(FTRLError) {
        if let preset {
            let keepTransform = schema.numericTransform
            let keepMissing = schema.missingFeatures
            schema = try InputSchema.preset(preset)
            schema.numericTransform = keepTransform
            schema.missingFeatures = keepMissing
        }
        if let format { schema.format = format }
        if let header { schema.header = header }
        if let columns { schema.columns = columns }
        if let label { schema.label = label }
        if let weight { schema.weight = weight }
        if let ignore { schema.ignore = ignore }
        if let numeric { schema.numeric = numeric }
        if let categorical { schema.categorical = categorical }
        if let numericTransform { schema.numericTransform = numericTransform }
        if let interactions {
            let parsed = try InputSchema.parseInteractions(interactions)
            schema.interactions = parsed.pairs
            schema.allInteractions = parsed.all
        }
        if let missingFeatures { schema.missingFeatures = missingFeatures }
    }
}
