import ArgumentParser
import FTRL
import FTRLCommandLine

extension ModelMerge.Rule: ExpressibleByArgument {}

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge models trained on disjoint shards into one resumable model.",
        discussion: """
            A slot every shard changed (from --base, or from nothing) gets the average of their \
            z and n; a slot only some changed gets the base's z and n plus the sum of their \
            changes; a slot one shard changed keeps that shard's state. w is recomputed from z \
            and n. Iterations and examples add up. The result does not depend on the order of \
            the models. Models whose kind, precision, bits, hashing, schema or other \
            weight-defining settings differ are refused.

            In a tree of merges, every merge below the top takes --rule average: it averages \
            and records how many shards each average stands for, so that the top merge gives \
            what one merge of all the shards would.
            """)

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The merged model (written atomically).", valueName: "file"))
    var output: String

    @Option(help: ArgumentHelp("The model every shard resumed from (none: trained from scratch).", valueName: "file"))
    var base: String?

    @Option(
        help: ArgumentHelp(
            "mixed: average where every shard changed a slot, sum the changes where some did; "
                + "average: average wherever several did (below the top of a merge tree).",
            valueName: "rule"))
    var rule: ModelMerge.Rule = .mixed

    @Option(
        help: ArgumentHelp(
            "Block momentum m in [0, 1): z moves on by m times the last round's change (needs --base and --previous).",
            valueName: "m"))
    var momentum: Double?

    @Option(help: ArgumentHelp("The previous round's base, for --momentum.", valueName: "file"))
    var previous: String?

    @Flag(name: .shortAndLong, help: "No summary on standard error.")
    var quiet = false

    @Argument(help: ArgumentHelp("The shards' models.", valueName: "model"))
    var models: [String]

    func run() throws {
        let status = reportingErrors(as: "ftrl-model merge") { () throws(FTRLError) -> Int32 in
            if (momentum == nil) != (previous == nil) {
                throw FTRLError(.usage, "--momentum and --previous go together")
            }
            let blockMomentum = momentum.map { ($0, previous!) }
            let summary = try ModelMerge.merge(paths: models, base: base, rule: rule, momentum: blockMomentum, output: output)
            if !quiet {
                printError(
                    "ftrl-model merge: \(summary.inputs) models, \(grouped(summary.changedSlots)) slots changed "
                        + "(\(grouped(summary.averagedSlots)) averaged, \(grouped(summary.summedSlots)) summed), "
                        + "\(grouped(summary.activeSlots)) active; "
                        + "\(grouped(summary.iterations)) steps, \(grouped(summary.examples)) examples -> \(output)")
            }
            return 0
        }
        if status != 0 { throw ExitCode(status) }
    }
}
