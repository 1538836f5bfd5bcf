#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a pthread mutex: the one lock of the project. A plain mutex rather than
/// `Synchronization.Mutex` or atomics because ThreadSanitizer (scripts/sanitizers.sh) sees its
/// happens-before edges, and one primitive means one way to read every shared value.
///
/// Read-modify-write goes through `withLock`; `value` is for a single read or a single write.
public final class Locked<Value> {
    /// Heap-allocated so the mutex never moves.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var stored: Value

    public init(_ value: Value) {
        stored = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value while holding the lock; keep it short and never re-enter.
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&stored)
    }

    /// One read or one write under the lock.
    public var value: Value {
        get { withLock { $0 } }
        set { withLock { $0 = newValue } }
    }
}

extension Locked: @unchecked Sendable where Value: Sendable {}
