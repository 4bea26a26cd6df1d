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
    private let paths: [String]
    private let schema: InputSchema
    private let hasher: FeatureHasher
    private let scoring: Bool
    private let chunks: Pipe<TextChunk>
    private let blocks: Pipe<ExampleBlock>
    private let done = DispatchGroup()

    private var decodeSeconds = 0.0
    private var parseSeconds = 0.0
    private var decoded = 0

    private let columnsLock = NSLock()
    private var resolved: ResolvedColumns?

    /// Starts reading `paths` in order (`-` is standard input).
    /// - Parameters:
    ///   - paths: the input files.
    ///   - hasher: the index-to-slot mapping.
    ///   - schema: the rows' format and, for CSV and TSV, what the columns mean.
    ///   - scoring: whether the rows are scored: then a header line is
    ///     recognised by its names and the label column may be absent.
    public init(paths: [String], hasher: FeatureHasher, schema: InputSchema = InputSchema(), scoring: Bool = false) {
        self.paths = paths
        self.schema = schema
        self.hasher = hasher
        self.scoring = scoring
        chunks = Pipe(buffers: (0..<4).map { _ in TextChunk(capacity: 1 << 20) })
        blocks = Pipe(buffers: (0..<4).map { _ in ExampleBlock(exampleCapacity: 1024) })
        start { [self] in decodeLoop() }
        start { [self] in parseLoop() }
    }

    private func start(_ body: @escaping () -> Void) {
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

    /// The columns of the delimited input, once its first header or row was read.
    public var columns: ResolvedColumns? {
        columnsLock.lock()
        defer { columnsLock.unlock() }
        return resolved
    }

    /// Gives a block back.
    public func recycle(_ block: ExampleBlock) {
        block.reset()
        blocks.recycle(block)
    }

    /// Stops both threads soon.
    public func cancel() {
        blocks.cancel()
        chunks.cancel()
    }

    /// Waits for both threads to end and returns their busy seconds
    /// (reading and decompressing; parsing and hashing) and the decoded bytes.
    /// - Parameter wait: false to leave a thread that may be blocked reading a
    ///   pipe (after an interrupt; the process is about to end).
    public func finish(wait: Bool = true) -> (decode: Double, parse: Double, bytes: Int) {
        cancel()
        if wait { done.wait() }
        return (decodeSeconds, parseSeconds, decoded)
    }

    /// The longest record read: past it a record is refused (with its
    /// line) instead of growing memory until the end of the input, which is
    /// what an unterminated quote in CSV would do.
    static let recordLimit = 64 << 20

    private func decodeLoop() {
        var carry: [UInt8] = []
        var splitter = RecordSplitter(format: schema.format)
        do throws(FTRLError) {
            for path in paths {
                let stream = try ByteStream(path: path)
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
                            if chunk.length > Self.recordLimit {
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

    private enum RowParser {
        case libsvm(LibSVMParser)
        case delimited(DelimitedParser)
    }

    /// Reads the start of a delimited file (its header, or its first row's
    /// field count) and returns the parser for its rows.
    private func startFile(_ chunk: TextChunk, _ position: inout Int, _ line: inout Int) throws(FTRLError) -> RowParser {
        let format = schema.format
        // Columns that the flags or the model name but the file lacks stay
        // usage errors (64); anything else about the file is a data error.
        func fail(_ error: FTRLError, line: Int = 1) -> FTRLError {
            var e = error
            if e.kind != .usage { e.kind = .data }
            e.path = chunk.path
            e.line = line
            return e
        }
        // Skip blank lines before the header or first row.
        while position < chunk.length && (chunk.bytes[position] == 0x0A || chunk.bytes[position] == 0x0D) {
            if chunk.bytes[position] == 0x0A { line += 1 }
            position += 1
        }
        let first: (fields: [String], next: Int, lines: Int)?
        do throws(FTRLError) {
            first = try DelimitedParser.fields(chunk.bytes, position, chunk.length, format: format)
        } catch {
            throw fail(error, line: line)
        }
        var known = columns
        if known == nil, let names = schema.columns {
            do throws(FTRLError) {
                known = try ResolvedColumns(schema: schema, names: names, named: !Self.isPositional(names))
            } catch {
                throw fail(error)
            }
        }
        var present: [Int?]
        if scoring {
            guard let columns = known else { throw fail(FTRLError(.data, "the model has no column names for delimited input")) }
            let names = columns.names
            guard let first else {
                return .delimited(
                    DelimitedParser(
                        plan: FieldPlan(schema: schema, columns: columns, present: names.indices.map { $0 }, hashSeed: hasher.seed),
                        format: format, hasher: hasher))
            }
            let looksLikeHeader =
                !Self.isPositional(names) && first.fields.count >= 2 && first.fields.allSatisfy { names.contains($0) }
                && Set(first.fields).count == first.fields.count
            if looksLikeHeader {
                present = first.fields.map { names.firstIndex(of: $0) }
                position = first.next
                line += first.lines
            } else if first.fields.count == names.count {
                present = names.indices.map { $0 }
            } else if first.fields.count == names.count - 1 {
                let label = columns.labelIndex
                present = names.indices.filter { $0 != label }.map { $0 }
            } else {
                throw fail(
                    FTRLError(.data, "expected \(names.count) fields (\(names.count - 1) without the label), found \(first.fields.count)"),
                    line: line)
            }
            publish(columns)
            return .delimited(
                DelimitedParser(
                    plan: FieldPlan(schema: schema, columns: columns, present: present, hashSeed: hasher.seed), format: format,
                    hasher: hasher))
        }
        let columns: ResolvedColumns
        if schema.hasHeader {
            guard let first else {
                throw fail(FTRLError(.data, "expected a header line"), line: line)
            }
            if let (name, a, b) = ResolvedColumns.duplicate(in: first.fields) {
                throw fail(
                    FTRLError(.data, "the header names column \"\(name)\" twice (fields \(a + 1) and \(b + 1)); column names must differ"),
                    line: line)
            }
            if let known {
                if first.fields != known.names {
                    throw fail(
                        FTRLError(
                            .data, "the header differs from the columns \(ResolvedColumns.summary(known.names))",
                            text: first.fields.joined(separator: String(UnicodeScalar(format.separator)))), line: line)
                }
                columns = known
            } else {
                do throws(FTRLError) {
                    columns = try ResolvedColumns(schema: schema, names: first.fields, named: true)
                } catch {
                    throw fail(error, line: line)
                }
            }
            position = first.next
            line += first.lines
        } else if let known {
            columns = known
        } else {
            let count = first?.fields.count ?? 0
            do throws(FTRLError) {
                columns = try ResolvedColumns(schema: schema, names: (0..<count).map { String($0 + 1) }, named: false)
            } catch {
                throw fail(error, line: line)
            }
        }
        publish(columns)
        present = columns.names.indices.map { $0 }
        return .delimited(
            DelimitedParser(
                plan: FieldPlan(schema: schema, columns: columns, present: present, hashSeed: hasher.seed), format: format, hasher: hasher))
    }

    /// Whether column names are just positions 1...N (a headerless file without --columns).
    static func isPositional(_ names: [String]) -> Bool {
        names.enumerated().allSatisfy { $0.element == String($0.offset + 1) }
    }

    private func publish(_ columns: ResolvedColumns) {
        columnsLock.lock()
        if resolved == nil { resolved = columns }
        columnsLock.unlock()
    }

    private func parseLoop() {
        guard var block = blocks.takeFree() else { return }
        var line = 1
        var parser: RowParser = .libsvm(LibSVMParser(hasher: hasher))
        do throws(FTRLError) {
            while let chunk = try chunks.receive() {
                if chunk.oversized {
                    throw FTRLError(
                        .data,
                        "a record longer than \(Self.recordLimit >> 20) MiB" + (schema.format == .csv ? " (an unterminated quote?)" : ""),
                        path: chunk.path,
                        line: chunk.startsFile ? 1 : line, text: FTRLError.quote(UnsafeRawBufferPointer(start: chunk.bytes, count: 40)))
                }
                var t0 = Clock.now()
                var position = 0
                if chunk.startsFile {
                    line = 1
                    if schema.format != .libsvm { parser = try startFile(chunk, &position, &line) }
                }
                while position < chunk.length {
                    let (next, lines): (Int, Int)
                    do throws(FTRLError) {
                        switch parser {
                        case .libsvm(let p):
                            (next, lines) = try p.parse(chunk.bytes, from: position, to: chunk.length, into: block, firstLine: line)
                        case .delimited(let p):
                            (next, lines) = try p.parse(chunk.bytes, from: position, to: chunk.length, into: block, firstLine: line)
                        }
                    } catch var error {
                        error.path = chunk.path
                        throw error
                    }
                    position = next
                    line += lines
                    if block.isFull {
                        parseSeconds += Clock.now() - t0
                        blocks.send(block)
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
                    blocks.send(block)
                    guard let b = blocks.takeFree() else { return }
                    block = b
                }
            }
            if block.count > 0 { blocks.send(block) }
            blocks.close(error: nil)
        } catch {
            if block.count > 0 { blocks.send(block) }
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
