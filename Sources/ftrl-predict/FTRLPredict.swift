import ArgumentParser
import FTRL
import FTRLCommandLine

@main
struct FTRLPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ftrl-predict",
        abstract:
            "Score logs (the model's format: LibSVM, CSV or TSV; plain or gzip) with a model: one click probability per line on stdout.",
        discussion: "Exit codes: 0 ok, 64 usage, 65 bad data or model, 66 missing input, 74 I/O error.")

    @Option(name: [.customShort("m"), .customLong("model")], help: "The model to score with.")
    var model: String

    @Argument(help: ArgumentHelp("Input files, read in order; - or none reads standard input.", valueName: "file"))
    var files: [String] = []

    @Flag(help: "Print logloss, AUC, calibration and the count on stderr.")
    var metrics = false

    @Option(
        help: ArgumentHelp(
            "Write the metrics as JSON: count, positives, logloss, AUC, normalized entropy, calibration, and a table of 20 equal-count buckets.",
            valueName: "file"))
    var metricsJson: String?

    @Option(
        help: ArgumentHelp(
            "Write a self-contained HTML report: the metrics, the ROC curve, the reliability diagram, the scores by label and the model's training curve.",
            valueName: "file"))
    var report: String?

    @Option(
        help: ArgumentHelp(
            "CSV and TSV: the metrics per value of this column too (per site, per app), largest groups first: on stderr with --metrics (the 20 largest), in --metrics-json under \"by\", in --report.",
            valueName: "column"))
    var metricsBy: String?

    func run() throws {
        var options = PredictionJob.Options()
        options.modelPath = model
        options.inputs = files
        options.metrics = metrics
        options.metricsJSONPath = metricsJson
        options.reportPath = report
        options.metricsBy = metricsBy
        let status = reportingErrors(as: "ftrl-predict") { () throws(FTRLError) -> Int32 in
            try PredictionJob(options: options).run()
            return 0
        }
        if status != 0 { throw ExitCode(status) }
    }
}
