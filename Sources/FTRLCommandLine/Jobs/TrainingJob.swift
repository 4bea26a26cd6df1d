import FTRL
import Glibc

/// One `ftrl-train` run from resolved options: builds or resumes the model,
/// trains it on the inputs and writes it atomically. The command-line tool
/// only parses flags into `Options`.
public struct TrainingJob {
    /// What the user asked for.
    public struct Options {
        public var inputs: [String] = []
        public var modelPath: String?
        public var resumePath: String?
        public var configPath: String?
        public var overrides = ConfigOverrides()
        public var exampleWeightsPath: String?
        public var quiet = false
        public var progressInterval = 3.0
        public var profile = false
        /// Write a checkpoint every this many examples (at a batch boundary); 0 for never.
        public var checkpointEvery = 0
        /// Where checkpoints go (default: the model path + `.checkpoint`).
        public var checkpointPath: String?
        /// The weight table's layout.
        public var table = TableLayout.auto
        /// Where the parsed examples are cached (`--cache`), or nil.
        public var cachePath: String?
        /// Stop gracefully on SIGINT/SIGTERM, writing the model (the command-line tool's behaviour).
        public var stopsOnSignal = false
        /// Settings given several values: every combination is trained (a search).
        public var searchAxes: [(setting: Setting, values: [Double])] = []
        /// Files scored after each epoch (ranking a search; keeping the best epoch).
        public var validationPaths: [String] = []
        /// Epochs without a better validation logloss after which a setting stops.
        public var patience = 2
        /// Where every searched setting's model goes.
        public var modelsDirectory: String?
        /// Where the search's results go as JSON.
        public var searchJSONPath: String?
        /// Where the first pass's progressive validation metrics go as JSON.
        public var metricsJSONPath: String?
        public init() {}
    }

    let options: Options

    /// A job for `options`.
    public init(options: Options) {
        self.options = options
    }

    /// The config the run would use: defaults, or the resumed model's, then
    /// the config file, then the flags; validated.
    /// - Returns: the config and, when resuming, the model.
    /// - Throws: `FTRLError` (.usage) for invalid or conflicting settings.
    public func resolve() throws(FTRLError) -> (FTRLConfig, AnyModel?) {
        try resolve(options.overrides, quiet: options.quiet)
    }

    /// `resolve()` with `overrides` in place of the flags' (a search's setting).
    func resolve(_ overrides: ConfigOverrides, quiet: Bool) throws(FTRLError) -> (FTRLConfig, AnyModel?) {
        var config = FTRLConfig()
        var resumed: AnyModel?
        if let resume = options.resumePath {
            if options.configPath != nil {
                throw FTRLError(
                    .usage, "--config cannot be combined with --resume: the resumed model carries its config; use flags to change it")
            }
            let model = try ModelFile.read(path: resume, table: options.table)
            config = model.config
            var probe = config
            let changed = try overrides.apply(to: &probe)
            let refused = changed.filter { Setting.named($0)?.changesMeaning == true }
            if !refused.isEmpty {
                throw FTRLError(
                    .usage, "cannot change \(refused.joined(separator: ", ")) of a resumed model (it would change what its weights mean)")
            }
            resumed = model
        } else if let path = options.configPath {
            let bytes = try ModelFile.readAll(path: path, what: "config")
            do throws(FTRLError) {
                config = try FTRLConfig(jsonText: String(decoding: bytes, as: UTF8.self))
            } catch {
                throw FTRLError(.usage, error.message, path: path)
            }
        }
        // The format a file name implies, unless a flag, a config or the model says.
        if resumed == nil && overrides.given(.format) == nil && overrides.preset == nil
            && config.schema.format == .libsvm
        {
            let implied = Set(options.inputs.filter { $0 != "-" }.map { InputFormat.implied(by: $0) })
            if implied.count > 1 {
                throw FTRLError(.usage, "the input files have different formats (\(options.inputs.joined(separator: " "))); give --format")
            }
            if let only = implied.first, let format = only {
                config.schema.format = format
            }
        }
        let changed = try overrides.apply(to: &config)
        if resumed != nil && !changed.isEmpty && !quiet {
            printError("ftrl-train: resuming with \(changed.joined(separator: ", ")) overridden by the command line")
        }
        if options.exampleWeightsPath != nil { config.exampleWeights = true }
        try config.validate()
        if options.checkpointEvery < 0 { throw FTRLError(.usage, "--checkpoint-every must be >= 0") }
        if options.checkpointEvery > 0 && options.modelPath == nil && options.checkpointPath == nil {
            throw FTRLError(.usage, "--checkpoint-every needs --checkpoint FILE (or -m FILE, beside which they go)")
        }
        if options.checkpointPath != nil && options.checkpointEvery == 0 {
            throw FTRLError(.usage, "--checkpoint FILE needs --checkpoint-every N")
        }
        if let model = resumed {
            model.config = config
        }
        return (config, resumed)
    }

    var inputs: [String] { options.inputs.isEmpty ? ["-"] : options.inputs }

    /// The checkpoint file, when checkpoints are written.
    var checkpointPath: String? {
        guard options.checkpointEvery > 0 else { return nil }
        return options.checkpointPath ?? options.modelPath.map { $0 + ".checkpoint" }
    }

    /// Runs the job.
    /// - Returns: the exit status: 0, or 128 + the signal when SIGINT or
    ///   SIGTERM stopped training (the model was written all the same).
    /// - Throws: `FTRLError`; the model file at `-m` is then untouched.
    @discardableResult
    public func run() throws(FTRLError) -> Int32 {
        if !options.searchAxes.isEmpty || !options.validationPaths.isEmpty { return try search() }
        let (config, resumed) = try resolve()
        try checkInputs(config, rereading: inputs)
        try checkOutputs()
        var weights: [Double]?
        if let path = options.exampleWeightsPath { weights = try ExampleWeightsFile.read(path: path) }
        let progress = Progress(prefix: "ftrl-train: ", interval: options.quiet ? nil : options.progressInterval)
        let model: AnyModel
        if let resumed { model = resumed } else { model = try AnyModel(config: config, layout: options.table) }
        return try train(model, weights, progress)
    }

    /// Fails before any training when the config wants example weights that
    /// were not given, or several epochs of `paths` that can be read only once.
    func checkInputs(_ config: FTRLConfig, rereading paths: [String]) throws(FTRLError) {
        if config.exampleWeights && options.exampleWeightsPath == nil {
            throw FTRLError(.usage, "the config sets example_weights but no --example-weights FILE was given")
        }
        if config.epochs > 1, let once = paths.first(where: { !FileIdentity.isRereadable($0) }) {
            let what = once == "-" ? "standard input" : "\(once) (\(FileIdentity.kind(of: once)))"
            throw FTRLError(
                .usage,
                "--epochs \(config.epochs) reads the input \(config.epochs) times, but \(what) can be read only once; save it to a file")
        }
    }

    /// What `--cache` does for a run under `config`: read the cache, or
    /// write it (with a warning when one was there but cannot be used).
    func cachePlan(_ config: FTRLConfig) throws(FTRLError) -> CachePlan? {
        guard let path = options.cachePath else { return nil }
        let start = Progress.now()
        let (plan, rebuilt) = try CachePlan.of(path, paths: inputs, config: config)
        if let rebuilt { printError("ftrl-train: warning: rebuilding the cache \(path): \(rebuilt)") }
        if options.profile, case .read = plan {
            printError("ftrl-train: profile: cache checked in \(fixed(Progress.now() - start, 3)) s")
        }
        return plan
    }

    /// Says what became of `--cache`: a warning when it could not be written.
    func reportCache(_ report: CacheReport, _ progress: Progress) {
        guard let path = options.cachePath else { return }
        let read = report.read
        if let failure = report.failure {
            printError("ftrl-train: warning: the cache \(path) could not be written (\(failure)); the run read the text")
        } else if report.wrote {
            progress.say("wrote the cache \(path)" + (read ? "; later epochs read it" : ""))
        } else if read {
            progress.say("examples read from the cache \(path)")
        }
    }

    /// The note an error adds about `-m`: untouched, or never written.
    var modelNote: String? {
        options.modelPath.map { access($0, F_OK) == 0 ? "\($0) is unchanged" : "no model was written to \($0)" }
    }

    /// Fails before any training when the model or checkpoint could not be
    /// written, or when writing one would destroy a file the run reads (the
    /// same file under another name, a hard link or a symlink included).
    func checkOutputs() throws(FTRLError) {
        var read: [(String, FileIdentity)] = []
        for path in inputs + options.validationPaths + [options.exampleWeightsPath, options.configPath].compactMap({ $0 }) {
            if let id = FileIdentity(path: path) { read.append((path, id)) }
        }
        var written: [(path: String, target: String, id: FileIdentity?)] = []
        for (flag, path) in [
            ("-m", options.modelPath), ("--checkpoint", checkpointPath), ("--search-json", options.searchJSONPath),
            ("--metrics-json", options.metricsJSONPath), ("--cache", options.cachePath),
        ] {
            guard let path else { continue }
            try AtomicFile.checkWritable(path, role: flag)
            let target = try AtomicFile.target(of: path, role: flag)
            let id = FileIdentity(path: target)
            if let id, let (input, _) = read.first(where: { $0.1 == id }) {
                let name = input == "-" ? "standard input" : "the input \(input)"
                throw FTRLError(.usage, "\(flag) \(path) is \(name): writing there would destroy it; write elsewhere")
            }
            if let other = written.first(where: { $0.target == target || ($0.id != nil && $0.id == id) }) {
                throw FTRLError(.usage, "\(flag) \(path) is the same file as \(other.path)")
            }
            written.append((path, target, id))
        }
    }

    private func train(_ model: AnyModel, _ weights: [Double]?, _ progress: Progress) throws(FTRLError) -> Int32 {
        var run = TrainingRun(inputs: inputs)
        run.weights = weights
        run.weightsPath = options.exampleWeightsPath
        run.modelPath = options.modelPath
        run.checkpointPath = checkpointPath
        run.checkpointEvery = options.checkpointEvery
        run.stopsOnSignal = options.stopsOnSignal
        run.recordsPredictions = options.metricsJSONPath != nil
        run.cache = try cachePlan(model.config)
        run.onProgress = { at in
            progress.tick {
                let rate = Double(at.totalExamples) / max(progress.elapsed, 1e-9)
                let label = at.epoch == 1 ? "progressive logloss" : "epoch \(at.epoch) train logloss"
                if progress.inPlace {
                    // One terminal line: the share and time left first, the loss last.
                    let loss = at.epoch == 1 ? "logloss" : "epoch \(at.epoch) logloss"
                    return progress.share(at.input)
                        + "\(grouped(at.totalExamples)) ex  \(grouped(Int(rate))) ex/s  \(loss) \(fixed(at.logLoss, 5))"
                }
                return "\(grouped(at.totalExamples)) examples  \(grouped(Int(rate))) ex/s  \(label) \(fixed(at.logLoss, 5))"
            }
        }
        let checkpoints = CheckpointLog()
        run.onCheckpoint = { examples, steps, path in
            checkpoints.last = examples
            progress.say("checkpoint: \(grouped(examples)) examples, \(grouped(steps)) steps, in \(path)")
        }
        let outcome: TrainingRun.Outcome
        do throws(FTRLError) {
            outcome = try run.run(on: model)
            progress.clear()
        } catch var error {
            progress.clear()
            if let examples = checkpoints.last, let path = checkpointPath {
                error.notes.append(
                    "the last checkpoint, after \(grouped(examples)) examples, is in \(path): continue from it with --resume \(path)")
            }
            if let note = modelNote { error.notes.append(note) }
            throw error
        }
        let summary = outcome.summary
        if let path = options.metricsJSONPath, let metrics = outcome.progressiveMetrics {
            try AtomicFile.write(Array((metrics.json.rendered() + "\n").utf8), to: path, role: "--metrics-json")
        }
        reportCache(summary.cache, progress)
        let lastCheckpoint = checkpoints.last
        // The model holds everything the checkpoint did, and more.
        if lastCheckpoint != nil, options.modelPath != nil, let path = checkpointPath { unlink(path) }
        if let signal = summary.interruptedBy {
            let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)"
            printError(
                "ftrl-train: stopped by \(name) after \(grouped(summary.examples)) examples (\(grouped(outcome.examples)) in all)"
                    + (options.modelPath.map { "; the model in \($0) is complete: continue with --resume \($0)" }
                        ?? "; no model was written (no -m)"))
        }
        let rate = Double(summary.examples) / max(summary.seconds, 1e-9)
        progress.say(
            "\(grouped(summary.examples)) examples in \(fixed(summary.seconds, 2)) s (\(grouped(Int(rate))) ex/s), "
                + "progressive logloss \(fixed(summary.progressiveLogLoss, 6)), \(grouped(outcome.iterations)) steps in all"
                + (options.modelPath.map { ", model \($0)" } ?? ""))
        if options.profile {
            printError(
                "ftrl-train: profile: input thread (read, gunzip \(fixed(summary.decodeSeconds, 3)) s; "
                    + (summary.cache.read ? "reading the cache" : "parse, hash") + " \(fixed(summary.parseSeconds, 3)) s) "
                    + "\(fixed(summary.decodeSeconds + summary.parseSeconds, 3)) s busy; "
                    + "trainer thread: parse, hash \(fixed(summary.readerParseSeconds, 3)) s, "
                    + "update \(fixed(summary.seconds - summary.waitSeconds, 3)) s, "
                    + "waiting for input \(fixed(summary.waitSeconds - summary.readerParseSeconds, 3)) s; "
                    + "\(fixed(Double(summary.bytes) / 1e6, 1)) MB decoded")
        }
        return summary.interruptedBy.map { 128 + $0 } ?? 0
    }
}

/// The last checkpoint written, for the notes of an error.
private final class CheckpointLog {
    var last: UInt64?
}
