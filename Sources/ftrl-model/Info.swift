import ArgumentParser
import FTRL
import FTRLCommandLine

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Config, iterations, examples and slot counts as JSON.")

    @Argument(help: "The model file.")
    var model: String

    func run() throws {
        try withModel("info", model) { m throws(FTRLError) in
            let output = OutputWriter()
            try output.line(ModelReport.info(m))
            try output.flush()
        }
    }
}
