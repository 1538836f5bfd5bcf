import CSSSnapshots
import Foundation
import TestSupport
import XCTest
@testable import CSSCore

/// Long simulations run on threads of their own (not Swift's executor), are cancelled through the
/// task that awaits them, and pause while the focused sample is traced.
final class ComputeThreadTests: XCTestCase {
    func testRunsOnAThreadOfItsOwnAndReturnsOrThrows() async throws {
        let name = try await ComputeThread.run(name: "cssdbg test") { currentThreadName() }
        XCTAssertEqual(name, "cssdbg test")
        struct Boom: Error {}
        do {
            _ = try await ComputeThread.run(name: "cssdbg test") { () throws -> Int in throw Boom() }
            XCTFail("the error is not passed on")
        } catch is Boom {}
        // Outside a compute thread, a checkpoint is the task's cancellation check alone.
        XCTAssertNoThrow(try Checkpoint.pass())
    }

    /// The body never sees a task; cancelling the awaiting one makes its next checkpoint throw.
    func testCancellingTheAwaitingTaskStopsTheBodyAtItsNextCheckpoint() async throws {
        let passes = Locked(0)
        let canceller = CancelFromOutside()
        let job = Task {
            try await ComputeThread.run(name: "cssdbg test") { () throws -> Int in
                while true {
                    try Checkpoint.pass()
                    let n = passes.withLock { n in n += 1; return n }
                    if n == 100 { canceller.request() }
                    usleep(100)
                }
            }
        }
        canceller.attach(job)
        do { _ = try await job.value; XCTFail("not cancelled") } catch is CancellationError {}
        XCTAssertGreaterThanOrEqual(passes.value, 100)

        // A task cancelled before the thread starts: the first checkpoint throws.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await ComputeThread.run(name: "cssdbg test") { () throws -> Int in try Checkpoint.pass(); return 1 }
        }
        do { _ = try await early.value; XCTFail("not cancelled") } catch is CancellationError {}
    }

    /// While the gate is held, a gated job makes no progress past its checkpoints; it goes on when
    /// the gate is let go, and a cancel still ends it while it waits.
    func testAGatedJobWaitsWhileTheGateIsHeld() async throws {
        let gate = FocusGate()
        let passes = Locked(0)
        let holder = await GateHolder(gate)
        let job = Task {
            try await ComputeThread.run(name: "cssdbg test", gate: gate) { () throws -> Int in
                for _ in 0..<5 {
                    try Checkpoint.pass()
                    passes.withLock { $0 += 1 }
                }
                return passes.value
            }
        }
        try await assertStaysZero(passes, "a checkpoint passed while the focused sample held the gate")
        holder.letGo()
        let done = try await job.value
        XCTAssertEqual(done, 5)
        XCTAssertFalse(gate.isHeld)

        // Cancelled while it waits at the gate.
        let holder2 = await GateHolder(gate)
        let waiting = Task {
            try await ComputeThread.run(name: "cssdbg test", gate: gate) { () throws -> Int in try Checkpoint.pass(); return 1 }
        }
        waiting.cancel()
        do { _ = try await waiting.value; XCTFail("not cancelled at the gate") } catch is CancellationError {}
        holder2.letGo()
    }

    /// Inside a graph node a gated job cannot stop, but its parallel blocks wait while the gate is
    /// held (on every worker), and run once it is let go.
    func testParallelBlocksOfAGatedJobWaitWhileTheGateIsHeld() async throws {
        let gate = FocusGate()
        let entered = Locked(false), blocksDone = Locked(0)
        let holder = await GateHolder(gate)
        let job = Task {
            try await ComputeThread.run(name: "cssdbg test", gate: gate) { () throws -> Int in
                entered.value = true
                parallelBlocks(64, blockSize: 4) { _ in blocksDone.withLock { $0 += 1 } }
                return blocksDone.value
            }
        }
        while !entered.value { await Task.yield() }
        try await assertStaysZero(blocksDone, "a block ran while the gate was held")
        holder.letGo()
        let done = try await job.value
        XCTAssertEqual(done, 16)
        // Outside a compute thread (the trace itself), blocks never wait for the gate.
        let again = Locked(0)
        gate.holding { parallelBlocks(8, blockSize: 1) { _ in again.withLock { $0 += 1 } } }
        XCTAssertEqual(again.value, 8)
    }

    /// The data-set report runs on the backend's compute thread (its progress is reported from
    /// there), and a focused trace holds the gate while it simulates.
    func testTheReportRunsOnAComputeThreadAndTheTraceHoldsTheGate() async throws {
        let net = try RandomNetworks.resnet(seed: 11)
        let data = RandomNetworks.samples(count: 6, shape: [1, 6, 6], seed: 5)
        let config = ConversionConfig()
        let ev = Evaluator(network: net, batchSize: 2)
        let p = try ev.calibrationPercentiles(data, percentile: config.percentile)
        let backend = try LocalBackend(network: net, data: data, calib: data,
                                       start: TuningState(config: config, amplitudes: p.amplitudes(config)), percentiles: p)
        let threads = Locked<Set<String>>([])
        _ = try await backend.report(progress: { _ in threads.withLock { _ = $0.insert(currentThreadName()) } })
        XCTAssertEqual(threads.value, ["cssdbg report"])
        XCTAssertFalse(backend.focusGate.isHeld)
        _ = try await backend.trace(sample: 1)
        XCTAssertFalse(backend.focusGate.isHeld, "the gate is let go when the trace is done")
    }
}

/// Holds a gate on a thread of the test's (as the focused trace does) until `letGo()`.
private final class GateHolder: Sendable {
    private let release = Locked(false)

    init(_ gate: FocusGate) async {
        let holding = Locked(false), release = self.release
        Thread { gate.holding { holding.value = true; release.wait(until: { $0 }) } }.start()
        while !holding.value { await Task.yield() }
    }

    func letGo() { release.value = true }
}

/// However often we look (50 times over about 100 ms), `count` stays 0.
private func assertStaysZero(_ count: Locked<Int>, _ message: String, line: UInt = #line) async throws {
    for _ in 0..<50 {
        try await Task.sleep(for: .milliseconds(2))
        XCTAssertEqual(count.value, 0, message, line: line)
    }
}

/// The calling thread's name as the kernel has it (Foundation's `Thread.name` may not say).
private func currentThreadName() -> String {
    (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?
        .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
}

/// Requests to give memory back while one release runs make one more run, not one each.
final class FreeMemoryReleaseTests: XCTestCase {
    func testRequestsWhileOneRunsCoalesceIntoOneMore() async throws {
        let calls = Locked(0)
        let proceed = Locked(false)
        let trim = FreeMemoryRelease(release: {
            calls.withLock { $0 += 1 }
            while !proceed.value { usleep(500) }
        })
        trim.request()
        while calls.value == 0 { await Task.yield() }  // the first release runs and waits
        for _ in 0..<20 { trim.request() }
        XCTAssertEqual(calls.value, 1, "no second release while the first runs")
        proceed.value = true
        while trim.isBusy { try await Task.sleep(for: .milliseconds(1)) }
        XCTAssertEqual(calls.value, 2, "the 20 requests made exactly one more release")
        trim.request()
        while trim.isBusy || calls.value < 3 { try await Task.sleep(for: .milliseconds(1)) }
        XCTAssertEqual(calls.value, 3, "an idle release starts at once")
    }

    /// A release never runs while a trace holds the gate.
    func testAReleaseWaitsForTheGate() async throws {
        let gate = FocusGate()
        let holder = await GateHolder(gate)
        let gated = Locked(0)
        let trim = FreeMemoryRelease(gate: gate, release: { gated.withLock { $0 += 1 } })
        trim.request()
        try await assertStaysZero(gated, "released while the focused trace held the gate")
        holder.letGo()
        while trim.isBusy { try await Task.sleep(for: .milliseconds(1)) }
        XCTAssertEqual(gated.value, 1)
    }
}
