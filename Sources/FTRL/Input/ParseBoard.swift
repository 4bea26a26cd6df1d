import Foundation

/// The chunks of text the input thread has cut and not yet parsed, and the
/// blocks parsed from them, in input order: where the input thread and the
/// reader share the parse.
///
///     input thread:  read, gunzip, cut -> a job (one chunk to parse)
///                    parses jobs too, while every chunk is in use
///     reader:        next(): the next block in input order; while there
///                    is none, it parses a job itself instead of waiting
///
/// Either thread parses any job, a block at a time, so the two cores split
/// the parse by what the gunzip and the trainer leave free: one input
/// thread doing both left the trainer waiting 0.35-0.5 s of a 1M-row pass.
/// Blocks leave in input order whoever parsed them: the head job (the
/// oldest not yet delivered) hands its blocks on as they fill; a job behind
/// it keeps its own until the head is through.
///
/// No deadlock: both threads claim the oldest job no one is parsing, with a
/// free block, in one step, so a thread works behind the head only while
/// the other holds the head and a block for it. Every block the head fills
/// goes to the reader, which recycles it before it asks for the next, and
/// the head (being the oldest) is claimed with the first block freed.
///
/// Invariant (why `@unchecked Sendable`): the board's fields and the jobs'
/// bookkeeping are touched only under `condition`. A claimed job's text and
/// the block it fills belong to the thread that claimed it, until that
/// thread settles the step under the lock.
final class ParseBoard: @unchecked Sendable {
    private let condition = NSCondition()
    /// Jobs not yet delivered, oldest (the head) first.
    private var jobs: [ParseJob] = []
    private var freeBlocks: [ExampleBlock]
    private var freeChunks: [TextChunk]
    /// The input thread has posted its last job.
    private var inputEnded = false
    /// A job met an error: no more text is read, and no job after it parsed.
    private var failed = false
    private var cancelled = false
    /// The reader has had the end or the error.
    private var delivered = false
    /// The line at which the head job's text starts, when the job does not
    /// start a file (line numbers run on across the jobs of a file).
    private var line = 1
    /// Seconds of parsing on the input thread and on the reader's.
    private var inputSeconds = 0.0
    private var readerSeconds = 0.0

    /// - Parameters:
    ///   - blocks: the blocks in circulation (at least 2).
    ///   - chunks: the chunks of text the input thread fills, each of
    ///     `chunkBytes` (grown for a longer record).
    init(blocks: Int, exampleCapacity: Int, chunks: Int, chunkBytes: Int) {
        freeBlocks = (0..<max(2, blocks)).map { _ in ExampleBlock(exampleCapacity: exampleCapacity) }
        freeChunks = (0..<max(1, chunks)).map { _ in TextChunk(capacity: chunkBytes) }
    }

    /// Seconds spent parsing: on the input thread, and on the reader's.
    var parseSeconds: (input: Double, reader: Double) {
        condition.lock()
        defer { condition.unlock() }
        return (inputSeconds, readerSeconds)
    }

    // MARK: The input thread

    /// A free chunk to fill; while there is none, parses jobs. Nil once the
    /// reader cancelled or a job failed (nothing more is read).
    func takeChunk() -> TextChunk? {
        condition.lock()
        while !cancelled && !failed {
            if let chunk = freeChunks.popLast() {
                condition.unlock()
                return chunk
            }
            if !parseOne(onInputThread: true) { condition.wait() }
        }
        condition.unlock()
        return nil
    }

    /// Gives back a chunk taken but not posted.
    func giveBack(_ chunk: TextChunk) {
        change { freeChunks.append(chunk) }
    }

    /// Queues a job (whose text, if any, is the board's until it is parsed).
    func post(_ job: ParseJob) {
        condition.lock()
        if let chunk = job.chunk, job.position >= chunk.length {
            job.chunk = nil
            job.done = true
            freeChunks.append(chunk)
        }
        if job.error != nil { failed = true }
        jobs.append(job)
        condition.broadcast()
        condition.unlock()
    }

    /// The input thread is done, with `error` (its line already counted
    /// from the file's start) after the jobs posted. It then parses jobs
    /// while any is left to claim.
    func end(error: FTRLError?) {
        if let error { post(ParseJob(error: error, absolute: true)) }
        condition.lock()
        inputEnded = true
        condition.broadcast()
        while !cancelled && parseOne(onInputThread: true) {}
        condition.unlock()
    }

    // MARK: The reader

    /// The next block in input order, or nil at the end of the input (or
    /// once cancelled); while none is ready, parses a job.
    /// - Throws: the first error met, once the blocks before it are delivered.
    func next() throws(FTRLError) -> ExampleBlock? {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled && !delivered {
            if let job = jobs.first {
                if !job.filled.isEmpty { return job.filled.removeFirst() }
                if job.done {
                    let start = job.startLine ?? line
                    if var error = job.error {
                        delivered = true
                        if !job.absolute, let relative = error.line { error.line = start + relative }
                        throw error
                    }
                    line = start + job.lines
                    jobs.removeFirst()
                    continue
                }
            } else if inputEnded {
                delivered = true
                return nil
            }
            // Nothing to hand on yet: parse rather than wait.
            if !parseOne(onInputThread: false) { condition.wait() }
        }
        return nil
    }

    /// Gives a delivered block back (emptied).
    func recycle(_ block: ExampleBlock) {
        change { freeBlocks.append(block) }
    }

    /// Stops both sides soon: the input thread's `takeChunk()` and the
    /// reader's `next()` return nil.
    func cancel() {
        change { cancelled = true }
    }

    /// Changes the board under the lock and wakes the threads waiting on it.
    private func change(_ body: () -> Void) {
        condition.lock()
        body()
        condition.broadcast()
        condition.unlock()
    }

    // MARK: Parsing

    /// Claims a job and parses a block of it, outside the lock (called and
    /// returning under it); false when there was none to claim.
    private func parseOne(onInputThread: Bool) -> Bool {
        guard let (job, block) = claim() else { return false }
        condition.unlock()
        step(job, block, onInputThread: onInputThread)
        condition.lock()
        return true
    }

    /// The oldest job that no one is parsing, with a free block for it, or
    /// nil (under the lock).
    private func claim() -> (ParseJob, ExampleBlock)? {
        if freeBlocks.isEmpty { return nil }
        for job in jobs {
            if job.error != nil { return nil }  // nothing after an error is needed
            if job.claimed || job.done { continue }
            job.claimed = true
            return (job, freeBlocks.removeLast())
        }
        return nil
    }

    /// Parses the claimed job into `block` until the block is full or the
    /// text ends (outside the lock), then settles it under the lock.
    private func step(_ job: ParseJob, _ block: ExampleBlock, onInputThread: Bool) {
        let t0 = Clock.now()
        // The claimed job's fields are this thread's until it settles.
        let chunk = job.chunk!
        var position = job.position
        var lines = job.lines
        var failure: FTRLError?
        do throws(FTRLError) {
            while position < chunk.length && !block.isFull {
                let (next, n) = try job.decoders!.decode(
                    onInputThread: onInputThread, chunk.bytes, from: position, to: chunk.length, into: block, firstLine: lines)
                position = next
                lines += n
            }
        } catch var error {
            error.path = chunk.path
            failure = error
        }
        let seconds = Clock.now() - t0
        condition.lock()
        job.position = position
        job.lines = lines
        if block.count > 0 {
            job.filled.append(block)
        } else {
            freeBlocks.append(block)
        }
        if failure != nil || position >= chunk.length {
            job.done = true
            job.error = failure
            job.chunk = nil
            freeChunks.append(chunk)
            if failure != nil { failed = true }
        }
        job.claimed = false
        if onInputThread { inputSeconds += seconds } else { readerSeconds += seconds }
        condition.broadcast()
        condition.unlock()
    }
}

/// One chunk of text to parse, and what its parse has made so far.
final class ParseJob {
    /// The text, until it is parsed (then back in the board's pool).
    fileprivate(set) var chunk: TextChunk?
    /// The decoders of the chunk's file.
    let decoders: (any FileDecoding)?
    /// The line at which the text starts, for the first chunk of a file
    /// (after its header); nil for a chunk that goes on from the one before.
    let startLine: Int?
    /// Where parsing goes on, and the lines it has consumed.
    fileprivate var position: Int
    fileprivate var lines = 0
    /// Blocks parsed and not yet delivered.
    fileprivate var filled: [ExampleBlock] = []
    fileprivate var claimed = false
    fileprivate var done = false
    /// The error that ends the input here, after the blocks in `filled`;
    /// its line counts from the job's first line (0) unless `absolute`.
    fileprivate var error: FTRLError?
    fileprivate let absolute: Bool

    /// A chunk to parse from `position`.
    init(chunk: TextChunk, decoders: any FileDecoding, startLine: Int?, position: Int) {
        self.chunk = chunk
        self.decoders = decoders
        self.startLine = startLine
        self.position = position
        absolute = false
    }

    /// An error where the input stops: `absolute` when its line already
    /// counts from its file's start, else from where this job stands.
    init(error: FTRLError, absolute: Bool, startLine: Int? = nil) {
        chunk = nil
        decoders = nil
        self.startLine = startLine
        position = 0
        done = true
        self.error = error
        self.absolute = absolute
    }
}

/// The decoders of one file: one for each thread that parses, since a
/// decoder may keep scratch memory of its own.
protocol FileDecoding: AnyObject {
    /// `ExampleDecoder.decode` with the calling thread's decoder.
    func decode(
        onInputThread: Bool, _ text: UnsafePointer<UInt8>, from start: Int, to end: Int, into block: ExampleBlock, firstLine: Int
    ) throws(FTRLError) -> (next: Int, lines: Int)
}

/// A file's decoders, of one type: the input thread's and the reader's.
final class FileDecoders<D: ExampleDecoder>: FileDecoding {
    private var input: D
    private var reader: D

    /// - Parameter decoder: the input thread's decoder, past the file's start.
    init(_ decoder: D) {
        input = decoder
        reader = decoder.forAnotherThread()
    }

    func decode(
        onInputThread: Bool, _ text: UnsafePointer<UInt8>, from start: Int, to end: Int, into block: ExampleBlock, firstLine: Int
    ) throws(FTRLError) -> (next: Int, lines: Int) {
        if onInputThread {
            return try input.decode(text, from: start, to: end, into: block, firstLine: firstLine)
        }
        return try reader.decode(text, from: start, to: end, into: block, firstLine: firstLine)
    }
}
