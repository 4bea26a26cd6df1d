import ArgumentParser
import CTrainStartup
import FTRL
import Foundation

extension HashKind: ExpressibleByArgument {}
extension InputFormat: ExpressibleByArgument {}
extension NumericTransform: ExpressibleByArgument {}

/// Splits `a,b,I1-I13` into names and ranges.
func nameList(_ text: String) throws -> [String] {
    let names = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
    if names.isEmpty || names.contains("") { throw ValidationError("expected comma-separated column names: \(text)") }
    return names
}
extension DType: ExpressibleByArgument {}

/// Parses `0.4,0.2,0.05` into numbers.
func numberList(_ text: String) throws -> [Double] {
    try text.split(separator: ",").map { part in
        guard let d = Double(part.trimmingCharacters(in: .whitespaces)) else {
            throw ValidationError("not a number: \(part)")
        }
        return d
    }
}

@main
struct FTRLTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ftrl-train",
        abstract: "Train a logistic-regression click model with FTRL-Proximal on LibSVM, CSV or TSV logs (plain or gzip).",
        discussion:
            "Exit codes: 0 ok, 64 usage, 65 bad data or model, 66 missing input, 74 I/O error, 130/143 stopped by SIGINT/SIGTERM (the -m model written, complete and resumable). On any error -m is left as it was."
    )

    @Argument(help: ArgumentHelp("Input files, read in order; - or none reads standard input.", valueName: "file"))
    var files: [String] = []

    @Option(name: [.customShort("m"), .customLong("model")], help: "Write the trained model here (atomically).")
    var model: String?

    @Option(help: ArgumentHelp("Continue from this model's full state and config.", valueName: "model"))
    var resume: String?

    @Option(help: ArgumentHelp("Read settings from a Keras-key JSON config; flags override it.", valueName: "file"))
    var config: String?

    @Flag(help: "Print the effective config as JSON and exit.")
    var printConfig = false

    @Option(help: "Input format: libsvm (default), csv or tsv; .csv and .tsv file names (plain or .gz) imply theirs.")
    var format: InputFormat?

    @Option(help: ArgumentHelp("A column layout: criteo (headerless TSV) or avazu (CSV).", valueName: "name"))
    var preset: String?

    @Flag(inversion: .prefixedNo, help: "Whether files start with a header line (default: CSV yes, TSV no).")
    var header: Bool?

    @Option(help: ArgumentHelp("Names of the columns of a headerless file, comma-separated.", valueName: "names"), transform: nameList)
    var columns: [String]?

    @Option(
        help: ArgumentHelp("The label column (default: label, click or Label; the first column of a headerless file).", valueName: "column")
    )
    var label: String?

    @Option(help: ArgumentHelp("A column of importance weights.", valueName: "column"))
    var weight: String?

    @Option(help: ArgumentHelp("Columns to leave out (names and ranges such as I1-I13).", valueName: "columns"), transform: nameList)
    var ignore: [String]?

    @Option(help: ArgumentHelp("Numeric columns (names and ranges).", valueName: "columns"), transform: nameList)
    var numeric: [String]?

    @Option(
        help: ArgumentHelp("Categorical columns (default: every column not named otherwise).", valueName: "columns"), transform: nameList)
    var categorical: [String]?

    @Option(help: "How numeric values become features: log1p (signed, default), raw or bucket.")
    var numericTransform: NumericTransform?

    @Option(help: ArgumentHelp("Crossed column pairs, A:B,C:D, or all pairs of categorical columns.", valueName: "pairs"))
    var interactions: String?

    @Flag(inversion: .prefixedNo, help: "Add a per-column feature for an empty (missing) value.")
    var missingFeatures: Bool?

    @Option(help: "log2 of the number of kernel slots (default 24).")
    var bits: Int?

    @Option(help: "Feature mapping: murmur3 (default) or identity.")
    var hash: HashKind?

    @Option(help: "MurmurHash3 seed (default 0).")
    var hashSeed: UInt32?

    @Option(help: "Keras learning_rate, the FTRL alpha (default 0.1); with a schedule, its initial rate.")
    var learningRate: Double?

    @Option(
        help: ArgumentHelp(
            "Learning-rate schedule: constant, exponential-decay, inverse-time-decay, piecewise-constant-decay, polynomial-decay, cosine-decay or cosine-decay-restarts.",
            valueName: "name"))
    var schedule: String?

    @Option(help: "Schedule decay_steps (first_decay_steps for cosine-decay-restarts).")
    var decaySteps: Double?

    @Option(help: "Schedule decay_rate (exponential-decay, inverse-time-decay).")
    var decayRate: Double?

    @Flag(inversion: .prefixedNo, help: "Schedule staircase: decay in whole steps of decay_steps.")
    var staircase: Bool?

    @Option(help: ArgumentHelp("piecewise-constant-decay boundaries, comma-separated steps.", valueName: "list"), transform: numberList)
    var boundaries: [Double]?

    @Option(
        help: ArgumentHelp("piecewise-constant-decay values, comma-separated (one more than boundaries).", valueName: "list"),
        transform: numberList)
    var values: [Double]?

    @Option(help: "polynomial-decay end_learning_rate (default 0.0001).")
    var endLearningRate: Double?

    @Option(help: "polynomial-decay power (default 1).")
    var power: Double?

    @Flag(inversion: .prefixedNo, help: "polynomial-decay cycle: restart the decay past decay_steps.")
    var cycle: Bool?

    @Option(help: "cosine-decay(-restarts) alpha: the floor as a fraction of the rate (default 0).")
    var alpha: Double?

    @Option(help: "cosine-decay warmup_target: the rate reached by the linear warm-up.")
    var warmupTarget: Double?

    @Option(help: "cosine-decay warmup_steps (default 0).")
    var warmupSteps: Double?

    @Option(help: "cosine-decay-restarts t_mul: period growth per restart (default 2).")
    var tMul: Double?

    @Option(help: "cosine-decay-restarts m_mul: rate factor per restart (default 1).")
    var mMul: Double?

    @Option(help: "Keras clipnorm: scale each variable's gradient to at most this L2 norm.")
    var clipnorm: Double?

    @Option(help: "Keras global_clipnorm: scale kernel and bias gradients to at most this joint L2 norm.")
    var globalClipnorm: Double?

    @Option(help: "Keras clipvalue: clip each gradient number to [-v, v].")
    var clipvalue: Double?

    @Flag(inversion: .prefixedNo, help: "Keras use_ema: keep moving averages of the weights and export them.")
    var ema: Bool?

    @Option(help: "Keras ema_momentum (default 0.99).")
    var emaMomentum: Double?

    @Option(help: "Keras ema_overwrite_frequency: every N steps set the weights to their averages.")
    var emaOverwriteFrequency: Int?

    @Option(help: "Keras learning_rate_power, <= 0 (default -0.5).")
    var learningRatePower: Double?

    @Option(help: "Keras initial_accumulator_value, >= 0 (default 0.1).")
    var initialAccumulatorValue: Double?

    @Option(help: "Keras l1_regularization_strength (default 0.1).")
    var l1: Double?

    @Option(help: "Keras l2_regularization_strength (default 0.5; VW's --l2 is twice this).")
    var l2: Double?

    @Option(help: "Keras l2_shrinkage_regularization_strength (default 0).")
    var l2Shrinkage: Double?

    @Option(help: "Keras beta (default 1).")
    var beta: Double?

    @Option(help: "Examples per step (default 1).")
    var batchSize: Int?

    @Option(help: "Passes over the input files (default 1).")
    var epochs: Int?

    @Option(help: "Precision of the model: float32 (default) or float64.")
    var dtype: DType?

    @Option(help: ArgumentHelp("One importance weight per training row, in order.", valueName: "file"))
    var exampleWeights: String?

    @Flag(name: [.short, .long], help: "Print nothing but errors.")
    var quiet = false

    @Option(help: ArgumentHelp("Seconds between progress lines on stderr (default 3).", valueName: "seconds"))
    var progressEvery: Double = 3

    @Flag(help: "Print where the time went (reader and trainer threads) at the end.")
    var profile = false

    @Option(
        help: ArgumentHelp(
            "Write a checkpoint (a complete, resumable model) every N examples, at a batch boundary; -m is replaced only when the run succeeds.",
            valueName: "N"))
    var checkpointEvery: Int = 0

    @Option(help: ArgumentHelp("Where checkpoints go (default: the -m path + .checkpoint).", valueName: "file"))
    var checkpoint: String?

    /// SIGINT and SIGTERM are taken over before main (CTrainStartup's
    /// constructor; installed again here, which changes nothing, should the
    /// constructor ever not run), so that a signal at any time ends the run
    /// with a written model (exit 130/143).
    static func main() {
        precondition(ftrl_train_startup_linked() == 1)
        StopSignals.install()
        main(nil)
    }

    func run() throws {
        var options = TrainingJob.Options()
        options.inputs = files
        options.modelPath = model
        options.resumePath = resume
        options.configPath = config
        options.exampleWeightsPath = exampleWeights
        options.quiet = quiet
        options.progressInterval = progressEvery
        options.profile = profile
        options.checkpointEvery = checkpointEvery
        options.checkpointPath = checkpoint
        options.stopsOnSignal = true
        var o = ConfigOverrides()
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
        o.clipnorm = clipnorm
        o.globalClipnorm = globalClipnorm
        o.clipvalue = clipvalue
        o.useEMA = ema
        o.emaMomentum = emaMomentum
        o.emaOverwriteFrequency = emaOverwriteFrequency
        o.input.preset = preset
        o.input.format = format
        o.input.header = header
        o.input.columns = columns
        o.input.label = label
        o.input.weight = weight
        o.input.ignore = ignore
        o.input.numeric = numeric
        o.input.categorical = categorical
        o.input.numericTransform = numericTransform
        o.input.interactions = interactions
        o.input.missingFeatures = missingFeatures
        o.learningRate = learningRate
        o.learningRatePower = learningRatePower
        o.initialAccumulatorValue = initialAccumulatorValue
        o.l1 = l1
        o.l2 = l2
        o.l2Shrinkage = l2Shrinkage
        o.beta = beta
        o.batchSize = batchSize
        o.epochs = epochs
        o.bits = bits
        o.dtype = dtype
        o.hash = hash
        o.hashSeed = hashSeed
        options.overrides = o
        let job = TrainingJob(options: options)
        do {
            if printConfig {
                let output = OutputWriter()
                try output.line(try job.resolve().0.jsonText)
                try output.flush()
                return
            }
            let status = try job.run()
            if status != 0 { throw ExitCode(status) }
        } catch let error as FTRLError {
            error.report(as: "ftrl-train")
            throw ExitCode(error.exitCode)
        }
    }
}
