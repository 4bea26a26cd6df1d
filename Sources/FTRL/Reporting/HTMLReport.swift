import Glibc

/// `ftrl-predict --report`: one self-contained HTML page (inline SVG, no
/// script, font or file from elsewhere) on how a model scores a log: the
/// metrics, the ROC curve, the reliability diagram, the scores of clicks
/// and non-clicks, the model's training curve when it recorded one, and its
/// top features named from the scored logs when they are files.
public struct HTMLReport {
    /// What was scored and with what.
    public var modelPath: String
    public var inputs: [String]
    /// The metrics of the labelled examples.
    public var metrics: Metrics
    /// The model's config, and examples and steps it learned from.
    public var config: FTRLConfig
    public var trainedExamples: UInt64
    /// The training curve the model recorded, or nil.
    public var curve: TrainingCurve?
    /// The features with the largest absolute weight, named from the scored
    /// logs (`TopFeatures`), or nil with the reason in `topFeaturesNote`.
    public var topFeatures: TopFeatures?
    public var topFeaturesNote: String?
    /// The metrics per value of a column (`--metrics-by`), largest groups first, or nil.
    public var groups: (column: String, groups: [(value: String, metrics: Metrics)])?

    public init(modelPath: String, inputs: [String], metrics: Metrics, config: FTRLConfig, trainedExamples: UInt64) {
        self.modelPath = modelPath
        self.inputs = inputs
        self.metrics = metrics
        self.config = config
        self.trainedExamples = trainedExamples
    }

    /// The page.
    public func rendered() -> String {
        var body = "<h1>ftrl-predict report</h1>\n"
        body +=
            "<p class=\"what\">Model <code>\(HTML.escape(modelPath))</code> scoring <code>"
            + HTML.escape(inputs.map { $0 == "-" ? "standard input" : $0 }.joined(separator: " ")) + "</code></p>\n"
        body += summaryTable()
        // The training curve goes with the charts of the scores when there are any, alone otherwise.
        let training = curve.flatMap { $0.points.isEmpty ? nil : trainingCurve($0) + "\n" }
        if metrics.count == 0 || metrics.positiveCount == 0 || metrics.positiveCount == metrics.count {
            body +=
                "<p class=\"note\">The ROC curve, the reliability diagram and the score histograms need labelled rows of both "
                + "classes; the input has \(metrics.count) labelled rows, \(metrics.positiveCount) of them clicks.</p>\n"
            if let training { body += "<div class=\"charts\">\n" + training + "</div>\n" }
        } else {
            body += "<div class=\"charts\">\n" + roc() + "\n" + reliability() + "\n" + histograms() + "\n" + (training ?? "") + "</div>\n"
        }
        if training == nil {
            body +=
                "<p class=\"note\">The model has no training curve (a model merged from several, or written before they were kept).</p>\n"
        }
        body += groupTable()
        body += features()
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>ftrl-predict report: \(HTML.escape(modelPath))</title>
            <style>
            body { font-family: sans-serif; margin: 24px; color: #222; background: white; max-width: 960px; }
            h1 { font-size: 22px; margin: 0 0 6px 0; }
            h2 { font-size: 17px; margin: 22px 0 8px 0; }
            table { border-collapse: collapse; margin: 8px 0; }
            td, th { border: 1px solid #ccc; padding: 3px 9px; text-align: right; font-size: 13px; }
            th { background: #f2f2f2; }
            td.name { text-align: left; font-family: monospace; }
            .charts { display: flex; flex-wrap: wrap; gap: 14px; }
            .charts svg { border: 1px solid #ddd; }
            .note, .what { font-size: 13px; color: #555; }
            </style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    private func row(_ name: String, _ value: String, id: String) -> String {
        "<tr><th>\(name)</th><td id=\"\(id)\">\(value)</td></tr>\n"
    }

    private static func decimal(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return "n/a" }
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([digits, x]) { vsnprintf(&buffer, 64, "%.*f", $0) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func summaryTable() -> String {
        var t = "<table class=\"summary\">\n"
        t += row("examples (labelled)", "\(metrics.count)", id: "count")
        t += row("clicks", "\(metrics.positiveCount)", id: "positives")
        t += row("logloss", Self.decimal(metrics.logLoss, 6), id: "logloss")
        t += row("AUC", Self.decimal(metrics.auc, 6), id: "auc")
        t += row("normalized entropy", Self.decimal(metrics.normalizedEntropy, 6), id: "normalized-entropy")
        t += row("calibration (mean prediction / click rate)", Self.decimal(metrics.calibration, 6), id: "calibration")
        t += row(
            "model",
            "\(config.dtype.rawValue), 2^\(config.bits) slots, learning rate \(config.learningRate), "
                + "trained on \(trainedExamples) examples", id: "model")
        return t + "</table>\n"
    }

    private func roc() -> String {
        var plot = SVGPlot(x: 0...1, y: 0...1)
        plot.line([(0, 0), (1, 1)], color: "#999", width: 1, dashed: true)
        plot.line(metrics.rocCurve().map { ($0.fpr, $0.tpr) }, id: "roc", color: "#1f5fbf")
        plot.text("AUC \(Self.decimal(metrics.auc, 4))", at: 1, 0, dx: -8, dy: -10, anchor: "end")
        return plot.rendered(id: "roc-chart", title: "ROC curve", xLabel: "false positive rate", yLabel: "true positive rate")
    }

    private func reliability() -> String {
        let buckets = metrics.calibrationTable(buckets: 20)
        let high = max(buckets.map { max($0.meanPrediction, $0.observedRate) }.max() ?? 1, 1e-6) * 1.08
        let top = min(1, high)
        var plot = SVGPlot(x: 0...top, y: 0...top)
        plot.line([(0, 0), (top, top)], color: "#999", width: 1, dashed: true)
        plot.line(buckets.map { ($0.meanPrediction, $0.observedRate) }, id: "reliability", color: "#1f5fbf", width: 1.5)
        for b in buckets {
            plot.dot(
                b.meanPrediction, b.observedRate, radius: 3.5, color: "#1f5fbf",
                title:
                    "mean prediction \(Self.decimal(b.meanPrediction, 4)), click rate \(Self.decimal(b.observedRate, 4)), \(b.count) rows")
        }
        plot.legend("20 buckets of \(buckets.first?.count ?? 0) rows, lowest predictions first", color: "#1f5fbf", row: 0)
        return plot.rendered(id: "reliability-chart", title: "Reliability", xLabel: "mean prediction", yLabel: "observed click rate")
    }

    private func histograms() -> String {
        let bins = 40
        let upTo = min(1, max(metrics.maxPrediction, 1e-6))
        let (clicks, nonClicks) = metrics.histogram(bins: bins, upTo: upTo)
        let clickTotal = Double(max(1, clicks.reduce(0, +)))
        let otherTotal = Double(max(1, nonClicks.reduce(0, +)))
        let shares = (clicks.map { Double($0) / clickTotal }, nonClicks.map { Double($0) / otherTotal })
        let high = max(shares.0.max() ?? 0, shares.1.max() ?? 0) * 1.1
        var plot = SVGPlot(x: 0...upTo, y: 0...max(high, 1e-6))
        let width = upTo / Double(bins)
        for b in 0..<bins {
            plot.bar(Double(b) * width, Double(b + 1) * width, shares.1[b], color: "#7f7f7f", opacity: 0.55)
            plot.bar(Double(b) * width, Double(b + 1) * width, shares.0[b], color: "#d62728", opacity: 0.55)
        }
        plot.legend("non-clicks (\(Int(otherTotal)))", color: "#7f7f7f", row: 0)
        plot.legend("clicks (\(Int(clickTotal)))", color: "#d62728", row: 1)
        return plot.rendered(id: "scores-chart", title: "Scores by label", xLabel: "prediction", yLabel: "share of the label's rows")
    }

    private func trainingCurve(_ curve: TrainingCurve) -> String {
        let points = curve.points
        let xs = points.map { Double($0.examples) }
        let ys = points.map(\.logLoss)
        // The running mean too: what the progress line reports, smoother.
        var sum = 0.0
        let running = ys.enumerated().map { i, y in
            sum += y
            return sum / Double(i + 1)
        }
        let low = max(0, (ys.min() ?? 0) * 0.95)
        let high = (ys.max() ?? 1) * 1.05
        var plot = SVGPlot(x: 0...max(xs.last ?? 1, 1), y: low...max(high, low + 1e-6))
        plot.line(zip(xs, ys).map { ($0, $1) }, id: "training-curve", color: "#2ca02c", width: 1.2)
        plot.line(zip(xs, running).map { ($0, $1) }, id: "training-running", color: "#111", width: 2)
        plot.legend("mean logloss of each \(curve.interval) examples", color: "#2ca02c", row: 0)
        plot.legend("running mean since the start", color: "#111", row: 1)
        return plot.rendered(
            id: "training-chart", title: "Training curve (progressive logloss)", xLabel: "examples learned",
            yLabel: "logloss, predicted before learning")
    }

    private func features() -> String {
        guard let top = topFeatures, !top.features.isEmpty else {
            return topFeaturesNote.map { "<p class=\"note\">\(HTML.escape($0))</p>\n" } ?? ""
        }
        var t =
            "<h2>Top features by absolute weight</h2>\n<p class=\"note\">Named from the scored logs (\(top.rows) rows), "
            + "as <code>ftrl-model top</code> names them; a slot's other names are listed beside it.</p>\n"
        t += "<table id=\"top-features\">\n<tr><th>feature</th><th>weight</th><th>rows</th><th>slot</th><th>sharing the slot</th></tr>\n"
        for f in top.features {
            let shared = f.collisions.map { "\($0.name) (\($0.count))" }.joined(separator: ", ")
            t +=
                "<tr><td class=\"name\">\(HTML.escape(f.name))</td><td>\(Self.decimal(f.weight, 5))</td><td>\(f.count)</td>"
                + "<td>\(f.slot)</td><td class=\"name\">\(HTML.escape(shared))</td></tr>\n"
        }
        return t + "</table>\n"
    }

    private func groupTable() -> String {
        guard let (column, groups) = groups, !groups.isEmpty else { return "" }
        let shown = groups.prefix(30)
        var t =
            "<h2>By \(HTML.escape(column))</h2>\n<p class=\"note\">The \(shown.count) largest of \(groups.count) groups "
            + "(every group is in <code>--metrics-json</code>).</p>\n<table id=\"groups\">\n"
        t +=
            "<tr><th>\(HTML.escape(column))</th><th>examples</th><th>clicks</th><th>logloss</th><th>AUC</th><th>normalized entropy</th>"
            + "<th>calibration</th></tr>\n"
        for (value, m) in shown {
            t +=
                "<tr><td class=\"name\">\(HTML.escape(value.isEmpty ? "(empty)" : value))</td><td>\(m.count)</td><td>\(m.positiveCount)</td>"
                + "<td>\(Self.decimal(m.logLoss, 5))</td><td>\(Self.decimal(m.auc, 4))</td><td>\(Self.decimal(m.normalizedEntropy, 4))</td>"
                + "<td>\(Self.decimal(m.calibration, 3))</td></tr>\n"
        }
        return t + "</table>\n"
    }
}
