/// What a run does with `--cache FILE` (see `ExampleCache`).
public enum CachePlan: Sendable {
    /// Read the examples from this valid cache, which records these column names.
    case read(path: String, columns: [String]?)
    /// Parse the text and write the first pass's examples to a cache here.
    case write(path: String, provenance: String)

    /// The plan for `path`: read it when it is a complete, undamaged cache of
    /// `paths` under `config`, else write it anew; with the reason it is
    /// rebuilt when it was there (a warning for the user), nil otherwise.
    /// - Throws: `FTRLError` (.usage) when an input is not a regular file.
    public static func of(_ path: String, paths: [String], config: FTRLConfig) throws(FTRLError) -> (CachePlan, rebuilt: String?) {
        let provenance = try ExampleCache.provenance(paths: paths, config: config)
        switch ExampleCache.check(path: path, provenance: provenance) {
        case .valid(_, let columns): return (.read(path: path, columns: columns), nil)
        case .missing: return (.write(path: path, provenance: provenance), nil)
        case .stale: return (.write(path: path, provenance: provenance), "it was made from other inputs or settings")
        case .damaged(let why): return (.write(path: path, provenance: provenance), "it is damaged (\(why))")
        }
    }
}

/// What became of a run's example cache (`--cache`).
public struct CacheReport: Sendable {
    /// Whether an epoch read examples from the cache.
    public var read = false
    /// Whether the first pass wrote the cache.
    public var wrote = false
    /// Why the cache could not be written, when it could not (the run went on from the text).
    public var failure: String?
}

/// The stream of each epoch of a run over files (a training run, a search):
/// the text, or with a cache plan the cache, read in every epoch when it was
/// valid, or written during the first pass and read from the next one.
final class EpochInputs {
    private let paths: [String]
    private let hasher: FeatureHasher
    private let bits: Int
    private let plan: CachePlan?
    /// The cache to read, once there is a valid one.
    private var cached: (path: String, columns: [String]?)?
    private var writer: ExampleCacheWriter?
    /// What became of the cache.
    private(set) var report = CacheReport()

    init(paths: [String], hasher: FeatureHasher, bits: Int, cache: CachePlan?) {
        self.paths = paths
        self.hasher = hasher
        self.bits = bits
        plan = cache
        if case .read(let path, let columns) = cache { cached = (path, columns) }
    }

    /// Epoch `epoch` (from 1): its stream, the text parsed with `schema`,
    /// watched for SIGINT and SIGTERM when `stopsOnSignal`.
    /// - Throws: `FTRLError` (.io) when the cache cannot be opened or made.
    func open(epoch: Int, schema: InputSchema, stopsOnSignal: Bool) throws(FTRLError) -> EpochPass {
        EpochPass(try stream(epoch: epoch, schema: schema), stopsOnSignal: stopsOnSignal)
    }

    private func stream(epoch: Int, schema: InputSchema) throws(FTRLError) -> ExampleStream {
        if let cached {
            report.read = true
            return try ExampleStream(cache: cached.path, columns: cached.columns)
        }
        if epoch == 1, case .write(let path, let provenance) = plan {
            writer = try ExampleCacheWriter(target: path, provenance: provenance, bits: bits)
        }
        return ExampleStream(paths: paths, hasher: hasher, schema: schema, cache: writer)
    }

    /// After the first pass, once `stream` has finished: commits the cache
    /// the pass wrote when the pass read all its input (`complete`), so that
    /// later epochs read it; else removes it.
    func endFirstPass(_ stream: ExampleStream, complete: Bool) {
        guard let writer, case .write(let path, _) = plan else { return }
        self.writer = nil
        if complete && writer.commit(columns: stream.columnNames) {
            cached = (path, stream.columnNames)
            report.wrote = true
        } else {
            writer.abandon()
            report.failure = writer.failure
        }
    }
}

/// One epoch's stream and its stop watcher, ended once: after the first
/// pass (the input thread is then done with the cache), or at the end of
/// the epoch, or on the way out of an error.
final class EpochPass {
    let stream: ExampleStream
    private let watcher: StopWatcher?
    private var ended = false

    init(_ stream: ExampleStream, stopsOnSignal: Bool) {
        self.stream = stream
        watcher = stopsOnSignal ? StopWatcher(stream.canceller) : nil
    }

    /// Stops the watcher and the stream's threads (`wait`: let them read to
    /// the end; else cancel them). The stream's busy times the first time,
    /// nil after.
    func end(wait: Bool) -> StreamBusy? {
        if ended { return nil }
        ended = true
        watcher?.stop()
        return stream.finish(wait: wait)
    }
}
