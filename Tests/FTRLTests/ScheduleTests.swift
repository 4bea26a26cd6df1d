import FTRLTestSupport
import Foundation
import Testing
@testable import FTRL

/// Every schedule against the learning rates TensorFlow used at each step
/// of the golden cases, and the schedule's JSON form.
struct ScheduleTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/golden")

    static let scheduled = [
        "exp_decay", "exp_decay_staircase", "inverse_time_decay", "piecewise_constant", "polynomial_decay_cycle",
        "cosine_decay_alpha", "cosine_decay_warmup", "cosine_decay_restarts", "combo_all", "f32_schedule_ema",
    ]

    @Test(arguments: scheduled)
    func ratesMatchTensorFlow(_ name: String) throws {
        let dir = Self.golden.appendingPathComponent(name)
        let config = try FTRLConfig(jsonText: String(contentsOf: dir.appendingPathComponent("config.json"), encoding: .utf8))
        let schedule = try #require(config.schedule)
        let expected = try String(contentsOf: dir.appendingPathComponent("expected_learning_rates.txt"), encoding: .utf8)
            .split(separator: "\n").map { Double($0)! }
        #expect(expected.count > 5)
        for (t, e) in expected.enumerated() {
            let actual: Double
            let tolerance: Double
            if config.dtype == .float32 {
                actual = Double(schedule.rate(at: UInt64(t), as: Float.self))
                tolerance = 1e-6 * abs(e)
            } else {
                actual = schedule.rate(at: UInt64(t), as: Double.self)
                tolerance = 1e-12 * abs(e)
            }
            #expect(abs(actual - e) <= tolerance, "step \(t): \(actual) vs \(e)")
        }
    }

    /// Boundary cases by hand (the golden README's rules).
    @Test func boundaries() {
        let pw = LearningRateSchedule.piecewiseConstantDecay(boundaries: [5, 12], values: [0.4, 0.2, 0.05])
        #expect([0, 5, 6, 12, 13, 1000].map { pw.rate(at: $0, as: Double.self) } == [0.4, 0.4, 0.2, 0.2, 0.05, 0.05])
        let poly = LearningRateSchedule.polynomialDecay(initial: 0.4, decaySteps: 6, end: 0.1, power: 1, cycle: true)
        #expect(poly.rate(at: 0, as: Double.self) == 0.4)
        #expect(abs(poly.rate(at: 6, as: Double.self) - 0.1) < 1e-15)
        // t = 7: decay_steps grows to 12, so (0.4 - 0.1) * (1 - 7 / 12) + 0.1 = 0.225.
        #expect(abs(poly.rate(at: 7, as: Double.self) - 0.225) < 1e-15)
        let noCycle = LearningRateSchedule.polynomialDecay(initial: 0.4, decaySteps: 6, end: 0.1, power: 1, cycle: false)
        #expect(abs(noCycle.rate(at: 600, as: Double.self) - 0.1) < 1e-15)
        let warm = LearningRateSchedule.cosineDecay(initial: 0.1, decaySteps: 10, alpha: 0, warmupTarget: 0.5, warmupSteps: 4)
        #expect(abs(warm.rate(at: 2, as: Double.self) - 0.3) < 1e-15)
        #expect(abs(warm.rate(at: 4, as: Double.self) - 0.5) < 1e-15)
        #expect(abs(warm.rate(at: 14, as: Double.self)) < 1e-15)
        // A warm-up target with no warm-up steps: the cosine starts from the target (Keras' tf.cond).
        let noWarmup = LearningRateSchedule.cosineDecay(initial: 0.1, decaySteps: 10, alpha: 0, warmupTarget: 0.5, warmupSteps: 0)
        #expect(noWarmup.rate(at: 0, as: Double.self) == 0.5)
        #expect(abs(noWarmup.rate(at: 5, as: Double.self) - 0.25) < 1e-15)
    }

    @Test(arguments: ScheduleTests.scheduled)
    func jsonRoundTrip(_ name: String) throws {
        let dir = Self.golden.appendingPathComponent(name)
        let config = try FTRLConfig(jsonText: String(contentsOf: dir.appendingPathComponent("config.json"), encoding: .utf8))
        let text = config.jsonText
        let back = try FTRLConfig(jsonText: text)
        #expect(back == config)
        #expect(back.jsonText == text)
    }

    @Test func unknownScheduleKeyNamed() {
        let text = """
            {"learning_rate": {"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5, "decay_rat": 1}}}
            """
        #expect {
            _ = try FTRLConfig(jsonText: text)
        } throws: { ($0 as? FTRLError)?.message.contains("decay_rat") == true }
    }
}
