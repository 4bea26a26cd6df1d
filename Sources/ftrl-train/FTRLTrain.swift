import ArgumentParser
import CTrainStartup
import FTRL
import FTRLCommandLine

@main
struct FTRLTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ftrl-train",
        abstract: "Train a logistic-regression click model with FTRL-Proximal on LibSVM, CSV or TSV logs (plain or gzip).",
        discussion:
            "Exit codes: 0 ok, 64 usage, 65 bad data or model, 66 missing input, 74 I/O error, 130/143 stopped by SIGINT/SIGTERM (the -m model written, complete and resumable). On any error -m is left as it was."
    )

    @Argument(help: ArgumentHelp("Input files, read in order; - or none reads standard input.", valueName: "file"))
    var files: [String] = []

    @OptionGroup(title: "Input and schema") var input: InputOptions
    @OptionGroup(title: "Hashing") var hashing: HashingOptions
    @OptionGroup(title: "Optimizer") var optimizer: OptimizerOptions
    @OptionGroup(title: "Learning-rate schedule") var schedule: ScheduleFlags
    @OptionGroup(title: "Gradient clipping") var clipping: ClippingOptions
    @OptionGroup(title: "Moving averages (EMA)") var ema: EMAOptions
    @OptionGroup(title: "Run") var runOptions: RunOptions

    /// SIGINT and SIGTERM are taken over before main (CTrainStartup's
    /// constructor; installed again here, which changes nothing, should the
    /// constructor ever not run), so that a signal at any time ends the run
    /// with a written model (exit 130/143).
    static func main() {
        precondition(ftrl_train_startup_linked() == 1)
        StopSignals.install()
        main(nil)
    }

    func run() throws {
        let options = TrainCommandOptions(
            input: input, hashing: hashing, optimizer: optimizer, schedule: schedule, clipping: clipping, ema: ema, run: runOptions)
        let status = options.execute(files: files)
        if status != 0 { throw ExitCode(status) }
    }
}
