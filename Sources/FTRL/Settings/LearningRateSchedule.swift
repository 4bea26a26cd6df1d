/// A Keras learning-rate schedule: the rate of step `t` (taken before `t`
/// is incremented), computed in the model's precision exactly as
/// `tf_keras.optimizers.schedules` computes it.
public enum LearningRateSchedule: Equatable, Sendable {
    /// `initial * rate^(t / steps)`, the exponent floored when `staircase`.
    case exponentialDecay(initial: Double, decaySteps: Double, decayRate: Double, staircase: Bool)
    /// `initial / (1 + rate * t / steps)`, `t / steps` floored when `staircase`.
    case inverseTimeDecay(initial: Double, decaySteps: Double, decayRate: Double, staircase: Bool)
    /// `values[0]` while `t <= boundaries[0]`, `values[i]` while `t <= boundaries[i]`, then the last value.
    case piecewiseConstantDecay(boundaries: [Double], values: [Double])
    /// `(initial - end) * (1 - t / steps)^power + end`, `t` clamped to `steps`,
    /// or with `cycle` the steps stretched to the next multiple above `t`.
    case polynomialDecay(initial: Double, decaySteps: Double, end: Double, power: Double, cycle: Bool)
    /// Half a cosine from `initial` (or from `warmupTarget` after a linear
    /// warm-up over `warmupSteps`) down to `alpha` times it over `decaySteps`.
    case cosineDecay(initial: Double, decaySteps: Double, alpha: Double, warmupTarget: Double?, warmupSteps: Double)
    /// Cosine decay restarting after `firstDecaySteps`, each period `tMul`
    /// times longer and `mMul` times lower.
    case cosineDecayRestarts(initial: Double, firstDecaySteps: Double, tMul: Double, mMul: Double, alpha: Double)

    /// The Keras class name.
    public var className: String {
        switch self {
        case .exponentialDecay: return "ExponentialDecay"
        case .inverseTimeDecay: return "InverseTimeDecay"
        case .piecewiseConstantDecay: return "PiecewiseConstantDecay"
        case .polynomialDecay: return "PolynomialDecay"
        case .cosineDecay: return "CosineDecay"
        case .cosineDecayRestarts: return "CosineDecayRestarts"
        }
    }

    /// The rate at step `t`, in precision `F`.
    @inline(__always)
    public func rate<F: FTRLScalar>(at t: UInt64, as _: F.Type = F.self) -> F {
        let step = F(t)
        func c(_ d: Double) -> F { F(fromDouble: d) }
        switch self {
        case let .exponentialDecay(initial, decaySteps, decayRate, staircase):
            var p = step / c(decaySteps)
            if staircase { p = p.rounded(.down) }
            return c(initial) * F.power(c(decayRate), p)
        case let .inverseTimeDecay(initial, decaySteps, decayRate, staircase):
            var p = step / c(decaySteps)
            if staircase { p = p.rounded(.down) }
            return c(initial) / (1 + c(decayRate) * p)
        case let .piecewiseConstantDecay(boundaries, values):
            let x = Double(t)
            for (i, b) in boundaries.enumerated() where x <= b { return c(values[i]) }
            return c(values[values.count - 1])
        case let .polynomialDecay(initial, decaySteps, end, power, cycle):
            var steps = c(decaySteps)
            var s = step
            if cycle {
                let multiplier: F = t == 0 ? 1 : (s / steps).rounded(.up)
                steps = steps * multiplier
            } else {
                s = Swift.min(s, steps)
            }
            let p = s / steps
            return (c(initial) - c(end)) * F.power(1 - p, c(power)) + c(end)
        case let .cosineDecay(initial, decaySteps, alpha, warmupTarget, warmupSteps):
            let steps = c(decaySteps)
            func decay(_ s: F, from lr: F) -> F {
                let fraction = s / steps
                let cosine = F(0.5) * (1 + F.cosine(F.pi * fraction))
                return lr * ((1 - c(alpha)) * cosine + c(alpha))
            }
            guard let warmupTarget else {
                return decay(Swift.min(step, steps), from: c(initial))
            }
            let warm = c(warmupSteps)
            let s = Swift.min(step, steps + warm)
            if s < warm {
                return (c(warmupTarget) - c(initial)) * (s / warm) + c(initial)
            }
            return decay(s - warm, from: c(warmupTarget))
        case let .cosineDecayRestarts(initial, firstDecaySteps, tMul, mMul, alpha):
            var fraction = step / c(firstDecaySteps)
            let restart: F
            let tm = c(tMul)
            if tMul == 1 {
                restart = fraction.rounded(.down)
                fraction -= restart
            } else {
                restart = (F.logarithm(1 - fraction * (1 - tm)) / F.logarithm(tm)).rounded(.down)
                let sum = (1 - F.power(tm, restart)) / (1 - tm)
                fraction = (fraction - sum) / F.power(tm, restart)
            }
            let factor = F.power(c(mMul), restart)
            let cosine = F(0.5) * factor * (1 + F.cosine(F.pi * fraction))
            return c(initial) * ((1 - c(alpha)) * cosine + c(alpha))
        }
    }

    /// Refuses parameters no schedule can run with.
    /// - Throws: `FTRLError` (.usage) naming the parameter.
    public func validate() throws(FTRLError) {
        func positive(_ name: String, _ v: Double) throws(FTRLError) {
            if !(v > 0) || !v.isFinite { throw FTRLError(.usage, "\(className) \(name) must be > 0, not \(v)") }
        }
        func finite(_ name: String, _ v: Double) throws(FTRLError) {
            if !v.isFinite { throw FTRLError(.usage, "\(className) \(name) must be a finite number, not \(v)") }
        }
        switch self {
        case let .exponentialDecay(initial, steps, rate, _), let .inverseTimeDecay(initial, steps, rate, _):
            try positive("initial_learning_rate", initial)
            try positive("decay_steps", steps)
            try finite("decay_rate", rate)
        case let .piecewiseConstantDecay(boundaries, values):
            if values.count != boundaries.count + 1 {
                throw FTRLError(
                    .usage,
                    "PiecewiseConstantDecay needs one more value than boundaries (\(boundaries.count) boundaries, \(values.count) values)")
            }
            for (a, b) in zip(boundaries, boundaries.dropFirst()) where !(a < b) {
                throw FTRLError(.usage, "PiecewiseConstantDecay boundaries must increase")
            }
            for v in values { try finite("values", v) }
            for b in boundaries { try finite("boundaries", b) }
        case let .polynomialDecay(initial, steps, end, power, _):
            try positive("initial_learning_rate", initial)
            try positive("decay_steps", steps)
            try finite("end_learning_rate", end)
            try finite("power", power)
        case let .cosineDecay(initial, steps, alpha, target, warmup):
            try positive("initial_learning_rate", initial)
            try positive("decay_steps", steps)
            try finite("alpha", alpha)
            if let target { try finite("warmup_target", target) }
            if !(warmup >= 0) || !warmup.isFinite {
                throw FTRLError(.usage, "CosineDecay warmup_steps must be >= 0, not \(warmup)")
            }
        case let .cosineDecayRestarts(initial, steps, tMul, mMul, alpha):
            try positive("initial_learning_rate", initial)
            try positive("first_decay_steps", steps)
            try positive("t_mul", tMul)
            try finite("m_mul", mMul)
            try finite("alpha", alpha)
        }
    }

    /// The initial (step 0) rate parameter, where the schedule has one.
    public var initialLearningRate: Double? {
        switch self {
        case let .exponentialDecay(i, _, _, _), let .inverseTimeDecay(i, _, _, _), let .polynomialDecay(i, _, _, _, _),
            let .cosineDecay(i, _, _, _, _), let .cosineDecayRestarts(i, _, _, _, _):
            return i
        case .piecewiseConstantDecay:
            return nil
        }
    }

    /// The same schedule with another initial rate (what `--learning-rate` sets when a schedule is in force).
    public func withInitialLearningRate(_ x: Double) -> LearningRateSchedule {
        switch self {
        case let .exponentialDecay(_, s, r, st): return .exponentialDecay(initial: x, decaySteps: s, decayRate: r, staircase: st)
        case let .inverseTimeDecay(_, s, r, st): return .inverseTimeDecay(initial: x, decaySteps: s, decayRate: r, staircase: st)
        case let .polynomialDecay(_, s, e, p, c): return .polynomialDecay(initial: x, decaySteps: s, end: e, power: p, cycle: c)
        case let .cosineDecay(_, s, a, t, w): return .cosineDecay(initial: x, decaySteps: s, alpha: a, warmupTarget: t, warmupSteps: w)
        case let .cosineDecayRestarts(_, s, t, m, a):
            return .cosineDecayRestarts(initial: x, firstDecaySteps: s, tMul: t, mMul: m, alpha: a)
        case .piecewiseConstantDecay: return self
        }
    }
}

extension LearningRateSchedule {
    /// The schedule as Keras' `schedules.serialize` writes it.
    public var json: JSON {
        func n(_ d: Double) -> JSON { .number(d) }
        var config: [(String, JSON)]
        switch self {
        case let .exponentialDecay(i, s, r, st), let .inverseTimeDecay(i, s, r, st):
            config = [
                ("initial_learning_rate", n(i)), ("decay_steps", n(s)), ("decay_rate", n(r)), ("staircase", .bool(st)), ("name", .null),
            ]
        case let .piecewiseConstantDecay(b, v):
            config = [("boundaries", .array(b.map(n))), ("values", .array(v.map(n))), ("name", .null)]
        case let .polynomialDecay(i, s, e, p, c):
            config = [
                ("initial_learning_rate", n(i)), ("decay_steps", n(s)), ("end_learning_rate", n(e)), ("power", n(p)),
                ("cycle", .bool(c)), ("name", .null),
            ]
        case let .cosineDecay(i, s, a, t, w):
            config = [
                ("initial_learning_rate", n(i)), ("decay_steps", n(s)), ("alpha", n(a)), ("name", .null),
                ("warmup_target", t.map(n) ?? .null), ("warmup_steps", n(w)),
            ]
        case let .cosineDecayRestarts(i, s, t, m, a):
            config = [
                ("initial_learning_rate", n(i)), ("first_decay_steps", n(s)), ("t_mul", n(t)), ("m_mul", n(m)), ("alpha", n(a)),
                ("name", .null),
            ]
        }
        return .object([
            ("module", .string("keras.optimizers.schedules")), ("class_name", .string(className)), ("config", .object(config)),
            ("registered_name", .null),
        ])
    }

    /// Reads a serialised schedule: `class_name` and `config` count, other
    /// outer keys (`module`, `registered_name`) are ignored; an unknown or
    /// missing parameter is an error naming it.
    public init(json: JSON) throws(FTRLError) {
        guard case .object = json, case .string(let name)? = json["class_name"] else {
            throw FTRLError(.usage, "learning_rate must be a number or a schedule object with a class_name")
        }
        guard case .object(let members)? = json["config"] else {
            throw FTRLError(.usage, "schedule \(name) has no config object")
        }
        var seen: [String: JSON] = [:]
        for (k, v) in members { seen[k] = v }
        let allowed: [String]
        switch name {
        case "ExponentialDecay", "InverseTimeDecay": allowed = ["initial_learning_rate", "decay_steps", "decay_rate", "staircase"]
        case "PiecewiseConstantDecay": allowed = ["boundaries", "values"]
        case "PolynomialDecay": allowed = ["initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle"]
        case "CosineDecay": allowed = ["initial_learning_rate", "decay_steps", "alpha", "warmup_target", "warmup_steps"]
        case "CosineDecayRestarts": allowed = ["initial_learning_rate", "first_decay_steps", "t_mul", "m_mul", "alpha"]
        default:
            throw FTRLError(
                .usage,
                "unknown learning-rate schedule \"\(name)\" (known: ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay, CosineDecay, CosineDecayRestarts)"
            )
        }
        for key in seen.keys where key != "name" && !allowed.contains(key) {
            throw FTRLError(.usage, "unknown key \"\(key)\" in the \(name) schedule config")
        }
        func number(_ key: String, _ fallback: Double? = nil) throws(FTRLError) -> Double {
            switch seen[key] {
            case .number(let d)?: return d
            case nil, .null?:
                if let fallback { return fallback }
                throw FTRLError(.usage, "the \(name) schedule needs \(key)")
            default: throw FTRLError(.usage, "\(name) \(key) must be a number")
            }
        }
        func optionalNumber(_ key: String) throws(FTRLError) -> Double? {
            switch seen[key] {
            case .number(let d)?: return d
            case nil, .null?: return nil
            default: throw FTRLError(.usage, "\(name) \(key) must be a number or null")
            }
        }
        func flag(_ key: String) throws(FTRLError) -> Bool {
            switch seen[key] {
            case .bool(let b)?: return b
            case nil, .null?: return false
            default: throw FTRLError(.usage, "\(name) \(key) must be true or false")
            }
        }
        func numbers(_ key: String) throws(FTRLError) -> [Double] {
            guard case .array(let items)? = seen[key] else { throw FTRLError(.usage, "the \(name) schedule needs a list \(key)") }
            var out: [Double] = []
            for item in items {
                guard case .number(let d) = item else { throw FTRLError(.usage, "\(name) \(key) must hold numbers") }
                out.append(d)
            }
            return out
        }
        switch name {
        case "ExponentialDecay":
            self = .exponentialDecay(
                initial: try number("initial_learning_rate"), decaySteps: try number("decay_steps"),
                decayRate: try number("decay_rate"), staircase: try flag("staircase"))
        case "InverseTimeDecay":
            self = .inverseTimeDecay(
                initial: try number("initial_learning_rate"), decaySteps: try number("decay_steps"),
                decayRate: try number("decay_rate"), staircase: try flag("staircase"))
        case "PiecewiseConstantDecay":
            self = .piecewiseConstantDecay(boundaries: try numbers("boundaries"), values: try numbers("values"))
        case "PolynomialDecay":
            self = .polynomialDecay(
                initial: try number("initial_learning_rate"), decaySteps: try number("decay_steps"),
                end: try number("end_learning_rate", 0.0001), power: try number("power", 1), cycle: try flag("cycle"))
        case "CosineDecay":
            self = .cosineDecay(
                initial: try number("initial_learning_rate"), decaySteps: try number("decay_steps"),
                alpha: try number("alpha", 0), warmupTarget: try optionalNumber("warmup_target"),
                warmupSteps: try number("warmup_steps", 0))
        default:
            self = .cosineDecayRestarts(
                initial: try number("initial_learning_rate"), firstDecaySteps: try number("first_decay_steps"),
                tMul: try number("t_mul", 2), mMul: try number("m_mul", 1), alpha: try number("alpha", 0))
        }
    }
}
