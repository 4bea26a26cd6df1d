import Foundation
import Glibc

/// Turns input files into parsed `ExampleBlock`s on two threads of its own,
/// so that the caller (the trainer or the predictor) works in parallel:
///
///     decode thread:  read, gunzip, cut at line ends  -> TextChunk
///     parse thread:   parse LibSVM, hash indices      -> ExampleBlock
///     caller:         next() ... recycle()
///
/// Fixed sets of chunks and blocks circulate, so memory stays flat. An
/// error stops the stream after the examples that came before it.
public final class ExampleStream {
    private let chunks: Pipe<TextChunk>
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
        chunks = Pipe(buffers: (0..<4).map { _ in TextChunk(capacity: 1 << 20) })
        blocks = Pipe(buffers: (0..<max(2, depth)).map { _ in ExampleBlock(exampleCapacity: Self.blockExamples) })
        cachedColumns = nil
        let decode = DecodeStage(paths: paths, format: schema.format, chunks: chunks, stats: stats)
        var context = DecoderContext(schema: schema, hasher: hasher, scoring: scoring, columns: resolved)
        context.naming = naming
        context.groupBy = groupBy
        let parse = ParseStage(context: context, chunks: chunks, blocks: blocks, stats: stats, cache: cache)
        size = Self.size(of: paths)
        start { decode.run() }
        start { parse.run() }
    }

    /// Starts reading the examples of a cache file that `ExampleCache.check`
    /// found valid, on one thread (no text to decode or parse).
    /// - Parameters:
    ///   - path: the cache file.
    ///   - columns: the column names it records (delimited input), or nil.
    /// - Throws: `FTRLError` (.io) when it cannot be opened or mapped.
    public init(cache path: String, columns: [String]?) throws(FTRLError) {
        chunks = Pipe(buffers: [])
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

    /// Stops both threads soon.
    public func cancel() {
        canceller.cancel()
    }

    /// A handle that stops the stream from another thread (a signal watcher).
    public var canceller: StreamCanceller { StreamCanceller(chunks: chunks, blocks: blocks) }

    /// Waits for both threads to end and returns their busy seconds
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

/// Stops an `ExampleStream`'s threads; safe to use from any thread.
public struct StreamCanceller: Sendable {
    fileprivate let chunks: Pipe<TextChunk>
    fileprivate let blocks: Pipe<ExampleBlock>

    /// Stops both threads soon; the reader's `next()` then returns nil.
    public func cancel() {
        blocks.cancel()
        chunks.cancel()
    }
}

/// The busy time of a stream's threads.
struct StreamStats: Sendable {
    var decodeSeconds = 0.0
    var parseSeconds = 0.0
    var decoded = 0
    /// Bytes read from the input files so far (compressed ones for gzip).
    var read = 0
}

/// The decode thread: reads, decompresses and cuts text into chunks of whole records.
private struct DecodeStage: Sendable {
    let paths: [String]
    let format: InputFormat
    let chunks: Pipe<TextChunk>
    let stats: Shared<StreamStats>

    func run() {
        var decodeSeconds = 0.0
        var decoded = 0
        defer {
            stats.update {
                $0.decodeSeconds += decodeSeconds
                $0.decoded += decoded
            }
        }
        var carry: [UInt8] = []
        var splitter = RecordSplitter(format: format)
        do throws(FTRLError) {
            var before = 0  // bytes of the files already read
            for path in paths {
                let stream = try ByteStream(path: path)
                defer { before += stream.rawRead }
                var startsFile = true
                var checkBOM = true
                var atEnd = false
                while !atEnd {
                    guard let chunk = chunks.takeFree() else { return }
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
                        // Hand over a full chunk, or whatever a pipe had ready,
                        // so that a slow producer's rows are not held back.
                        let short = n < chunk.capacity - (chunk.length - n)
                        if chunk.length < chunk.capacity - (64 << 10) && !short { continue }
                        splitter.scan(chunk.bytes, upTo: chunk.length)
                        let last = splitter.lastEnd
                        if last < 0 {
                            // One record fills the chunk: grow and read on, up to the limit.
                            if chunk.length > ExampleStream.recordLimit {
                                chunk.oversized = true
                                chunks.send(chunk)
                                chunks.close(error: nil)
                                return
                            }
                            continue
                        }
                        carry.append(contentsOf: UnsafeBufferPointer(start: chunk.bytes + last + 1, count: chunk.length - last - 1))
                        chunk.length = last + 1
                        break
                    }
                    checkBOM = false
                    chunks.send(chunk)
                }
            }
            chunks.close(error: nil)
        } catch {
            chunks.close(error: error)
        }
    }
}

/// The parse thread: turns chunks into example blocks with the decoder of the input's format.
private struct ParseStage: @unchecked Sendable {
    // `cache` is used by this thread alone until the stream has finished.
    let context: DecoderContext
    let chunks: Pipe<TextChunk>
    let blocks: Pipe<ExampleBlock>
    let stats: Shared<StreamStats>
    let cache: ExampleCacheWriter?

    /// Hands a block to the reader, and to the cache first.
    private func send(_ block: ExampleBlock) {
        cache?.append(block)
        blocks.send(block)
    }

    func run() {
        // The decoder's type is opened once here: its calls in the loop are direct.
        run(with: context.schema.format.decoder(context))
    }

    private func run<D: ExampleDecoder>(with initial: D) {
        var decoder = initial
        var parseSeconds = 0.0
        defer { stats.update { $0.parseSeconds += parseSeconds } }
        let schema = context.schema
        guard var block = blocks.takeFree() else { return }
        var line = 1
        do throws(FTRLError) {
            while let chunk = try chunks.receive() {
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
                        (next, lines) = try decoder.decode(chunk.bytes, from: position, to: chunk.length, into: block, firstLine: line)
                    } catch var error {
                        error.path = chunk.path
                        throw error
                    }
                    position = next
                    line += lines
                    if block.isFull {
                        parseSeconds += Clock.now() - t0
                        send(block)
                        guard let b = blocks.takeFree() else { return }
                        block = b
                        t0 = Clock.now()
                    }
                }
                parseSeconds += Clock.now() - t0
                chunks.recycle(chunk)
                // Hand over what a chunk left in the block: rows that arrive
                // slowly (a pipe, a live log) reach the trainer without waiting
                // for a full block.
                if block.count > 0 {
                    send(block)
                    guard let b = blocks.takeFree() else { return }
                    block = b
                }
            }
            if block.count > 0 { send(block) }
            blocks.close(error: nil)
        } catch {
            if block.count > 0 { send(block) }
            blocks.close(error: error)
            chunks.cancel()
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
