import Foundation
import Glibc

/// Turns input files into parsed `ExampleBlock`s on a thread of its own,
/// so that the caller (the trainer or the predictor) works in parallel:
///
///     input thread:  read, gunzip, cut at line ends -> TextChunk
///     either thread: parse, hash each chunk          -> ExampleBlock
///     caller:        next() ... recycle()
///
/// The input thread alone reads and decompresses (one gzip member is one
/// sequential stream); the parse goes to whichever thread is free
/// (`ParseBoard`): the input thread while all its chunks wait, the caller
/// whenever `next()` has no block ready. A fixed set of chunks and blocks
/// circulates, so memory stays flat. An error stops the stream after the
/// examples that came before it.
public final class ExampleStream {
    private let source: any BlockSource
    private let done = DispatchGroup()
    private let stats = Shared(StreamStats())
    private let resolved = Shared<ResolvedColumns?>(nil)
    /// The parse shared with the input thread; nil when reading a cache.
    private let board: ParseBoard?
    /// The cache writer that gets every block, in order, as the reader
    /// receives it (used by the reader's thread alone).
    private let cache: ExampleCacheWriter?

    /// Starts reading `paths` in order (`-` is standard input).
    /// - Parameters:
    ///   - paths: the input files.
    ///   - hasher: the index-to-slot mapping.
    ///   - schema: the rows' format and, for CSV and TSV, what the columns mean.
    ///   - scoring: whether the rows are scored: then a header line is
    ///     recognised by its names and the label column may be absent.
    ///   - naming: whether each feature's name goes into `ExampleBlock.names`
    ///     (slow: a string per feature; for `ftrl-model top`).
    ///   - groupBy: a CSV or TSV column whose value each example carries in
    ///     `ExampleBlock.groups` (`ftrl-predict --metrics-by`).
    ///   - cache: a cache writer that gets every block parsed (`--cache`).
    ///   - depth: the blocks parsed ahead of the reader at most.
    public init(
        paths: [String], hasher: FeatureHasher, schema: InputSchema = InputSchema(), scoring: Bool = false, naming: Bool = false,
        groupBy: String? = nil, cache: ExampleCacheWriter? = nil, depth: Int = 6
    ) {
        let board = ParseBoard(blocks: depth, exampleCapacity: Self.blockExamples, chunks: 4, chunkBytes: 256 << 10)
        self.board = board
        source = board
        self.cache = cache
        cachedColumns = nil
        var context = DecoderContext(schema: schema, hasher: hasher, scoring: scoring, columns: resolved)
        context.naming = naming
        context.groupBy = groupBy
        let input = InputStage(paths: paths, context: context, board: board, stats: stats)
        size = Self.size(of: paths)
        start { input.run() }
    }

    /// Starts reading the examples of a cache file that `ExampleCache.check`
    /// found valid, on one thread (no text to decode or parse).
    /// - Parameters:
    ///   - path: the cache file.
    ///   - columns: the column names it records (delimited input), or nil.
    /// - Throws: `FTRLError` (.io) when it cannot be opened or mapped.
    public init(cache path: String, columns: [String]?) throws(FTRLError) {
        let blocks = Pipe(buffers: (0..<4).map { _ in ExampleBlock(exampleCapacity: Self.blockExamples) })
        source = blocks
        board = nil
        cache = nil
        cachedColumns = columns
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FTRLError(.io, "cannot open the cache: \(String(cString: strerror(errno)))", path: path) }
        defer { close(fd) }
        guard let file = MappedFile(fd: fd) else { throw FTRLError(.io, "cannot map the cache", path: path) }
        size = file.count
        let stage = CacheDecodeStage(file: file, blocks: blocks, stats: stats)
        start { stage.run() }
    }

    /// Examples per block.
    static let blockExamples = 1024

    /// The column names a cache recorded.
    private let cachedColumns: [String]?

    /// The names of the delimited input's columns, once its header or first
    /// row was read (or as its cache recorded them); nil for LibSVM.
    public var columnNames: [String]? { resolved.value?.names ?? cachedColumns }

    /// The total bytes of `paths` when each is a regular file (for `-`,
    /// what is left of standard input when it is one), else nil.
    private static func size(of paths: [String]) -> Int? {
        var total = 0
        for path in paths {
            var st = stat()
            if path == "-" {
                guard fstat(0, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
                total += max(0, Int(st.st_size) - max(0, Int(lseek(0, 0, SEEK_CUR))))
            } else {
                guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
                total += Int(st.st_size)
            }
        }
        return total
    }

    private func start(_ body: @escaping @Sendable () -> Void) {
        done.enter()
        let thread = Thread { [done] in
            body()
            done.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit {
        cancel()
    }

    /// The next block in input order, or nil at the end of all input.
    /// - Throws: the first error met; the blocks before it were delivered.
    public func next() throws(FTRLError) -> ExampleBlock? {
        let block = try source.next()
        if let block, let cache { cache.append(block) }
        return block
    }

    /// The bytes of the input files (compressed ones for gzip), when all are
    /// regular files (standard input too when it is one), else nil.
    public let size: Int?

    /// The bytes read from the input files so far (by the input thread,
    /// which runs a few chunks ahead of `next()`).
    public var bytesRead: Int { stats.value.read }

    /// The columns of the delimited input, once its first header or row was read.
    public var columns: ResolvedColumns? { resolved.value }

    /// Gives a block back.
    public func recycle(_ block: ExampleBlock) {
        block.reset()
        source.recycle(block)
    }

    /// Stops the input thread soon.
    public func cancel() {
        canceller.cancel()
    }

    /// A handle that stops the stream from another thread (a signal watcher).
    public var canceller: StreamCanceller { StreamCanceller(source: source) }

    /// Waits for the input thread to end and returns the busy seconds of
    /// the pass's input: the input thread's reading and decompressing, and
    /// its parsing and hashing (or reading of a cache); the reader's own
    /// parsing inside `next()`; and the decoded bytes.
    /// - Parameter wait: false to leave a thread that may be blocked reading a
    ///   pipe (after an interrupt; the process is about to end).
    public func finish(wait: Bool = true) -> StreamBusy {
        cancel()
        if wait { done.wait() }
        let s = stats.value
        let parse = board?.parseSeconds ?? (input: s.parseSeconds, reader: 0)
        return StreamBusy(decode: s.decodeSeconds, parse: parse.input, readerParse: parse.reader, bytes: s.decoded)
    }

    /// The longest record read: past it a record is refused (with its
    /// line) instead of growing memory until the end of the input, which is
    /// what an unterminated quote in CSV would do.
    static let recordLimit = 64 << 20
}

/// Stops an `ExampleStream`'s thread; safe to use from any thread.
public struct StreamCanceller: Sendable {
    fileprivate let source: any BlockSource

    /// Stops the input thread soon; the reader's `next()` then returns nil.
    public func cancel() {
        source.cancel()
    }
}

/// Where an `ExampleStream`'s blocks come from: the parse of text
/// (`ParseBoard`) or a cache's reader (a `Pipe`).
protocol BlockSource: AnyObject, Sendable {
    func next() throws(FTRLError) -> ExampleBlock?
    func recycle(_ block: ExampleBlock)
    func cancel()
}

extension ParseBoard: BlockSource {}

extension Pipe: BlockSource where T == ExampleBlock {
    func next() throws(FTRLError) -> ExampleBlock? { try receive() }
}

/// The busy seconds of a stream's pass, by task.
public struct StreamBusy: Sendable {
    /// The input thread reading and decompressing.
    public var decode: Double
    /// The input thread parsing and hashing (or reading a cache).
    public var parse: Double
    /// The reader parsing and hashing inside `next()`.
    public var readerParse: Double
    /// Decoded bytes.
    public var bytes: Int
}

/// The busy time of a stream's input thread, by task.
struct StreamStats: Sendable {
    var decodeSeconds = 0.0
    var parseSeconds = 0.0
    var decoded = 0
    /// Bytes read from the input files so far (compressed ones for gzip).
    var read = 0
}

/// The input thread: reads, decompresses and cuts text into chunks of
/// whole records, reads each file's start (a header), and posts each chunk
/// to the board to be parsed.
private struct InputStage: @unchecked Sendable {
    let paths: [String]
    let context: DecoderContext
    let board: ParseBoard
    let stats: Shared<StreamStats>

    func run() {
        // The decoder's type is opened once here: its calls in the loop are direct.
        run(with: context.schema.format.decoder(context))
    }

    private func run<D: ExampleDecoder>(with first: D) {
        var decoder = first
        var decoders: FileDecoders<D>?
        var decodeSeconds = 0.0
        var decoded = 0
        defer {
            stats.update {
                $0.decodeSeconds += decodeSeconds
                $0.decoded += decoded
            }
        }
        var carry: [UInt8] = []
        var splitter = RecordSplitter(format: context.schema.format)
        do throws(FTRLError) {
            var before = 0  // bytes of the files already read
            for path in paths {
                let stream = try ByteStream(path: path)
                defer { before += stream.rawRead }
                var startsFile = true
                var checkBOM = true
                var atEnd = false
                while !atEnd {
                    guard let chunk = board.takeChunk() else { return }
                    chunk.path = path
                    chunk.startsFile = startsFile
                    chunk.oversized = false
                    startsFile = false
                    chunk.length = carry.count
                    if !carry.isEmpty {
                        carry.withUnsafeBufferPointer { chunk.bytes.update(from: $0.baseAddress!, count: $0.count) }
                        carry.removeAll(keepingCapacity: true)
                    }
                    splitter.reset()
                    // Fill the chunk, then cut it after its last record.
                    while true {
                        if chunk.length == chunk.capacity { chunk.grow() }
                        let t0 = Clock.now()
                        let n = try stream.read(into: chunk.bytes + chunk.length, capacity: chunk.capacity - chunk.length)
                        decodeSeconds += Clock.now() - t0
                        decoded += n
                        let read = before + stream.rawRead
                        stats.update { $0.read = read }
                        if n == 0 {
                            atEnd = true
                            if chunk.length > 0 && chunk.bytes[chunk.length - 1] != 0x0A {
                                if chunk.length == chunk.capacity { chunk.grow() }
                                chunk.bytes[chunk.length] = 0x0A
                                chunk.length += 1
                            }
                            break
                        }
                        chunk.length += n
                        if checkBOM && chunk.length >= 3 {
                            // A UTF-8 byte-order mark (as spreadsheets write) is not text.
                            checkBOM = false
                            if chunk.bytes[0] == 0xEF && chunk.bytes[1] == 0xBB && chunk.bytes[2] == 0xBF {
                                chunk.length -= 3
                                chunk.bytes.update(from: chunk.bytes + 3, count: chunk.length)
                                splitter.reset()
                            }
                        }
                        // Parse a full chunk, or whatever a pipe had ready,
                        // so that a slow producer's rows are not held back.
                        let short = n < chunk.capacity - (chunk.length - n)
                        if chunk.length < chunk.capacity - (64 << 10) && !short { continue }
                        splitter.scan(chunk.bytes, upTo: chunk.length)
                        let last = splitter.lastEnd
                        if last < 0 {
                            // One record fills the chunk: grow and read on, up to the limit.
                            if chunk.length > ExampleStream.recordLimit {
                                chunk.oversized = true
                                break
                            }
                            continue
                        }
                        carry.append(contentsOf: UnsafeBufferPointer(start: chunk.bytes + last + 1, count: chunk.length - last - 1))
                        chunk.length = last + 1
                        break
                    }
                    checkBOM = false
                    if chunk.oversized {
                        // Counted, like a parse error, from where the chunk starts.
                        let error = FTRLError(
                            .data,
                            "a record longer than \(ExampleStream.recordLimit >> 20) MiB"
                                + (context.schema.format == .csv ? " (an unterminated quote?)" : ""),
                            path: chunk.path, line: 0, text: FTRLError.quote(UnsafeRawBufferPointer(start: chunk.bytes, count: 40)))
                        board.giveBack(chunk)
                        board.post(ParseJob(error: error, absolute: false, startLine: chunk.startsFile ? 1 : nil))
                        return
                    }
                    var position = 0
                    var startLine: Int?
                    if chunk.startsFile {
                        var line = 1
                        try decoder.beginFile(chunk, position: &position, line: &line)
                        startLine = line
                        // This file's decoders: its chunks may still be parsed while the next file starts.
                        decoders = FileDecoders(decoder)
                    }
                    board.post(ParseJob(chunk: chunk, decoders: decoders!, startLine: startLine, position: position))
                }
            }
            board.end(error: nil)
        } catch {
            board.end(error: error)
        }
    }
}

/// A monotonic clock in seconds.
enum Clock {
    @inline(__always)
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
