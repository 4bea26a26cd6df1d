import ArgumentParser
import FTRL

extension HashKind: ExpressibleByArgument {}
extension DType: ExpressibleByArgument {}

@main
struct FTRLTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ftrl-train",
        abstract: "Train a logistic-regression click model with FTRL-Proximal on LibSVM logs (plain or gzip).",
        discussion: "Exit codes: 0 ok, 64 usage, 65 bad data or model, 66 missing input, 74 I/O error.")

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

    @Option(help: "log2 of the number of kernel slots (default 24).")
    var bits: Int?

    @Option(help: "Feature mapping: murmur3 (default) or identity.")
    var hash: HashKind?

    @Option(help: "MurmurHash3 seed (default 0).")
    var hashSeed: UInt32?

    @Option(help: "Keras learning_rate, the FTRL alpha (default 0.1).")
    var learningRate: Double?

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
        var o = ConfigOverrides()
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
                print(try job.resolve().0.jsonText)
                return
            }
            try job.run()
        } catch {
            printError("ftrl-train: error: \(error)")
            throw ExitCode(error.exitCode)
        }
    }
}
