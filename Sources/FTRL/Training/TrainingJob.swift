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
        /// Write the model every this many examples (at a batch boundary); 0 for never.
        public var checkpointEvery = 0
        /// Stop gracefully on SIGINT/SIGTERM, writing the model (the command-line tool's behaviour).
        public var stopsOnSignal = false
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
        var config = FTRLConfig()
        var resumed: AnyModel?
        if let resume = options.resumePath {
            if options.configPath != nil {
                throw FTRLError(
                    .usage, "--config cannot be combined with --resume: the resumed model carries its config; use flags to change it")
            }
            let model = try ModelFile.read(path: resume)
            config = model.config
            var probe = config
            let changed = try options.overrides.apply(to: &probe)
            let refused = changed.filter { ConfigOverrides.meaningKeys.contains($0) }
            if !refused.isEmpty {
                throw FTRLError(
                    .usage, "cannot change \(refused.joined(separator: ", ")) of a resumed model (it would change what its weights mean)")
            }
            resumed = model
        } else if let path = options.configPath {
            let bytes = try ModelFile.readAll(path: path)
            do throws(FTRLError) {
                config = try FTRLConfig(jsonText: String(decoding: bytes, as: UTF8.self))
            } catch {
                throw FTRLError(.usage, error.message, path: path)
            }
        }
        // The format a file name implies, unless a flag, a config or the model says.
        if resumed == nil && options.overrides.input.format == nil && options.overrides.input.preset == nil
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
        let changed = try options.overrides.apply(to: &config)
        if resumed != nil && !changed.isEmpty && !options.quiet {
            printError("ftrl-train: resuming with \(changed.joined(separator: ", ")) overridden by the command line")
        }
        if options.exampleWeightsPath != nil { config.exampleWeights = true }
        try config.validate()
        if options.checkpointEvery < 0 { throw FTRLError(.usage, "--checkpoint-every must be >= 0") }
        if options.checkpointEvery > 0 && options.modelPath == nil {
            throw FTRLError(.usage, "--checkpoint-every needs -m FILE to write the checkpoints to")
        }
        if let model = resumed {
            model.setConfig(config)
        }
        return (config, resumed)
    }

    var inputs: [String] { options.inputs.isEmpty ? ["-"] : options.inputs }

    /// Runs the job.
    /// - Returns: the exit status: 0, or 128 + the signal when SIGINT or
    ///   SIGTERM stopped training (the model was written all the same).
    /// - Throws: `FTRLError`; the model file at `-m` is then untouched.
    @discardableResult
    public func run() throws(FTRLError) -> Int32 {
        let (config, resumed) = try resolve()
        if config.exampleWeights && options.exampleWeightsPath == nil {
            throw FTRLError(.usage, "the config sets example_weights but no --example-weights FILE was given")
        }
        if config.epochs > 1 && inputs.contains("-") {
            throw FTRLError(.usage, "--epochs \(config.epochs) needs input files: standard input can be read only once")
        }
        if let path = options.modelPath {
            try checkWritable(path)
        }
        let weights = try options.exampleWeightsPath.map { path throws(FTRLError) in try ExampleWeightsFile.read(path: path) }
        let progress = Progress(prefix: "ftrl-train: ", interval: options.quiet ? nil : options.progressInterval)
        switch resumed {
        case .float32(let m): return try train(m, weights, progress)
        case .float64(let m): return try train(m, weights, progress)
        case nil:
            switch config.dtype {
            case .float32: return try train(Model<Float>(config: config), weights, progress)
            case .float64: return try train(Model<Double>(config: config), weights, progress)
            }
        }
    }

    private func train<F: FTRLScalar>(_ model: Model<F>, _ weights: [Double]?, _ progress: Progress) throws(FTRLError) -> Int32 {
        let trainer = Trainer(model: model)
        trainer.stopsOnSignal = options.stopsOnSignal
        if let path = options.modelPath, options.checkpointEvery > 0 {
            trainer.checkpointEvery = options.checkpointEvery
            trainer.checkpoint = { () throws(FTRLError) in
                try ModelFile.write(model, to: path)
                progress.say("checkpoint: \(grouped(Int(model.examples))) examples, \(grouped(Int(model.iterations))) steps, model \(path)")
            }
        }
        let summary = try trainer.train(
            paths: inputs, weights: weights, weightsPath: options.exampleWeightsPath, progress: progress)
        if summary.examples == 0 && summary.interruptedBy == nil {
            throw FTRLError(.data, "no examples in the input", path: inputs.count == 1 ? inputs[0] : nil)
        }
        if let path = options.modelPath {
            try ModelFile.write(model, to: path)
        }
        if let signal = summary.interruptedBy {
            let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)"
            printError(
                "ftrl-train: stopped by \(name) after \(grouped(summary.examples)) examples (\(grouped(Int(model.examples))) in all)"
                    + (options.modelPath.map { "; the model in \($0) is complete: continue with --resume \($0)" } ?? ""))
        }
        let rate = Double(summary.examples) / max(summary.seconds, 1e-9)
        progress.say(
            "\(grouped(summary.examples)) examples in \(fixed(summary.seconds, 2)) s (\(grouped(Int(rate))) ex/s), "
                + "progressive logloss \(fixed(summary.progressiveLogLoss, 6)), \(grouped(Int(model.iterations))) steps in all"
                + (options.modelPath.map { ", model \($0)" } ?? ""))
        if options.profile {
            printError(
                "ftrl-train: profile: decode thread (read, gunzip) \(fixed(summary.decodeSeconds, 3)) s busy; parse thread (parse, hash) \(fixed(summary.parseSeconds, 3)) s busy; "
                    + "trainer thread: update \(fixed(summary.seconds - summary.waitSeconds, 3)) s, waiting for input \(fixed(summary.waitSeconds, 3)) s; "
                    + "\(fixed(Double(summary.bytes) / 1e6, 1)) MB decoded")
        }
        return summary.interruptedBy.map { 128 + $0 } ?? 0
    }

    /// Fails early, before any training, when the model cannot be written.
    private func checkWritable(_ path: String) throws(FTRLError) {
        let dir: String
        if let slash = path.lastIndex(of: "/") {
            dir = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            dir = "."
        }
        if access(dir, W_OK) != 0 {
            throw FTRLError(.io, "cannot write the model there: \(String(cString: strerror(errno)))", path: path)
        }
    }
}

extension AnyModel {
    /// Replaces the config of the model (used when flags override a resumed model's settings).
    func setConfig(_ config: FTRLConfig) {
        switch self {
        case .float32(let m): m.config = config
        case .float64(let m): m.config = config
        }
    }
}
