/// A logistic-regression model over hashed features and its full training
/// state: the config, the kernel table, the bias, the moving averages and
/// the step counter.
public final class Model<F: FTRLScalar> {
    /// The settings it was trained with.
    public var config: FTRLConfig
    /// The kernel.
    public let table: WeightTable<F>
    /// The bias: a plain slot (always active).
    public let bias: Slot<F>
    /// The bias's moving average (kept densely: the bias is active every step).
    public var biasAverage: F = 0
    /// Steps taken (Keras `iterations`).
    public var iterations: UInt64 = 0
    /// Examples consumed by training, over all epochs and resumes.
    public var examples: UInt64 = 0
    /// The logloss of its training, every so many examples (empty for a
    /// model merged from several).
    public var curve = TrainingCurve()
    /// Set when `w` holds the exported weights (scoring only; never saved).
    private(set) var isFinalizedForScoring = false
    /// The EMA rule of the config, when the model keeps averages.
    let emaRule: EMARule<F>?

    /// A fresh model: every weight 0.
    /// - Parameter config: the settings; its `dtype` must match `F`.
    /// - Throws: `FTRLError` when the table cannot be allocated.
    /// - Parameter layout: the table's layout (dense, sparse, or by size).
    public convenience init(config: FTRLConfig, layout: TableLayout = .auto) throws(FTRLError) {
        self.init(config: config, table: try WeightTable(bits: config.bits, withEMA: config.useEMA, layout: layout))
    }

    /// A fresh model on `table` (one of `WeightTable.interleaved`), whose
    /// bits and EMA must be the config's.
    init(config: FTRLConfig, table: WeightTable<F>) {
        precondition(table.bits == config.bits && table.hasEMA == config.useEMA)
        self.config = config
        self.table = table
        let storage = UnsafeMutablePointer<F>.allocate(capacity: Slot<F>.scalars)
        storage.initialize(repeating: 0, count: Slot<F>.scalars)
        bias = Slot(storage)
        bias.n = F(fromDouble: config.initialAccumulatorValue)
        bias.mark = 1
        emaRule = config.useEMA ? EMARule(config: config) : nil
    }

    deinit {
        bias.base.deallocate()
    }

    /// The format version of the file the model was read from (nil for a model made in this run).
    public internal(set) var fileVersion: UInt32?

    /// How many shards each state averages, when the file was written by a
    /// merge (its `merged` section); nil otherwise. Training does not carry it on.
    public internal(set) var mergeCounts: MergeCounts?

    /// The model kind the model file records: logistic regression over hashed features.
    public var kind: String { "linear" }

    /// The feature mapping of this model.
    public var hasher: FeatureHasher { config.hasher }

    /// The weight and moving average of a kernel slot brought up to the
    /// current step (an overwrite due since the slot was last active
    /// included), without changing the stored state.
    public func caughtUp(_ slot: Int) -> (w: F, average: F?) {
        guard let row = table.row(of: UInt32(truncatingIfNeeded: slot)) else { return (0, table.hasEMA ? 0 : nil) }
        let s = table.slot(row: row)
        var w = s.w
        guard table.hasEMA, let rule = emaRule else { return (w, nil) }
        var a = s.average
        var step = table.step(row: row).pointee
        if step != 0 { rule.catchUp(&w, &a, &step, to: iterations) }
        return (w, a)
    }

    /// The exported bias (`finalize_variable_values`: the average with EMA).
    public var exportedBias: F { config.useEMA && !isFinalizedForScoring ? biasAverage : bias.w }

    /// The exported weight of a kernel slot: the moving average brought up to
    /// date with EMA, else the weight.
    public func exportedWeight(_ slot: Int) -> F {
        if let compact { return compact.weight(UInt32(slot)) }
        if isFinalizedForScoring || !config.useEMA { return table.weight(ofSlot: UInt32(truncatingIfNeeded: slot)) }
        return caughtUp(slot).average ?? 0
    }

    /// For a model read only to score (`ModelFile.read(path:compact:)`):
    /// its nonzero weights, held here instead of in `table` (which stays
    /// empty and unmapped). Such a model cannot be trained or saved.
    public internal(set) var compact: CompactWeights<F>? {
        didSet { if compact != nil { isFinalizedForScoring = true } }
    }

    /// The slots with a weight: from `compact` when the model has it, else
    /// every slot ever active in the table (ascending).
    public var weightedSlots: [UInt32] { compact?.slots ?? table.activeSlots() }

    /// Puts the exported weights where scoring reads them (`w`), for a model
    /// that will only score from now on.
    public func finalizeForScoring() {
        guard !isFinalizedForScoring, table.hasEMA, let rule = emaRule else { return }
        for (_, row) in table.activeRows() {
            let slot = table.slot(row: row)
            rule.catchUp(slot, table.step(row: row), to: iterations)
            slot.w = slot.average
        }
        bias.w = biasAverage
        isFinalizedForScoring = true
    }

    /// The log-odds of a click for one example of `block`, from `w`
    /// (call `finalizeForScoring()` first on an EMA model); `sigmoid` of it
    /// is the probability. Not finite only when a feature value is beyond
    /// the model's precision.
    @inline(__always)
    public func margin(_ block: ExampleBlock, _ e: Int) -> F {
        var m: F = 0
        let slots = block.slots
        let values = block.values
        if let compact {
            for j in block.offsets[e]..<block.offsets[e + 1] {
                m += compact.weight(slots[j]) * F(fromDouble: values[j])
            }
        } else if table.isSparse {
            for j in block.offsets[e]..<block.offsets[e + 1] {
                m += table.weight(ofSlot: slots[j]) * F(fromDouble: values[j])
            }
        } else {
            for j in block.offsets[e]..<block.offsets[e + 1] {
                m += table.weight(row: slots[j]) * F(fromDouble: values[j])
            }
        }
        return m + bias.w
    }

    /// The log-odds from the exported weights (the moving averages with
    /// EMA) without changing the model: for scoring a model that goes on
    /// training, as a search does between epochs.
    @inline(__always)
    public func exportedMargin(_ block: ExampleBlock, _ e: Int) -> F {
        guard config.useEMA && !isFinalizedForScoring else { return margin(block, e) }
        var m: F = 0
        for j in block.offsets[e]..<block.offsets[e + 1] {
            m += exportedWeight(Int(block.slots[j])) * F(fromDouble: block.values[j])
        }
        return m + exportedBias
    }
}

/// A model of either precision, as read from a file or made from a config.
public enum AnyModel {
    case float32(Model<Float>)
    case float64(Model<Double>)

    /// A fresh model of the config's precision.
    /// - Throws: `FTRLError` when the table cannot be allocated.
    public init(config: FTRLConfig, layout: TableLayout = .auto) throws(FTRLError) {
        switch config.dtype {
        case .float32: self = .float32(try Model<Float>(config: config, layout: layout))
        case .float64: self = .float64(try Model<Double>(config: config, layout: layout))
        }
    }

    /// Runs `body` on the model with its precision known: the one place
    /// where code that works on a model of either precision chooses it.
    public func open<Body: ModelBody>(_ body: Body) throws(FTRLError) -> Body.Result {
        switch self {
        case .float32(let m): return try body.run(m)
        case .float64(let m): return try body.run(m)
        }
    }

    /// The config of the model.
    public var config: FTRLConfig {
        get {
            struct Get: ModelBody { func run<F: FTRLScalar>(_ m: Model<F>) -> FTRLConfig { m.config } }
            return try! open(Get())  // Get does not throw
        }
        nonmutating set {
            struct Set: ModelBody {
                let config: FTRLConfig
                func run<F: FTRLScalar>(_ m: Model<F>) { m.config = config }
            }
            try! open(Set(config: newValue))
        }
    }
}

extension AnyModel {
    /// Examples the model learned from, and its training curve.
    public var training: (examples: UInt64, curve: TrainingCurve) {
        struct Get: ModelBody {
            func run<F: FTRLScalar>(_ m: Model<F>) -> (examples: UInt64, curve: TrainingCurve) { (m.examples, m.curve) }
        }
        return try! open(Get())  // Get does not throw
    }
}

/// Work on a model of either precision, generic over it (see `AnyModel.open`).
public protocol ModelBody {
    associatedtype Result
    /// The work, on the model in its own precision.
    func run<F: FTRLScalar>(_ model: Model<F>) throws(FTRLError) -> Result
}
