/// One setting of a run and of the model it makes, declared once in
/// `Setting.all`: its config key (the Keras name where Keras has one), its
/// `ftrl-train` flag, its value type and default, its own validation, and
/// whether it changes what a stored model means.
///
/// Everything that handles settings follows from the table: the config JSON
/// that model files and `--print-config` hold and `--config` reads, the
/// flags' overrides (applied through the same JSON codec), the refusals of
/// `--resume`, and the README's flag tables (`ftrl-train --help-settings`).
/// Adding a setting is one entry here plus the code that uses its value.
public struct Setting: Sendable {
    /// Where the flag appears in `ftrl-train --help`, and the README table it belongs to.
    public enum Section: String, Sendable, CaseIterable {
        case input = "Input and schema"
        case hashing = "Hashing"
        case optimizer = "Optimizer"
        case schedule = "Learning-rate schedule"
        case clipping = "Gradient clipping"
        case ema = "Moving averages (EMA)"
        case run = "Run"
    }

    /// The config key (Keras `get_config` name for the optimizer's settings).
    public let key: String
    /// The long flag of `ftrl-train` without its dashes, or nil for a key set only in JSON.
    public let flag: String?
    /// The group it belongs to.
    public let section: Section
    /// What its value looks like, for help and documentation (`number`, `N`, `float32|float64`).
    public let valueName: String
    /// One line for `--help` and the README.
    public let help: String
    /// Whether the setting changes what a stored model's weights mean (or how
    /// its averages were kept): such a setting cannot change on `--resume`.
    public let changesMeaning: Bool
    /// Whether its JSON numbers are integers (written without a fraction).
    public let isInteger: Bool
    /// The default, as JSON.
    public let defaultValue: JSON
    /// A valid value other than the default (for the documentation and the tests).
    public let sample: JSON
    let get: @Sendable (FTRLConfig) -> JSON
    let set: @Sendable (inout FTRLConfig, JSON) throws(FTRLError) -> Void
    let check: @Sendable (FTRLConfig) throws(FTRLError) -> Void

    /// The setting's value in `config`, as JSON.
    public func value(in config: FTRLConfig) -> JSON { get(config) }

    /// Sets the setting in `config` from JSON, checking the JSON type (not the range: see `validate`).
    /// - Throws: `FTRLError` (.usage) naming the key.
    public func assign(_ value: JSON, to config: inout FTRLConfig) throws(FTRLError) { try set(&config, value) }

    /// Refuses the setting's value in `config` when it is out of range.
    /// - Throws: `FTRLError` (.usage) naming the key.
    public func validate(_ config: FTRLConfig) throws(FTRLError) { try check(config) }

    /// The setting with this config key, or nil.
    public static func named(_ key: String) -> Setting? { all.first { $0.key == key } }
}

// MARK: - How entries are made

extension Setting {
    /// The range rule of a number.
    enum Rule: Sendable {
        case any, positive, nonNegative, nonPositive, unitInterval, atLeastOne
        case within(ClosedRange<Int>)

        func problem(_ v: Double) -> String? {
            switch self {
            case .any: return nil
            case .positive: return v > 0 ? nil : "must be > 0"
            case .nonNegative: return v >= 0 ? nil : "must be >= 0"
            case .nonPositive: return v <= 0 ? nil : "must be <= 0"
            case .unitInterval: return v >= 0 && v <= 1 ? nil : "must be in [0, 1]"
            case .atLeastOne: return v >= 1 ? nil : "must be >= 1"
            case .within(let r):
                return v >= Double(r.lowerBound) && v <= Double(r.upperBound) ? nil : "must be between \(r.lowerBound) and \(r.upperBound)"
            }
        }
    }

    fileprivate static func bad(_ key: String, _ what: String) -> FTRLError { FTRLError(.usage, "config key \(key) must be \(what)") }

    static func number(
        _ key: String, flag: String?, _ section: Section, _ path: WritableKeyPath<FTRLConfig, Double> & Sendable, default d: Double,
        sample: Double, rule: Rule, meaning: Bool = false, help: String
    ) -> Setting {
        Setting(
            key: key, flag: flag, section: section, valueName: "number", help: help, changesMeaning: meaning, isInteger: false,
            defaultValue: .number(d), sample: .number(sample),
            get: { .number($0[keyPath: path]) },
            set: { c, v throws(FTRLError) in c[keyPath: path] = try asNumber(key, v) },
            check: { c throws(FTRLError) in try checkNumber(key, c[keyPath: path], rule) })
    }

    static func optionalNumber(
        _ key: String, flag: String?, _ section: Section, _ path: WritableKeyPath<FTRLConfig, Double?> & Sendable, sample: Double,
        rule: Rule, help: String
    ) -> Setting {
        Setting(
            key: key, flag: flag, section: section, valueName: "number", help: help, changesMeaning: false, isInteger: false,
            defaultValue: .null, sample: .number(sample),
            get: { $0[keyPath: path].map { .number($0) } ?? .null },
            set: { c, v throws(FTRLError) in c[keyPath: path] = v == .null ? nil : try asNumber(key, v) },
            check: { c throws(FTRLError) in if let x = c[keyPath: path] { try checkNumber(key, x, rule) } })
    }

    static func integer<I: FixedWidthInteger & Sendable>(
        _ key: String, flag: String?, _ section: Section, _ path: WritableKeyPath<FTRLConfig, I> & Sendable, default d: I, sample: I,
        rule: Rule, meaning: Bool = false, help: String
    ) -> Setting {
        Setting(
            key: key, flag: flag, section: section, valueName: "N", help: help, changesMeaning: meaning, isInteger: true,
            defaultValue: .number(Double(d)), sample: .number(Double(sample)),
            get: { .number(Double($0[keyPath: path])) },
            set: { c, v throws(FTRLError) in c[keyPath: path] = try asInteger(key, v, I.self) },
            check: { c throws(FTRLError) in try checkNumber(key, Double(c[keyPath: path]), rule) })
    }

    static func optionalInteger(
        _ key: String, flag: String?, _ section: Section, _ path: WritableKeyPath<FTRLConfig, Int?> & Sendable, sample: Int, rule: Rule,
        meaning: Bool = false, help: String
    ) -> Setting {
        Setting(
            key: key, flag: flag, section: section, valueName: "N", help: help, changesMeaning: meaning, isInteger: true,
            defaultValue: .null, sample: .number(Double(sample)),
            get: { $0[keyPath: path].map { .number(Double($0)) } ?? .null },
            set: { c, v throws(FTRLError) in c[keyPath: path] = v == .null ? nil : try asInteger(key, v, Int.self) },
            check: { c throws(FTRLError) in if let x = c[keyPath: path] { try checkNumber(key, Double(x), rule) } })
    }

    static func bool(
        _ key: String, flag: String?, _ section: Section, _ path: WritableKeyPath<FTRLConfig, Bool> & Sendable, default d: Bool,
        meaning: Bool = false, help: String
    ) -> Setting {
        Setting(
            key: key, flag: flag, section: section, valueName: "true|false", help: help, changesMeaning: meaning, isInteger: false,
            defaultValue: .bool(d), sample: .bool(!d),
            get: { .bool($0[keyPath: path]) },
            set: { c, v throws(FTRLError) in c[keyPath: path] = try asBool(key, v) },
            check: { _ in })
    }

    static func optionalBool(
        _ key: String, flag: String?, _ section: Section, _ path: WritableKeyPath<FTRLConfig, Bool?> & Sendable, sample: Bool,
        meaning: Bool = false, help: String
    ) -> Setting {
        Setting(
            key: key, flag: flag, section: section, valueName: "true|false|null", help: help, changesMeaning: meaning, isInteger: false,
            defaultValue: .null, sample: .bool(sample),
            get: { $0[keyPath: path].map { .bool($0) } ?? .null },
            set: { c, v throws(FTRLError) in c[keyPath: path] = v == .null ? nil : try asBool(key, v) },
            check: { _ in })
    }

    static func choice<E: RawRepresentable & CaseIterable & Sendable>(
        _ key: String, flag: String?, _ section: Section, _ path: WritableKeyPath<FTRLConfig, E> & Sendable, default d: E, sample: E,
        meaning: Bool = false, help: String
    ) -> Setting where E.RawValue == String {
        let names = E.allCases.map(\.rawValue)
        let one = names.count == 2 ? "\(names[0]) or \(names[1])" : names.dropLast().joined(separator: ", ") + " or " + names.last!
        @Sendable func parse(_ v: JSON) throws(FTRLError) -> E {
            guard case .string(let s) = v else { throw bad(key, one) }
            guard let e = E(rawValue: s) else { throw FTRLError(.usage, "config key \(key) must be \(one), not \(s)") }
            return e
        }
        return Setting(
            key: key, flag: flag, section: section, valueName: names.joined(separator: "|"), help: help, changesMeaning: meaning,
            isInteger: false, defaultValue: .string(d.rawValue), sample: .string(sample.rawValue),
            get: { .string($0[keyPath: path].rawValue) },
            set: { c, v throws(FTRLError) in c[keyPath: path] = try parse(v) },
            check: { _ in })
    }

    static func name(
        _ key: String, flag: String?, _ section: Section, _ path: WritableKeyPath<FTRLConfig, String?> & Sendable, sample: String,
        meaning: Bool = false, help: String
    ) -> Setting {
        @Sendable func parse(_ v: JSON) throws(FTRLError) -> String? {
            switch v {
            case .null: return nil
            case .string(let s): return s
            default: throw bad(key, "a column name or null")
            }
        }
        return Setting(
            key: key, flag: flag, section: section, valueName: "column", help: help, changesMeaning: meaning, isInteger: false,
            defaultValue: .null, sample: .string(sample),
            get: { $0[keyPath: path].map { .string($0) } ?? .null },
            set: { c, v throws(FTRLError) in c[keyPath: path] = try parse(v) },
            check: { _ in })
    }

    static func names(
        _ key: String, flag: String?, _ section: Section, _ path: WritableKeyPath<FTRLConfig, [String]> & Sendable, sample: [String],
        meaning: Bool = false, help: String
    ) -> Setting {
        Setting(
            key: key, flag: flag, section: section, valueName: "columns", help: help, changesMeaning: meaning, isInteger: false,
            defaultValue: .array([]), sample: .array(sample.map { .string($0) }),
            get: { .array($0[keyPath: path].map { .string($0) }) },
            set: { c, v throws(FTRLError) in c[keyPath: path] = try asNames(key, v) },
            check: { _ in })
    }

    static func optionalNames(
        _ key: String, flag: String?, _ section: Section, _ path: WritableKeyPath<FTRLConfig, [String]?> & Sendable, sample: [String],
        meaning: Bool = false, help: String
    ) -> Setting {
        Setting(
            key: key, flag: flag, section: section, valueName: "columns", help: help, changesMeaning: meaning, isInteger: false,
            defaultValue: .null, sample: .array(sample.map { .string($0) }),
            get: { $0[keyPath: path].map { .array($0.map { .string($0) }) } ?? .null },
            set: { c, v throws(FTRLError) in c[keyPath: path] = v == .null ? nil : try asNames(key, v) },
            check: { _ in })
    }

    static func asNumber(_ key: String, _ v: JSON) throws(FTRLError) -> Double {
        if case .number(let d) = v { return d }
        throw bad(key, "a number")
    }

    static func asInteger<I: FixedWidthInteger>(_ key: String, _ v: JSON, _: I.Type) throws(FTRLError) -> I {
        let d = try asNumber(key, v)
        guard d == d.rounded(), abs(d) < 1e15 else { throw bad(key, "an integer") }
        guard let i = I(exactly: d) else { throw bad(key, "in \(I.min)...\(I.max)") }
        return i
    }

    static func asBool(_ key: String, _ v: JSON) throws(FTRLError) -> Bool {
        if case .bool(let b) = v { return b }
        throw bad(key, "true or false")
    }

    static func asNames(_ key: String, _ v: JSON) throws(FTRLError) -> [String] {
        guard case .array(let items) = v else { throw bad(key, "a list of names") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw bad(key, "a list of names") }
            out.append(s)
        }
        return out
    }

    static func checkNumber(_ key: String, _ v: Double, _ rule: Rule) throws(FTRLError) {
        if !v.isFinite { throw FTRLError(.usage, "\(key) must be a finite number, not \(v)") }
        if let problem = rule.problem(v) { throw FTRLError(.usage, "\(key) \(problem), not \(v)") }
    }
}
