import Dispatch
import XCTest
@testable import CSSCore

/// A.3 (`:adjust`) runs like the data-set report (issue 11 joint 7): off the backend actor, with
/// progress, cancellable, committed only if nothing superseded it.
final class LongChangeTests: XCTestCase {
    func makeBackend() throws -> LocalBackend {
        let net = try RandomNetworks.resnet(seed: 4)
        let data = RandomNetworks.samples(count: 12, shape: [1, 6, 6], seed: 8)
        // L = 0 without negative spikes leaves residuals, so A.3 has something to change.
        let config = ConversionConfig(T: 6, beta: 1.5, silent: 0, negative: false)
        let p = try Evaluator(network: net).calibrationPercentiles(data, percentile: config.percentile)
        return try LocalBackend(network: net, data: data, calib: data,
                                start: TuningState(config: config, amplitudes: p.amplitudes(config)), percentiles: p)
    }

    /// Holds A.3 inside its first progress report until the test opens it, so the test knows the
    /// change is in flight for as long as it needs (no timing involved).
    final class Gate: @unchecked Sendable {
        private let (arrivals, arrived) = AsyncStream<Void>.makeStream()
        private let opened = Locked(false)
        private let first = Locked(true)
        /// The gate was never opened (the test would otherwise hang on a backend that blocks).
        let gaveUp = Locked(false)

        func hold() {
            guard first.withLock({ f in defer { f = false }; return f }) else { return }
            arrived.yield()
            arrived.finish()
            if !opened.wait(until: { $0 }, timeout: .seconds(120)) { gaveUp.value = true }
        }

        func reached() async { for await _ in arrivals {} }
        func open() { opened.value = true }
    }

    func testTraceAndReportAreAnsweredWhileAdjustRuns() async throws {
        let backend = try makeBackend()
        let before = await backend.session
        let gate = Gate()
        let adjust = Task { try await backend.apply(.adjust(layers: nil, rounds: 2), progress: { _ in gate.hold() }) }
        await gate.reached()
        // A.3 is inside its first round and cannot go on until the gate opens.
        let trace = try await backend.trace(sample: 3)
        XCTAssertEqual(trace.sample, 3)
        let report = try await backend.report(progress: { _ in })
        XCTAssertEqual(report.amplitudes, before.current.amplitudes, "the report is of the state before A.3")
        let running = await backend.runningDatasetJobs
        XCTAssertEqual(running, 1, "A.3 holds one data-set slot; the report gave its own back")
        let unchanged = await backend.session
        XCTAssertEqual(unchanged, before, "nothing is committed while A.3 runs")
        gate.open()
        let snap = try await adjust.value
        XCTAssertFalse(gate.gaveUp.value)
        XCTAssertEqual(snap.session.history.count, 1)
        XCTAssertTrue(snap.message.hasPrefix("adjust all ×2: "), snap.message)
        let idle = await backend.runningDatasetJobs
        XCTAssertEqual(idle, 0)
    }

    func testCancelledAdjustLeavesThetaAndHistoryUnchanged() async throws {
        let backend = try makeBackend()
        _ = try await backend.apply(.scaleTheta(layer: 0, factor: 1.25))  // a history to keep
        let before = await backend.session
        let gate = Gate()
        let adjust = Task { try await backend.apply(.adjust(layers: nil, rounds: 50), progress: { _ in gate.hold() }) }
        await gate.reached()
        adjust.cancel()
        gate.open()
        do {
            _ = try await adjust.value
            XCTFail("a cancelled A.3 must not answer with a new state")
        } catch is CancellationError {}
        let after = await backend.session
        XCTAssertEqual(after, before)
        let running = await backend.runningDatasetJobs
        XCTAssertEqual(running, 0, "the slot is given back")

        // Cancelled after its last batch, in the moment before the commit: still nothing changes.
        let late = Locked<Task<TuningSnapshot, Error>?>(nil)
        let started = Locked(false)
        let task = Task {
            while !started.value { await Task.yield() }
            return try await backend.apply(.adjust(layers: nil, rounds: 1), progress: { f in
                if f == 1 { late.value?.cancel() }
            })
        }
        late.value = task
        started.value = true
        do {
            _ = try await task.value
            XCTFail("cancelled before the commit")
        } catch is CancellationError {}
        let still = await backend.session
        XCTAssertEqual(still, before)
    }

    func testProgressIsMonotoneAndReachesOne() async throws {
        let backend = try makeBackend()
        let seen = Locked<[Double]>([])
        let snap = try await backend.apply(.adjust(layers: nil, rounds: 3), progress: { f in seen.withLock { $0.append(f) } })
        let fractions = seen.value
        XCTAssertGreaterThanOrEqual(fractions.count, 3, "at least one report per round")
        XCTAssertEqual(fractions, fractions.sorted(), "monotone")
        XCTAssertTrue(fractions.allSatisfy { (0...1).contains($0) })
        XCTAssertEqual(fractions.last ?? 0, 1, accuracy: 1e-12)
        XCTAssertEqual(snap.steps.count, 3 * snap.layout.layers.count)
    }

    /// A change that lands while A.3 runs wins: A.3's result, computed from the state before it,
    /// is dropped with `SupersededError`, and the later change stays.
    func testChangeDuringAdjustSupersedesIt() async throws {
        let backend = try makeBackend()
        let gate = Gate()
        let adjust = Task { try await backend.apply(.adjust(layers: nil, rounds: 2), progress: { _ in gate.hold() }) }
        await gate.reached()
        let theta = try await backend.apply(.setTheta(layer: 1, value: 0.5))
        gate.open()
        do {
            _ = try await adjust.value
            XCTFail("A.3 started before the θ change must not commit over it")
        } catch let e as SupersededError {
            XCTAssertEqual(e.change, "adjust all ×2")
            XCTAssertFalse("\(e)".contains("\n"))
        }
        let after = await backend.session
        XCTAssertEqual(after, theta.session)
        XCTAssertEqual(after.current.amplitudes.layers[1], 0.5)
        XCTAssertEqual(after.history.count, 1, "only the θ change")
        let running = await backend.runningDatasetJobs
        XCTAssertEqual(running, 0)
    }
}
