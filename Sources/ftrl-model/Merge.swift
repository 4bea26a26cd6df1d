import ArgumentParser
import FTRL
import FTRLCommandLine

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge models trained on disjoint shards into one resumable model.",
        discussion: """
            Each slot's z and n become their averages over the shards where the slot changed \
            (from --base, or from nothing), and w is recomputed from them; a slot one shard \
            changed keeps that shard's state. Iterations and examples add up. The result does \
            not depend on the order of the models. Models whose kind, precision, bits, hashing, \
            schema or other weight-defining settings differ are refused.
            """)

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The merged model (written atomically).", valueName: "file"))
    var output: String

    @Option(help: ArgumentHelp("The model every shard resumed from (none: trained from scratch).", valueName: "file"))
    var base: String?

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
            let summary = try ModelMerge.merge(paths: models, base: base, momentum: blockMomentum, output: output)
            if !quiet {
                printError(
                    "ftrl-model merge: \(summary.inputs) models, \(grouped(summary.changedSlots)) slots changed "
                        + "(\(grouped(summary.averagedSlots)) by more than one), \(grouped(summary.activeSlots)) active; "
                        + "\(grouped(summary.iterations)) steps, \(grouped(summary.examples)) examples -> \(output)")
            }
            return 0
        }
        if status != 0 { throw ExitCode(status) }
    }
}
