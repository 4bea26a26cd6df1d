import Foundation

/// A fixed set of threads that take on one job at a time together:
/// `run(job)` calls `job(k)` on worker k (the caller is worker 0) and
/// returns when every worker is done. Made once per run, so a block of
/// examples costs a wake-up per worker, not a thread.
///
/// A pthread condition (`NSCondition`) orders the hand-offs: what the caller
/// wrote before `run` is seen by the workers, and what they wrote is seen
/// by the caller after it (ThreadSanitizer sees those edges too).
final class WorkerGang: @unchecked Sendable {
    /// The workers, the caller included.
    let count: Int
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var job: ((Int) -> Void)?
    private var generation = 0
    private var pending = 0
    private var running = 0
    private var stopping = false

    /// A gang of `count` workers (at least 1): `count - 1` threads and the caller.
    init(count: Int) {
        self.count = max(1, count)
        running = self.count - 1
        for k in 1..<self.count {
            let thread = Thread { [self] in loop(k) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func loop(_ k: Int) {
        var seen = 0
        while true {
            condition.lock()
            while generation == seen && !stopping { condition.wait() }
            if generation == seen {  // stopping, and no job left to do
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            seen = generation
            var body = job
            condition.unlock()
            body?(k)
            body = nil  // let go of the job before the caller may return (it must not outlive `run`)
            condition.lock()
            pending -= 1
            if pending == 0 { condition.broadcast() }
            condition.unlock()
        }
    }

    /// Runs `body(k)` for every worker k at once and waits for all of them.
    func run(_ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            condition.lock()
            job = body
            pending = count - 1
            generation += 1
            condition.broadcast()
            condition.unlock()
            body(0)
            condition.lock()
            while pending > 0 { condition.wait() }
            job = nil
            condition.unlock()
        }
    }

    /// Ends the threads and waits for them; the gang cannot run jobs afterwards.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }
}
