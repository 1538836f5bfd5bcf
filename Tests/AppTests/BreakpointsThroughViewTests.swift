import CSSApp
import CSSCore
import CSSImport
import CSSView
import Foundation
import XCTest
import TestSupport

/// Breakpoints driven as a user drives them: `:break …` and `c`/`C` into the view's update loop,
/// the runner handing the typed requests to the host (`BreakpointCommands` around the tuning
/// host), the stops compared with the headless engine's `BreakpointSearch.hits`.
final class BreakpointsThroughViewTests: XCTestCase {
    struct Rig {
        var model: LoadedModel
        var backend: LocalBackend
        var breaks: BreakpointCommands
        var session: HeadlessSession
        var config: ConversionConfig
    }

    /// digits-resnet with silent 0: lots of coupling.
    func makeRig(limit: Int = 24) async throws -> Rig {
        let m = try LoadedModel.load(path: Repository.root.appendingPathComponent("samples/digits-resnet").path, limit: limit)
        var config = ConversionConfig.default
        config.silent = 0
        let calib = m.calib.prefix(64)
        let p = try Evaluator(network: m.network).calibrationPercentiles(calib, percentile: config.percentile)
        let start = TuningState(config: config, amplitudes: p.amplitudes(config))
        let backend = try LocalBackend(network: m.network, data: m.data, calib: calib, start: start, percentiles: p)
        let commands = TuningCommands(backend: backend, modelName: m.name, defaultThetaPath: "/nonexistent/theta.json",
                                      store: nil, pendingRestore: nil)
        let breaks = BreakpointCommands(backend: backend)
        var session = HeadlessSession(backend: backend, state: ViewState(width: 160, height: 48,
                                                                          hostCommands: DebuggerHost.names),
                                      host: DebuggerHost(tuning: commands, breakpoints: breaks, jobs: JobCommands(backend: backend)).handler)
        await session.start()
        return Rig(model: m, backend: backend, breaks: breaks, session: session, config: config)
    }

    func command(_ rig: inout Rig, _ line: String) async -> (String, Bool) {
        await rig.session.type(":" + line)
        await rig.session.press(.enter)
        return (rig.session.state.message ?? "", rig.session.state.messageIsError)
    }

    func testContinueTwiceStopsAtTheFirstTwoHitsOfTheEngine() async throws {
        var rig = try await makeRig()
        let layout = await rig.backend.layout()
        let layer = layout.layers[2]
        var (msg, err) = await command(&rig, "break coupling \(layer.name)")
        XCTAssertFalse(err, msg)
        XCTAssertEqual(msg, "breakpoint 1: coupling \(layer.name)")

        let search = BreakpointSearch(evaluator: await rig.backend.evaluator, data: await rig.backend.data,
                                      amplitudes: await rig.backend.amplitudes, config: rig.config)
        let all = try search.hits(rig.breaks.breakpoints)
        let from = (rig.session.state.sample, rig.session.state.step)
        let after = all.filter { ($0.sample, $0.step) > from }
        guard let first = after.first else { return XCTFail("no coupling in \(layer.name)") }
        guard let second = after.first(where: { ($0.sample, $0.step) > (first.sample, first.step) }) else {
            return XCTFail("only one coupling stop")
        }
        // Several hits at one step: each c visits the next one there before the next step.
        func group(_ h: BreakHit) -> [BreakHit] { after.filter { $0.sample == h.sample && $0.step == h.step } }
        func suffix(_ hits: [BreakHit], _ i: Int) -> String {
            hits.count < 2 ? "" : i == 0 ? " (+\(hits.count - 1) more here)" : " (\(i + 1) of \(hits.count) here)"
        }
        func expect(_ hit: BreakHit, _ hits: [BreakHit], _ i: Int) {
            let s = rig.session.state
            XCTAssertEqual(s.message, "break 1: coupling \(layer.name) — \(layer.name) neuron \(hit.neuron!), sample \(hit.sample), g \(hit.step)"
                           + suffix(hits, i))
            XCTAssertEqual([s.sample, s.step, s.neuron], [hit.sample, hit.step, hit.neuron!])
            XCTAssertEqual(s.selectedLayer, hit.layer)
        }
        let visits = group(first).enumerated().map { ($1, group(first), $0) } + [(second, group(second), 0)]
        for (hit, hits, i) in visits {
            await rig.session.press(.char("c"))
            expect(hit, hits, i)
        }
        // C goes back to the first stop, to its last hit; hit counts count the stops (searches).
        await rig.session.press(.char("C"))
        expect(group(first).last!, group(first), group(first).count - 1)
        XCTAssertEqual(rig.breaks.hitCount(1), 3)
        (msg, _) = await command(&rig, "breaks")
        XCTAssertEqual(msg, "1 breakpoint; Esc closes the list")
        XCTAssertEqual(rig.session.state.overlay,
                       .breakpoints([BreakpointRow(number: 1, enabled: true, condition: "coupling \(layer.name)", hits: 3)]))
    }

    /// Two breakpoints on one condition hit at every stop together: c visits the second hit at
    /// the same step before searching on, and C walks back through them.
    func testSeveralHitsAtOneStepAreVisitedInTurn() async throws {
        var rig = try await makeRig()
        let layout = await rig.backend.layout()
        let layer = layout.layers[2]
        _ = await command(&rig, "break coupling \(layer.name)")
        _ = await command(&rig, "break coupling \(layer.name)")
        let search = BreakpointSearch(evaluator: await rig.backend.evaluator, data: await rig.backend.data,
                                      amplitudes: await rig.backend.amplitudes, config: rig.config)
        let from = (rig.session.state.sample, rig.session.state.step)
        let after = try search.hits(rig.breaks.breakpoints).filter { ($0.sample, $0.step) > from }
        let steps = after.map { [$0.sample, $0.step] }.reduce(into: [[Int]]()) { if $0.last != $1 { $0.append($1) } }
        guard steps.count >= 2 else { return XCTFail("fewer than two coupling stops") }
        func at() -> [Int] { [rig.session.state.sample, rig.session.state.step] }
        func message() -> String { rig.session.state.message ?? "" }
        await rig.session.press(.char("c"))
        XCTAssertEqual(at(), steps[0])
        XCTAssertTrue(message().hasPrefix("break 1: "), message())
        XCTAssertTrue(message().hasSuffix(" more here)"), message())
        await rig.session.press(.char("c"))
        XCTAssertEqual(at(), steps[0], "the other hit at this step first")
        XCTAssertTrue(message().hasPrefix("break 2: "), message())
        let n = after.filter { [$0.sample, $0.step] == steps[0] }.count
        if n == 2 {
            XCTAssertTrue(message().hasSuffix("(2 of 2 here)"), message())
        }
        for _ in 2..<n { await rig.session.press(.char("c")) }
        await rig.session.press(.char("c"))
        XCTAssertEqual(at(), steps[1], "then the next step")
        XCTAssertTrue(message().hasPrefix("break 1: "), message())
        await rig.session.press(.char("C"))
        XCTAssertEqual(at(), steps[0], "C: back to the previous step, at its last hit")
        XCTAssertTrue(message().hasPrefix("break 2: ") && message().hasSuffix("(\(n) of \(n) here)"), message())
        XCTAssertEqual(rig.breaks.hitCount(1), 3, "stops found: 2 forward, 1 back; walking within a step counts none")
    }

    func testBreakpointCommandsAndBadInput() async throws {
        var rig = try await makeRig(limit: 4)
        let layout = await rig.backend.layout()
        let name = layout.layers[1].name
        // Every condition kind parses through the view and the host.
        let good = ["coupling", "overflow \(name)", "violation \(name)", "spike \(name) 0", "margin < 0.5",
                    "residual > 2", "residual \(name) > 1e9", "flip", "disagree"]
        for (i, text) in good.enumerated() {
            let (msg, err) = await command(&rig, "break \(text)")
            XCTAssertFalse(err, msg)
            XCTAssertTrue(msg.hasPrefix("breakpoint \(i + 1): "), msg)
        }
        XCTAssertEqual(rig.breaks.breakpoints.count, good.count)
        // Bad conditions: one-line error, nothing added.
        for bad in ["break", "break bogus", "break spike \(name) 99999999", "break margin 3", "break residual > -1",
                    "break flip now", "break spike input 0"] {
            let (msg, err) = await command(&rig, bad)
            XCTAssertTrue(err, "\(bad): \(msg)")
            XCTAssertFalse(msg.contains("\n"))
        }
        XCTAssertEqual(rig.breaks.breakpoints.count, good.count)
        var (msg, err) = await command(&rig, "disable 2")
        XCTAssertEqual(msg, "disabled breakpoint 2")
        XCTAssertEqual(rig.breaks.breakpoints[1].enabled, false)
        (msg, _) = await command(&rig, "enable 2")
        XCTAssertEqual(rig.breaks.breakpoints[1].enabled, true)
        for bad in ["delete 99", "delete x", "disable all", "enable", "enable 0"] {
            (msg, err) = await command(&rig, bad)
            XCTAssertTrue(err, "\(bad): \(msg)")
        }
        (msg, err) = await command(&rig, "delete 1")
        XCTAssertEqual(msg, "deleted breakpoint 1")
        XCTAssertEqual(rig.breaks.breakpoints.map(\.number), Array(2...good.count))
        (msg, _) = await command(&rig, "delete all")
        XCTAssertTrue(rig.breaks.breakpoints.isEmpty)
        // c with no breakpoints says so and does not move.
        let before = [rig.session.state.sample, rig.session.state.step]
        await rig.session.press(.char("c"))
        XCTAssertEqual(rig.session.state.message, "c: no breakpoints; :break COND adds one")
        XCTAssertEqual([rig.session.state.sample, rig.session.state.step], before)
        // A breakpoint that never hits: nothing moves.
        _ = await command(&rig, "break residual > 1e30")
        await rig.session.press(.char("c"))
        XCTAssertEqual(rig.session.state.message, "c: no further hit of the enabled breakpoints")
        XCTAssertEqual([rig.session.state.sample, rig.session.state.step], before)
    }
}
