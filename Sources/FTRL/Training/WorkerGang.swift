import Foundation

/// A fixed set of threads that take on one job at a time together:
/// `run(job)` calls `job(k)` on worker k (the caller is worker 0) and
/// returns when every worker is done. Made once per run, so a block of
/// examples costs two semaphore hand-offs per worker, not a thread.
final class WorkerGang: @unchecked Sendable {
    /// The workers, the caller included.
    let count: Int
    // Written by the caller only while every other worker waits on its
    // semaphore; the semaphores order the accesses.
    private var job: ((Int) -> Void)?
    private var stopping = false
    private let start: [DispatchSemaphore]
    private let finished = DispatchSemaphore(value: 0)

    /// A gang of `count` workers (at least 1): `count - 1` threads and the caller.
    init(count: Int) {
        self.count = max(1, count)
        start = (0..<self.count).map { _ in DispatchSemaphore(value: 0) }
        for k in 1..<self.count {
            let thread = Thread { [self] in loop(k) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func loop(_ k: Int) {
        while true {
            start[k].wait()
            if stopping {
                finished.signal()
                return
            }
            job?(k)
            finished.signal()
        }
    }

    /// Runs `body(k)` for every worker k at once and waits for all of them.
    func run(_ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            job = body
            for k in 1..<count { start[k].signal() }
            body(0)
            for _ in 1..<count { finished.wait() }
            job = nil
        }
    }

    /// Ends the threads; the gang cannot run jobs afterwards.
    func stop() {
        stopping = true
        for k in 1..<count { start[k].signal() }
        for _ in 1..<count { finished.wait() }
    }
}
