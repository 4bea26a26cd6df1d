import ArgumentParser
import FTRL

@main
struct FTRLModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ftrl-model",
        abstract: "Inspect a model file.",
        discussion: "Exit codes: 0 ok, 64 usage, 65 corrupt or foreign model, 66 missing file, 74 I/O error.",
        subcommands: [Info.self, State.self, Weights.self])
}

/// Loads the model at `path`, turning library errors into exit codes.
func withModel(_ command: String, _ path: String, _ body: (AnyModel) throws(FTRLError) -> Void) throws {
    do {
        try body(try ModelFile.read(path: path))
    } catch {
        error.report(as: "ftrl-model \(command)")
        throw ExitCode(error.exitCode)
    }
}
