import FTRL
import Foundation
import Glibc

/// `ftrl-train` with several values for some optimizer flags, or with
/// `--validation`: every combination trained on one parse of the input
/// (`SettingsSearch`), the settings ranked, the best written to `-m`.
extension TrainingJob {
    /// The settings of a search, in the order of the flags' values (the
    /// first flag's values vary slowest).
    /// - Throws: `FTRLError` (.usage) for a combination that is not a valid config.
    public func candidates() throws(FTRLError) -> [SettingsSearch.Candidate] {
        try plan().map(\.candidate)
    }

    private func plan() throws(FTRLError) -> [(candidate: SettingsSearch.Candidate, values: [Double], resumed: AnyModel?)] {
        var combinations: [[Double]] = [[]]
        for axis in options.searchAxes {
            combinations = combinations.flatMap { prefix in axis.values.map { prefix + [$0] } }
        }
        var out: [(SettingsSearch.Candidate, [Double], AnyModel?)] = []
        for (k, values) in combinations.enumerated() {
            var overrides = options.overrides
            for (axis, value) in zip(options.searchAxes, values) { overrides.set(axis.setting, value) }
            let (config, resumed) = try resolve(overrides, quiet: options.quiet || k > 0)
            let words = zip(options.searchAxes, values).map { "\($0.setting.flag!)=\(Self.short($1))" }
            let label = words.isEmpty ? "the given settings" : words.joined(separator: " ")
            let file = words.isEmpty ? "model" : words.joined(separator: "_").replacingOccurrences(of: "=", with: "-")
            out.append((SettingsSearch.Candidate(config: config, label: label, fileName: file + ".ftrl"), values, resumed))
        }
        return out
    }

    /// Runs the search and reports it: a table on standard error, best
    /// first, and JSON with `--search-json`.
    func search() throws(FTRLError) -> Int32 {
        let plan = try plan()
        if options.metricsJSONPath != nil {
            throw FTRLError(.usage, "--metrics-json is for one setting: a search writes its metrics with --search-json")
        }
        if options.checkpointEvery > 0 {
            throw FTRLError(.usage, "--checkpoint-every cannot be combined with a search of settings or --validation")
        }
        try checkInputs(plan[0].candidate.config, rereading: inputs + options.validationPaths)
        if options.validationPaths.contains("-") && inputs.contains("-") {
            throw FTRLError(.usage, "the training rows and --validation cannot both be standard input")
        }
        if options.patience < 1 { throw FTRLError(.usage, "--patience must be at least 1") }
        for path in options.validationPaths where path != "-" && access(path, R_OK) != 0 {
            throw FTRLError(.noInput, "cannot read the --validation file: \(String(cString: strerror(errno)))", path: path)
        }
        if let dir = options.modelsDirectory {
            if mkdir(dir, 0o777) != 0 && errno != EEXIST {
                throw FTRLError(.io, "cannot make the --models-dir directory: \(String(cString: strerror(errno)))", path: dir)
            }
            var st = stat()
            guard stat(dir, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
                throw FTRLError(.usage, "--models-dir must name a directory", path: dir)
            }
        }
        try checkOutputs()
        var weights: [Double]?
        if let path = options.exampleWeightsPath { weights = try ExampleWeightsFile.read(path: path) }
        var search = SettingsSearch(candidates: plan.map(\.candidate), inputs: inputs)
        search.threads = ProcessInfo.processInfo.activeProcessorCount
        search.table = options.table
        var models: [AnyModel] = []
        if options.resumePath != nil {
            for item in plan {
                // Every setting resumes its own copy of the model.
                let copy = models.isEmpty ? item.resumed! : try ModelFile.read(path: options.resumePath!, table: options.table)
                copy.config = item.candidate.config
                models.append(copy)
            }
        } else {
            models = try search.freshModels()
        }
        let progress = Progress(prefix: "ftrl-train: ", interval: options.quiet ? nil : options.progressInterval)
        search.weights = weights
        search.weightsPath = options.exampleWeightsPath
        search.validation = options.validationPaths
        search.patience = options.patience
        search.modelsDirectory = options.modelsDirectory
        search.modelPath = options.modelPath
        search.stopsOnSignal = options.stopsOnSignal
        search.cache = try cachePlan(plan[0].candidate.config)
        search.onProgress = { at in
            progress.tick {
                let rate = Double(at.totalExamples) / max(progress.elapsed, 1e-9)
                let best = at.epoch == 1 ? ", best progressive logloss \(fixed(at.bestLogLoss, 5)) (\(at.bestLabel))" : ""
                let share = progress.inPlace ? progress.share(at.input) : ""
                return "\(share)epoch \(at.epoch): \(grouped(at.totalExamples)) examples  \(grouped(Int(rate))) ex/s  "
                    + "\(at.active) settings\(best)"
            }
        }
        search.onValidation = { epoch, losses in
            let scored = losses.compactMap { $0 }
            guard let best = scored.min() else { return }
            progress.say("epoch \(epoch): validation logloss of \(scored.count) settings, best \(fixed(best, 6))")
        }
        if !options.quiet {
            let threads = min(search.threads, plan.count)
            printError(
                "ftrl-train: training \(plan.count) setting\(plan.count == 1 ? "" : "s") on one parse of the input, "
                    + "\(threads) trainer thread\(threads == 1 ? "" : "s"), \(plan.count) tables of 2^\(plan[0].candidate.config.bits) slots"
            )
        }
        let outcome: SettingsSearch.Outcome
        do throws(FTRLError) {
            outcome = try search.run(on: models)
            progress.clear()
        } catch var error {
            progress.clear()
            if let note = modelNote { error.notes.append(note) }
            throw error
        }
        reportCache(outcome.cache, progress)
        if !options.quiet {
            for line in table(outcome, plan.map(\.values)) { printError(line) }
        }
        if let path = options.searchJSONPath {
            try AtomicFile.write(Array((json(outcome, plan.map(\.values)).rendered() + "\n").utf8), to: path, role: "--search-json")
        }
        guard outcome.chosen != nil else {
            // The first failure's class decides the exit code, as it would for that setting alone.
            let first = outcome.results.first { $0.failure != nil }
            throw FTRLError(
                first?.failureKind ?? .data, "every setting failed: \(first?.failure ?? "no examples")")
        }
        if outcome.examples == 0 && outcome.interruptedBy == nil {
            throw FTRLError(.data, "no examples in the input", path: inputs.count == 1 ? inputs[0] : nil)
        }
        if let signal = outcome.interruptedBy {
            let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)"
            printError(
                "ftrl-train: stopped by \(name) after \(grouped(outcome.examples)) examples; the settings were ranked on those"
                    + (options.modelPath.map { " and the chosen model, complete, is in \($0)" } ?? ""))
            return 128 + signal
        }
        return 0
    }

    /// A flag's value as it would be typed: `0`, `0.25`.
    static func short(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    }

    /// Normalized entropy: the logloss over the entropy of the base rate.
    private static func normalizedEntropy(_ logLoss: Double, positives: Int, examples: Int) -> Double {
        let p = Double(positives) / Double(max(examples, 1))
        guard p > 0 && p < 1 else { return .nan }
        return logLoss / -(p * log(p) + (1 - p) * log(1 - p))
    }

    /// The ranking as an aligned table, best first.
    private func table(_ outcome: SettingsSearch.Outcome, _ values: [[Double]]) -> [String] {
        let byValidation = outcome.byValidation
        var header = options.searchAxes.map { $0.setting.flag! }
        header +=
            byValidation
            ? ["validation logloss", "NE", "best epoch", "progressive logloss"]
            : ["2nd-half logloss", "NE", "whole-pass logloss", "examples"]
        var rows: [[String]] = []
        for i in outcome.ranking {
            let r = outcome.results[i]
            var row = values[i].map { Self.short($0) }
            if let failure = r.failure {
                row.append("failed: \(failure)")
            } else if byValidation {
                let v = r.validationLogLoss ?? .nan
                row += [
                    fixed(v, 6), fixed(Self.normalizedEntropy(v, positives: r.validationPositives, examples: r.validationExamples), 4),
                    "\(r.bestEpoch) of \(r.epochsTrained)", fixed(r.progressiveLogLoss, 6),
                ]
            } else {
                row += [
                    fixed(r.laterLogLoss, 6),
                    fixed(Self.normalizedEntropy(r.laterLogLoss, positives: r.laterPositives, examples: r.laterExamples), 4),
                    fixed(r.progressiveLogLoss, 6),
                    grouped(r.examples),
                ]
            }
            if i == outcome.chosen { row.append("<- chosen" + (options.modelPath.map { ", -m \($0)" } ?? "")) }
            rows.append(row)
        }
        var widths = header.map(\.count)
        for row in rows {
            for (k, cell) in row.enumerated() where k < widths.count && !cell.hasPrefix("failed: ") {
                widths[k] = max(widths[k], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { k, c in
                k < widths.count && c.count < widths[k] ? c + String(repeating: " ", count: widths[k] - c.count) : c
            }
            .joined(separator: "  ")
        }
        let criterion =
            byValidation
            ? "logloss on \(options.validationPaths.joined(separator: ", ")) after each epoch"
            : "progressive logloss over the second half of the first pass (each example scored before it was learned)"
        var out = ["ftrl-train: \(outcome.results.count) settings ranked by \(criterion):", "  " + line(header)]
        out += rows.map { "  " + line($0) }
        return out.map { $0.replacingOccurrences(of: " +$", with: "", options: .regularExpression) }
    }

    /// The search for scripts (`--search-json`).
    private func json(_ outcome: SettingsSearch.Outcome, _ values: [[Double]]) -> JSON {
        func number(_ x: Double?) -> JSON { x.map { $0.isFinite ? JSON.number($0) : .null } ?? .null }
        func setting(_ i: Int) -> JSON {
            .object(zip(options.searchAxes, values[i]).map { ($0.setting.key, JSON.number($1)) })
        }
        var settings: [JSON] = []
        for (rank, i) in outcome.ranking.enumerated() {
            let r = outcome.results[i]
            var members: [(String, JSON)] = [("rank", .number(Double(rank + 1))), ("setting", setting(i))]
            members += [
                ("progressive_logloss", number(r.failure == nil ? r.progressiveLogLoss : nil)),
                (
                    "progressive_normalized_entropy",
                    number(Self.normalizedEntropy(r.progressiveLogLoss, positives: r.positives, examples: r.examples))
                ),
                ("examples", .number(Double(r.examples))), ("positives", .number(Double(r.positives))),
                ("second_half_logloss", number(r.failure == nil ? r.laterLogLoss : nil)),
                (
                    "second_half_normalized_entropy",
                    number(Self.normalizedEntropy(r.laterLogLoss, positives: r.laterPositives, examples: r.laterExamples))
                ),
                ("second_half_examples", .number(Double(r.laterExamples))),
            ]
            if outcome.byValidation {
                members += [
                    ("validation_logloss", number(r.validationLogLoss)),
                    (
                        "validation_normalized_entropy",
                        number(
                            r.validationLogLoss.map {
                                Self.normalizedEntropy($0, positives: r.validationPositives, examples: r.validationExamples)
                            })
                    ),
                    ("validation_examples", .number(Double(r.validationExamples))),
                ]
            }
            members += [
                ("best_epoch", .number(Double(r.bestEpoch))), ("epochs_trained", .number(Double(r.epochsTrained))),
                ("model", r.modelFile.map { .string($0) } ?? .null), ("failure", r.failure.map { .string($0) } ?? .null),
            ]
            settings.append(.object(members))
        }
        return .object([
            ("ranked_by", .string(outcome.byValidation ? "validation_logloss" : "second_half_logloss")),
            ("validation", .array(options.validationPaths.map { .string($0) })),
            ("chosen", outcome.chosen.map(setting) ?? .null),
            ("model", outcome.chosen != nil ? options.modelPath.map { .string($0) } ?? .null : .null),
            ("examples", .number(Double(outcome.examples))),
            ("seconds", .number((outcome.seconds * 1000).rounded() / 1000)),
            ("settings", .array(settings)),
        ])
    }
}
