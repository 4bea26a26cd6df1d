import FTRLTestSupport
import Foundation
import Testing
@testable import FTRL

/// The training curve a model keeps: means of equal intervals, halved past
/// its size, carried through a model file so that a resumed run records
/// the curve of an unbroken one.
struct TrainingCurveTests {
    /// Losses with a pattern a mean shows: 0.0, 0.1, ... 0.6, again.
    static func loss(_ i: Int) -> Double { Double(i % 7) / 10 + Double(i / 1000) / 100 }

    @Test func pointsAreTheMeansOfEqualIntervalsHalvedPastTheirSize() {
        var curve = TrainingCurve()
        let first = Int(TrainingCurve.firstInterval)
        // 300 intervals of 100: past 256 points, pairs merge and the interval doubles.
        let n = 300 * first + 37
        for i in 0..<n { curve.add(Self.loss(i)) }
        #expect(curve.interval == 2 * TrainingCurve.firstInterval)
        let interval = Int(curve.interval)
        #expect(curve.points.count == n / interval)
        for (k, p) in curve.points.enumerated() {
            #expect(p.examples == UInt64((k + 1) * interval))
            let mean = (k * interval..<(k + 1) * interval).reduce(0.0) { $0 + Self.loss($1) } / Double(interval)
            #expect(abs(p.logLoss - mean) < 1e-12, "point \(k)")
        }
        #expect(curve.pendingCount == UInt64(n % interval))
        let pending = (n - n % interval..<n).reduce(0.0) { $0 + Self.loss($1) }
        #expect(abs(curve.pendingSum - pending) < 1e-9)
    }

    @Test func aCurveCutAndCarriedOnIsTheUnbrokenOne() throws {
        var whole = TrainingCurve()
        for i in 0..<40_000 { whole.add(Self.loss(i)) }
        var head = TrainingCurve()
        for i in 0..<12_345 { head.add(Self.loss(i)) }
        // As a model file stores it and reads it back.
        var tail = try #require(
            TrainingCurve(interval: head.interval, pendingSum: head.pendingSum, pendingCount: head.pendingCount, points: head.points))
        for i in 12_345..<40_000 { tail.add(Self.loss(i)) }
        #expect(tail == whole)
        // Numbers no training records are refused.
        #expect(TrainingCurve(interval: 100, pendingSum: 0, pendingCount: 100, points: []) == nil)
        #expect(TrainingCurve(interval: 100, pendingSum: -1, pendingCount: 3, points: []) == nil)
        let backwards = [TrainingCurve.Point(examples: 200, logLoss: 0.5), TrainingCurve.Point(examples: 100, logLoss: 0.5)]
        #expect(TrainingCurve(interval: 100, pendingSum: 0, pendingCount: 0, points: backwards) == nil)
    }

    /// The trainer records each example's progressive logloss: the points'
    /// mean is the run's progressive logloss, and a run resumed from a
    /// model file records the same curve as an unbroken one.
    @Test func theTrainerRecordsTheProgressiveLoglossAndAResumeCarriesItOn() throws {
        let dir = try Scratch()
        var c = FTRLConfig()
        c.bits = 14
        let rows = TrainingPropertyTests.log(2000).split(separator: "\n")
        let all = try dir.write("all.svm", rows.joined(separator: "\n") + "\n")
        let head = try dir.write("head.svm", rows[..<750].joined(separator: "\n") + "\n")
        let tail = try dir.write("tail.svm", rows[750...].joined(separator: "\n") + "\n")
        let whole = try Model<Float>(config: c)
        let summary = try Trainer(model: whole).train(paths: [all], weights: nil, weightsPath: nil)
        #expect(whole.curve.points.count == 20)
        let mean = whole.curve.points.reduce(0.0) { $0 + $1.logLoss } / 20
        #expect(abs(mean - summary.progressiveLogLoss) < 1e-12)
        let first = try Model<Float>(config: c)
        _ = try Trainer(model: first).train(paths: [head], weights: nil, weightsPath: nil)
        #expect(first.curve.pendingCount == 50)
        try ModelFile.write(first, to: dir.path("head.ftrl"))
        guard case .float32(let resumed) = try ModelFile.read(path: dir.path("head.ftrl")) else {
            Issue.record("not float32")
            return
        }
        _ = try Trainer(model: resumed).train(paths: [tail], weights: nil, weightsPath: nil)
        #expect(resumed.curve == whole.curve)
    }
}
