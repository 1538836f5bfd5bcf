import Foundation
import XCTest
import CSSCore
@testable import CSSView

/// Every `:` command of the live θ tuning host.
let tuningCommands = ["theta", "scale", "adjust", "reset", "undo", "redo", "set", "w", "restore", "discard"]

/// Fixture snapshots after a θ change: the trace and report with conv1's θ scaled and the report's
/// numbers moved by hand (residual and overflow better in conv1, coupling worse in conv2).
enum TunedFixture {
    /// A copy of a trace with θ of spiking layer `layer` multiplied by `factor` (values untouched).
    static func trace(sample: Int, layer: Int = 0, factor: Double) -> SampleTrace {
        let t = Fixture.trace(sample: sample)
        let layers = t.layers.enumerated().map { i, lt in
            LayerTrace(info: lt.info, theta: i == layer ? lt.theta * factor : lt.theta, T: lt.T, silent: lt.silent,
                       threshold: lt.threshold, membrane: lt.membrane, input: lt.input, spikes: lt.spikes,
                       target: lt.target, encoded: lt.encoded, annActivation: lt.annActivation, margins: lt.margins)
        }
        return SampleTrace(layout: t.layout, sample: t.sample, label: t.label, annOutput: t.annOutput,
                           encoder: t.encoder, layers: layers, outputSlots: t.outputSlots)
    }

    /// Round 1: conv1 θ ×1.05, p99.9 and overflow down, conv2 coupling up, SNN accuracy down a sample.
    /// Round 2: conv1 θ ×1.10 of the start, everything back at 100%.
    static func report(round: Int) -> DatasetReport {
        var r = Fixture.report()
        let factor = round == 1 ? 1.05 : 1.10
        r.layers[0].theta *= factor
        r.amplitudes.layers[0] *= factor
        r.layers[0].residualP999 -= 0.5 * Double(round)
        r.layers[0].overflow -= 4 * round
        r.layers[1].coupling += 2
        if round == 1 {
            r.snnAccuracy = 0.75
            r.agreement = 0.75
        }
        return r
    }
}

/// Serves the fixture; `round` (0 = calibrated start) picks the tuned report after reloads.
final class TunableBackend: SimulationBackend, @unchecked Sendable {
    private let lock = NSLock()
    private var _round = 0
    var round: Int {
        get { lock.withLock { _round } }
        set { lock.withLock { _round = newValue } }
    }

    func layout() async -> NetworkLayout { Fixture.layout() }
    func sampleCount() async -> Int { 4 }
    func trace(sample: Int) async throws -> SampleTrace {
        let r = round
        return r == 0 ? Fixture.trace(sample: sample) : TunedFixture.trace(sample: sample, factor: r == 1 ? 1.05 : 1.10)
    }
    func report(progress: @escaping @Sendable (Double) -> Void) async throws -> DatasetReport {
        progress(0.5)
        let r = round
        return r == 0 ? Fixture.report() : TunedFixture.report(round: r)
    }
}

/// A state that went through one θ change: calibrated report, reload, tuned trace and report.
func tunedState(width: Int = 160, height: Int = 48) -> ViewState {
    var s = loadedState(width: width, height: height).with { $0.hostCommands = tuningCommands }
    s = update(s, .reload).0
    s = update(s, .traceArrived(TunedFixture.trace(sample: 0, factor: 1.05))).0
    s = update(s, .reportArrived(TunedFixture.report(round: 1))).0
    return s
}

final class TuningKeyTests: XCTestCase {
    func hostState() -> ViewState {
        loadedState().with { $0.hostCommands = tuningCommands }
    }

    func testScaleKeysOnSelectedLayer() {
        var s = hostState()
        s = press(s, [.down]).0
        XCTAssertEqual(s.selectedLayer, 1)
        let cases: [(Character, String)] = [(">", "1.05"), ("<", "0.95"), (".", "1.01"), (",", "0.99")]
        for (key, factor) in cases {
            let (n, cmds) = press(s, [.char(key)])
            XCTAssertEqual(cmds, [.host(.scaleTheta(layer: 1, factor: Double(factor)!))], "\(key)")
            XCTAssertEqual(n.message, ":scale 1 \(factor) …")
            XCTAssertFalse(n.messageIsError)
            XCTAssertEqual(n.layerRow, s.layerRow)  // nothing else moves
        }
    }

    func testAdjustUndoRedoResetKeys() {
        let s = press(hostState(), [.down, .down]).0
        XCTAssertEqual(s.selectedLayer, 2)
        XCTAssertEqual(press(s, [.char("a")]).1, [.host(.adjust(layer: 2, rounds: 1))])
        XCTAssertEqual(press(s, [.char("A")]).1, [.host(.adjust(layer: nil, rounds: 1))])
        XCTAssertEqual(press(s, [.char("u")]).1, [.host(.undo)])
        XCTAssertEqual(press(s, [.char("U")]).1, [.host(.redo)])
        XCTAssertEqual(press(s, [.char("R")]).1, [.host(.reset(layer: 2))])
    }

    func testKeysInactiveWithoutHostCommands() {
        // The default fixture registers only :theta and :set: every tuning key does nothing.
        let s = loadedState()
        for key in chars("><.,aAuUR") {
            let (n, cmds) = press(s, [key])
            XCTAssertTrue(cmds.isEmpty, "\(key)")
            XCTAssertNil(n.message, "\(key)")
        }
        // Each key is gated on its own command.
        let only = loadedState().with { $0.hostCommands = ["undo"] }
        XCTAssertEqual(press(only, [.char("u")]).1.count, 1)
        XCTAssertTrue(press(only, [.char("U")]).1.isEmpty)
        XCTAssertTrue(press(only, [.char(">")]).1.isEmpty)
    }

    func testLayerKeysNeedASpikingLayer() {
        var s = press(hostState(), [.up]).0
        XCTAssertTrue(s.isEncoderSelected)
        var (n, cmds) = press(s, [.char(">")])
        XCTAssertTrue(cmds.isEmpty)
        XCTAssertTrue(n.messageIsError)
        XCTAssertTrue(n.message?.contains("spiking layer") == true)
        s = press(s, [.char("G"), .down, .down, .down, .down]).0
        XCTAssertTrue(s.isOutputSelected)
        (n, cmds) = press(s, [.char("R")])
        XCTAssertTrue(cmds.isEmpty)
        XCTAssertTrue(n.messageIsError)
        // A / u / U do not need a layer (u, a change, also cancels the running A).
        let asked = press(s, [.char("A"), .char("u"), .char("U")]).1
        XCTAssertEqual(asked, [.host(.adjust(layer: nil, rounds: 1)), .cancelHost, .host(.undo), .host(.redo)])
    }

    func testKeysAreTextInsideThePrompt() {
        let (n, cmds) = press(hostState(), chars(":a>u"))
        XCTAssertTrue(cmds.isEmpty)
        XCTAssertEqual(n.prompt?.text, "a>u")
    }

    func testHelpListsTuningKeysAndScrolls() {
        var s = hostState().with { $0.width = 80; $0.height = 24 }
        let lines = HelpOverlay.lines(s)
        for key in ["> / <", ". / ,", "a / A", "u / U", "R "] {
            XCTAssertTrue(lines.contains { $0.hasPrefix(key) }, key)
        }
        XCTAssertTrue(lines.contains { $0.contains(":adjust [LAYER|all] [ROUNDS 1-100]") })
        XCTAssertFalse(HelpOverlay.lines(loadedState()).contains { $0.hasPrefix("> / <") })
        s = press(s, [.char("?")]).0
        XCTAssertEqual(s.helpScroll, 0)
        let visible = HelpOverlay.visibleLines(s)
        XCTAssertLessThan(visible, lines.count)
        XCTAssertTrue(Screen.render(s).text().joined().contains("more: j/k scroll"))
        s = press(s, [.char("j"), .down]).0
        XCTAssertEqual(s.helpScroll, 2)
        s = press(s, [.char("G")]).0
        XCTAssertEqual(s.helpScroll, lines.count - visible)
        XCTAssertTrue(Screen.render(s).text().joined().contains("worst margin, residual"))
        s = press(s, [.pageUp, .pageUp, .pageUp, .pageUp, .pageUp, .pageUp, .char("k")]).0
        XCTAssertEqual(s.helpScroll, 0)
        XCTAssertEqual(s.overlay, .help)
        s = press(s, [.escape]).0
        XCTAssertEqual(s.overlay, .none)
        // Opening it again starts at the top.
        s = press(s, [.char("?"), .char("j"), .char("?"), .char("?")]).0
        XCTAssertEqual(s.helpScroll, 0)
    }

    func testFindEscRestoresSelection() {
        var s = loadedState()
        s = press(s, [.right, .right]).0
        XCTAssertEqual(s.neuron, 2)
        s = press(s, chars("/fc")).0
        XCTAssertEqual(s.rowName(s.layerRow), "fc1")
        s = press(s, [.escape]).0
        XCTAssertNil(s.prompt)
        XCTAssertEqual(s.rowName(s.layerRow), "conv1")
        XCTAssertEqual(s.neuron, 2)
        // Enter keeps the found layer.
        s = press(s, chars("/fc") + [.enter]).0
        XCTAssertEqual(s.rowName(s.layerRow), "fc1")
    }
}

final class TuningCompletionTests: XCTestCase {
    let s = loadedState().with { $0.hostCommands = tuningCommands }

    func testCommandNames() {
        XCTAssertEqual(complete("sc", state: s).0, "scale ")
        XCTAssertEqual(complete("re", state: s).1, ["redo", "report", "reset", "restore"])
        XCTAssertEqual(complete("re", state: s).0, "re")
        XCTAssertEqual(complete("res", state: s).0, "res")
        XCTAssertEqual(complete("d", state: s).0, "discard ")
        XCTAssertEqual(complete("u", state: s).0, "undo ")
    }

    func testLayerArguments() {
        XCTAssertEqual(complete("scale co", state: s).0, "scale conv")
        XCTAssertEqual(complete("scale co", state: s).1, ["conv1", "conv2"])
        XCTAssertEqual(complete("theta f", state: s).0, "theta fc1 ")
        XCTAssertEqual(complete("theta C", state: s).1, ["conv1", "conv2"])  // case-insensitive
        XCTAssertEqual(complete("adjust a", state: s).0, "adjust all ")
        XCTAssertEqual(complete("reset ", state: s).1, ["conv1", "conv2", "fc1", "all"])
        XCTAssertEqual(complete("reset ", state: s).0, "reset ")
        // Only spiking layers: no encoder or output for θ commands.
        XCTAssertEqual(complete("theta e", state: s).1, [])
        XCTAssertEqual(complete("theta a", state: s).1, [])  // "all" only for adjust and reset
        // Only the first argument completes.
        XCTAssertEqual(complete("scale conv1 1", state: s).0, "scale conv1 1")
    }

    func testSetKeys() {
        XCTAssertEqual(complete("set be", state: s).0, "set beta ")
        XCTAssertEqual(complete("set ", state: s).1, setKeys)
        XCTAssertEqual(complete("set p", state: s).0, "set percentile ")
        XCTAssertEqual(complete("set t", state: s).0, "set T ")
    }

    func testTabInThePrompt() {
        var st = press(s, chars(":sca") + [.tab] + chars("c") + [.tab]).0
        XCTAssertEqual(st.prompt?.text, "scale conv")
        XCTAssertEqual(st.message, "conv1  conv2   (Tab again: each in turn)")
        st = press(st, chars("2 1.1") + [.enter]).0
        let (_, cmds) = press(s, chars(":scale conv2 1.1") + [.enter])
        XCTAssertEqual(cmds, [.host(.scaleTheta(layer: 1, factor: 1.1))])
        XCTAssertEqual(st.history.last, "scale conv2 1.1")
    }
}

final class BeforeAfterTests: XCTestCase {
    func testReportsThroughTwoChanges() {
        var s = loadedState().with { $0.hostCommands = tuningCommands }
        let base = Fixture.report()
        XCTAssertEqual(s.baselineReport, base)
        XCTAssertNil(s.previousReport)
        XCTAssertNil(s.comparisonReport)
        XCTAssertEqual(s.reloadCount, 0)

        // The host applied a change: everything is fetched again, old numbers stay (stale).
        var cmds: [Command]
        (s, cmds) = update(s, .reload)
        XCTAssertEqual(cmds, [.cancelReport, .loadLayout, .loadTrace(sample: 0), .loadReport])
        XCTAssertTrue(s.reportStale)
        XCTAssertTrue(s.traceStale)
        XCTAssertEqual(s.reportProgress, 0)
        XCTAssertEqual(s.report, base)
        XCTAssertNil(s.previousReport)
        XCTAssertEqual(s.reloadCount, 1)
        s = update(s, .layoutArrived(Fixture.layout(), sampleCount: 4)).0
        s = update(s, .traceArrived(TunedFixture.trace(sample: 0, factor: 1.05))).0
        XCTAssertFalse(s.traceStale)
        XCTAssertTrue(s.reportStale)
        s = update(s, .progress(0.5)).0

        // The new report arrives: the old one becomes "previous", the first stays the baseline.
        let r1 = TunedFixture.report(round: 1)
        s = update(s, .reportArrived(r1)).0
        XCTAssertFalse(s.reportStale)
        XCTAssertNil(s.reportProgress)
        XCTAssertEqual(s.report, r1)
        XCTAssertEqual(s.previousReport, base)
        XCTAssertEqual(s.baselineReport, base)
        XCTAssertEqual(s.comparisonReport, base)

        // Re-running the report without a change does not move "previous".
        s = press(s, [.char("r")]).0
        s = update(s, .reportArrived(r1)).0
        XCTAssertEqual(s.previousReport, base)

        // Second change.
        s = update(s, .reload).0
        XCTAssertNil(s.comparisonReport)  // deltas hidden while recomputing
        let r2 = TunedFixture.report(round: 2)
        s = update(s, .reportArrived(r2)).0
        XCTAssertEqual(s.previousReport, r1)
        XCTAssertEqual(s.baselineReport, base)
        XCTAssertEqual(s.reloadCount, 2)
    }

    func testTwoReloadsBeforeTheReportCompareWithWhatWasShown() {
        var s = loadedState()
        s = update(s, .reload).0
        s = update(s, .reload).0  // the first recomputation was cancelled
        s = update(s, .reportArrived(TunedFixture.report(round: 2))).0
        XCTAssertEqual(s.previousReport, Fixture.report())
        XCTAssertEqual(s.reloadCount, 2)
    }

    func testFailedRecomputationStaysStale() {
        var s = loadedState(width: 120, height: 30)
        s = update(s, .reload).0
        s = update(s, .backendFailed("report: out of memory")).0
        XCTAssertTrue(s.reportStale)
        XCTAssertNil(s.reportProgress)
        s = update(s, .traceArrived(Fixture.trace(sample: 0))).0
        let g = Screen.render(s.with { $0.overlay = .none })
        XCTAssertTrue(g.text()[1].contains("report stale, r recomputes"))
        var cmds: [Command]
        (s, cmds) = press(s.with { $0.overlay = .none }, [.char("r")])
        XCTAssertEqual(cmds, [.loadReport])
        s = update(s, .reportArrived(TunedFixture.report(round: 1))).0
        XCTAssertEqual(s.previousReport, Fixture.report())
    }

    func testLayerDeltas() {
        let s = tunedState()
        let d0 = LayerListPane.rowData(s, row: 1)
        XCTAssertEqual(d0.p999Delta.text, "-.500")
        XCTAssertEqual(d0.p999Delta.role, .better)
        XCTAssertEqual(d0.overflowDelta.text, "-4")
        XCTAssertEqual(d0.overflowDelta.role, .better)
        XCTAssertEqual(d0.couplingDelta.text, "0")
        XCTAssertEqual(d0.couplingDelta.role, .dim)
        XCTAssertEqual(d0.thetaDelta.text, "+5.0%")
        let d1 = LayerListPane.rowData(s, row: 2)
        XCTAssertEqual(d1.couplingDelta.text, "+2")
        XCTAssertEqual(d1.couplingDelta.role, .worse)
        XCTAssertEqual(d1.thetaDelta.text, "0")
        XCTAssertFalse(d1.spikesStale)
    }

    func testStaleNumbersWhileRecomputing() {
        var s = loadedState()
        s = update(s, .reload).0
        var d = LayerListPane.rowData(s, row: 1)
        XCTAssertEqual(d.p999Role, .dim)
        XCTAssertEqual(d.overflowRole, .dim)
        XCTAssertEqual(d.thetaRole, .dim)
        XCTAssertTrue(d.spikesStale)
        XCTAssertEqual(d.thetaDelta.text, "")
        // The fresh trace already knows the new θ: shown (not dim) with its change.
        s = update(s, .traceArrived(TunedFixture.trace(sample: 0, factor: 1.05))).0
        d = LayerListPane.rowData(s, row: 1)
        XCTAssertEqual(d.thetaRole, .normal)
        XCTAssertEqual(d.theta, "0.105")
        XCTAssertEqual(d.thetaDelta.text, "+5.0%")
        XCTAssertEqual(d.p999Role, .dim)
        XCTAssertEqual(d.p999Delta.text, "")
        XCTAssertFalse(d.spikesStale)
        let status = Screen.render(update(s, .progress(0.25)).0).text()[1]
        XCTAssertTrue(status.contains("recomputing"), status)
    }

    func testStatusDeltasAndIndicator() {
        var s = tunedState(width: 120, height: 30)
        var line = Screen.render(s).text()[1]
        XCTAssertTrue(line.contains("SNN 75.0% (-25.0 / -25.0)"), line)
        XCTAssertTrue(line.contains("agree 75.0% (-25.0 / -25.0)"), line)
        XCTAssertTrue(Screen.render(s).text()[0].contains("tuning: 1 reload "))
        // Second change: back to 100%: +25 against the previous, 0 against the baseline.
        s = update(s, .reload).0
        s = update(s, .reportArrived(TunedFixture.report(round: 2))).0
        line = Screen.render(s).text()[1]
        XCTAssertTrue(line.contains("SNN 100.0% (+25.0 / 0)"), line)
        XCTAssertTrue(Screen.render(s).text()[0].contains("tuning: 2 reloads "))
        // The host's own count wins.
        s = update(s, .tuningStatus(TuningStatus(changes: 1, redoable: 1))).0
        XCTAssertTrue(Screen.render(s).text()[0].contains("tuning: 1 change, 1 undone"))
        XCTAssertEqual(StatusPane.percentDigits(10_000), 2)
    }
}

final class RestoreOfferTests: XCTestCase {
    let question = "Restore the tuning session saved 12:03 (5 changes)?"

    func testYesRestores() {
        var s = loadedState()
        s = update(s, .offerRestore(question)).0
        XCTAssertEqual(s.overlay, .restoreOffer(question))
        // Other keys (and clicks) wait for an answer.
        var (n, cmds) = press(s, [.char("q"), .char("j"), .click(x: 5, y: 5)])
        XCTAssertTrue(cmds.isEmpty)
        XCTAssertEqual(n.overlay, .restoreOffer(question))
        XCTAssertEqual(n.layerRow, s.layerRow)
        (n, cmds) = press(n, [.char("y")])
        XCTAssertEqual(cmds, [.host(.restore)])
        XCTAssertEqual(n.overlay, .none)
    }

    func testEscAndNKeepTheSessionAndDDiscards() {
        let s = update(loadedState().with { $0.hostCommands = tuningCommands }, .offerRestore(question)).0
        // Esc and n never destroy anything: no command reaches the host, `:restore` is named.
        for key in [Key.escape, .char("n")] {
            let (n, cmds) = press(s, [key])
            XCTAssertEqual(cmds, [])
            XCTAssertEqual(n.overlay, .none)
            XCTAssertEqual(n.message?.contains(":restore"), true)
            // `:restore` afterwards goes to the host.
            XCTAssertEqual(press(n, chars(":restore") + [.enter]).1, [.host(.restore)])
        }
        // Discarding is the explicit d.
        for key in [Key.char("d"), .char("D")] {
            let (n, cmds) = press(s, [key])
            XCTAssertEqual(cmds, [.host(.discard)])
            XCTAssertEqual(n.overlay, .none)
        }
        // Ctrl-C still quits.
        XCTAssertEqual(press(s, [.ctrlC]).1, [.quit])
    }

    func testOfferWinsOverPromptAndErrors() {
        var s = press(loadedState(), chars(":sam")).0
        s = update(s, .offerRestore(question)).0
        s = update(s, .backendFailed("sample 3: boom")).0
        XCTAssertEqual(s.overlay, .restoreOffer(question))
        XCTAssertEqual(s.message, "sample 3: boom")
        let (n, cmds) = press(s, [.char("y")])
        XCTAssertEqual(cmds.count, 1)
        XCTAssertEqual(n.prompt?.text, "sam")  // the prompt is still there afterwards
    }

    func testHeadlessRecordsTheAnswer() async {
        var session = HeadlessSession(backend: FixtureBackend(), state: ViewState(width: 80, height: 24))
        await session.start()
        await session.send(.offerRestore(question))
        XCTAssertTrue(session.render().text().joined().contains("Saved tuning session"))
        await session.press(.char("y"))
        XCTAssertEqual(session.hostRequests, [.restore])
    }
}

final class TuningHeadlessTests: XCTestCase {
    func testKeyChangeReloadDeltas() async {
        let backend = TunableBackend()
        var session = HeadlessSession(backend: backend,
                                      state: ViewState(width: 120, height: 30, hostCommands: tuningCommands))
        await session.start()
        XCTAssertEqual(session.state.baselineReport, Fixture.report())
        await session.press(.char(">"))
        XCTAssertEqual(session.hostRequests, [.scaleTheta(layer: 0, factor: 1.05)])
        // What the host does: apply the change, answer with a message and a reload.
        backend.round = 1
        await session.send(.info("conv1 θ 0.1 → 0.105 (×1.05)"))
        await session.send(.reload)
        XCTAssertEqual(session.state.report, TunedFixture.report(round: 1))
        XCTAssertEqual(session.state.previousReport, Fixture.report())
        XCTAssertFalse(session.state.reportStale)
        let text = session.render().text()
        XCTAssertTrue(text[1].contains("(-25.0 / -25.0)"), text[1])
        XCTAssertEqual(text.last?.hasPrefix("conv1 θ 0.1 → 0.105"), true)
    }
}

final class TuningGoldenTests: XCTestCase {
    func testStatusWithDeltas() {
        var s = tunedState()
        s = update(s, .tuningStatus(TuningStatus(changes: 1))).0
        var g = CellGrid(width: 120, height: 2)
        StatusPane.render(s, into: &g, rect: g.bounds)
        assertGolden(g, "pane_status_deltas")
    }

    func testStatusWhileRecomputing() {
        var s = tunedState()
        s = update(s, .reload).0
        s = update(s, .progress(0.5)).0
        var g = CellGrid(width: 120, height: 2)
        StatusPane.render(s, into: &g, rect: g.bounds)
        assertGolden(g, "pane_status_recomputing")
    }

    func testLayerListWithDeltas() {
        // The output row is selected so that the deltas' colours show in the role grid.
        let s = press(tunedState(), [.char("n"), .char("n"), .down, .down, .down]).0
        assertGolden(renderPane(.layers, s, width: 64, height: 8), "pane_layers_deltas")
        // The 80×24 layer pane: the Δ columns win over spike counts and θ.
        assertGolden(renderPane(.layers, s, width: 43, height: 8), "pane_layers_deltas_narrow")
        let ascii = renderPane(.layers, s.with { $0.unicode = false }, width: 64, height: 8)
        XCTAssertTrue(ascii.text()[1].contains(" d "))
    }

    func testLayerListWhileRecomputing() {
        var s = press(tunedState(), [.char("n"), .char("n"), .down, .down, .down]).0
        s = update(s, .reload).0
        s = update(s, .traceArrived(TunedFixture.trace(sample: 0, factor: 1.10))).0
        assertGolden(renderPane(.layers, s, width: 64, height: 8), "pane_layers_recomputing")
    }

    func testTunedScreen80x24() {
        var s = press(tunedState(width: 80, height: 24), [.char("n"), .char("n")]).0
        s = update(s, .info("conv1 θ 0.1 → 0.105 (×1.05), report recomputed")).0
        assertGolden(Screen.render(s), "screen_tuned_80x24")
    }

    func testRestoreOverlay() {
        let s = update(loadedState(width: 80, height: 24),
                       .offerRestore("Restore the tuning session saved 2026-12-01 21:03:04 (5 changes)? It sets T 16 (command line 10), L 0 (command line 1), θ in 4 of 4 layers.")).0
        assertGolden(Screen.render(s), "overlay_restore_80x24")
        let ascii = Screen.render(s.with { $0.unicode = false })
        for line in ascii.text() { XCTAssertTrue(line.allSatisfy { $0.isASCII }, line) }
    }

    func testHelpWithTuningKeys() {
        var s = loadedState(width: 80, height: 24).with { $0.hostCommands = tuningCommands }
        s = press(s, [.char("?"), .char("j"), .char("j"), .char("j"), .char("j"), .char("j"), .char("j")]).0
        assertGolden(Screen.render(s), "overlay_help_tuning_80x24")
    }
}
