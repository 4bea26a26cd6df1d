import Synchronization

/// A value that several threads read and write under a lock: the stream's
/// busy times and the column names the parse thread finds. Checked by the
/// compiler (a `Mutex`), unlike `Pipe`'s hand-off of buffers.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    /// The current value.
    var value: Value { mutex.withLock { $0 } }

    /// Changes the value under the lock.
    func update(_ change: (inout Value) -> Void) {
        mutex.withLock { change(&$0) }
    }
}
