/// The training curve a model keeps: the mean logloss of every `interval`
/// examples it learned from, each predicted before it was learned
/// (progressive validation in the first pass; in later epochs, of examples
/// seen before). At most `maxPoints` points: when they would be more, each
/// two neighbours become one and the interval doubles, so a curve of any
/// run stays small and evenly spaced.
///
/// It is a function of the examples alone: a run resumed from a checkpoint
/// or a model carries the partial interval on (`pendingSum`,
/// `pendingCount`), so the curve is the one an unbroken run records, and a
/// setting of a search records the curve of its own run.
public struct TrainingCurve: Sendable, Equatable {
    /// One point: examples learned so far, and the mean logloss of the interval ending there.
    public struct Point: Sendable, Equatable {
        public var examples: UInt64
        public var logLoss: Double
    }

    /// The points, in order.
    public private(set) var points: [Point] = []
    /// Examples per point.
    public private(set) var interval: UInt64 = Self.firstInterval
    /// The logloss sum and examples of the interval in progress.
    public private(set) var pendingSum = 0.0
    public private(set) var pendingCount: UInt64 = 0
    /// Examples learned before the interval in progress.
    private var examples: UInt64 { (points.last?.examples ?? 0) }

    /// The interval of a new curve, and the most points kept.
    public static let firstInterval: UInt64 = 100
    public static let maxPoints = 256

    public init() {}

    /// A curve as a model file stores it; nil when the numbers do not make one.
    public init?(interval: UInt64, pendingSum: Double, pendingCount: UInt64, points: [Point]) {
        guard interval >= Self.firstInterval, pendingCount < interval, points.count <= Self.maxPoints, pendingSum.isFinite, pendingSum >= 0
        else { return nil }
        var previous: UInt64 = 0
        for p in points {
            guard p.examples > previous, p.logLoss.isFinite, p.logLoss >= 0 else { return nil }
            previous = p.examples
        }
        self.interval = interval
        self.pendingSum = pendingSum
        self.pendingCount = pendingCount
        self.points = points
    }

    /// Whether nothing was recorded.
    public var isEmpty: Bool { points.isEmpty && pendingCount == 0 }

    /// Records one example's logloss.
    @inline(__always)
    public mutating func add(_ loss: Double) {
        pendingSum += loss
        pendingCount &+= 1
        if pendingCount == interval { close() }
    }

    @inline(never)
    private mutating func close() {
        points.append(Point(examples: examples + pendingCount, logLoss: pendingSum / Double(pendingCount)))
        pendingSum = 0
        pendingCount = 0
        if points.count == Self.maxPoints {
            // Halve the points: each pair of equal intervals becomes their mean.
            points = stride(from: 1, to: points.count, by: 2).map {
                Point(examples: points[$0].examples, logLoss: (points[$0 - 1].logLoss + points[$0].logLoss) / 2)
            }
            interval *= 2
        }
    }
}
