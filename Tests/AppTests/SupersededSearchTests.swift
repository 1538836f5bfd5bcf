import CSSApp
import CSSCore
import CSSImport
import CSSView
import Foundation
import XCTest
import TestSupport

/// A θ change typed while a `c` search runs supersedes it: the search is cancelled (its stop
/// would belong to the old θ), nothing moves, and the message line says so.
final class SupersededSearchTests: XCTestCase {
    func testThetaChangeDuringContinueCancelsTheSearch() async throws {
        let m = try LoadedModel.load(path: Repository.root.appendingPathComponent("samples/digits-resnet").path)
        let calib = m.calib.prefix(64)
        let config = ConversionConfig.default
        let p = try Evaluator(network: m.network).calibrationPercentiles(calib, percentile: config.percentile)
        let start = TuningState(config: config, amplitudes: p.amplitudes(config))
        // 120 samples: the search still has batches to go when the change is typed, and the test
        // stays cheap under ThreadSanitizer (all 360 took two minutes there).
        let backend = try LocalBackend(network: m.network, data: m.data.prefix(120), calib: calib, start: start, percentiles: p)
        let commands = TuningCommands(backend: backend, modelName: m.name, defaultThetaPath: "/nonexistent/theta.json",
                                      store: nil, pendingRestore: nil)
        let breaks = BreakpointCommands(backend: backend)
        // Driven by hand (HeadlessSession would wait for the search before the next key).
        let runner = CommandRunner(backend: backend, host: DebuggerHost(tuning: commands, breakpoints: breaks, jobs: JobCommands(backend: backend)).handler)
        var s = ViewState(width: 160, height: 48, hostCommands: DebuggerHost.names)
        var tasks: [Task<Void, Never>] = []
        func send(_ m: Message) {
            let (next, cmds) = update(s, m)
            s = next
            tasks += runner.perform(cmds, state: s)
        }
        func drain() { for m in runner.inbox.take() { send(m) } }
        for c in initialCommands(s) { tasks += runner.perform([c], state: s) }
        for t in tasks { await t.value }
        drain()
        for t in tasks { await t.value }
        drain()
        // A margin that never drops that low: the report cannot answer it, every sample is simulated.
        for c in ":break margin < -1e9" { send(.key(.char(c))) }
        send(.key(.enter))
        for t in tasks { await t.value }
        drain()
        XCTAssertEqual(s.message, "breakpoint 1: margin < -1000000000")
        s = update(s, .key(.char("j"))).0
        let before = (s.sample, s.step, s.layerRow, s.neuron)
        let session0 = try await backend.snapshot().session

        send(.key(.char("c")))
        // Wait until the search reports progress (it is running), then change θ.
        var running = false
        for _ in 0..<20_000 where !running {
            for m in runner.inbox.take() {
                if case .hostProgress = m { running = true }
                send(m)
            }
            if !running { try await Task.sleep(for: .milliseconds(1)) }
        }
        XCTAssertTrue(running, "the search never reported progress")
        let layer = await backend.layout().layers[0].name
        for c in ":theta \(layer) 0.5" { send(.key(.char(c))) }
        send(.key(.enter))
        XCTAssertEqual(s.hostQueue.count, 2)
        XCTAssertTrue(s.hostQueue[0].cancelled)
        while !s.hostQueue.isEmpty {
            for t in tasks { await t.value }
            drain()
        }
        for t in tasks { await t.value }
        drain()
        // The search's own reply said it was cancelled; the change's reply (shown last) says it
        // superseded it; nothing moved and θ is the one typed.
        XCTAssertEqual([s.sample, s.step, s.layerRow, s.neuron], [before.0, before.1, before.2, before.3])
        XCTAssertTrue(s.message?.contains("superseded :continue, cancelled") == true, s.message ?? "")
        XCTAssertEqual(breaks.hitCount(1), 0)
        let session1 = try await backend.snapshot().session
        XCTAssertEqual(session1.undoStack.count, session0.undoStack.count + 1)
        XCTAssertEqual(session1.current.amplitudes.layers[0], 0.5)
    }
}
