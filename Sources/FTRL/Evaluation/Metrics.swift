import Glibc

/// Logistic loss of one prediction.
public enum LogLoss {
    /// Predictions are clipped to [1e-15, 1 - 1e-15], as scikit-learn does.
    @inline(__always)
    public static func of(_ p: Double, label: Bool) -> Double {
        let q = min(max(p, 1e-15), 1 - 1e-15)
        return label ? -log(q) : -log(1 - q)
    }
}

/// Quality of predictions against labels: logloss, AUC and calibration.
/// Keeps every prediction, as exact AUC needs the full ranking.
public struct Metrics: Sendable {
    private var predictions: [Double] = []
    private var labels: [Bool] = []
    private var lossSum = 0.0
    private var positives = 0

    public init() {}

    /// Adds one prediction with its label.
    @inline(__always)
    public mutating func add(_ p: Double, label: Bool) {
        predictions.append(p)
        labels.append(label)
        lossSum += LogLoss.of(p, label: label)
        if label { positives += 1 }
    }

    /// The number of predictions.
    public var count: Int { predictions.count }

    /// Mean logloss.
    public var logLoss: Double { count == 0 ? .nan : lossSum / Double(count) }

    /// Mean prediction divided by the observed positive rate (1 is perfect).
    public var calibration: Double {
        guard positives > 0 else { return .nan }
        return predictions.reduce(0, +) / Double(positives)
    }

    /// The area under the ROC curve (ties count one half), or NaN when only one class is present.
    public var auc: Double {
        let negatives = count - positives
        guard positives > 0, negatives > 0 else { return .nan }
        let order = predictions.indices.sorted { predictions[$0] < predictions[$1] }
        // Sum of the ranks of the positives, with tied predictions sharing their mean rank.
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && predictions[order[j + 1]] == predictions[order[i]] { j += 1 }
            let meanRank = Double(i + j + 2) / 2
            for k in i...j where labels[order[k]] { rankSum += meanRank }
            i = j + 1
        }
        let p = Double(positives)
        return (rankSum - p * (p + 1) / 2) / (p * Double(negatives))
    }
}
