import ArgumentParser
import FTRL
import FTRLCommandLine

struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The features with the largest absolute weight, named by replaying logs through the model's schema and hashing.",
        discussion: """
            Names: LibSVM the index; CSV and TSV column=value, a numeric column by its name (or column=bucket with \
            --numeric-transform bucket), a cross A=x^B=y, a missing value column=(missing). Every other name that hashes to \
            the same slot is listed beside it (a collision), with its rows.
            """)

    @Argument(help: "The model file.")
    var model: String

    @Argument(help: ArgumentHelp("Logs in the model's format to take the names from; - is standard input.", valueName: "file"))
    var files: [String]

    @Option(name: .short, help: "How many features.")
    var n = 30

    @Flag(help: "Write JSON (rows, bias, features with name, weight, count, slot, collisions) instead of a table.")
    var json = false

    func validate() throws {
        if n < 1 { throw ValidationError("-n must be at least 1") }
    }

    func run() throws {
        try withModel("top", model) { m throws(FTRLError) in
            let top = try TopFeatures.of(m, paths: files, top: n)
            let output = OutputWriter()
            if json {
                try output.line(top.json.rendered())
            } else {
                for line in top.table { try output.line(line) }
            }
            try output.flush()
        }
    }
}
