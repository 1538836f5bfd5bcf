import CBLAS
import CSSSnapshots
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Long simulations (a data-set report, A.3 rounds, a breakpoint search, a sweep) run on a thread
/// of their own instead of a thread of Swift's global executor. They block for minutes at
/// ImageNet size; on the executor's few threads that leaves the short jobs (actor hops of a θ
/// change, the focused trace, host replies) waiting for a free thread. The awaiting task stays
/// suspended meanwhile, and cancelling it reaches the thread at its next `Checkpoint.pass()`.
public enum ComputeThread {
    /// Runs `body` on a new thread and returns (or throws) what it does. Cancelling the calling task
    /// makes `Checkpoint.pass()` on that thread throw `CancellationError`; with a `gate`, the
    /// body's checkpoints also wait while the gate is held (the focused sample goes first).
    public static func run<T: Sendable>(name: String, gate: FocusGate? = nil,
                                        _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let context = ComputeContext(gate: gate)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, Error>) in
                let thread = Thread {
                    // Named for gdb, top and the tests (a new thread carries its creator's name).
                    css_name_this_thread(name)
                    ComputeContext.install(context)
                    let result = Result { try body() }
                    ComputeContext.install(nil)
                    done.resume(with: result)
                }
                thread.stackSize = 8 << 20  // as a main thread's; the executor's threads have less
                thread.start()
            }
        } onCancel: {
            context.cancel()
        }
    }
}

/// What a compute thread's checkpoints consult: its cancellation and the gate it yields to.
final class ComputeContext: Sendable {
    private let cancelled = Locked(false)
    let gate: FocusGate?

    init(gate: FocusGate?) { self.gate = gate }

    func cancel() { cancelled.value = true }
    var isCancelled: Bool { cancelled.value }

    /// The context of the calling thread (nil outside `ComputeThread.run`).
    static var current: ComputeContext? {
        guard let p = pthread_getspecific(key) else { return nil }
        return Unmanaged<ComputeContext>.fromOpaque(p).takeUnretainedValue()
    }

    /// The thread's closure keeps `context` alive while it is installed.
    static func install(_ context: ComputeContext?) {
        pthread_setspecific(key, context.map { Unmanaged.passUnretained($0).toOpaque() })
    }

    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()
}

/// Where long work may stop: before every graph node and every batch. Throws `CancellationError`
/// when the calling task (on Swift's executor) or the compute thread's awaiting task (in
/// `ComputeThread.run`) was cancelled; on a compute thread with a gate, waits while the gate is held.
public enum Checkpoint {
    public static func pass() throws {
        try Task.checkCancellation()
        guard let context = ComputeContext.current else { return }
        if context.isCancelled { throw CancellationError() }
        guard let gate = context.gate else { return }
        while gate.isHeld {
            usleep(1000)
            if context.isCancelled { throw CancellationError() }
        }
    }
}

/// Held while the focused sample is simulated: data-set jobs pause at their next checkpoint, so the
/// trace the user waits for gets every core (a report takes minutes either way).
public final class FocusGate: Sendable {
    private let holders = Locked(0)

    public init() {}

    public var isHeld: Bool { holders.value > 0 }

    /// Sleeps in steps of a millisecond while the gate is held (inside a graph node, where the job
    /// cannot stop but can wait; its cancellation is checked at the next checkpoint).
    public func waitWhileHeld() {
        while isHeld { usleep(1000) }
    }

    /// Runs `body` with the gate held.
    public func holding<T>(_ body: () throws -> T) rethrows -> T {
        holders.withLock { $0 += 1 }
        defer { holders.withLock { $0 -= 1 } }
        return try body()
    }
}

/// Gives free heap memory back to the kernel on a thread of its own: one `malloc_trim` at a time
/// (requests meanwhile make one more run, not one each), never while the focused sample is
/// traced (it walks the heap under the allocator's lock, which the trace's allocations then wait
/// for), and, with `quiet`, only once requests have stopped for that long. As a task per request,
/// queued trims also held threads of Swift's executor. The debugger trims at once: waiting for a
/// pause (2 s) made θ changes faster on 128 samples but let the heap grow past the 2 GiB budget
/// (2105 MiB) on 1000 (README, *Performance*).
public final class FreeMemoryRelease: Sendable {
    private struct State {
        var running = false
        /// When the next release may start: `quiet` after the last request.
        var due: ContinuousClock.Instant = .now
        /// A request came after the current release started.
        var again = false
    }
    private let state = Locked(State())
    private let release: @Sendable () -> Void
    private let quiet: Duration
    private let gate: FocusGate?

    /// - Parameters:
    ///   - quiet: how long after the last request a release starts.
    ///   - gate: while it is held (a trace runs), releases wait.
    ///   - release: what one release does (tests count calls).
    public init(quiet: Duration = .zero, gate: FocusGate? = nil,
                release: @escaping @Sendable () -> Void = ComputeMemory.releaseFreeMemory) {
        self.quiet = quiet
        self.gate = gate
        self.release = release
    }

    public func request() {
        let start = state.withLock { s -> Bool in
            s.due = .now + quiet
            if s.running { s.again = true; return false }
            s.running = true
            return true
        }
        guard start else { return }
        Thread.detachNewThread { [state, release, gate] in
            css_name_this_thread("cssdbg trim")
            while true {
                // Wait until no request came for `quiet` and no trace runs.
                while true {
                    let due = state.withLock { s -> ContinuousClock.Instant in s.again = false; return s.due }
                    let now = ContinuousClock.now
                    if now < due {
                        let wait = now.duration(to: due).components
                        usleep(UInt32(min(1_000_000, max(1000, wait.seconds * 1_000_000 + wait.attoseconds / 1_000_000_000_000))))
                        continue
                    }
                    if let gate, gate.isHeld { gate.waitWhileHeld(); continue }
                    break
                }
                release()
                let more = state.withLock { s -> Bool in
                    if s.again { return true }
                    s.running = false
                    return false
                }
                if !more { return }
            }
        }
    }

    /// Whether a release is running or waiting to (tests).
    public var isBusy: Bool { state.value.running }
}
