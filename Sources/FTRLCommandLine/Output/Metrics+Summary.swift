import FTRL

extension Metrics {
    /// One line: `logloss 0.456780  auc 0.765430  calibration 1.0123  examples 1,000`.
    public var summary: String {
        "logloss \(fixed(logLoss, 6))  auc \(fixed(auc, 6))  calibration \(fixed(calibration, 4))  examples \(grouped(count))"
    }
}
