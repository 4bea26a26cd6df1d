/// Names for a model's hashed slots, found by replaying logs through the
/// model's schema and hashing (`ftrl-model top`): the parser names each
/// feature as it hashes it (LibSVM: the index; CSV and TSV: `column=value`,
/// a numeric column by its name or its bucket, a cross `A=x^B=y`), and the
/// names of the slots with a nonzero weight are counted.
///
/// Memory is bounded by the model, not the logs: only slots with a nonzero
/// exported weight keep names, at most `namesPerSlot` each (the first seen;
/// the rows of the others are counted together).
public struct TopFeatures: Sendable {
    /// One named slot.
    public struct Feature: Sendable {
        /// The name seen in most rows.
        public var name: String
        /// The exported weight of its slot.
        public var weight: Double
        /// Rows (occurrences) of that name in the files.
        public var count: Int
        /// The slot.
        public var slot: UInt32
        /// The other names that hash to the slot, with their rows, most rows first.
        public var collisions: [(name: String, count: Int)]
        /// Rows of further names not kept (past `namesPerSlot`).
        public var unnamedCount: Int
    }

    /// The features with the largest absolute weight, largest first.
    public var features: [Feature]
    /// The exported bias.
    public var bias: Double
    /// Rows read, and slots with a nonzero weight that no row named.
    public var rows: Int
    public var unnamedSlots: Int

    /// Names for the `top` slots of `model` with the largest absolute weight.
    /// - Parameters:
    ///   - paths: logs in the model's format (`-` is standard input).
    ///   - namesPerSlot: names kept per slot.
    /// - Throws: `FTRLError` for bad input.
    public static func of(_ model: AnyModel, paths: [String], top: Int, namesPerSlot: Int = 4) throws(FTRLError) -> TopFeatures {
        struct Body: ModelBody {
            let paths: [String]
            let top: Int
            let namesPerSlot: Int
            func run<F: FTRLScalar>(_ m: Model<F>) throws(FTRLError) -> TopFeatures {
                try TopFeatures.of(m, paths: paths, top: top, namesPerSlot: namesPerSlot)
            }
        }
        return try model.open(Body(paths: paths, top: top, namesPerSlot: namesPerSlot))
    }

    private struct Names {
        var weight: Double
        var kept: [(name: String, count: Int)] = []
        var others = 0
    }

    static func of<F: FTRLScalar>(_ m: Model<F>, paths: [String], top: Int, namesPerSlot: Int) throws(FTRLError) -> TopFeatures {
        // Only the slots with a nonzero weight are named.
        var slots: [UInt32: Names] = [:]
        for s in m.weightedSlots {
            let w = m.exportedWeight(Int(s))
            if w != 0 { slots[s] = Names(weight: w.asDouble) }
        }
        let stream = ExampleStream(paths: paths, hasher: m.hasher, schema: m.config.schema, scoring: true, naming: true)
        defer { _ = stream.finish() }
        var rows = 0
        while let block = try stream.next() {
            let names = block.names
            for j in 0..<block.offsets[block.count] {
                let slot = block.slots[j]
                guard let index = slots.index(forKey: slot) else { continue }
                let name = names[j]
                // One lookup per feature; the entry changed in place.
                if let k = slots.values[index].kept.firstIndex(where: { $0.name == name }) {
                    slots.values[index].kept[k].count += 1
                } else if slots.values[index].kept.count < namesPerSlot {
                    slots.values[index].kept.append((name, 1))
                } else {
                    slots.values[index].others += 1
                }
            }
            rows += block.count
            stream.recycle(block)
        }
        let ranked = slots.sorted { a, b in
            abs(a.value.weight) > abs(b.value.weight) || (abs(a.value.weight) == abs(b.value.weight) && a.key < b.key)
        }
        let features = ranked.prefix(top).map { slot, names -> Feature in
            let byRows = names.kept.sorted { $0.count > $1.count || ($0.count == $1.count && $0.name < $1.name) }
            return Feature(
                name: byRows.first?.name ?? "(slot \(slot): in no row of the files)", weight: names.weight, count: byRows.first?.count ?? 0,
                slot: slot, collisions: Array(byRows.dropFirst()), unnamedCount: names.others)
        }
        return TopFeatures(
            features: features, bias: m.exportedBias.asDouble, rows: rows, unnamedSlots: slots.values.count { $0.kept.isEmpty })
    }

    /// As JSON for scripts.
    public var json: JSON {
        .object([
            ("rows", .number(Double(rows))),
            ("bias", .number(bias)),
            ("unnamed_slots", .number(Double(unnamedSlots))),
            (
                "features",
                .array(
                    features.map { f in
                        .object([
                            ("name", .string(f.name)), ("weight", .number(f.weight)), ("count", .number(Double(f.count))),
                            ("slot", .number(Double(f.slot))),
                            (
                                "collisions",
                                .array(f.collisions.map { .object([("name", .string($0.name)), ("count", .number(Double($0.count)))]) })
                            ),
                            ("more_rows", .number(Double(f.unnamedCount))),
                        ])
                    })
            ),
        ])
    }
}
