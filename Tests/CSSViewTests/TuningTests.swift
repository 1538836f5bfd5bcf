import Foundation
import XCTest
import CSSSnapshots
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
final class RoundsFixtureBackend: SimulationBackend, Sendable {
    private let currentRound = Locked(0)
    var round: Int {
        get { currentRound.value }
        set { currentRound.value = newValue }
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
        // `:unwatch` shares the prefix: u offers both, und completes undo.
        XCTAssertEqual(complete("u", state: s).1, ["undo", "unwatch"])
        XCTAssertEqual(complete("und", state: s).0, "undo ")
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
