import ArgumentParser
import FTRL
import FTRLCommandLine

struct State: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The training state as TSV: slot, w, n, z, ema (ever-active slots, then bias).")

    @Argument(help: "The model file.")
    var model: String

    func run() throws {
        try withModel("state", model) { m throws(FTRLError) in try ModelReport.state(m, to: OutputWriter()) }
    }
}
