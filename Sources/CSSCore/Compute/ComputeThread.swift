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

    /// Also wakes the thread if it waits on the gate (`Checkpoint.pass`), so it stops at once.
    func cancel() {
        cancelled.value = true
        gate?.wake()
    }
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
        context.gate?.waitWhileHeld(unless: { context.isCancelled })
        if context.isCancelled { throw CancellationError() }
    }
}

/// Held while the focused sample is simulated: data-set jobs pause at their next checkpoint, so the
/// trace the user waits for gets every core (a report takes minutes either way).
public final class FocusGate: Sendable {
    private let holders = Locked(0)

    public init() {}

    public var isHeld: Bool { holders.value > 0 }

    /// Blocks while the gate is held, or until `stop` says so: woken when the last holder lets go,
    /// and `stop` checked again on `wake()` (a cancelled job's context calls it). Inside a graph
    /// node a job cannot stop but can wait; its cancellation is checked at the next checkpoint.
    public func waitWhileHeld(unless stop: () -> Bool = { false }) {
        holders.wait(until: { $0 == 0 || stop() })
    }

    /// Makes the threads in `waitWhileHeld` check their `stop` again.
    public func wake() { holders.wake() }

    /// Runs `body` with the gate held.
    public func holding<T>(_ body: () throws -> T) rethrows -> T {
        holders.withLock { $0 += 1 }
        defer { holders.withLock { $0 -= 1 } }
        return try body()
    }
}

/// Gives free heap memory back to the kernel on a thread of its own: one `malloc_trim` at a time
/// (requests meanwhile make one more run, not one each), and never while the focused sample is
/// traced (it walks the heap under the allocator's lock, which the trace's allocations then wait
/// for). As a task per request, queued trims also held threads of Swift's executor. Trimming only
/// after a pause was tried and dropped: 2105 MiB on 1000 samples (docs/performance.md, "Memory and headless runs").
public final class FreeMemoryRelease: Sendable {
    private let state = Locked((running: false, again: false))
    private let release: @Sendable () -> Void
    private let gate: FocusGate?

    /// - Parameters:
    ///   - gate: while it is held (a trace runs), releases wait.
    ///   - release: what one release does (tests count calls).
    public init(gate: FocusGate? = nil, release: @escaping @Sendable () -> Void = ComputeMemory.releaseFreeMemory) {
        self.gate = gate
        self.release = release
    }

    public func request() {
        let start = state.withLock { s -> Bool in
            if s.running { s.again = true; return false }
            s.running = true
            return true
        }
        guard start else { return }
        Thread.detachNewThread { [state, release, gate] in
            css_name_this_thread("cssdbg trim")
            repeat {
                gate?.waitWhileHeld()
                state.withLock { $0.again = false }  // this release covers requests made until now
                release()
            } while state.withLock { s -> Bool in
                if s.again { return true }
                s.running = false
                return false
            }
        }
    }

    /// Whether a release is running or waiting to (tests).
    public var isBusy: Bool { state.value.running }
}
