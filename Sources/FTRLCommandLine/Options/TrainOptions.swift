import ArgumentParser
import FTRL

// The flags of `ftrl-train` in titled groups, so that `--help` reads in
// sections. A number option takes the next word as its value even when it
// starts with a dash (`--learning-rate-power -0.25`). The settings' names, help and defaults come from the table of
// settings (`Setting.all`); each group turns what was given into
// `ConfigOverrides`, which apply them through the table's JSON codec.

/// Splits `a,b,I1-I13` into names and ranges.
func nameList(_ text: String) throws -> [String] {
    let names = text.split(separator: ",").map { String($0).trimmingCharacters(in: " ") }
    if names.isEmpty || names.contains("") { throw ValidationError("expected comma-separated column names: \(text)") }
    return names
}

/// Parses `0.4,0.2,0.05` into numbers.
func numberList(_ text: String) throws -> [Double] {
    try text.split(separator: ",").map { part in
        guard let d = Double(String(part).trimmingCharacters(in: " ")) else {
            throw ValidationError("not a number: \(part)")
        }
        return d
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}

/// Input and schema: what the rows are and what their columns mean.
public struct InputOptions: ParsableArguments {
    public init() {}

    @Option(name: .setting(.format), help: .setting(.format))
    var format: InputFormat?

    @Option(help: ArgumentHelp("A column layout: criteo (headerless TSV) or avazu (CSV).", valueName: "name"))
    var preset: String?

    @Flag(name: .setting(.header), inversion: .prefixedNo, help: .setting(.header))
    var header: Bool?

    @Option(name: .setting(.columns), help: .setting(.columns), transform: nameList)
    var columns: [String]?

    @Option(name: .setting(.label), help: .setting(.label))
    var label: String?

    @Option(name: .setting(.weight), help: .setting(.weight))
    var weight: String?

    @Option(name: .setting(.ignore), help: .setting(.ignore), transform: nameList)
    var ignore: [String]?

    @Option(name: .setting(.numeric), help: .setting(.numeric), transform: nameList)
    var numeric: [String]?

    @Option(name: .setting(.categorical), help: .setting(.categorical), transform: nameList)
    var categorical: [String]?

    @Option(name: .setting(.numericTransform), help: .setting(.numericTransform))
    var numericTransform: NumericTransform?

    @Option(name: .setting(.interactions), help: .setting(.interactions))
    var interactions: String?

    @Flag(name: .setting(.missingFeatures), inversion: .prefixedNo, help: .setting(.missingFeatures))
    var missingFeatures: Bool?

    @Option(help: ArgumentHelp("One importance weight per training row, in order.", valueName: "file"))
    var exampleWeights: String?

    func apply(to o: inout ConfigOverrides) throws(FTRLError) {
        o.preset = preset
        o.set(.format, format)
        o.set(.header, header)
        o.set(.columns, columns)
        o.set(.label, label)
        o.set(.weight, weight)
        o.set(.ignore, ignore)
        o.set(.numeric, numeric)
        o.set(.categorical, categorical)
        o.set(.numericTransform, numericTransform)
        if let interactions {
            let parsed = try InputSchema.parseInteractions(interactions)
            o.set(.interactions, parsed.all ? JSON.string("all") : .array(parsed.pairs.map { .array($0.map { .string($0) }) }))
        }
        o.set(.missingFeatures, missingFeatures)
    }
}

/// Hashing: how features become slots.
public struct HashingOptions: ParsableArguments {
    public init() {}

    @Option(name: .setting(.bits), parsing: .unconditional, help: .setting(.bits))
    var bits: Int?

    @Option(name: .setting(.hash), help: .setting(.hash))
    var hash: HashKind?

    @Option(name: .setting(.hashSeed), parsing: .unconditional, help: .setting(.hashSeed))
    var hashSeed: UInt32?

    func apply(to o: inout ConfigOverrides) {
        o.set(.bits, bits)
        o.set(.hash, hash)
        o.set(.hashSeed, hashSeed)
    }
}

/// A number flag's value, or several to search (`0.05,0.1,0.2`), or `auto`
/// (the learning rate's documented grid).
public struct SearchValues: ExpressibleByArgument, Sendable {
    public var values: [Double]
    public var auto = false

    public init?(argument: String) {
        if argument == "auto" {
            values = SettingsSearch.autoLearningRates
            auto = true
            return
        }
        guard let list = try? numberList(argument), !list.isEmpty else { return nil }
        values = list
    }
}

extension ArgumentHelp {
    /// A setting's help, saying that it takes a list to search.
    static func searchable(_ setting: Setting, auto: Bool = false) -> ArgumentHelp {
        var help = ArgumentHelp.setting(setting)
        help.abstract +=
            " Several, comma-separated, train one model each on one parse of the input"
            + (auto ? "; auto searches \(SettingsSearch.autoLearningRates.map { JSON.format($0) }.joined(separator: ","))." : ".")
        help.valueName = setting.valueName + (auto ? "[,...]|auto" : "[,...]")
        return help
    }
}

/// The optimizer: the Keras `Ftrl` hyper-parameters.
public struct OptimizerOptions: ParsableArguments {
    public init() {}

    @Option(name: .setting(.learningRate), parsing: .unconditional, help: .searchable(.learningRate, auto: true))
    var learningRate: SearchValues?

    @Option(name: .setting(.learningRatePower), parsing: .unconditional, help: .searchable(.learningRatePower))
    var learningRatePower: SearchValues?

    @Option(name: .setting(.initialAccumulatorValue), parsing: .unconditional, help: .searchable(.initialAccumulatorValue))
    var initialAccumulatorValue: SearchValues?

    @Option(name: .setting(.l1), parsing: .unconditional, help: .searchable(.l1))
    var l1: SearchValues?

    @Option(name: .setting(.l2), parsing: .unconditional, help: .searchable(.l2))
    var l2: SearchValues?

    @Option(name: .setting(.l2Shrinkage), parsing: .unconditional, help: .searchable(.l2Shrinkage))
    var l2Shrinkage: SearchValues?

    @Option(name: .setting(.beta), parsing: .unconditional, help: .searchable(.beta))
    var beta: SearchValues?

    @Option(name: .setting(.batchSize), parsing: .unconditional, help: .setting(.batchSize))
    var batchSize: Int?

    @Option(name: .setting(.dtype), help: .setting(.dtype))
    var dtype: DType?

    /// Sets the single values; returns the settings given several values, in flag order.
    func apply(to o: inout ConfigOverrides) throws(FTRLError) -> [(Setting, [Double])] {
        var axes: [(Setting, [Double])] = []
        let searchable: [(Setting, SearchValues?)] = [
            (.learningRate, learningRate), (.learningRatePower, learningRatePower),
            (.initialAccumulatorValue, initialAccumulatorValue), (.l1, l1), (.l2, l2), (.l2Shrinkage, l2Shrinkage), (.beta, beta),
        ]
        for (setting, given) in searchable {
            guard let given else { continue }
            if given.auto && setting.key != Setting.learningRate.key {
                throw FTRLError(.usage, "--\(setting.flag!) auto: auto is a grid of learning rates, for --learning-rate only")
            }
            if given.values.count == 1 && !given.auto {
                o.set(setting, given.values[0])
            } else {
                if Set(given.values).count != given.values.count {
                    throw FTRLError(.usage, "--\(setting.flag!) lists a value twice")
                }
                axes.append((setting, given.values))
            }
        }
        o.set(.batchSize, batchSize)
        o.set(.dtype, dtype)
        return axes
    }
}

/// The learning-rate schedule: a Keras schedule built from flags.
public struct ScheduleFlags: ParsableArguments {
    public init() {}

    @Option(
        help: ArgumentHelp(
            "constant, exponential-decay, inverse-time-decay, piecewise-constant-decay, polynomial-decay, cosine-decay or cosine-decay-restarts.",
            valueName: "name"))
    var schedule: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("decay_steps (first_decay_steps for cosine-decay-restarts).", valueName: "number"))
    var decaySteps: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("decay_rate (exponential-decay, inverse-time-decay).", valueName: "number"))
    var decayRate: Double?

    @Flag(inversion: .prefixedNo, help: "staircase: decay in whole steps of decay_steps.")
    var staircase: Bool?

    @Option(help: ArgumentHelp("piecewise-constant-decay boundaries, comma-separated steps.", valueName: "list"), transform: numberList)
    var boundaries: [Double]?

    @Option(
        help: ArgumentHelp("piecewise-constant-decay values, comma-separated (one more than boundaries).", valueName: "list"),
        transform: numberList)
    var values: [Double]?

    @Option(parsing: .unconditional, help: ArgumentHelp("polynomial-decay end_learning_rate (default 0.0001).", valueName: "number"))
    var endLearningRate: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("polynomial-decay power (default 1).", valueName: "number"))
    var power: Double?

    @Flag(inversion: .prefixedNo, help: "polynomial-decay cycle: restart the decay past decay_steps.")
    var cycle: Bool?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("cosine-decay(-restarts) alpha: the floor as a fraction of the rate (default 0).", valueName: "number"))
    var alpha: Double?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("cosine-decay warmup_target: the rate reached by the linear warm-up.", valueName: "number"))
    var warmupTarget: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("cosine-decay warmup_steps (default 0).", valueName: "number"))
    var warmupSteps: Double?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("cosine-decay-restarts t_mul: period growth per restart (default 2).", valueName: "number"))
    var tMul: Double?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("cosine-decay-restarts m_mul: rate factor per restart (default 1).", valueName: "number"))
    var mMul: Double?

    func apply(to o: inout ConfigOverrides) {
        o.schedule.name = schedule
        o.schedule.decaySteps = decaySteps
        o.schedule.decayRate = decayRate
        o.schedule.staircase = staircase
        o.schedule.boundaries = boundaries
        o.schedule.values = values
        o.schedule.endLearningRate = endLearningRate
        o.schedule.power = power
        o.schedule.cycle = cycle
        o.schedule.alpha = alpha
        o.schedule.warmupTarget = warmupTarget
        o.schedule.warmupSteps = warmupSteps
        o.schedule.tMul = tMul
        o.schedule.mMul = mMul
    }
}

/// Gradient clipping (Keras `clipnorm`, `clipvalue`, `global_clipnorm`).
public struct ClippingOptions: ParsableArguments {
    public init() {}

    @Option(name: .setting(.clipnorm), parsing: .unconditional, help: .setting(.clipnorm))
    var clipnorm: Double?

    @Option(name: .setting(.globalClipnorm), parsing: .unconditional, help: .setting(.globalClipnorm))
    var globalClipnorm: Double?

    @Option(name: .setting(.clipvalue), parsing: .unconditional, help: .setting(.clipvalue))
    var clipvalue: Double?

    func apply(to o: inout ConfigOverrides) {
        o.set(.clipnorm, clipnorm)
        o.set(.globalClipnorm, globalClipnorm)
        o.set(.clipvalue, clipvalue)
    }
}

/// Moving averages of the weights (Keras `use_ema`).
public struct EMAOptions: ParsableArguments {
    public init() {}

    @Flag(name: .setting(.useEMA), inversion: .prefixedNo, help: .setting(.useEMA))
    var ema: Bool?

    @Option(name: .setting(.emaMomentum), parsing: .unconditional, help: .setting(.emaMomentum))
    var emaMomentum: Double?

    @Option(name: .setting(.emaOverwriteFrequency), parsing: .unconditional, help: .setting(.emaOverwriteFrequency))
    var emaOverwriteFrequency: Int?

    func apply(to o: inout ConfigOverrides) {
        o.set(.useEMA, ema)
        o.set(.emaMomentum, emaMomentum)
        o.set(.emaOverwriteFrequency, emaOverwriteFrequency)
    }
}

/// The run: the model written, resumed or configured, passes, output.
public struct RunOptions: ParsableArguments {
    public init() {}

    @Option(name: [.customShort("m"), .customLong("model")], help: "Write the trained model here (atomically).")
    var model: String?

    @Option(help: ArgumentHelp("Continue from this model's full state and config.", valueName: "model"))
    var resume: String?

    @Option(help: ArgumentHelp("Read settings from a Keras-key JSON config; flags override it.", valueName: "file"))
    var config: String?

    @Option(name: .setting(.epochs), parsing: .unconditional, help: .setting(.epochs))
    var epochs: Int?

    @Option(
        help: ArgumentHelp(
            "Write a checkpoint (a complete, resumable model) every N examples, at a batch boundary; -m is replaced only when the run succeeds.",
            valueName: "N"))
    var checkpointEvery: Int = 0

    @Option(help: ArgumentHelp("Where checkpoints go (default: the -m path + .checkpoint).", valueName: "file"))
    var checkpoint: String?

    @Option(
        help: ArgumentHelp(
            "The weight table: dense (2^bits slots mapped), sparse (memory for the slots seen), or auto: dense up to 1 GiB of tables in all, sparse beyond.",
            valueName: "kind"))
    var table: TableLayout = .auto

    @Option(
        help: ArgumentHelp(
            "Keep the first pass's parsed examples in this file; later epochs and later runs with the same inputs and settings read it instead of the text (rebuilt when they change or it is damaged).",
            valueName: "file"))
    var cache: String?

    @Flag(name: [.short, .long], help: "Print nothing but errors.")
    var quiet = false

    @Option(
        help: ArgumentHelp(
            "Seconds between progress lines on stderr; on a terminal one line is redrawn in place (share read, time left) at least 5 times a second.",
            valueName: "seconds"))
    var progressEvery: Double = 3

    @Flag(help: "Print where the time went (reader and trainer threads) at the end.")
    var profile = false

    @Option(
        help: ArgumentHelp(
            "Score these rows after each epoch; a search ranks its settings by them, and with --epochs each setting keeps its best epoch.",
            valueName: "file"))
    var validation: [String] = []

    @Option(help: ArgumentHelp("Epochs without a better validation logloss after which a setting stops training.", valueName: "N"))
    var patience: Int = 2

    @Option(help: ArgumentHelp("Keep every searched setting's model in this directory (-m gets the chosen one).", valueName: "dir"))
    var modelsDir: String?

    @Option(help: ArgumentHelp("Write the search's settings and metrics, best first, as JSON.", valueName: "file"))
    var searchJson: String?

    @Option(
        help: ArgumentHelp(
            "Write the first pass's progressive validation metrics as JSON (as ftrl-predict --metrics-json; keeps 9 bytes per row).",
            valueName: "file"))
    var metricsJson: String?

    @Flag(help: "Print the effective config as JSON and exit.")
    var printConfig = false

    @Flag(help: "Print the table of settings (flags, config keys, defaults) as Markdown and exit.")
    var helpSettings = false
}

/// All of `ftrl-train`'s flags, turned into a `TrainingJob`.
public struct TrainCommandOptions {
    public var input: InputOptions
    public var hashing: HashingOptions
    public var optimizer: OptimizerOptions
    public var schedule: ScheduleFlags
    public var clipping: ClippingOptions
    public var ema: EMAOptions
    public var run: RunOptions

    public init(
        input: InputOptions, hashing: HashingOptions, optimizer: OptimizerOptions, schedule: ScheduleFlags, clipping: ClippingOptions,
        ema: EMAOptions, run: RunOptions
    ) {
        self.input = input
        self.hashing = hashing
        self.optimizer = optimizer
        self.schedule = schedule
        self.clipping = clipping
        self.ema = ema
        self.run = run
    }

    /// Runs what the flags ask for: the table of settings, the config, or training.
    /// - Returns: the exit status.
    public func execute(files: [String]) -> Int32 {
        if run.helpSettings {
            return reportingErrors(as: "ftrl-train") { () throws(FTRLError) -> Int32 in
                let output = OutputWriter()
                try output.line(SettingsTable.markdown())
                try output.flush()
                return 0
            }
        }
        return reportingErrors(as: "ftrl-train") { () throws(FTRLError) -> Int32 in
            var options = TrainingJob.Options()
            options.inputs = files
            options.modelPath = run.model
            options.resumePath = run.resume
            options.configPath = run.config
            options.exampleWeightsPath = input.exampleWeights
            options.quiet = run.quiet
            options.progressInterval = run.progressEvery
            options.profile = run.profile
            options.checkpointEvery = run.checkpointEvery
            options.checkpointPath = run.checkpoint
            options.table = run.table
            options.cachePath = run.cache
            options.stopsOnSignal = true
            options.validationPaths = run.validation
            options.patience = run.patience
            options.modelsDirectory = run.modelsDir
            options.searchJSONPath = run.searchJson
            options.metricsJSONPath = run.metricsJson
            var o = ConfigOverrides()
            try input.apply(to: &o)
            hashing.apply(to: &o)
            options.searchAxes = try optimizer.apply(to: &o)
            schedule.apply(to: &o)
            clipping.apply(to: &o)
            ema.apply(to: &o)
            o.set(.epochs, run.epochs)
            options.overrides = o
            let job = TrainingJob(options: options)
            if run.printConfig {
                let output = OutputWriter()
                if options.searchAxes.isEmpty {
                    try output.line(try job.resolve().0.jsonText)
                } else {
                    // A search: one config per setting.
                    for candidate in try job.candidates() { try output.line(candidate.config.jsonText) }
                }
                try output.flush()
                return 0
            }
            return try job.run()
        }
    }
}
