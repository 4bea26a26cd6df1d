/// The text views of a model that `ftrl-model` prints.
public enum ModelReport {
    /// The file's format version and model kind, config, counters and slot counts as JSON.
    public static func info(_ model: AnyModel) -> String {
        struct Info: ModelBody { func run<F: FTRLScalar>(_ m: Model<F>) -> String { ModelReport.info(m) } }
        return try! model.open(Info())  // Info does not throw
    }

    /// The training state as TSV: `slot w n z ema`, the ever-active kernel
    /// slots ascending, then `bias` (the golden-vector format).
    public static func state(_ model: AnyModel, to output: OutputWriter) throws(FTRLError) {
        struct State: ModelBody {
            let output: OutputWriter
            func run<F: FTRLScalar>(_ m: Model<F>) throws(FTRLError) { try ModelReport.state(m, to: output) }
        }
        try model.open(State(output: output))
    }

    /// The exported weights as TSV: `slot weight`, the nonzero kernel slots
    /// ascending, then `bias`.
    public static func weights(_ model: AnyModel, to output: OutputWriter) throws(FTRLError) {
        struct Weights: ModelBody {
            let output: OutputWriter
            func run<F: FTRLScalar>(_ m: Model<F>) throws(FTRLError) { try ModelReport.weights(m, to: output) }
        }
        try model.open(Weights(output: output))
    }

    static func info<F: FTRLScalar>(_ m: Model<F>) -> String {
        var nonzero = 0
        for (s, _) in m.table.activeRows() where m.exportedWeight(Int(s)) != 0 { nonzero += 1 }
        let json = JSON.object([
            ("format_version", .number(Double(m.fileVersion ?? ModelFile.version))),
            ("kind", .string(m.kind)),
            ("config", m.config.json),
            ("iterations", .number(Double(m.iterations))),
            ("examples", .number(Double(m.examples))),
            ("slots", .number(Double(m.table.slotCount))),
            ("active_slots", .number(Double(m.table.activeCount))),
            ("nonzero_weights", .number(Double(nonzero))),
            ("bias", .number(m.exportedBias.asDouble)),
        ])
        return json.renderedIntegers(extra: ["format_version", "slots", "active_slots", "nonzero_weights"])
    }

    static func state<F: FTRLScalar>(_ m: Model<F>, to output: OutputWriter) throws(FTRLError) {
        try output.line("slot\tw\tn\tz\tema")
        for (s, row) in m.table.activeRows() {
            let slot = m.table.slot(row: row)
            let (w, average) = m.caughtUp(Int(s))
            try output.line("\(s)\t\(w.asDouble)\t\(slot.n.asDouble)\t\(slot.z.asDouble)\t\(average.map { "\($0.asDouble)" } ?? "")")
        }
        let biasAverage = m.config.useEMA ? "\(m.biasAverage.asDouble)" : ""
        try output.line("bias\t\(m.bias.w.asDouble)\t\(m.bias.n.asDouble)\t\(m.bias.z.asDouble)\t\(biasAverage)")
        try output.flush()
    }

    static func weights<F: FTRLScalar>(_ m: Model<F>, to output: OutputWriter) throws(FTRLError) {
        try output.line("slot\tweight")
        for (s, _) in m.table.activeRows() {
            let w = m.exportedWeight(Int(s))
            if w != 0 { try output.line("\(s)\t\(w.asDouble)") }
        }
        try output.line("bias\t\(m.exportedBias.asDouble)")
        try output.flush()
    }
}
