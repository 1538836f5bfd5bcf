import CSSApp
import CSSCore
import CSSImport
import CSSView
import Foundation
import XCTest
import TestSupport

/// `:sweep` through the host: the same points as `ConversionSweep` run directly, and adopting a
/// point (the pane's Enter, `HostRequest.setAll`) is one undo step back to the exact state.
final class SweepCommandTests: XCTestCase {
    func testSweepThroughTheHostMatchesConversionSweepAndEnterUndoesInOneStep() async throws {
        let m = try LoadedModel.load(path: Repository.root.appendingPathComponent("samples/digits-mlp").path, limit: 32)
        let calib = m.calib.prefix(32)
        let ev = Evaluator(network: m.network)
        let p = try ev.calibrationPercentiles(calib, percentile: ConversionConfig.default.percentile)
        let start = TuningState(config: .default, amplitudes: p.amplitudes(.default))
        let backend = try LocalBackend(network: m.network, data: m.data, calib: calib, start: start, percentiles: p)
        let tuning = TuningCommands(backend: backend, modelName: m.name, defaultThetaPath: "unused.theta.json",
                                    store: nil, pendingRestore: nil)
        let host = DebuggerHost(tuning: tuning, breakpoints: BreakpointCommands(backend: backend),
                                jobs: JobCommands(backend: backend)).handler
        let spec = try SweepSpec.parse(words: ["-T", "4,8", "--silent", "0,1", "--negative", "on", "--limit", "20"])
        let reply = await host(HostCall(request: .job(.sweep(spec)), position: ViewPosition()))
        XCTAssertFalse(reply.isError, reply.message)
        let result = try XCTUnwrap(reply.sweep)

        let configs = ConversionSweep.configurations(T: [4, 8], beta: [1.5], silent: [0, 1], negative: [true], base: .default)
        let direct = try ConversionSweep.run(ev, data: m.data.prefix(20), calib: calib, percentiles: p,
                                                   configs: configs, rounds: 0)
        XCTAssertEqual(result.rows, direct.map(\.row))
        XCTAssertEqual(result.samples, 20)
        XCTAssertEqual(result.rows.count, 4)
        XCTAssertTrue(result.rows.contains(where: \.pareto))
        // Nothing in the session moved.
        var snap = try await backend.snapshot()
        XCTAssertEqual(snap.session.current, start)
        XCTAssertTrue(snap.session.undoStack.isEmpty)

        // Enter on the last point: one change with its T, β, L and sign.
        let c = result.rows[3].config
        let set = await host(HostCall(request: .setAll([.T(c.T), .beta(c.beta), .silent(c.silent), .negative(c.negative)]),
                                      position: ViewPosition()))
        XCTAssertFalse(set.isError, set.message)
        XCTAssertTrue(set.reload)
        snap = try await backend.snapshot()
        XCTAssertEqual(snap.session.current.config, c)
        XCTAssertEqual(snap.session.undoStack.count, 1)
        XCTAssertEqual(set.tuning?.changes, 1)
        let undo = await host(HostCall(request: .undo, position: ViewPosition()))
        XCTAssertFalse(undo.isError, undo.message)
        snap = try await backend.snapshot()
        XCTAssertEqual(snap.session.current, start)
        _ = await host(HostCall(request: .redo, position: ViewPosition()))
        snap = try await backend.snapshot()
        XCTAssertEqual(snap.session.current.config, c)
    }

    func testACancelledSweepSaysSoAndChangesNothing() async throws {
        let m = try LoadedModel.load(path: Repository.root.appendingPathComponent("samples/digits-mlp").path, limit: 16)
        let calib = m.calib.prefix(16)
        let p = try Evaluator(network: m.network).calibrationPercentiles(calib, percentile: ConversionConfig.default.percentile)
        let start = TuningState(config: .default, amplitudes: p.amplitudes(.default))
        let backend = try LocalBackend(network: m.network, data: m.data, calib: calib, start: start, percentiles: p)
        let jobs = JobCommands(backend: backend)
        let task = Task { await jobs.execute(.sweep(SweepSpec(T: [4, 6, 8, 10, 12], silent: [0, 1, 2]))) }
        task.cancel()
        let reply = await task.value
        XCTAssertTrue(reply.isError)
        XCTAssertNil(reply.sweep)
        XCTAssertEqual(reply.message, ":sweep cancelled; θ and config unchanged")
        let snap = try await backend.snapshot()
        XCTAssertEqual(snap.session.current, start)
    }
}
