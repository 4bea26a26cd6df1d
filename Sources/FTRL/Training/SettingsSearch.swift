import CFTRLShims
import Glibc

/// Many settings of the optimizer trained on one decoded, parsed stream:
/// each setting has its own model and `Trainer`, every block of examples is
/// fed to all of them (the settings spread over worker threads), and a
/// setting's model is the one a run with that setting alone writes, byte
/// for byte. The input and hashing settings are the same for all, which is
/// what lets one parse serve every setting.
///
/// The settings are ranked by the mean logloss of the first pass's
/// examples, each scored before it is learned (progressive validation), or,
/// with `validation` files, by the logloss on them after each epoch; then
/// each setting keeps its best epoch, and a setting whose validation logloss
/// has not improved for `patience` epochs stops training (early stopping).
/// A model kept from epoch k records `epochs: k`: it is the model that a run
/// with `--epochs k` writes.
public struct SettingsSearch {
    /// The learning rates `--learning-rate auto` searches: chosen by
    /// measurement on the logs of `../shared/data` (README, "Searching
    /// settings"): no log's holdout was best below 0.1.
    public static let autoLearningRates: [Double] = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2]

    /// One setting: its models' config and how it is named.
    public struct Candidate: Sendable {
        /// The config of its model (epochs included).
        public var config: FTRLConfig
        /// The values that set it apart, as `key=value` words.
        public var label: String
        /// Its file name in `modelsDirectory`.
        public var fileName: String

        public init(config: FTRLConfig, label: String, fileName: String) {
            self.config = config
            self.label = label
            self.fileName = fileName
        }
    }

    /// What became of one setting.
    public struct Result: Sendable {
        /// Mean logloss of the first pass, each example scored before it was learned.
        public var progressiveLogLoss = Double.nan
        /// The same over the pass's second half (from a block end at or
        /// before its middle), its rows and positives: what ranks the
        /// settings without validation, since the end of the pass is what
        /// the final model learnt from.
        public var laterLogLoss = Double.nan
        public var laterExamples = 0
        public var laterPositives = 0
        /// Examples and positives of the first pass.
        public var examples = 0
        public var positives = 0
        /// The best epoch's logloss on the validation files, and their examples and positives.
        public var validationLogLoss: Double?
        public var validationExamples = 0
        public var validationPositives = 0
        /// The epoch whose model is kept (the last one without validation).
        public var bestEpoch = 0
        /// Epochs trained (fewer than asked after an early stop).
        public var epochsTrained = 0
        /// Why the setting dropped out (training diverged), or nil.
        public var failure: String?
        /// The class of that failure (a diverged step is bad data; a sparse
        /// table that cannot grow is a usage error, as in a single run).
        public var failureKind: FTRLError.Kind?
        /// Where its model was written in `modelsDirectory`, or nil.
        public var modelFile: String?

        /// The logloss the setting is ranked by.
        public func score(byValidation: Bool) -> Double {
            if failure != nil { return .infinity }
            let s = byValidation ? (validationLogLoss ?? .infinity) : laterLogLoss
            return s.isNaN ? .infinity : s
        }
    }

    /// The end of a search.
    public struct Outcome: Sendable {
        /// One result per candidate, in the candidates' order.
        public var results: [Result]
        /// Candidate indices, best first (failed settings last).
        public var ranking: [Int]
        /// The chosen candidate (the first of the ranking), or nil when every setting failed.
        public var chosen: Int?
        /// Whether the ranking is by validation logloss.
        public var byValidation: Bool
        /// Examples read per epoch, over all epochs.
        public var examples = 0
        /// Wall seconds.
        public var seconds = 0.0
        /// The signal that stopped the run early, or nil.
        public var interruptedBy: Int32?
        /// What became of the example cache (`--cache`).
        public var cache = CacheReport()
    }

    /// Where a search is, for a progress line.
    public struct Progress: Sendable {
        public var epoch: Int
        /// Examples of this epoch so far, and of all epochs.
        public var examples: Int
        public var totalExamples: Int
        /// The best running first-pass logloss and its setting's label (first epoch only).
        public var bestLogLoss: Double
        public var bestLabel: String
        /// Settings still training.
        public var active: Int
        /// The input read.
        public var input = InputShare()
    }

    /// The settings, in order.
    public var candidates: [Candidate]
    /// Input files in order (`-` is standard input, readable once).
    public var inputs: [String]
    /// One importance weight per training row of an epoch, or nil.
    public var weights: [Double]?
    public var weightsPath: String?
    /// Files scored after each epoch to rank the settings, or empty.
    public var validation: [String] = []
    /// Epochs without a better validation logloss after which a setting stops.
    public var patience = 2
    /// Where every setting's model goes (as `Candidate.fileName`), or nil.
    public var modelsDirectory: String?
    /// Where the chosen model goes, or nil.
    public var modelPath: String?
    /// Worker threads for the settings (the caller's thread is one).
    public var threads = 2
    /// The weight tables' layout (`auto` weighs all settings' tables together).
    public var table = TableLayout.auto
    /// Read the examples from a cache, or write one in the first pass (`--cache`).
    public var cache: CachePlan?
    /// Whether SIGINT and SIGTERM stop the run after the block in progress, with complete models.
    public var stopsOnSignal = false
    /// Called after each block.
    public var onProgress: (Progress) -> Void = { _ in }
    /// Called after each epoch's validation: the epoch and each setting's validation logloss (nil: not trained).
    public var onValidation: (_ epoch: Int, _ logLoss: [Double?]) -> Void = { _, _ in }

    public init(candidates: [Candidate], inputs: [String]) {
        self.candidates = candidates
        self.inputs = inputs
    }

    /// Examples a worker feeds to each of its settings in turn: few enough
    /// that the slots one setting touched are still in the core's cache and
    /// TLB when the next setting reads the same slots of its table (32 to
    /// 1024 measured in BENCHMARKS.md, "Searching settings").
    static let chunk = 64

    /// The settings of each worker: contiguous runs, whose tables share one
    /// interleaved buffer (`freshModels`).
    static func shares(count: Int, threads: Int) -> [[Int]] {
        let workers = min(max(1, threads), max(1, count))
        return (0..<workers).map { k in Array(k * count / workers..<(k + 1) * count / workers) }
    }

    /// A fresh model for every candidate, each worker's tables interleaved
    /// (slot i of its settings side by side): a search's settings read and
    /// write the same slots, example by example.
    /// - Throws: `FTRLError` when the memory cannot be had.
    public func freshModels() throws(FTRLError) -> [AnyModel] {
        guard let first = candidates.first?.config else { return [] }
        var models: [AnyModel] = []
        // `auto` weighs the tables of all settings together.
        let slotBytes =
            first.dtype == .float32
            ? WeightTable<Float>.slotBytes(withEMA: first.useEMA) : WeightTable<Double>.slotBytes(withEMA: first.useEMA)
        let all = candidates.count * (slotBytes << first.bits)
        let layout: TableLayout = table.isSparse(bits: first.bits, tableBytes: all) ? .sparse : .dense
        for share in Self.shares(count: candidates.count, threads: threads) {
            switch first.dtype {
            case .float32:
                let tables = try WeightTable<Float>.interleaved(
                    count: share.count, bits: first.bits, withEMA: first.useEMA, layout: layout)
                for (i, table) in zip(share, tables) { models.append(.float32(Model(config: candidates[i].config, table: table))) }
            case .float64:
                let tables = try WeightTable<Double>.interleaved(
                    count: share.count, bits: first.bits, withEMA: first.useEMA, layout: layout)
                for (i, table) in zip(share, tables) { models.append(.float64(Model(config: candidates[i].config, table: table))) }
            }
        }
        return models
    }

    /// Runs the search on `models` (one per candidate, fresh or resumed, of one precision).
    /// - Throws: `FTRLError` for bad input (no model is then written), or
    ///   when the tables do not fit in memory (before any input is read).
    public func run(on models: [AnyModel]) throws(FTRLError) -> Outcome {
        switch models.first {
        case .float32?: return try run(models.map { if case .float32(let m) = $0 { m } else { nil } })
        case .float64?: return try run(models.map { if case .float64(let m) = $0 { m } else { nil } })
        case nil: throw FTRLError(.usage, "no settings to search")
        }
    }

    private func run<F: FTRLScalar>(_ typed: [Model<F>?]) throws(FTRLError) -> Outcome {
        let models = typed.compactMap { $0 }
        guard models.count == candidates.count, models.count == typed.count else {
            throw FTRLError(.usage, "the settings of a search must share one precision (--dtype)")
        }
        try WeightTable.checkMemoryForTraining(models.map(\.table))
        let start = Clock.now()
        let trainers = models.map { Trainer(model: $0) }
        let count = models.count
        var results = [Result](repeating: Result(), count: count)
        var active = [Bool](repeating: true, count: count)
        let byValidation = !validation.isEmpty
        let epochs = candidates.map(\.config.epochs).max() ?? 1
        let shares = Self.shares(count: count, threads: threads)
        let units = shares.map { SearchUnit.of($0, models) }
        let gang = WorkerGang(count: shares.count)
        defer { gang.stop() }
        // Per-setting slots the workers write into (each index has one writer).
        let losses = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
        let failures = UnsafeMutableBufferPointer<FTRLError?>.allocate(capacity: count)
        failures.initialize(repeating: nil)
        defer {
            losses.deallocate()
            _ = failures.deinitialize()
            failures.deallocate()
        }
        var snapshots: Snapshots?
        defer { snapshots?.remove() }
        var outcome = Outcome(results: [], ranking: [], chosen: nil, byValidation: byValidation)
        // Settings whose training failed drop out, keeping why (and its class, for the exit code).
        func dropFailed() {
            for i in 0..<count where active[i] {
                if let error = failures[i] {
                    active[i] = false
                    results[i].failure = error.message
                    results[i].failureKind = error.kind
                }
            }
        }
        var stale = [Int](repeating: 0, count: count)
        let epochInputs = EpochInputs(paths: inputs, hasher: models[0].hasher, bits: models[0].config.bits, cache: cache)
        epochs: for epoch in 1...epochs {
            let pass = try epochInputs.open(epoch: epoch, schema: models[0].config.schema, stopsOnSignal: stopsOnSignal)
            let stream = pass.stream
            func finish() { _ = pass.end(wait: outcome.interruptedBy == nil) }
            defer { finish() }
            losses.initialize(repeating: 0)
            // As a single run does (`Trainer.train`): every table mapped, while the reader starts.
            if epoch == 1 { for m in models { m.table.awaitPrefault() } }
            var row = 0
            var positives = 0
            var history = PassHistory(settings: count)
            var bestLabel = ""
            var bestLoss = Double.nan
            while let block = try stream.next() {
                if let columns = stream.columnNames {
                    for m in models where m.config.schema.format != .libsvm && m.config.schema.columns == nil {
                        m.config.schema.columns = columns  // as a single run records them
                    }
                }
                if let weights, row + block.count > weights.count {
                    throw FTRLError(.data, "has \(weights.count) example weights, fewer than the training rows", path: weightsPath)
                }
                let running = active
                let at = row
                func feedAll(_ blockWeights: UnsafeBufferPointer<Double>?) {
                    gang.run { k in
                        for lo in stride(from: 0, to: block.count, by: Self.chunk) {
                            let examples = lo..<min(lo + Self.chunk, block.count)
                            for unit in units[k] {
                                switch unit {
                                case .lanes(let lanes):
                                    lanes.feed(
                                        block, examples: examples, weights: blockWeights, running: running, losses: losses,
                                        failures: failures)
                                case .single(let i):
                                    guard running[i] && failures[i] == nil else { continue }
                                    do throws(FTRLError) {
                                        losses[i] += try trainers[i].feed(block, examples: examples, weights: blockWeights).logLossSum
                                    } catch {
                                        failures[i] = error
                                    }
                                }
                            }
                        }
                    }
                }
                if let weights {
                    weights.withUnsafeBufferPointer { all in feedAll(UnsafeBufferPointer(rebasing: all[at..<at + block.count])) }
                } else {
                    feedAll(nil)
                }
                for e in 0..<block.count where block.labels[e] == 1 { positives += 1 }
                row += block.count
                stream.recycle(block)
                dropFailed()
                if epoch == 1 {
                    history.record(rows: row, positives: positives, sums: losses)
                    for i in 0..<count where active[i] && !(losses[i] >= bestLoss) {
                        bestLoss = losses[i]
                        bestLabel = candidates[i].label
                    }
                }
                onProgress(
                    Progress(
                        epoch: epoch, examples: row, totalExamples: outcome.examples + row, bestLogLoss: bestLoss / Double(max(row, 1)),
                        bestLabel: bestLabel, active: active.count { $0 }, input: InputShare(stream, epoch: epoch, epochs: epochs)))
                if stopsOnSignal && ftrl_stop_signal() != 0 { break }
            }
            for unit in units.joined() {
                switch unit {
                case .lanes(let lanes):
                    lanes.flush(failures: failures)
                case .single(let i):
                    guard active[i] else { continue }
                    do throws(FTRLError) { try trainers[i].flush() } catch { failures[i] = error }
                }
            }
            dropFailed()
            if let weights, weights.count != row, !(stopsOnSignal && ftrl_stop_signal() != 0) {
                throw FTRLError(.data, "has \(weights.count) example weights for \(row) training rows", path: weightsPath)
            }
            outcome.examples += row
            let later = history.secondHalf(total: row, finalPositives: positives, final: losses)
            for i in 0..<count where active[i] {
                results[i].epochsTrained = epoch
                if epoch == 1 {
                    results[i].laterLogLoss = later.means[i]
                    results[i].laterExamples = later.rows
                    results[i].laterPositives = later.positives
                    results[i].progressiveLogLoss = row > 0 ? losses[i] / Double(row) : .nan
                    results[i].examples = row
                    results[i].positives = positives
                }
            }
            let signal = ftrl_stop_signal()
            if stopsOnSignal && signal != 0 { outcome.interruptedBy = Int32(signal) }
            if epoch == 1 {
                finish()  // the input thread is done with the cache
                epochInputs.endFirstPass(stream, complete: outcome.interruptedBy == nil)
            }
            if row == 0 { break epochs }
            guard byValidation && outcome.interruptedBy == nil else {
                // With validation, a stopped epoch is not scored: the best scored one stays.
                if !byValidation {
                    for i in 0..<count where active[i] { results[i].bestEpoch = epoch }
                }
                if outcome.interruptedBy != nil { break epochs }
                continue
            }
            // Validation: every setting still training scored on one parse of the files.
            let scored = try validate(models, active: active, gang: gang, shares: shares)
            var report = [Double?](repeating: nil, count: count)
            for i in 0..<count where active[i] {
                let loss = scored.losses[i] / Double(max(scored.examples, 1))
                report[i] = loss
                if results[i].validationLogLoss.map({ loss < $0 }) ?? true {
                    results[i].validationLogLoss = loss
                    results[i].validationExamples = scored.examples
                    results[i].validationPositives = scored.positives
                    results[i].bestEpoch = epoch
                    stale[i] = 0
                    if epoch < epochs {
                        // This epoch may stay the best: keep its model (as --epochs epoch writes it).
                        if snapshots == nil {
                            snapshots = try Snapshots(in: modelsDirectory ?? modelPath.map { AtomicFile.directory(of: $0) } ?? "/tmp")
                        }
                        try snapshots!.save(models[i], epochs: epoch, as: i)
                    }
                } else {
                    stale[i] += 1
                    if stale[i] >= patience { active[i] = false }
                }
            }
            onValidation(epoch, report)
        }
        // Rank, then write: every setting's model to the directory, the chosen one to -m.
        outcome.ranking = (0..<count).sorted {
            let (a, b) = (results[$0].score(byValidation: byValidation), results[$1].score(byValidation: byValidation))
            return a < b || (a == b && $0 < $1)
        }
        outcome.chosen = outcome.ranking.first.flatMap { results[$0].failure == nil ? $0 : nil }
        func final(_ i: Int) throws(FTRLError) -> Model<F> {
            // The best epoch's model when it was not the last one trained.
            if let snapshots, results[i].bestEpoch < results[i].epochsTrained, let path = snapshots.path(of: i) {
                guard case .some(let any) = try? ModelFile.read(path: path), let m = Self.typed(any, F.self) else {
                    throw FTRLError(.io, "the kept model of \(candidates[i].label) could not be read back", path: path)
                }
                return m
            }
            return models[i]
        }
        if let dir = modelsDirectory {
            for i in 0..<count where results[i].failure == nil && results[i].epochsTrained > 0 {
                let path = dir + "/" + candidates[i].fileName
                try ModelFile.write(try final(i), to: path)
                results[i].modelFile = path
            }
        }
        if let path = modelPath, let chosen = outcome.chosen {
            try ModelFile.write(try final(chosen), to: path)
        }
        outcome.results = results
        outcome.seconds = Clock.now() - start
        outcome.cache = epochInputs.report
        return outcome
    }

    /// The summed validation logloss of each active model over the files, one parse for all.
    private func validate<F: FTRLScalar>(
        _ models: [Model<F>], active: [Bool], gang: WorkerGang, shares: [[Int]]
    ) throws(FTRLError) -> (losses: [Double], examples: Int, positives: Int) {
        let stream = ExampleStream(paths: validation, hasher: models[0].hasher, schema: models[0].config.schema, scoring: true)
        defer { _ = stream.finish() }
        let sums = UnsafeMutableBufferPointer<Double>.allocate(capacity: models.count)
        sums.initialize(repeating: 0)
        defer { sums.deallocate() }
        var examples = 0
        var positives = 0
        while let block = try stream.next() {
            for e in 0..<block.count {
                let y = block.labels[e]
                if y.isNaN {
                    throw FTRLError(
                        .data, "the validation rows need labels: row \(examples + e + 1) has none",
                        path: validation.count == 1 ? validation[0] : nil)
                }
                if y == 1 { positives += 1 }
            }
            gang.run { k in
                for i in shares[k] where active[i] {
                    let m = models[i]
                    var sum = 0.0
                    for e in 0..<block.count {
                        let p = sigmoid(m.exportedMargin(block, e)).asDouble
                        sum += LogLoss.of(p, label: block.labels[e] == 1)
                    }
                    sums[i] += sum
                }
            }
            examples += block.count
            stream.recycle(block)
        }
        if examples == 0 {
            throw FTRLError(.data, "no examples in the validation input", path: validation.count == 1 ? validation[0] : nil)
        }
        return (Array(sums), examples, positives)
    }

    private static func typed<G: FTRLScalar>(_ any: AnyModel, _: G.Type) -> Model<G>? {
        switch any {
        case .float32(let m): return m as? Model<G>
        case .float64(let m): return m as? Model<G>
        }
    }
}

/// What a worker feeds: up to four settings as the lanes of one update, or
/// one setting through its own `Trainer`.
private enum SearchUnit<F: FTRLScalar> {
    case lanes(LaneTrainer<F>)
    case single(Int)

    /// The units of a worker's settings `share`: runs of up to four as
    /// lanes where `LaneTrainer` can take them, the others one by one.
    static func of(_ share: [Int], _ models: [Model<F>]) -> [SearchUnit] {
        var units: [SearchUnit] = []
        for lo in stride(from: 0, to: share.count, by: 4) {
            let run = Array(share[lo..<min(lo + 4, share.count)])
            let group = run.map { models[$0] }
            if LaneTrainer.canTrain(group) {
                units.append(.lanes(LaneTrainer(models: group, indices: run)))
            } else {
                units += run.map { .single($0) }
            }
        }
        return units
    }
}

/// The best epoch's model of each setting, kept in a private directory
/// beside where the models go, while later epochs may still beat it.
private struct Snapshots {
    let directory: String
    private var saved: Set<Int> = []

    init(in parent: String) throws(FTRLError) {
        var template = Array((parent + "/.ftrl-search-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw FTRLError(.io, "cannot make a directory for the best epochs' models: \(String(cString: strerror(errno)))", path: parent)
        }
        directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    func path(of candidate: Int) -> String? { saved.contains(candidate) ? directory + "/\(candidate).ftrl" : nil }

    mutating func save<F: FTRLScalar>(_ model: Model<F>, epochs: Int, as candidate: Int) throws(FTRLError) {
        let full = model.config.epochs
        model.config.epochs = epochs
        defer { model.config.epochs = full }
        try ModelFile.write(model, to: directory + "/\(candidate).ftrl")
        saved.insert(candidate)
    }

    func remove() {
        for c in saved { unlink(directory + "/\(c).ftrl") }
        rmdir(directory)
    }
}
