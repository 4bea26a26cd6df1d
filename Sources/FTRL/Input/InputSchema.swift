/// The format of input rows.
public enum InputFormat: String, Sendable, CaseIterable {
    /// `label idx:val ...`
    case libsvm
    /// Comma-separated values, RFC 4180 quoting, a header line by default.
    case csv
    /// Tab-separated values without quoting, no header by default (Criteo's form).
    case tsv

    /// The format a file's name implies (`.csv`, `.tsv`, optionally `.gz`), or nil.
    public static func implied(by path: String) -> InputFormat? {
        var name = path.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
        if name.hasSuffix(".csv") { return .csv }
        if name.hasSuffix(".tsv") { return .tsv }
        return nil
    }

    /// The field separator of a delimited format.
    var separator: UInt8 { self == .csv ? UInt8(ascii: ",") : 0x09 }
}

/// How a numeric column becomes a feature.
public enum NumericTransform: String, Sendable, CaseIterable {
    /// One feature of the column with value `sign(v) * log1p(|v|)`.
    case log1p
    /// One feature of the column with value `v`.
    case raw
    /// A categorical feature: the value's log2 bucket (small integers kept as they are).
    case bucket
}

/// What the columns of a CSV or TSV log mean, as the user gave it (names,
/// ranges such as `I1-I13`), and, once a header or `--columns` is known,
/// the column names of the training files. Stored in the model, so scoring
/// needs no schema flags.
public struct InputSchema: Equatable, Sendable {
    public var format = InputFormat.libsvm
    /// Whether files start with a header line (nil: CSV yes, TSV no).
    public var header: Bool?
    /// The column names, from `--columns`, a preset or the training header.
    public var columns: [String]?
    /// The label column (nil: one named label, click or Label; else the first column).
    public var label: String?
    /// An importance-weight column.
    public var weight: String?
    /// Columns to leave out.
    public var ignore: [String] = []
    /// Numeric columns (names or ranges).
    public var numeric: [String] = []
    /// Categorical columns (nil: every column not otherwise named).
    public var categorical: [String]?
    /// How numeric values become features.
    public var numericTransform = NumericTransform.log1p
    /// Pairs of columns whose values are crossed, or `all` pairs of categorical columns.
    public var interactions: [[String]] = []
    /// Whether every categorical pair is crossed.
    public var allInteractions = false
    /// Whether an empty value adds a per-column "missing" feature.
    public var missingFeatures = true

    /// A LibSVM schema (the defaults of `Setting.all` hold for a config's schema).
    public init() {}

    /// Whether the files have a header line.
    public var hasHeader: Bool { header ?? (format == .csv) }

    /// A preset schema: `criteo` (headerless TSV: label, I1-I13 numeric,
    /// C1-C26 categorical) or `avazu` (CSV: click label, id ignored).
    public static func preset(_ name: String) throws(FTRLError) -> InputSchema {
        var s = FTRLConfig().schema
        switch name {
        case "criteo":
            s.format = .tsv
            s.header = false
            s.columns = ["label"] + (1...13).map { "I\($0)" } + (1...26).map { "C\($0)" }
            s.label = "label"
            s.numeric = ["I1-I13"]
            s.categorical = ["C1-C26"]
        case "avazu":
            s.format = .csv
            s.header = true
            s.label = "click"
            s.ignore = ["id"]
        default:
            throw FTRLError(.usage, "unknown --preset \(name) (criteo, avazu)")
        }
        return s
    }
}

extension InputSchema {
    /// Parses `--interactions C14:C20,C1:C23` or `all`.
    public static func parseInteractions(_ text: String) throws(FTRLError) -> (pairs: [[String]], all: Bool) {
        if text == "all" { return ([], true) }
        var pairs: [[String]] = []
        for item in text.split(separator: ",") {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw FTRLError(.usage, "--interactions takes pairs A:B separated by commas, or all; not \"\(item)\"")
            }
            pairs.append(parts)
        }
        return (pairs, false)
    }
}
