/// The table of settings, in the order of the config JSON (Keras keys first).
extension Setting {
    /// `learning_rate`: a number (the constant FTRL alpha) or a Keras schedule object.
    public static let learningRate = Setting(
        key: "learning_rate", flag: "learning-rate", section: .optimizer, valueName: "number",
        help: "Keras learning_rate, the FTRL alpha; with a schedule, its initial rate.", changesMeaning: false, isInteger: false,
        defaultValue: .number(0.1), sample: .number(0.05),
        get: { $0.schedule?.json ?? .number($0.learningRate) },
        set: { c, v throws(FTRLError) in
            if case .object = v {
                let s = try LearningRateSchedule(json: v)
                c.schedule = s
                if let initial = s.initialLearningRate { c.learningRate = initial }
            } else {
                c.learningRate = try asNumber("learning_rate", v)
                c.schedule = nil
            }
        },
        check: { c throws(FTRLError) in
            if let schedule = c.schedule {
                try schedule.validate()
            } else {
                try checkNumber("learning_rate", c.learningRate, .positive)
            }
        })

    public static let learningRatePower = number(
        "learning_rate_power", flag: "learning-rate-power", .optimizer, \.learningRatePower, default: -0.5, sample: -0.25,
        rule: .nonPositive, help: "Keras learning_rate_power, <= 0 (-0.5: the square root of FTRL-Proximal).")
    public static let initialAccumulatorValue = number(
        "initial_accumulator_value", flag: "initial-accumulator-value", .optimizer, \.initialAccumulatorValue, default: 0.1,
        sample: 0.0, rule: .nonNegative, help: "Keras initial_accumulator_value, >= 0: the starting n of every slot.")
    public static let l1 = number(
        "l1_regularization_strength", flag: "l1", .optimizer, \.l1, default: 0.1, sample: 1, rule: .nonNegative,
        help: "Keras l1_regularization_strength, >= 0.")
    public static let l2 = number(
        "l2_regularization_strength", flag: "l2", .optimizer, \.l2, default: 0.5, sample: 1, rule: .nonNegative,
        help: "Keras l2_regularization_strength, >= 0 (Vowpal Wabbit's --l2 is twice this).")
    public static let l2Shrinkage = number(
        "l2_shrinkage_regularization_strength", flag: "l2-shrinkage", .optimizer, \.l2Shrinkage, default: 0, sample: 0.01,
        rule: .nonNegative, help: "Keras l2_shrinkage_regularization_strength, >= 0.")
    public static let beta = number(
        "beta", flag: "beta", .optimizer, \.beta, default: 1, sample: 0.5, rule: .any, help: "Keras beta: enters q as beta / (2 * lr).")
    public static let clipnorm = optionalNumber(
        "clipnorm", flag: "clipnorm", .clipping, \.clipnorm, sample: 1, rule: .positive,
        help: "Keras clipnorm: scale each variable's gradient to at most this L2 norm.")
    public static let clipvalue = optionalNumber(
        "clipvalue", flag: "clipvalue", .clipping, \.clipvalue, sample: 0.5, rule: .positive,
        help: "Keras clipvalue: clip each gradient number to [-v, v].")
    public static let globalClipnorm = optionalNumber(
        "global_clipnorm", flag: "global-clipnorm", .clipping, \.globalClipnorm, sample: 2, rule: .positive,
        help: "Keras global_clipnorm: scale kernel and bias gradients to at most this joint L2 norm.")
    public static let useEMA = bool(
        "use_ema", flag: "ema", .ema, \.useEMA, default: false, meaning: true,
        help: "Keras use_ema: keep moving averages of the weights and export them.")
    public static let emaMomentum = number(
        "ema_momentum", flag: "ema-momentum", .ema, \.emaMomentum, default: 0.99, sample: 0.9, rule: .unitInterval, meaning: true,
        help: "Keras ema_momentum, in [0, 1].")
    public static let emaOverwriteFrequency = optionalInteger(
        "ema_overwrite_frequency", flag: "ema-overwrite-frequency", .ema, \.emaOverwriteFrequency, sample: 100, rule: .atLeastOne,
        meaning: true, help: "Keras ema_overwrite_frequency: every N steps set the weights to their averages.")
    public static let batchSize = integer(
        "batch_size", flag: "batch-size", .optimizer, \.batchSize, default: 1, sample: 32, rule: .atLeastOne,
        help: "Examples per step.")
    public static let epochs = integer(
        "epochs", flag: "epochs", .run, \.epochs, default: 1, sample: 2, rule: .atLeastOne, help: "Passes over the input files.")
    public static let bits = integer(
        "bits", flag: "bits", .hashing, \.bits, default: 24, sample: 20, rule: .within(1...32), meaning: true,
        help: "log2 of the number of kernel slots.")
    public static let dtype = choice(
        "dtype", flag: "dtype", .optimizer, \.dtype, default: DType.float32, sample: .float64, meaning: true,
        help: "Precision of the model's numbers.")
    public static let exampleWeights = bool(
        "example_weights", flag: nil, .input, \.exampleWeights, default: false,
        help: "Whether the run reads importance weights from a file (set by --example-weights FILE).")
    public static let hash = choice(
        "hash", flag: "hash", .hashing, \.hash, default: HashKind.murmur3, sample: .identity, meaning: true,
        help: "Feature mapping: murmur3, or identity for LibSVM indices below 2^bits.")
    public static let hashSeed = integer(
        "hash_seed", flag: "hash-seed", .hashing, \.hashSeed, default: UInt32(0), sample: 7, rule: .any, meaning: true,
        help: "MurmurHash3 seed.")

    // The input schema: what the rows of CSV and TSV logs mean. Stored in
    // the model, so scoring needs no flags; every key changes what the
    // weights mean.
    public static let format = choice(
        "format", flag: "format", .input, \.schema.format, default: InputFormat.libsvm, sample: .csv, meaning: true,
        help: "Input format; .csv and .tsv file names (plain or .gz) imply theirs.")
    public static let header = optionalBool(
        "header", flag: "header", .input, \.schema.header, sample: true, meaning: true,
        help: "Whether files start with a header line (null: CSV yes, TSV no).")
    public static let columns = optionalNames(
        "columns", flag: "columns", .input, \.schema.columns, sample: ["label", "a", "b"], meaning: true,
        help: "Names of the columns of a headerless file (stored from the header when training).")
    public static let label = name(
        "label", flag: "label", .input, \.schema.label, sample: "y", meaning: true,
        help: "The label column (null: label, click or Label; else the first column).")
    public static let weight = name(
        "weight", flag: "weight", .input, \.schema.weight, sample: "w", meaning: true, help: "A column of importance weights.")
    public static let ignore = names(
        "ignore", flag: "ignore", .input, \.schema.ignore, sample: ["id"], meaning: true,
        help: "Columns to leave out (names and ranges such as I1-I13).")
    public static let numeric = names(
        "numeric", flag: "numeric", .input, \.schema.numeric, sample: ["I1-I13"], meaning: true, help: "Numeric columns (names and ranges).")
    public static let categorical = optionalNames(
        "categorical", flag: "categorical", .input, \.schema.categorical, sample: ["C1-C26"], meaning: true,
        help: "Categorical columns (null: every column not named otherwise).")
    public static let numericTransform = choice(
        "numeric_transform", flag: "numeric-transform", .input, \.schema.numericTransform, default: NumericTransform.log1p,
        sample: .bucket, meaning: true, help: "How numeric values become features (log1p is signed).")
    public static let interactions = Setting(
        key: "interactions", flag: "interactions", section: .input, valueName: "A:B,C:D|all",
        help: "Crossed column pairs, or all pairs of categorical columns.", changesMeaning: true, isInteger: false,
        defaultValue: .array([]), sample: .string("all"),
        get: { c in
            c.schema.allInteractions ? .string("all") : .array(c.schema.interactions.map { .array($0.map { .string($0) }) })
        },
        set: { c, v throws(FTRLError) in
            if case .string("all") = v {
                c.schema.allInteractions = true
                c.schema.interactions = []
                return
            }
            guard case .array(let pairs) = v else { throw bad("interactions", "\"all\" or a list of pairs") }
            var out: [[String]] = []
            for pair in pairs {
                guard case .array(let names) = pair, names.count == 2, case .string(let a) = names[0], case .string(let b) = names[1] else {
                    throw bad("interactions", "\"all\" or a list of pairs of column names")
                }
                out.append([a, b])
            }
            c.schema.allInteractions = false
            c.schema.interactions = out
        },
        check: { _ in })
    public static let missingFeatures = bool(
        "missing_features", flag: "missing-features", .input, \.schema.missingFeatures, default: true, meaning: true,
        help: "Add a per-column feature for an empty (missing) value.")

    /// Every setting, in the order of the config JSON.
    public static let all: [Setting] = [
        learningRate, learningRatePower, initialAccumulatorValue, l1, l2, l2Shrinkage, beta, clipnorm, clipvalue, globalClipnorm,
        useEMA, emaMomentum, emaOverwriteFrequency, batchSize, epochs, bits, dtype, exampleWeights, hash, hashSeed,
        format, header, columns, label, weight, ignore, numeric, categorical, numericTransform, interactions, missingFeatures,
    ]

    fileprivate static func bad(_ key: String, _ what: String) -> FTRLError { FTRLError(.usage, "config key \(key) must be \(what)") }
}
