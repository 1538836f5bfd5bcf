import CSSSnapshots
import Foundation

/// Helpers every test target shares (one copy, not one per target). Depends on CSSSnapshots only
/// (for `Locked`), so any test target can use it.

/// Deterministic pseudo-random numbers (SplitMix64): a seed gives the same run every time, so a
/// failing case can be replayed.
public struct SplitMix: RandomNumberGenerator {
    public var state: UInt64

    public init(_ seed: UInt64) { state = seed }
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    public mutating func signed() -> Double { Double(next() >> 11) / Double(1 << 52) - 1 }
}

/// The repository the tests run from: fixtures and samples are read from the tree (not SwiftPM
/// resources), found from this file's place in it.
public enum Repository {
    public static let root: URL = {
        var u = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        while u.path != "/" {
            if FileManager.default.fileExists(atPath: u.appendingPathComponent("Package.swift").path),
               FileManager.default.fileExists(atPath: u.appendingPathComponent("Tests").path) { return u }
            u.deleteLastPathComponent()
        }
        fatalError("repository root not found above \(#filePath)")
    }()

    /// A path inside the repository, e.g. `samples/digits-mlp`.
    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// Cancels a task from outside it, on request from anywhere (a progress callback on a compute
/// thread has no current task to cancel). `request()` before `attach` waits for `attach` (up to
/// 30 s) and cancels then, so the caller's next cancellation check sees it: otherwise a short
/// job could run to its end between the task's start and `attach` on a loaded machine, and the
/// test would fail with "not cancelled".
public final class CancelFromOutside: Sendable {
    private let state = Locked<(cancel: (@Sendable () -> Void)?, requested: Bool)>((nil, false))
    private let attached = DispatchSemaphore(value: 0)

    public init() {}

    public func attach<S, F>(_ task: Task<S, F>) {
        let requested = state.withLock { s in
            s.cancel = { task.cancel() }
            return s.requested
        }
        attached.signal()
        if requested { task.cancel() }  // also when a request gave up waiting
    }

    public func request() {
        let first = state.withLock { s in
            defer { s.requested = true }
            return !s.requested
        }
        var cancel = state.withLock { $0.cancel }
        if cancel == nil && first {
            _ = attached.wait(timeout: .now() + 30)
            attached.signal()  // later requests need not wait
            cancel = state.withLock { $0.cancel }
        }
        cancel?()
    }
}
