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
/// Read-modify-write goes through `withLock`; `value` is for a single read or a single write. A
/// thread (never a task on Swift's executor) can block until the value meets a condition,
/// `wait(until:)`: every write wakes the waiters, which check again.
public final class Locked<Value> {
    /// Heap-allocated so the mutex and the condition never move.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let changed: UnsafeMutablePointer<pthread_cond_t>
    private var stored: Value

    public init(_ value: Value) {
        stored = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        changed = .allocate(capacity: 1)
        changed.initialize(to: pthread_cond_t())
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        changed.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value while holding the lock, then wakes the threads in `wait(until:)`;
    /// keep it short and never re-enter.
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(changed)  // no waiters: one atomic read
            pthread_mutex_unlock(mutex)
        }
        return try body(&stored)
    }

    /// One read or one write under the lock.
    public var value: Value {
        get {
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return stored
        }
        set { withLock { $0 = newValue } }
    }

    /// Blocks the calling thread until `condition` holds for the value: checked now, and again
    /// after every write (`withLock`, `value =`) and every `wake()`. `condition` runs under the
    /// lock: it may read other values (another `Locked`), never this one.
    public func wait(until condition: (Value) -> Bool) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !condition(stored) { pthread_cond_wait(changed, mutex) }
    }

    /// `wait(until:)` for at most `timeout`; false when the condition still does not hold then.
    public func wait(until condition: (Value) -> Bool, timeout: Duration) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)  // the condition's clock
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = Int(now.tv_nsec) + Int(attoseconds / 1_000_000_000)
        var deadline = timespec(tv_sec: now.tv_sec + Int(seconds) + nanoseconds / 1_000_000_000,
                                tv_nsec: nanoseconds % 1_000_000_000)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !condition(stored) {
            if pthread_cond_timedwait(changed, mutex, &deadline) == ETIMEDOUT { return condition(stored) }
        }
        return true
    }

    /// Makes the waiters check their condition again (when it also reads something else that
    /// changed).
    public func wake() { withLock { _ in } }
}

extension Locked: @unchecked Sendable where Value: Sendable {}
