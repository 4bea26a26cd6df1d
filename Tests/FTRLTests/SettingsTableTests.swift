import FTRLTestSupport
import Foundation
import Testing

@testable import FTRL

/// The table of settings (`Setting.all`) is what the config is made of:
/// every key reads, writes and validates through its entry.
struct SettingsTableTests {
    static let keys = Setting.all.map(\.key)

    /// The config JSON holds exactly the table's keys, in its order; keys and
    /// flags are unique.
    @Test func configJSONIsTheTable() throws {
        guard case .object(let members) = FTRLConfig().json else {
            Issue.record("the config is not a JSON object")
            return
        }
        #expect(members.map(\.0) == Self.keys)
        #expect(Set(Self.keys).count == Self.keys.count)
        let flags = Setting.all.compactMap(\.flag)
        #expect(Set(flags).count == flags.count)
    }

    /// The defaults are the table's, and they validate.
    @Test func defaultsAreTheTables() throws {
        let config = FTRLConfig()
        for setting in Setting.all {
            #expect(setting.value(in: config) == setting.defaultValue, "\(setting.key)")
        }
        try config.validate()
        // The documented defaults (README, Keras where Keras has them).
        #expect(config.learningRate == 0.1 && config.l1 == 0.1 && config.l2 == 0.5 && config.beta == 1)
        #expect(config.learningRatePower == -0.5 && config.initialAccumulatorValue == 0.1 && config.bits == 24)
        #expect(config.emaMomentum == 0.99 && config.batchSize == 1 && config.epochs == 1 && config.schema.missingFeatures)
    }

    /// Every key: its sample value (not the default) is set through the
    /// table, written as JSON text, and read back to the same config and text.
    @Test(arguments: keys)
    func everyKeyRoundTrips(_ key: String) throws {
        let setting = try #require(Setting.named(key))
        #expect(setting.sample != setting.defaultValue, "the sample of \(key) must differ from its default")
        var config = FTRLConfig()
        try setting.assign(setting.sample, to: &config)
        #expect(setting.value(in: config) == setting.sample)
        #expect(config != FTRLConfig())
        let text = config.jsonText
        let back = try FTRLConfig(jsonText: text)
        #expect(back == config)
        #expect(back.jsonText == text)
        // Only this key differs from the defaults' text.
        let changed = Setting.all.filter { $0.value(in: back) != $0.value(in: FTRLConfig()) }.map(\.key)
        #expect(changed == [key])
    }

    /// A value of the wrong JSON type is refused naming the key.
    @Test(arguments: keys)
    func wrongTypeNamesTheKey(_ key: String) throws {
        let setting = try #require(Setting.named(key))
        var wrong = JSON.bool(true)
        if case .bool = setting.sample { wrong = .number(1) }
        var config = FTRLConfig()
        #expect {
            try setting.assign(wrong, to: &config)
        } throws: { ($0 as? FTRLError)?.message.contains(key) == true }
    }

    /// Ranges: a value outside a number's range is refused by `validate`, naming the key.
    @Test(arguments: [
        ("learning_rate", JSON.number(0)), ("learning_rate_power", .number(0.5)), ("initial_accumulator_value", .number(-1)),
        ("l1_regularization_strength", .number(-0.1)), ("l2_regularization_strength", .number(-1)),
        ("l2_shrinkage_regularization_strength", .number(-1)), ("beta", .number(.infinity)), ("clipnorm", .number(0)),
        ("clipvalue", .number(-1)), ("global_clipnorm", .number(0)), ("ema_momentum", .number(1.5)),
        ("ema_overwrite_frequency", .number(0)), ("batch_size", .number(0)), ("epochs", .number(0)), ("bits", .number(33)),
    ])
    func outOfRangeIsRefused(_ key: String, _ value: JSON) throws {
        var config = FTRLConfig()
        try #require(Setting.named(key)).assign(value, to: &config)
        #expect {
            try config.validate()
        } throws: { ($0 as? FTRLError)?.message.hasPrefix(key) == true }
    }

    /// An integer key refuses a fraction; hash_seed refuses what 32 bits cannot hold.
    @Test func integersAreIntegers() throws {
        var config = FTRLConfig()
        #expect(throws: FTRLError.self) { try Setting.bits.assign(.number(20.5), to: &config) }
        #expect(throws: FTRLError.self) { try Setting.hashSeed.assign(.number(4_294_967_296), to: &config) }
        try Setting.hashSeed.assign(.number(4_294_967_295), to: &config)
        #expect(config.hashSeed == UInt32.max)
    }

    /// The settings that change what stored weights mean: the feature
    /// mapping, the precision, the averages' rule and the schema.
    @Test func meaningChangingSettings() {
        let meaning = Set(Setting.all.filter(\.changesMeaning).map(\.key))
        #expect(
            meaning == [
                "bits", "dtype", "hash", "hash_seed", "use_ema", "ema_momentum", "ema_overwrite_frequency", "format", "header", "columns",
                "label", "weight", "ignore", "numeric", "categorical", "numeric_transform", "interactions", "missing_features",
            ])
    }
}
