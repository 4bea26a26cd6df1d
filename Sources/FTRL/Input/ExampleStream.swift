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
    private let parser: LibSVMParser
    private let chunks: Pipe<TextChunk>
    private let blocks: Pipe<ExampleBlock>
    private let done = DispatchGroup()

    private var decodeSeconds = 0.0
    private var parseSeconds = 0.0
    private var decoded = 0

    /// Starts reading `paths` in order (`-` is standard input).
    /// - Parameters:
    ///   - paths: the input files.
    ///   - hasher: the index-to-slot mapping.
    public init(paths: [String], hasher: FeatureHasher) {
        self.paths = paths
        parser = LibSVMParser(hasher: hasher)
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

    private func decodeLoop() {
        var carry: [UInt8] = []
        do throws(FTRLError) {
            for path in paths {
                let stream = try ByteStream(path: path)
                var startsFile = true
                var atEnd = false
                while !atEnd {
                    guard let chunk = chunks.takeFree() else { return }
                    chunk.path = path
                    chunk.startsFile = startsFile
                    startsFile = false
                    chunk.length = carry.count
                    if !carry.isEmpty {
                        carry.withUnsafeBufferPointer { chunk.bytes.update(from: $0.baseAddress!, count: $0.count) }
                        carry.removeAll(keepingCapacity: true)
                    }
                    // Fill the chunk, then cut it after its last line end.
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
                        // Hand over a full chunk, or whatever a pipe had ready,
                        // so that a slow producer's rows are not held back.
                        let short = n < chunk.capacity - (chunk.length - n)
                        if chunk.length < chunk.capacity - (64 << 10) && !short { continue }
                        var last = chunk.length - 1
                        while last >= 0 && chunk.bytes[last] != 0x0A { last -= 1 }
                        if last < 0 { continue }  // one line fills the chunk: grow and read on
                        carry.append(contentsOf: UnsafeBufferPointer(start: chunk.bytes + last + 1, count: chunk.length - last - 1))
                        chunk.length = last + 1
                        break
                    }
                    chunks.send(chunk)
                }
            }
            chunks.close(error: nil)
        } catch {
            chunks.close(error: error)
        }
    }

    private func parseLoop() {
        guard var block = blocks.takeFree() else { return }
        var line = 1
        do throws(FTRLError) {
            while let chunk = try chunks.receive() {
                if chunk.startsFile { line = 1 }
                var t0 = Clock.now()
                var position = 0
                while position < chunk.length {
                    let (next, lines): (Int, Int)
                    do throws(FTRLError) {
                        (next, lines) = try parser.parse(chunk.bytes, from: position, to: chunk.length, into: block, firstLine: line)
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
