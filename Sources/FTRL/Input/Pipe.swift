import Foundation

/// A bounded hand-over of reusable buffers between two threads: the producer
/// takes a free buffer, fills it and sends it; the consumer receives it in
/// order and recycles it. A fixed set of buffers circulates, so memory stays
/// flat and a fast producer waits for a slow consumer.
///
/// It carries a cache's blocks (`ParseBoard` carries the text's), and is,
/// like it and `Shared`, an `@unchecked Sendable`. The invariant that makes
/// it safe: a buffer belongs to exactly one side at a time. It is the producer's from `takeFree()` until `send(_:)`, the
/// consumer's from `receive()` until `recycle(_:)`, and neither side touches
/// it outside those spans; every transfer happens under `condition`, whose
/// lock orders the owner's writes before the next owner's reads. The
/// pipe's own state is touched only under that lock.
final class Pipe<T: AnyObject>: @unchecked Sendable {
    private let condition = NSCondition()
    private var free: [T]
    private var ready: [T] = []
    private var readyHead = 0
    private var closed = false
    private var cancelled = false
    private var failure: FTRLError?

    /// A pipe with these buffers in circulation.
    init(buffers: [T]) {
        free = buffers
    }

    /// A free buffer for the producer; nil once the consumer cancelled.
    func takeFree() -> T? {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty && !cancelled { condition.wait() }
        return cancelled ? nil : free.removeLast()
    }

    /// Hands a filled buffer to the consumer.
    func send(_ item: T) {
        condition.lock()
        ready.append(item)
        condition.broadcast()
        condition.unlock()
    }

    /// The producer is done, with `error` after the buffers already sent.
    func close(error: FTRLError?) {
        condition.lock()
        closed = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next filled buffer in order, or nil at the end (or once cancelled).
    /// - Throws: the producer's error once the buffers before it are received.
    func receive() throws(FTRLError) -> T? {
        condition.lock()
        defer { condition.unlock() }
        while readyHead == ready.count && !closed && !cancelled { condition.wait() }
        if readyHead < ready.count {
            let item = ready[readyHead]
            readyHead += 1
            if readyHead == ready.count {
                ready.removeAll(keepingCapacity: true)
                readyHead = 0
            }
            return item
        }
        if let failure { throw failure }
        return nil
    }

    /// Gives a received buffer back to the producer.
    func recycle(_ item: T) {
        condition.lock()
        free.append(item)
        condition.broadcast()
        condition.unlock()
    }

    /// The consumer stops: a waiting producer is released with nil.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
