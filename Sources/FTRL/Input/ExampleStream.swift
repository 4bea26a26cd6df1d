import Foundation
import Glibc

/// Turns input files into parsed `ExampleBlock`s on a thread of its own,
/// so that the caller (the trainer or the predictor) works in parallel:
///
///     input thread:  read, gunzip, cut at line ends  -> TextChunk
///                    parse, hash each chunk as it is cut -> ExampleBlock
///     caller:        next() ... recycle()
///
/// One chunk is reused and a fixed set of blocks circulates, so memory stays
/// flat. An error stops the stream after the examples that came before it.
///
/// Decoding and parsing share one thread: a thread each was measured slower
/// on two cores (1M gzip'd rows at 2^24 slots: 0.96 s against 0.91 s,
/// TSV 1.15 s against 1.06 s), since three busy threads then took turns
/// on two cores and the text crossed between them; the parse now reads a
/// chunk its own thread has just written.
public final class ExampleStream {
    private let blocks: Pipe<ExampleBlock>
    private let done = DispatchGroup()
    private let stats = Shared(StreamStats())
    private let resolved = Shared<ResolvedColumns?>(nil)

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
        groupBy: String? = nil, cache: ExampleCacheWriter? = nil, depth: Int = 4
    ) {
        blocks = Pipe(buffers: (0..<max(2, depth)).map { _ in ExampleBlock(exampleCapacity: Self.blockExamples) })
        cachedColumns = nil
        var context = DecoderContext(schema: schema, hasher: hasher, scoring: scoring, columns: resolved)
        context.naming = naming
        context.groupBy = groupBy
        let input = InputStage(paths: paths, context: context, blocks: blocks, stats: stats, cache: cache)
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
        blocks = Pipe(buffers: (0..<4).map { _ in ExampleBlock(exampleCapacity: Self.blockExamples) })
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
        try blocks.receive()
    }

    /// The bytes of the input files (compressed ones for gzip), when all are
    /// regular files (standard input too when it is one), else nil.
    public let size: Int?

    /// The bytes read from the input files so far (by the decode thread,
    /// which runs a few blocks ahead of `next()`).
    public var bytesRead: Int { stats.value.read }

    /// The columns of the delimited input, once its first header or row was read.
    public var columns: ResolvedColumns? { resolved.value }

    /// Gives a block back.
    public func recycle(_ block: ExampleBlock) {
        block.reset()
        blocks.recycle(block)
    }

    /// Stops the input thread soon.
    public func cancel() {
        canceller.cancel()
    }

    /// A handle that stops the stream from another thread (a signal watcher).
    public var canceller: StreamCanceller { StreamCanceller(blocks: blocks) }

    /// Waits for the input thread to end and returns its busy seconds
    /// (reading and decompressing; parsing and hashing) and the decoded bytes.
    /// - Parameter wait: false to leave a thread that may be blocked reading a
    ///   pipe (after an interrupt; the process is about to end).
    public func finish(wait: Bool = true) -> (decode: Double, parse: Double, bytes: Int) {
        cancel()
        if wait { done.wait() }
        let s = stats.value
        return (s.decodeSeconds, s.parseSeconds, s.decoded)
    }

    /// The longest record read: past it a record is refused (with its
    /// line) instead of growing memory until the end of the input, which is
    /// what an unterminated quote in CSV would do.
    static let recordLimit = 64 << 20
}

/// Stops an `ExampleStream`'s thread; safe to use from any thread.
public struct StreamCanceller: Sendable {
    fileprivate let blocks: Pipe<ExampleBlock>

    /// Stops the input thread soon; the reader's `next()` then returns nil.
    public func cancel() {
        blocks.cancel()
    }
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
/// whole records, and parses each chunk as soon as it is cut.
private struct InputStage: @unchecked Sendable {
    // `cache` is used by this thread alone until the stream has finished.
    let paths: [String]
    let context: DecoderContext
    let blocks: Pipe<ExampleBlock>
    let stats: Shared<StreamStats>
    let cache: ExampleCacheWriter?

    func run() {
        // The decoder's type is opened once here: its calls in the loop are direct.
        run(with: context.schema.format.decoder(context))
    }

    private func run<D: ExampleDecoder>(with decoder: D) {
        let parser = ChunkParser(decoder: decoder, schema: context.schema, blocks: blocks, cache: cache)
        guard parser.begin() else { return }
        var decodeSeconds = 0.0
        var decoded = 0
        defer {
            let parseSeconds = parser.seconds
            stats.update {
                $0.decodeSeconds += decodeSeconds
                $0.parseSeconds += parseSeconds
                $0.decoded += decoded
            }
        }
        let chunk = TextChunk(capacity: 256 << 10)
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
                    guard try parser.consume(chunk) else { return }
                }
            }
            parser.end(error: nil)
        } catch {
            parser.end(error: error)
        }
    }
}

/// Parses chunks, in order, into the blocks it sends to the reader (and to
/// the cache first), keeping the line count across chunks for errors.
private final class ChunkParser<D: ExampleDecoder> {
    private var decoder: D
    private let schema: InputSchema
    private let blocks: Pipe<ExampleBlock>
    private let cache: ExampleCacheWriter?
    private var block: ExampleBlock?
    private var line = 1
    /// Seconds spent parsing and hashing.
    private(set) var seconds = 0.0

    init(decoder: D, schema: InputSchema, blocks: Pipe<ExampleBlock>, cache: ExampleCacheWriter?) {
        self.decoder = decoder
        self.schema = schema
        self.blocks = blocks
        self.cache = cache
    }

    /// Takes the first block to fill; false once the reader cancelled.
    func begin() -> Bool {
        block = blocks.takeFree()
        return block != nil
    }

    /// Hands the block to the reader, and to the cache first, and takes the
    /// next; false once the reader cancelled.
    private func sendBlock() -> Bool {
        guard let full = block else { return false }
        hand(full)
        block = blocks.takeFree()
        return block != nil
    }

    /// Gives a filled block to the cache, then to the reader.
    private func hand(_ filled: ExampleBlock) {
        cache?.append(filled)
        blocks.send(filled)
    }

    /// Parses one chunk of whole records.
    /// - Returns: false once the reader cancelled.
    /// - Throws: `FTRLError` naming the chunk's file and the line.
    func consume(_ chunk: TextChunk) throws(FTRLError) -> Bool {
        guard var current = block else { return false }
        if chunk.oversized {
            throw FTRLError(
                .data,
                "a record longer than \(ExampleStream.recordLimit >> 20) MiB"
                    + (schema.format == .csv ? " (an unterminated quote?)" : ""),
                path: chunk.path,
                line: chunk.startsFile ? 1 : line, text: FTRLError.quote(UnsafeRawBufferPointer(start: chunk.bytes, count: 40)))
        }
        var t0 = Clock.now()
        var position = 0
        if chunk.startsFile {
            line = 1
            try decoder.beginFile(chunk, position: &position, line: &line)
        }
        while position < chunk.length {
            let (next, lines): (Int, Int)
            do throws(FTRLError) {
                (next, lines) = try decoder.decode(chunk.bytes, from: position, to: chunk.length, into: current, firstLine: line)
            } catch var error {
                error.path = chunk.path
                throw error
            }
            position = next
            line += lines
            if current.isFull {
                seconds += Clock.now() - t0
                guard sendBlock(), let b = block else { return false }
                current = b
                t0 = Clock.now()
            }
        }
        seconds += Clock.now() - t0
        // Hand over what a chunk left in the block: rows that arrive
        // slowly (a pipe, a live log) reach the trainer without waiting
        // for a full block.
        if current.count > 0 { return sendBlock() }
        return true
    }

    /// Sends the examples left in the block and ends the stream, with
    /// `error` after them.
    func end(error: FTRLError?) {
        if let rest = block, rest.count > 0 {
            hand(rest)
            block = nil
        }
        blocks.close(error: error)
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
