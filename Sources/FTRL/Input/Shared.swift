import Foundation

/// A value that several threads read and write under a lock: the stream's
/// busy times and the column names the input thread finds.
///
/// Invariant (why `@unchecked Sendable` is sound): `stored` is touched only
/// inside `lock`, in `value` and `update`, and `Value` is `Sendable`.
/// `Synchronization.Mutex` would let the compiler check this, but it locks
/// with atomics inside the prebuilt, uninstrumented Synchronization library,
/// so ThreadSanitizer could not see its ordering and reported the guarded
/// accesses as races (once in CI, when the decode and parse threads of an earlier design ended
/// together). `NSLock` is a pthread mutex, which ThreadSanitizer does see.
final class Shared<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    /// The current value.
    var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    /// Changes the value under the lock.
    func update(_ change: (inout Value) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        change(&stored)
    }
}
