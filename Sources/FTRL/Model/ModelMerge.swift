import Glibc

/// How many shards each state of a merged model averages: what lets a merge
/// of merged models (a tree of merges, as a Spark job does) weigh every
/// shard once. Only counts other than 1 are kept.
public struct MergeCounts: Equatable, Sendable {
    /// The shards the bias averages.
    public var bias: UInt32
    /// Slot -> shards, for the slots whose count is not 1.
    public var slots: [UInt32: UInt32] = [:]

    /// The counts of a model that is not a merge: 1 everywhere.
    public init(bias: UInt32 = 1) {
        self.bias = bias
    }

    /// The shards a slot's state averages.
    public func count(of slot: UInt32) -> UInt32 { slots[slot] ?? 1 }

    /// Whether every count is 1 (nothing to record).
    var isTrivial: Bool { bias == 1 && slots.isEmpty }
}

/// Merges models trained on disjoint shards of a log, each from the same
/// starting model (the base) or from nothing, into one resumable model.
///
/// The rule, chosen by measurement (BENCHMARKS.md, "Merging shards"), per
/// slot, by how many of the shards changed it from the base:
/// - every shard: `z` and `n` become their averages over the shards. Each
///   shard saw the feature often and moved it from the same start toward
///   much the same place; summing would make that move K times.
/// - some but not all: `z` and `n` become the base's plus the sum of the
///   shards' changes. Such a feature is rare, the shards saw different
///   examples of it, and each change is news the others lack.
/// - one: that shard's state as it is (the sum of one change).
/// - none: the base's state.
///
/// `w` is recomputed from the merged `z` and `n` as the update computes it,
/// so the merged state is one the update could have made. With EMA, each
/// shard's average is first brought up to that shard's step and the averages
/// are averaged (the weights too when `ema_overwrite_frequency` is set, where
/// `w` does not follow from `z` and `n`: then `w` is merged like `z`). The
/// bias, which every shard changes, is averaged.
///
/// A tree of merges (as the Spark driver runs them) gives the rule of one
/// merge of all the shards when every merge below the top uses
/// `Rule.average`: that averages every changed slot and records in the
/// merged model how many shards each average stands for (`MergeCounts`), so
/// the top merge recovers the sums of the changes and the number of shards.
///
/// Counters: `iterations` and `examples` are the base's plus every shard's
/// own (the steps and examples the shards took after the base), as if one
/// model had taken them all; a learning-rate schedule and EMA go on from there.
///
/// The result does not depend on the order of the inputs: they are summed in
/// the order of their checksums. Sums are taken in double precision.
///
/// Block momentum (optional, for rounds of merges as the Spark driver runs
/// them; the block-wise model-update filtering of Chen and Huo, 2016): given
/// the round's base B and the previous round's base P, every slot's `z` moves
/// on by `momentum * (z_B - z_P)` after the merge and `w` is recomputed, so
/// that the progress of earlier rounds carries on instead of being averaged
/// away. Measured in BENCHMARKS.md ("Merging shards").
public enum ModelMerge {
    /// How slots that several shards changed are merged.
    public enum Rule: String, CaseIterable, Sendable {
        /// Averaged where every shard changed the slot, the changes summed
        /// where only some did (the default).
        case mixed
        /// Averaged wherever more than one shard changed the slot: for the
        /// merges below the top of a tree, and the plain parameter average.
        case average
    }

    /// What a merge did, for its report.
    public struct Summary: Sendable {
        /// Models merged.
        public var inputs: Int
        /// Slots that some shard changed.
        public var changedSlots: Int
        /// Of those, the slots more than one shard changed: averaged (every
        /// shard changed them, or `Rule.average`) and summed (some did).
        public var averagedSlots: Int
        public var summedSlots: Int
        /// Active slots of the merged model.
        public var activeSlots: Int
        /// The merged model's counters.
        public var iterations: UInt64
        public var examples: UInt64
    }

    /// Merges the models at `paths` (trained from the model at `basePath`,
    /// or from nothing when it is nil) and writes the result to `output`
    /// atomically.
    /// - Throws: `FTRLError`: .usage when the models cannot be merged (kind,
    ///   precision, bits, hashing, schema or another setting that fixes what
    ///   weights mean differ; a model has fewer steps than the base), naming
    ///   the difference and the files; .data or .noInput for a model file
    ///   that cannot be read; .io when the output cannot be written.
    /// - Parameter rule: how slots several shards changed are merged.
    /// - Parameter momentum: the block momentum and the previous round's base
    ///   (needs `basePath`); nil for none.
    public static func merge(
        paths: [String], base basePath: String?, rule: Rule = .mixed, momentum: (rate: Double, previous: String)? = nil,
        output: String
    ) throws(FTRLError) -> Summary {
        guard !paths.isEmpty else { throw FTRLError(.usage, "nothing to merge: give one or more model files") }
        if let momentum {
            guard basePath != nil else { throw FTRLError(.usage, "--momentum needs --base (the round's base) and --previous") }
            guard momentum.rate >= 0 && momentum.rate < 1 else { throw FTRLError(.usage, "--momentum must be in [0, 1)") }
        }
        let base = try basePath.map { p throws(FTRLError) in try ModelFile.read(path: p) }
        let previous = try momentum.map { m throws(FTRLError) in try ModelFile.read(path: m.previous) }
        // The order of the sums: by checksum, then by path (only for identical files).
        var ordered: [(checksum: UInt32, path: String)] = []
        for p in paths { ordered.append((try ModelFile.storedChecksum(path: p), p)) }
        ordered.sort { ($0.checksum, $0.path) < ($1.checksum, $1.path) }
        // Without a base, the first input's settings are the reference: a fresh model of
        // them, whose table is mapped but never touched, so that only one input is in
        // memory at a time.
        let reference: AnyModel
        if let base {
            reference = base
        } else {
            let config = try ModelFile.read(path: ordered[0].path).config
            reference = try AnyModel(config: config)
        }
        let job = Job(
            paths: ordered.map(\.path), base: base, basePath: basePath, rule: rule,
            previous: previous.map { ($0, momentum!.previous, momentum!.rate) }, referencePath: basePath ?? ordered[0].path,
            output: output)
        return try reference.open(job)
    }

    /// The merge in the models' precision.
    private struct Job: ModelBody {
        let paths: [String]
        let base: AnyModel?
        let basePath: String?
        let rule: Rule
        let previous: (model: AnyModel, path: String, rate: Double)?
        let referencePath: String
        let output: String

        func run<F: FTRLScalar>(_ reference: Model<F>) throws(FTRLError) -> Summary {
            let base = try base.map { b throws(FTRLError) in try typed(b, F.self, basePath!, reference) }
            let prev = try previous.map { p throws(FTRLError) in try typed(p.model, F.self, p.path, reference) }
            if let prev, let base, prev.iterations > base.iterations || prev.examples > base.examples {
                throw FTRLError(
                    .usage, "\(previous!.path) has more steps or examples than the base \(basePath!): it is not the round before it")
            }
            let config = reference.config
            let ema = config.useEMA
            let overwrite = (config.emaOverwriteFrequency ?? 0) != 0
            var sums = Sums()
            var bias = Contribution()
            var iterations = base?.iterations ?? 0
            var examples = base?.examples ?? 0
            var shards: UInt32 = 0  // the shards that took a step, each merged model counting the shards it stands for
            var curve = TrainingCurve()  // one model's training curve goes on; several make none
            for path in paths {
                let model = try typed(try ModelFile.read(path: path), F.self, path, reference)
                if paths.count == 1 { curve = model.curve }
                if let base {
                    guard model.iterations >= base.iterations, model.examples >= base.examples else {
                        throw FTRLError(
                            .usage,
                            "\(path) has \(model.iterations) steps and \(model.examples) examples, fewer than the base's "
                                + "\(base.iterations) and \(base.examples) in \(basePath!): it was not trained from that model")
                    }
                }
                iterations += model.iterations - (base?.iterations ?? 0)
                examples += model.examples - (base?.examples ?? 0)
                if model.iterations == (base?.iterations ?? 0) { continue }  // no step taken: nothing changed
                let counts = model.mergeCounts ?? MergeCounts()
                shards += counts.bias
                // The bias.
                let b = model.bias
                if !(base.map { same(b, $0.bias) && (!ema || $0.biasAverage == model.biasAverage) } ?? false) {
                    let average = ema ? model.biasAverage : 0
                    bias.keep = (b.w.asDouble, b.n.asDouble, b.z.asDouble, average.asDouble, 0)
                    bias.add(weight: counts.bias, w: b.w, n: b.n, z: b.z, average: average)
                }
                // The slots that changed from the base.
                var changed = Sums()
                let table = model.table
                for (s, row) in table.activeRows() {
                    let slot = table.slot(row: row)
                    if let base, let baseRow = base.table.activeRow(of: s), same(slot, base.table.slot(row: baseRow)),
                        !ema
                            || (slot.average == base.table.slot(row: baseRow).average
                                && table.step(row: row).pointee == base.table.step(row: baseRow).pointee)
                    {
                        continue
                    }
                    // The stored state, kept as it is when this is the one shard that changed the slot;
                    // with EMA the sums take the average brought up to this shard's step.
                    var c = Contribution()
                    if ema {
                        c.keep = (slot.w.asDouble, slot.n.asDouble, slot.z.asDouble, slot.average.asDouble, table.step(row: row).pointee)
                        let (w, a) = model.caughtUp(Int(s))
                        c.add(weight: counts.count(of: s), w: w, n: slot.n, z: slot.z, average: a ?? 0)
                    } else {
                        c.keep = (slot.w.asDouble, slot.n.asDouble, slot.z.asDouble, 0, 0)
                        c.add(weight: counts.count(of: s), w: slot.w, n: slot.n, z: slot.z, average: 0)
                    }
                    changed.append(s, c)
                }
                sums = sums.merged(with: changed)
            }
            if ema && iterations > EMARule<F>.maxSteps {
                throw FTRLError(.usage, "the merged model would have \(iterations) steps, more than EMA's 32-bit steps allow")
            }
            // The merged model: the base's slots, then the merged ones.
            let merged = try Model<F>(config: config)
            merged.iterations = iterations
            merged.examples = examples
            merged.curve = curve
            let lr: F = config.schedule.map { $0.rate(at: max(iterations, 1) - 1) } ?? F(fromDouble: config.learningRate)
            let update = FTRLUpdate<F>(config: config, lr: lr)
            let step = UInt32(truncatingIfNeeded: max(iterations, 1))
            var counts = MergeCounts(bias: 1)
            if let base {
                let t = base.table
                for (s, row) in t.activeRows() {
                    let slot = t.slot(row: row)
                    try merged.table.restore(
                        slot: Int(s), w: slot.w, n: slot.n, z: slot.z, average: ema ? slot.average : 0,
                        step: ema ? t.step(row: row).pointee : 0)
                }
                merged.bias.w = base.bias.w
                merged.bias.n = base.bias.n
                merged.bias.z = base.bias.z
                merged.biasAverage = base.biasAverage
                counts.bias = 0
            }
            /// The merged state of a slot (or the bias) whose state in the base is `from`.
            func state(_ c: Contribution, from: (w: Double, n: Double, z: Double)) -> (w: F, n: F, z: F, average: F, step: UInt32) {
                // Summed where only some of the shards changed the slot: one merged model
                // standing for several of them (a tree) holds their average, not their sum.
                let summing = rule == .mixed && c.weight < shards
                if let keep = c.keep, c.contributors == 1, !summing || c.weight == 1 {
                    return (F(fromDouble: keep.w), F(fromDouble: keep.n), F(fromDouble: keep.z), F(fromDouble: keep.average), keep.step)
                }
                let total = Double(c.weight)
                let n: F
                let z: F
                var w: F
                if summing {
                    // The base plus the sum of the changes: sum - (count - 1) * base.
                    n = F(fromDouble: c.n - (total - 1) * from.n)
                    z = F(fromDouble: c.z - (total - 1) * from.z)
                    w = F(fromDouble: c.w - (total - 1) * from.w)
                } else {
                    n = F(fromDouble: c.n / total)
                    z = F(fromDouble: c.z / total)
                    w = F(fromDouble: c.w / total)
                }
                if !overwrite { w = update.weight(z: z, n: n) }
                return (w, n, z, F(fromDouble: c.average / total), step)
            }
            func baseState(_ s: UInt32) -> (w: Double, n: Double, z: Double) {
                guard let base, let row = base.table.activeRow(of: s) else { return (0, 0, 0) }
                let slot = base.table.slot(row: row)
                return (slot.w.asDouble, slot.n.asDouble, slot.z.asDouble)
            }
            var averaged = 0
            var summed = 0
            for (k, s) in sums.slots.enumerated() {
                let c = sums.contributions[k]
                let m = state(c, from: baseState(s))
                try merged.table.restore(slot: Int(s), w: m.w, n: m.n, z: m.z, average: m.average, step: m.step)
                if c.weight > 1 {
                    if rule == .mixed && c.weight < shards { summed += 1 } else { averaged += 1 }
                }
                if c.weight != 1 { counts.slots[s] = c.weight }
            }
            if bias.contributors > 0 {
                let b = base?.bias
                let m = state(bias, from: (b?.w.asDouble ?? 0, b?.n.asDouble ?? 0, b?.z.asDouble ?? 0))
                merged.bias.w = m.w
                merged.bias.n = m.n
                merged.bias.z = m.z
                if ema { merged.biasAverage = m.average }
                counts.bias = bias.weight
            }
            if let previous, let prev, let base {
                applyMomentum(previous.rate, to: merged, base: base, previous: prev, update: update)
            }
            // Only averages can be weighed again by a merge above: a mixed merge is the top of its tree.
            try ModelFile.write(merged, to: output, mergeCounts: counts.isTrivial || rule == .mixed ? nil : counts)
            return Summary(
                inputs: paths.count, changedSlots: sums.slots.count, averagedSlots: averaged, summedSlots: summed,
                activeSlots: merged.table.activeCount, iterations: iterations, examples: examples)
        }

        /// Moves every slot's `z` (and the bias's) on by `rate * (z_base - z_previous)`
        /// and recomputes `w` (not with EMA overwrites, where `w` does not follow from `z`).
        private func applyMomentum<G: FTRLScalar>(
            _ rate: Double, to merged: Model<G>, base: Model<G>, previous: Model<G>, update: FTRLUpdate<G>
        ) {
            let overwrite = (merged.config.emaOverwriteFrequency ?? 0) != 0
            func move(_ slot: Slot<G>, _ zBase: Double, _ zPrevious: Double) {
                let z = G(fromDouble: slot.z.asDouble + rate * (zBase - zPrevious))
                slot.z = z
                if !overwrite { slot.w = update.weight(z: z, n: slot.n) }
            }
            for (s, row) in merged.table.activeRows() {
                let zb = base.table.activeRow(of: s).map { base.table.slot(row: $0).z.asDouble } ?? 0
                let zp = previous.table.activeRow(of: s).map { previous.table.slot(row: $0).z.asDouble } ?? 0
                if zb != zp { move(merged.table.slot(row: row), zb, zp) }
            }
            if base.bias.z != previous.bias.z { move(merged.bias, base.bias.z.asDouble, previous.bias.z.asDouble) }
        }

        /// The model in precision `F`, once it is known to mean what the reference means.
        private func typed<G: FTRLScalar>(_ any: AnyModel, _: G.Type, _ path: String, _ reference: Model<G>) throws(FTRLError) -> Model<G> {
            let model: Model<G>?
            switch any {
            case .float32(let m): model = m as? Model<G>
            case .float64(let m): model = m as? Model<G>
            }
            guard let model else {
                throw FTRLError(
                    .usage,
                    "cannot merge models of different precision: \(path) is \(any.config.dtype), \(referencePath) is \(reference.config.dtype)"
                )
            }
            if model.kind != reference.kind {
                throw FTRLError(
                    .usage, "cannot merge models of different kinds: \(path) is \(model.kind), \(referencePath) is \(reference.kind)")
            }
            // Every setting but how a run is carried out: the merged w is recomputed
            // with one optimizer's settings, and the schema and hashing say what a slot is.
            let differences = Setting.all.filter { $0.section != .run && $0.value(in: model.config) != $0.value(in: reference.config) }
            if !differences.isEmpty {
                let named = differences.map {
                    "\($0.key) (\($0.value(in: model.config).rendered(indent: 0)) in \(path), \($0.value(in: reference.config).rendered(indent: 0)) in \(referencePath))"
                }
                throw FTRLError(.usage, "cannot merge models trained with different settings: " + named.joined(separator: "; "))
            }
            return model
        }
    }

    /// Whether two slots hold the same `w`, `n` and `z`, bit for bit.
    private static func same<F: FTRLScalar>(_ a: Slot<F>, _ b: Slot<F>) -> Bool {
        a.w.asDouble.bitPattern == b.w.asDouble.bitPattern && a.n.asDouble.bitPattern == b.n.asDouble.bitPattern
            && a.z.asDouble.bitPattern == b.z.asDouble.bitPattern
    }

    /// The weighted sums of one slot's states over the shards that changed it.
    struct Contribution {
        var weight: UInt32 = 0
        var contributors = 0
        var w = 0.0
        var n = 0.0
        var z = 0.0
        var average = 0.0
        /// The one contributor's state as stored (w, n, z, average, step), kept verbatim when it stays the only one.
        var keep: (w: Double, n: Double, z: Double, average: Double, step: UInt32)?

        mutating func add<F: FTRLScalar>(weight c: UInt32, w: F, n: F, z: F, average: F) {
            let d = Double(c)
            weight += c
            contributors += 1
            self.w += d * w.asDouble
            self.n += d * n.asDouble
            self.z += d * z.asDouble
            self.average += d * average.asDouble
        }

        /// `other` summed in after this.
        func plus(_ other: Contribution) -> Contribution {
            var r = self
            r.weight += other.weight
            r.contributors += other.contributors
            r.w += other.w
            r.n += other.n
            r.z += other.z
            r.average += other.average
            r.keep = contributors == 0 ? other.keep : keep
            return r
        }
    }

    /// Contributions by slot, ascending: merged shard by shard in one linear
    /// pass, so memory follows the changed slots, not 2^bits.
    struct Sums {
        var slots: [UInt32] = []
        var contributions: [Contribution] = []

        mutating func append(_ s: UInt32, _ c: Contribution) {
            slots.append(s)
            contributions.append(c)
        }

        func merged(with other: Sums) -> Sums {
            var out = Sums()
            out.slots.reserveCapacity(slots.count + other.slots.count)
            out.contributions.reserveCapacity(slots.count + other.slots.count)
            var i = 0
            var j = 0
            while i < slots.count || j < other.slots.count {
                if j == other.slots.count || (i < slots.count && slots[i] < other.slots[j]) {
                    out.append(slots[i], contributions[i])
                    i += 1
                } else if i == slots.count || other.slots[j] < slots[i] {
                    out.append(other.slots[j], other.contributions[j])
                    j += 1
                } else {
                    out.append(slots[i], contributions[i].plus(other.contributions[j]))
                    i += 1
                    j += 1
                }
            }
            return out
        }
    }
}
