import Foundation
import Glibc

/// Reads, decompresses and parses input files on a thread of its own and
/// hands parsed `ExampleBlock`s to the consumer, so that decompression and
/// parsing overlap with training or scoring on the other core.
///
/// The consumer calls `next()` until it returns nil and gives every block
/// back with `recycle(_:)`; a few blocks circulate, so memory stays flat.
public final class ExampleStream {
    private let paths: [String]
    private let parser: LibSVMParser
    private let condition = NSCondition()
    private var ready: [ExampleBlock] = []
    private var free: [ExampleBlock] = []
    private var failure: FTRLError?
    private var finished = false
    private var cancelled = false
    private var thread: Thread?

    /// Seconds the reader thread spent decompressing and reading, and parsing.
    public private(set) var readSeconds = 0.0
    /// Seconds the reader thread spent parsing lines.
    public private(set) var parseSeconds = 0.0
    /// Compressed-or-plain input bytes after decoding.
    public private(set) var decodedBytes = 0

    /// Starts reading `paths` in order (`-` is standard input).
    /// - Parameters:
    ///   - paths: the input files.
    ///   - hasher: the index-to-slot mapping.
    ///   - blocks: how many blocks circulate between the threads.
    public init(paths: [String], hasher: FeatureHasher, blocks: Int = 4) {
        self.paths = paths
        self.parser = LibSVMParser(hasher: hasher)
        for _ in 0..<blocks { free.append(ExampleBlock()) }
        let t = Thread { [self] in self.run() }
        t.stackSize = 1 << 20
        thread = t
        t.start()
    }

    deinit {
        cancel()
    }

    /// The next block in input order, or nil at the end of all input.
    /// - Throws: the first error the reader met; blocks before it were delivered.
    public func next() throws(FTRLError) -> ExampleBlock? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished {
            condition.wait()
        }
        if !ready.isEmpty { return ready.removeFirst() }
        if let failure { throw failure }
        return nil
    }

    /// Gives a block back to the reader.
    public func recycle(_ block: ExampleBlock) {
        condition.lock()
        block.reset()
        free.append(block)
        condition.signal()
        condition.unlock()
    }

    /// Stops the reader soon; `next()` then returns what is ready and nil.
    public func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    private func takeFree() -> ExampleBlock? {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty && !cancelled { condition.wait() }
        if cancelled { return nil }
        return free.removeLast()
    }

    private func deliver(_ block: ExampleBlock) {
        condition.lock()
        ready.append(block)
        condition.broadcast()
        condition.unlock()
    }

    private func finish(_ error: FTRLError?) {
        condition.lock()
        failure = error
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 22)
        var capacity = 1 << 22
        defer { buffer.deallocate() }
        guard var block = takeFree() else { return finish(nil) }
        do throws(FTRLError) {
            for path in paths {
                let stream = try ByteStream(path: path)
                var length = 0
                var scanned = 0  // bytes of the buffer known to hold no '\n'
                var line = 1
                var atEOF = false
                while !atEOF {
                    if length == capacity {
                        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
                        bigger.update(from: buffer, count: length)
                        buffer.deallocate()
                        buffer = bigger
                        capacity *= 2
                    }
                    let t0 = Clock.now()
                    let n = try stream.read(into: buffer + length, capacity: capacity - length)
                    readSeconds += Clock.now() - t0
                    decodedBytes += n
                    if n == 0 {
                        atEOF = true
                        if length == 0 { break }
                        if buffer[length - 1] != 0x0A {
                            if length == capacity {
                                let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + 1)
                                bigger.update(from: buffer, count: length)
                                buffer.deallocate()
                                buffer = bigger
                                capacity += 1
                            }
                            buffer[length] = 0x0A
                            length += 1
                        }
                    } else {
                        length += n
                    }
                    // Parse every complete line.
                    var lastNewline = length - 1
                    while lastNewline >= scanned && buffer[lastNewline] != 0x0A { lastNewline -= 1 }
                    if lastNewline < scanned {
                        scanned = length
                        continue
                    }
                    let t1 = Clock.now()
                    var start = 0
                    let text = UnsafePointer(buffer)
                    while start <= lastNewline {
                        let nl = memchr(text + start, 0x0A, lastNewline + 1 - start)!
                            .assumingMemoryBound(to: UInt8.self)
                        let end = UnsafePointer(nl) - text
                        do throws(FTRLError) {
                            _ = try parser.parseLine(text, start, end, into: block)
                        } catch var error {
                            error.path = path
                            error.line = line
                            throw error
                        }
                        line += 1
                        start = end + 1
                        if block.isFull {
                            deliver(block)
                            guard let b = takeFree() else { return finish(nil) }
                            block = b
                        }
                    }
                    parseSeconds += Clock.now() - t1
                    let rest = length - start
                    if rest > 0 { buffer.update(from: buffer + start, count: rest) }
                    length = rest
                    scanned = rest
                }
            }
            if block.count > 0 { deliver(block) } else { recycle(block) }
            finish(nil)
        } catch {
            if block.count > 0 { deliver(block) } else { recycle(block) }
            finish(error)
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
