/// The table of settings, in the order of the config JSON (Keras keys first).
extension Setting {
    /// `learning_rate`: a number (the constant FTRL alpha) or a Keras schedule object.
    public static let learningRate = Setting(
        key: "learning_rate", flag: "learning-rate", section: .optimizer, valueName: "number",
        help: "The FTRL alpha, > 0; with a schedule (--schedule), its initial_learning_rate.", changesMeaning: false, isInteger: false,
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
        rule: .nonPositive, help: "p <= 0: -0.5 is the usual 1/sqrt(n) rate, 0 a fixed per-coordinate rate.")
    public static let initialAccumulatorValue = number(
        "initial_accumulator_value", flag: "initial-accumulator-value", .optimizer, \.initialAccumulatorValue, default: 0.1,
        sample: 0.0, rule: .nonNegative, help: "The starting n of every slot, >= 0.")
    public static let l1 = number(
        "l1_regularization_strength", flag: "l1", .optimizer, \.l1, default: 0.1, sample: 1, rule: .nonNegative,
        help: "L1, >= 0: a weight is exactly 0 while abs(z) <= l1.")
    public static let l2 = number(
        "l2_regularization_strength", flag: "l2", .optimizer, \.l2, default: 0.5, sample: 1, rule: .nonNegative,
        help: "L2, >= 0 (stabilisation: enters q as 2 * l2; Vowpal Wabbit's --l2 is twice this).")
    public static let l2Shrinkage = number(
        "l2_shrinkage_regularization_strength", flag: "l2-shrinkage", .optimizer, \.l2Shrinkage, default: 0, sample: 0.01,
        rule: .nonNegative, help: "Shrinkage, >= 0: adds 2 * l2s * w to the gradient of active slots.")
    public static let beta = number(
        "beta", flag: "beta", .optimizer, \.beta, default: 1, sample: 0.5, rule: .any,
        help: "Enters q as beta / lr (Keras: l2 + beta / (2 * lr) in the kernel's L2).")
    public static let clipnorm = optionalNumber(
        "clipnorm", flag: "clipnorm", .clipping, \.clipnorm, sample: 1, rule: .positive,
        help: "Scale each variable's gradient (kernel; bias) to L2 norm <= this.")
    public static let clipvalue = optionalNumber(
        "clipvalue", flag: "clipvalue", .clipping, \.clipvalue, sample: 0.5, rule: .positive,
        help: "Clip each gradient number to [-v, v].")
    public static let globalClipnorm = optionalNumber(
        "global_clipnorm", flag: "global-clipnorm", .clipping, \.globalClipnorm, sample: 2, rule: .positive,
        help: "Scale kernel and bias gradients together to joint L2 norm <= this.")
    public static let useEMA = bool(
        "use_ema", flag: "ema", .ema, \.useEMA, default: false, meaning: true,
        help: "Keep exponential moving averages of the weights; the exported weights (ftrl-model weights, ftrl-predict) are the averages.")
    public static let emaMomentum = number(
        "ema_momentum", flag: "ema-momentum", .ema, \.emaMomentum, default: 0.99, sample: 0.9, rule: .unitInterval, meaning: true,
        help: "a <- m * a + (1 - m) * w after every step; m in [0, 1].")
    public static let emaOverwriteFrequency = optionalInteger(
        "ema_overwrite_frequency", flag: "ema-overwrite-frequency", .ema, \.emaOverwriteFrequency, sample: 100, rule: .atLeastOne,
        meaning: true, help: "Every N steps (when (t + 1) % N == 0) set every weight to its average.")
    public static let batchSize = integer(
        "batch_size", flag: "batch-size", .optimizer, \.batchSize, default: 1, sample: 32, rule: .atLeastOne,
        help: "Examples per step (1 is McMahan et al.'s per-example FTRL).")
    public static let epochs = integer(
        "epochs", flag: "epochs", .run, \.epochs, default: 1, sample: 2, rule: .atLeastOne,
        help: "Passes over the input files (regular files only: stdin, pipes and FIFOs can be read once).")
    public static let bits = integer(
        "bits", flag: "bits", .hashing, \.bits, default: 24, sample: 20, rule: .within(1...32), meaning: true,
        help: "log2 of the number of kernel slots, 1 to 32.")
    public static let dtype = choice(
        "dtype", flag: "dtype", .optimizer, \.dtype, default: DType.float32, sample: .float64, meaning: true,
        help: "Precision of every number, the schedule's included.")
    public static let exampleWeights = bool(
        "example_weights", flag: nil, .input, \.exampleWeights, default: false,
        help: "Whether the run read importance weights from a file (set by --example-weights FILE).")
    public static let hash = choice(
        "hash", flag: "hash", .hashing, \.hash, default: HashKind.murmur3, sample: .identity, meaning: true,
        help: "How features become slots: murmur3, or identity (LibSVM indices below 2^bits as they are).")
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
        help: "Whether files start with a header line (unset: CSV yes, TSV no).")
    public static let columns = optionalNames(
        "columns", flag: "columns", .input, \.schema.columns, sample: ["label", "a", "b"], meaning: true,
        help: "Names of the columns of a headerless file (the model stores the training header's).")
    public static let label = name(
        "label", flag: "label", .input, \.schema.label, sample: "y", meaning: true,
        help:
            "The click column (unset: the one named label, click or Label; in a headerless file without --columns, the first); values 0/1 or -1/+1."
    )
    public static let weight = name(
        "weight", flag: "weight", .input, \.schema.weight, sample: "w", meaning: true,
        help: "A column of importance weights (>= 0), as --example-weights.")
    public static let ignore = names(
        "ignore", flag: "ignore", .input, \.schema.ignore, sample: ["id"], meaning: true,
        help: "Columns to leave out (a leak such as attributed_time, an id).")
    public static let numeric = names(
        "numeric", flag: "numeric", .input, \.schema.numeric, sample: ["I1-I13"], meaning: true, help: "Numeric columns.")
    public static let categorical = optionalNames(
        "categorical", flag: "categorical", .input, \.schema.categorical, sample: ["C1-C26"], meaning: true,
        help: "Categorical columns (unset: every column not named otherwise; when given, columns named nowhere are left out).")
    public static let numericTransform = choice(
        "numeric_transform", flag: "numeric-transform", .input, \.schema.numericTransform, default: NumericTransform.log1p,
        sample: .bucket, meaning: true,
        help:
            "log1p: one feature of the column with value sign(v) * log1p(abs(v)); raw: value v; bucket: a categorical feature, the value itself for -2..2, else its sign and floor(log2(abs(v)))."
    )
    public static let interactions = Setting(
        key: "interactions", flag: "interactions", section: .input, valueName: "A:B,C:D|all",
        help: "A feature for each pair of values of these columns (both present); all crosses every pair of categorical columns.",
        changesMeaning: true, isInteger: false,
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
        help: "Whether an empty value adds a per-column \"missing\" feature.")

    /// Every setting, in the order of the config JSON.
    public static let all: [Setting] = [
        learningRate, learningRatePower, initialAccumulatorValue, l1, l2, l2Shrinkage, beta, clipnorm, clipvalue, globalClipnorm,
        useEMA, emaMomentum, emaOverwriteFrequency, batchSize, epochs, bits, dtype, exampleWeights, hash, hashSeed,
        format, header, columns, label, weight, ignore, numeric, categorical, numericTransform, interactions, missingFeatures,
    ]

    fileprivate static func bad(_ key: String, _ what: String) -> FTRLError { FTRLError(.usage, "config key \(key) must be \(what)") }
}
