/// Settings given on the command line, each a `Setting` with a JSON value;
/// they override a config file or a resumed model's config, through the same
/// codec that reads config files. A preset and the schedule flags come first.
public struct ConfigOverrides: Sendable {
    /// The settings given, in the order given.
    public private(set) var values: [(setting: Setting, value: JSON)] = []
    /// A named column layout (`criteo`, `avazu`), applied before the settings.
    public var preset: String?
    /// The schedule flags (with `learning_rate`, which they build on).
    public var schedule = ScheduleOptions()

    public init() {}

    /// Gives `setting` the value `value`; nil leaves it as it is.
    public mutating func set(_ setting: Setting, _ value: JSON?) {
        guard let value else { return }
        values.removeAll { $0.setting.key == setting.key }
        values.append((setting, value))
    }

    public mutating func set(_ setting: Setting, _ value: Double?) { set(setting, value.map { JSON.number($0) }) }
    public mutating func set(_ setting: Setting, _ value: Int?) { set(setting, value.map { JSON.number(Double($0)) }) }
    public mutating func set(_ setting: Setting, _ value: UInt32?) { set(setting, value.map { JSON.number(Double($0)) }) }
    public mutating func set(_ setting: Setting, _ value: Bool?) { set(setting, value.map { JSON.bool($0) }) }
    public mutating func set(_ setting: Setting, _ value: String?) { set(setting, value.map { JSON.string($0) }) }
    public mutating func set(_ setting: Setting, _ value: [String]?) {
        set(setting, value.map { JSON.array($0.map { .string($0) }) })
    }
    public mutating func set<E: RawRepresentable>(_ setting: Setting, _ value: E?) where E.RawValue == String {
        set(setting, value.map { JSON.string($0.rawValue) })
    }

    /// The value given for `setting`, or nil.
    public func given(_ setting: Setting) -> JSON? {
        values.last { $0.setting.key == setting.key }?.value
    }

    /// Applies the given settings to `config`.
    /// - Returns: the keys of the settings whose value changed.
    /// - Throws: `FTRLError` (.usage) for a value of the wrong type or schedule flags that do not fit.
    @discardableResult
    public func apply(to config: inout FTRLConfig) throws(FTRLError) -> [String] {
        let before = config
        if let preset {
            let keep = config.schema
            config.schema = try InputSchema.preset(preset)
            config.schema.numericTransform = keep.numericTransform
            config.schema.missingFeatures = keep.missingFeatures
        }
        var learningRate: Double?
        if let rate = given(.learningRate) { learningRate = try Setting.asNumber("learning_rate", rate) }
        try schedule.apply(to: &config, learningRate: learningRate)
        for (setting, value) in values where setting.key != Setting.learningRate.key {
            try setting.assign(value, to: &config)
        }
        return Setting.all.filter { $0.value(in: before) != $0.value(in: config) }.map(\.key)
    }
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
