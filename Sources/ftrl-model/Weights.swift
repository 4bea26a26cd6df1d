import ArgumentParser
import FTRL
import FTRLCommandLine

struct Weights: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The exported weights as TSV: slot, weight (nonzero kernel slots, then bias).")

    @Argument(help: "The model file.")
    var model: String

    func run() throws {
        try withModel("weights", model) { m throws(FTRLError) in try ModelReport.weights(m, to: OutputWriter()) }
    }
}
