import ArgumentParser
import FTRL
import FTRLCommandLine

@main
struct FTRLModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ftrl-model",
        abstract: "Inspect and merge model files.",
        discussion: "Exit codes: 0 ok, 64 usage, 65 corrupt or foreign model, 66 missing file, 74 I/O error.",
        subcommands: [Info.self, State.self, Weights.self, Top.self, Merge.self])
}

/// Loads the model at `path` and runs `body` on it, turning library errors
/// into their report and exit code.
func withModel(_ command: String, _ path: String, _ body: (AnyModel) throws(FTRLError) -> Void) throws {
    let status = reportingErrors(as: "ftrl-model \(command)") { () throws(FTRLError) -> Int32 in
        try body(try ModelFile.read(path: path))
        return 0
    }
    if status != 0 { throw ExitCode(status) }
}
