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

    /// The examples labelled 1.
    public var positiveCount: Int { positives }

    /// The logloss over the entropy of the observed click rate: below 1
    /// beats predicting that rate for every example; NaN with one class.
    public var normalizedEntropy: Double {
        let rate = Double(positives) / Double(max(count, 1))
        guard rate > 0 && rate < 1 else { return .nan }
        return logLoss / -(rate * log(rate) + (1 - rate) * log(1 - rate))
    }

    /// One bucket of a calibration table.
    public struct Bucket: Sendable, Equatable {
        public var meanPrediction: Double
        public var observedRate: Double
        public var count: Int
    }

    /// The predictions sorted (non-clicks first among equal predictions) and
    /// cut into `buckets` runs of equal count (sizes differing by at most
    /// one; fewer buckets than asked when there are fewer predictions): the
    /// mean prediction against the observed click rate of each, lowest
    /// predictions first.
    public func calibrationTable(buckets: Int = 20) -> [Bucket] {
        let n = count
        let k = min(buckets, n)
        guard k > 0 else { return [] }
        // Ties in prediction put the non-clicks first, so that the table does not depend on the sort.
        let order = predictions.indices.sorted {
            predictions[$0] < predictions[$1] || (predictions[$0] == predictions[$1] && !labels[$0] && labels[$1])
        }
        return (0..<k).map { b in
            let range = (b * n / k)..<((b + 1) * n / k)
            var sum = 0.0
            var clicks = 0
            for i in range {
                sum += predictions[order[i]]
                if labels[order[i]] { clicks += 1 }
            }
            return Bucket(meanPrediction: sum / Double(range.count), observedRate: Double(clicks) / Double(range.count), count: range.count)
        }
    }

    /// The metrics as JSON for scripts: count, positives, logloss, AUC,
    /// normalized entropy, calibration and a 20-bucket calibration table
    /// (numbers that do not exist, such as AUC with one class, as null).
    public var json: JSON {
        func number(_ x: Double) -> JSON { x.isFinite ? .number(x) : .null }
        return .object([
            ("count", .number(Double(count))),
            ("positives", .number(Double(positives))),
            ("logloss", number(logLoss)),
            ("auc", number(auc)),
            ("normalized_entropy", number(normalizedEntropy)),
            ("calibration", number(calibration)),
            (
                "calibration_table",
                .array(
                    calibrationTable().map {
                        .object([
                            ("mean_prediction", number($0.meanPrediction)), ("observed_rate", number($0.observedRate)),
                            ("count", .number(Double($0.count))),
                        ])
                    })
            ),
        ])
    }

    /// The ROC curve: false against true positive rate as the threshold
    /// falls from the highest prediction, one vertex per distinct prediction
    /// (tied predictions join their vertices by a straight segment, which is
    /// how `auc` counts ties), from (0, 0) to (1, 1). Past `maxPoints`
    /// vertices, evenly spaced ones are kept (always the first and last); the
    /// area under the polyline then misses `auc` by less than one part in
    /// `maxPoints`. Empty with one class.
    public func rocCurve(maxPoints: Int = 2000) -> [(fpr: Double, tpr: Double)] {
        let negatives = count - positives
        guard positives > 0, negatives > 0 else { return [] }
        let order = predictions.indices.sorted { predictions[$0] > predictions[$1] }
        var vertices: [(fpr: Double, tpr: Double)] = [(0, 0)]
        var (tp, fp) = (0, 0)
        var i = 0
        while i < order.count {
            let p = predictions[order[i]]
            while i < order.count && predictions[order[i]] == p {
                if labels[order[i]] { tp += 1 } else { fp += 1 }
                i += 1
            }
            vertices.append((Double(fp) / Double(negatives), Double(tp) / Double(positives)))
        }
        guard vertices.count > maxPoints, maxPoints >= 2 else { return vertices }
        let last = vertices.count - 1
        return (0..<maxPoints).map { vertices[$0 * last / (maxPoints - 1)] }
    }

    /// Predictions counted in `bins` equal bins over [0, `upTo`] (a
    /// prediction at or above `upTo` in the last), clicks and non-clicks
    /// apart, and without labels all of them as non-clicks.
    public func histogram(bins: Int, upTo: Double) -> (clicks: [Int], nonClicks: [Int]) {
        var clicks = [Int](repeating: 0, count: bins)
        var nonClicks = [Int](repeating: 0, count: bins)
        for (p, clicked) in zip(predictions, labels) {
            let b = min(bins - 1, max(0, Int(p / upTo * Double(bins))))
            if clicked { clicks[b] += 1 } else { nonClicks[b] += 1 }
        }
        return (clicks, nonClicks)
    }

    /// The highest prediction (0 without any).
    public var maxPrediction: Double { predictions.max() ?? 0 }

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
