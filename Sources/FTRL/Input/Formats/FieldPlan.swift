/// What to do with each field of a delimited row, worked out once per file
/// from the schema and the file's header (or its field count), with every
/// column's hash seed precomputed.
struct FieldPlan {
    enum Role: Equatable {
        case skip
        case label
        case weight
        case numeric
        case categorical
    }

    /// One field's work, plain data (no references), read once per value.
    struct Field {
        var role: Role
        /// MurmurHash3 of the column name: the seed of its values' hashes.
        var seed: UInt32
        /// The full hash of the column's numeric feature (log1p, raw).
        var numericHash: UInt32
        /// The full hash of the column's "missing" feature.
        var missingHash: UInt32
    }

    var fields: [Field]
    /// The model column's name of each field (for messages).
    var names: [String]
    /// Crosses as pairs of field positions, with their seeds.
    var crosses: [(Int, Int, UInt32)]
    var transform: NumericTransform
    var missingFeatures: Bool
    var hasWeight: Bool

    /// The hash of a column name: the seed of its values.
    static func seed(of name: String, hashSeed: UInt32) -> UInt32 {
        Array(name.utf8).withUnsafeBytes { MurmurHash3.hash($0, seed: hashSeed) }
    }

    /// Builds the plan for files whose fields are the model columns
    /// `present` (positions into `columns`, in file order).
    init(schema: InputSchema, columns: ResolvedColumns, present: [Int?], hashSeed: UInt32) {
        var fields: [Field] = []
        var names: [String] = []
        for position in present {
            guard let c = position else {
                fields.append(Field(role: .skip, seed: 0, numericHash: 0, missingHash: 0))
                names.append("")
                continue
            }
            let name = columns.names[c]
            names.append(name)
            let seed = Self.seed(of: name, hashSeed: hashSeed)
            let role: Role
            switch columns.roles[c] {
            case .label: role = .label
            case .weight: role = .weight
            case .ignore: role = .skip
            case .numeric: role = .numeric
            case .categorical: role = .categorical
            }
            let empty = UnsafeRawBufferPointer(start: nil, count: 0)
            let missing: [UInt8] = [0]
            fields.append(
                Field(
                    role: role, seed: seed, numericHash: MurmurHash3.hash(empty, seed: seed),
                    missingHash: missing.withUnsafeBytes { MurmurHash3.hash($0, seed: seed) }))
        }
        var crosses: [(Int, Int, UInt32)] = []
        for (a, b) in columns.crosses {
            guard let pa = present.firstIndex(of: a), let pb = present.firstIndex(of: b) else { continue }
            let key = Array((columns.names[a] + "\u{1F}" + columns.names[b]).utf8)
            crosses.append((pa, pb, key.withUnsafeBytes { MurmurHash3.hash($0, seed: hashSeed) }))
        }
        self.fields = fields
        self.names = names
        self.crosses = crosses
        transform = schema.numericTransform
        missingFeatures = schema.missingFeatures
        hasWeight = fields.contains { $0.role == .weight }
    }
}

/// The model's columns with their roles, resolved from the schema's names
/// and ranges against the column names of the training files.
public struct ResolvedColumns: Equatable, Sendable {
    public enum Role: Equatable, Sendable {
        case label, weight, ignore, numeric, categorical
    }

    public var names: [String]
    public var roles: [Role]
    /// Crossed pairs of columns (indices, the earlier column first).
    public var crosses: [(Int, Int)]

    public static func == (a: ResolvedColumns, b: ResolvedColumns) -> Bool {
        a.names == b.names && a.roles == b.roles && a.crosses.map { [$0.0, $0.1] } == b.crosses.map { [$0.0, $0.1] }
    }

    /// Resolves `schema` against `names`.
    /// - Parameters:
    ///   - named: whether the names come from a header or `--columns` (else
    ///     they are positions `1`...`N`, and the label defaults to the first column).
    /// - Throws: `FTRLError` (.usage) naming a column the files do not have,
    ///   or a column given two roles.
    public init(schema: InputSchema, names: [String], named: Bool) throws(FTRLError) {
        if let (name, a, b) = Self.duplicate(in: names) {
            throw FTRLError(.usage, "column \"\(name)\" is named twice (columns \(a + 1) and \(b + 1)); column names must differ")
        }
        self.names = names
        var roles = [Role?](repeating: nil, count: names.count)
        func index(of name: String) -> Int? { names.firstIndex(of: name) }
        func resolve(_ spec: String, _ flag: String) throws(FTRLError) -> [Int] {
            if let i = index(of: spec) { return [i] }
            var cut = spec.startIndex
            while let dash = spec[cut...].firstIndex(of: "-") {
                let left = String(spec[..<dash])
                let right = String(spec[spec.index(after: dash)...])
                if let a = index(of: left), let b = index(of: right) {
                    guard a <= b else { throw FTRLError(.usage, "\(flag): range \(spec) runs backwards") }
                    return Array(a...b)
                }
                cut = spec.index(after: dash)
            }
            throw FTRLError(.usage, "\(flag): the input has no column \"\(spec)\" (columns: \(Self.summary(names)))")
        }
        func assign(_ columns: [Int], _ role: Role, _ flag: String) throws(FTRLError) {
            for c in columns {
                if let existing = roles[c], existing != role {
                    throw FTRLError(.usage, "column \"\(names[c])\" is given two roles (\(existing) and \(role), the second by \(flag))")
                }
                roles[c] = role
            }
        }
        // The label.
        let label: Int
        if let name = schema.label {
            label = try resolve(name, "--label")[0]
        } else if let i = ["label", "click", "Label"].lazy.compactMap(index(of:)).first {
            label = i
        } else if !named && !names.isEmpty {
            label = 0
        } else {
            throw FTRLError(
                .usage, "no label column: none is named label, click or Label; name it with --label (columns: \(Self.summary(names)))")
        }
        try assign([label], .label, "--label")
        if let w = schema.weight { try assign(try resolve(w, "--weight"), .weight, "--weight") }
        for spec in schema.ignore { try assign(try resolve(spec, "--ignore"), .ignore, "--ignore") }
        for spec in schema.numeric { try assign(try resolve(spec, "--numeric"), .numeric, "--numeric") }
        if let categorical = schema.categorical {
            for spec in categorical { try assign(try resolve(spec, "--categorical"), .categorical, "--categorical") }
        }
        let fallback: Role = schema.categorical == nil ? .categorical : .ignore
        let final = roles.map { $0 ?? fallback }
        self.roles = final
        // Crosses.
        func crossable(_ c: Int) -> Bool {
            final[c] == .categorical || (final[c] == .numeric && schema.numericTransform == .bucket)
        }
        var pairs: [(Int, Int)] = []
        if schema.allInteractions {
            let cats = (0..<names.count).filter { final[$0] == .categorical }
            for (i, a) in cats.enumerated() { for b in cats[(i + 1)...] { pairs.append((a, b)) } }
        } else {
            for pair in schema.interactions {
                let a = try resolve(pair[0], "--interactions")
                let b = try resolve(pair[1], "--interactions")
                guard a.count == 1, b.count == 1 else { throw FTRLError(.usage, "--interactions takes single columns, not ranges") }
                for c in [a[0], b[0]] where !crossable(c) {
                    throw FTRLError(.usage, "--interactions: column \"\(names[c])\" is not categorical")
                }
                guard a[0] != b[0] else { throw FTRLError(.usage, "--interactions: \(pair[0]) is crossed with itself") }
                pairs.append((min(a[0], b[0]), max(a[0], b[0])))
            }
        }
        crosses = pairs
    }

    /// The first name that appears twice, with both positions, or nil.
    static func duplicate(in names: [String]) -> (String, Int, Int)? {
        var seen: [String: Int] = [:]
        for (i, name) in names.enumerated() {
            if let first = seen[name] { return (name, first, i) }
            seen[name] = i
        }
        return nil
    }

    static func summary(_ names: [String]) -> String {
        names.count <= 12 ? names.joined(separator: ",") : names.prefix(10).joined(separator: ",") + ",... (\(names.count))"
    }

    /// The label column.
    var labelIndex: Int { roles.firstIndex(of: .label)! }
}
