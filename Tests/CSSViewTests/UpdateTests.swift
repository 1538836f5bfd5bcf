import XCTest
import CSSSnapshots
@testable import CSSView

final class UpdateTests: XCTestCase {
    func testInitialCommands() {
        let s = ViewState(width: 80, height: 24, sample: 2)
        XCTAssertEqual(initialCommands(s), [.loadLayout, .loadTrace(sample: 2), .loadReport])
    }

    func testSteppingClamps() {
        var s = loadedState()
        XCTAssertEqual(s.step, 0)
        s = press(s, [.char("b")]).0
        XCTAssertEqual(s.step, 0)
        s = press(s, [.char("n"), .char("n"), .char("n")]).0
        XCTAssertEqual(s.step, 3)
        s = press(s, [.char("b")]).0
        XCTAssertEqual(s.step, 2)
        s = press(s, [.char("G")]).0
        XCTAssertEqual(s.step, Fixture.layout().latency)
        s = press(s, [.char("n")]).0
        XCTAssertEqual(s.step, s.maxStep)
        s = press(s, [.char("g")]).0
        XCTAssertEqual(s.step, 0)
    }

    func testWindowStartJump() {
        var s = loadedState()
        s = press(s, [.down, .down, .char("w")]).0
        XCTAssertEqual(s.rowName(s.layerRow), "fc1")
        XCTAssertEqual(s.step, Fixture.layout().layers[2].windowStart)
    }

    func testLayerAndNeuronSelection() {
        var s = loadedState()
        XCTAssertEqual(s.layerRow, 1)  // first spiking layer
        s = press(s, [.char("k")]).0
        XCTAssertTrue(s.isEncoderSelected)
        s = press(s, [.up]).0
        XCTAssertEqual(s.layerRow, 0)
        s = press(s, [.char("j"), .char("j"), .char("j"), .char("j"), .char("j")]).0
        XCTAssertTrue(s.isOutputSelected)
        s = press(s, [.up, .up]).0
        XCTAssertEqual(s.selectedLayer, 1)
        s = press(s, [.char("l"), .right, .char("h")]).0
        XCTAssertEqual(s.neuron, 1)
        s = press(s, [.left, .left, .left]).0
        XCTAssertEqual(s.neuron, 0)
        s = press(s, [.end]).0
        XCTAssertEqual(s.neuron, 26)
        // Moving to a smaller layer clamps the neuron.
        s = press(s, [.char("G")]).0
        s.neuron = 100
        s = press(s, [.down]).0
        XCTAssertEqual(s.rowName(s.layerRow), "fc1")
        XCTAssertLessThan(s.neuron, 40)
    }

    func testMembraneGridNavigation() {
        var s = loadedState()
        s = press(s, [.tab]).0
        XCTAssertEqual(s.focus, .membrane)
        s = press(s, [.down]).0
        XCTAssertEqual(s.neuron, 6)  // conv1 tiles are 6 wide
        s = press(s, [.char("j"), .char("l")]).0
        XCTAssertEqual(s.neuron, 13)
        s = press(s, [.char("k")]).0
        XCTAssertEqual(s.neuron, 7)
        s = press(s, [.up, .up]).0
        XCTAssertEqual(s.neuron, 1)  // cannot go above row 0
        s = press(s, [.pageDown]).0
        XCTAssertGreaterThan(s.neuron, 1)
        XCTAssertEqual(s.layerRow, 1)
    }

    func testTabCyclesFocusAndLowerSlots() {
        var s = loadedState(width: 80, height: 24)
        var seen: [Pane] = []
        for _ in 0..<6 {
            s = press(s, [.tab]).0
            seen.append(s.focus)
        }
        XCTAssertEqual(seen, [.membrane, .inspector, .raster, .histogram, .coupling, .layers])
        XCTAssertEqual(s.lowerLeft, .coupling)
        XCTAssertEqual(s.lowerRight, .raster)
        XCTAssertNotNil(ScreenLayout(s).panes[.raster])
        XCTAssertNil(ScreenLayout(s).panes[.inspector])
        s = press(s, [.backTab]).0
        XCTAssertEqual(s.focus, .coupling)
    }

    func testHotspotEnterJumps() {
        var s = loadedState()
        let report = Fixture.report()
        // Pick a hotspot on a different sample than the one shown.
        let idx = report.hotspots.firstIndex(where: { $0.sample != 0 && $0.layer > 0 })!
        let h = report.hotspots[idx]
        while s.focus != .coupling { s = press(s, [.tab]).0 }
        for _ in 0..<idx { s = press(s, [.down]).0 }
        XCTAssertEqual(s.hotspot, idx)
        let (next, cmds) = press(s, [.enter])
        XCTAssertEqual(cmds, [.loadTrace(sample: h.sample)])
        XCTAssertEqual(next.sample, h.sample)
        XCTAssertEqual(next.selectedLayer, h.layer)
        XCTAssertEqual(next.neuron, h.neuron)
        XCTAssertEqual(next.step, report.layout.layers[h.layer].windowStart + h.firstViolationStep)
        // Trace arrives; the selection survives.
        let after = update(next, .traceArrived(Fixture.trace(sample: h.sample))).0
        XCTAssertEqual(after.neuron, h.neuron)
        XCTAssertEqual(after.selectedTrace?.info.index, h.layer)
    }

    func testHelpToggles() {
        var s = loadedState()
        s = press(s, [.char("?")]).0
        XCTAssertEqual(s.overlay, .help)
        s = press(s, [.char("n")]).0  // ignored under help
        XCTAssertEqual(s.step, 0)
        s = press(s, [.char("?")]).0
        XCTAssertEqual(s.overlay, .none)
        s = press(s, [.char("?"), .escape]).0
        XCTAssertEqual(s.overlay, .none)
        XCTAssertEqual(press(s, [.char("?"), .char("q")]).1, [.quit])
    }

    func testQuitKeys() {
        let s = loadedState()
        XCTAssertEqual(press(s, [.char("q")]).1, [.quit])
        XCTAssertEqual(press(s, [.ctrlC]).1, [.quit])
        XCTAssertEqual(press(s, chars(":q") + [.enter]).1, [.quit])
        // Ctrl-C quits even with the prompt open.
        XCTAssertEqual(press(s, chars(":sam") + [.ctrlC]).1, [.quit])
    }

    func testCommandSample() {
        let s = loadedState()
        let (n, cmds) = press(s, chars(":sample 3") + [.enter])
        XCTAssertEqual(n.sample, 3)
        XCTAssertEqual(cmds, [.loadTrace(sample: 3)])
        XCTAssertEqual(n.history, ["sample 3"])
        XCTAssertNil(n.prompt)
        XCTAssertEqual(n.loadingSample, 3)
        let (bad, c2) = press(s, chars(":sample 99") + [.enter])
        XCTAssertEqual(bad.sample, 0)
        XCTAssertTrue(c2.isEmpty)
        XCTAssertTrue(bad.messageIsError)
    }

    func testCommandsStepLayerNeuron() {
        var s = loadedState()
        s = press(s, chars(":step 5") + [.enter]).0
        XCTAssertEqual(s.step, 5)
        s = press(s, chars(":step 99") + [.enter]).0
        XCTAssertEqual(s.step, 5)
        XCTAssertEqual(s.message, "step 99 out of range 0 to \(s.maxStep)", "ranges read as everywhere else")
        s = press(s, chars(":layer fc1") + [.enter]).0
        XCTAssertEqual(s.selectedLayer, 2)
        s = press(s, chars(":layer CONV2") + [.enter]).0
        XCTAssertEqual(s.selectedLayer, 1)
        s = press(s, chars(":neuron 4") + [.enter]).0
        XCTAssertEqual(s.neuron, 4)
        s = press(s, chars(":neuron 400") + [.enter]).0
        XCTAssertEqual(s.neuron, 4)
        XCTAssertEqual(s.message, "neuron 400 out of range 0 to 26")
        s = press(s, chars(":layer nope") + [.enter]).0
        XCTAssertTrue(s.messageIsError)
        s = press(s, chars(":frobnicate") + [.enter]).0
        XCTAssertEqual(s.message, "unknown command :frobnicate")
    }

    /// `:focus` puts a pane in front (lower panes into their slot); `:speed` picks the nearest
    /// play speed; both complete and reject what they do not know.
    func testCommandsFocusAndSpeed() {
        var s = loadedState()
        s = press(s, chars(":focus raster") + [.enter]).0
        XCTAssertEqual(s.focus, .raster)
        XCTAssertEqual(s.lowerRight, .raster)
        s = press(s, chars(":focus hist") + [.enter]).0
        XCTAssertEqual(s.focus, .histogram)
        XCTAssertEqual(s.lowerLeft, .histogram)
        s = press(s, chars(":focus hotspots") + [.enter]).0
        XCTAssertEqual(s.focus, .coupling)
        s = press(s, chars(":focus m") + [.enter]).0
        XCTAssertEqual(s.focus, .membrane)
        XCTAssertEqual(s.lowerLeft, .coupling)
        XCTAssertEqual(s.lowerRight, .raster)
        s = press(s, chars(":focus sideways") + [.enter]).0
        XCTAssertTrue(s.messageIsError)
        XCTAssertEqual(s.message, ":focus takes layers, membrane, neuron, raster, histogram, coupling, watch")
        XCTAssertEqual(s.focus, .membrane)

        s = press(s, chars(":speed 7") + [.enter]).0
        XCTAssertEqual(s.playSpeed, 8)
        XCTAssertEqual(s.message, "play speed 8 steps/s")
        s = press(s, chars(":speed 0.6") + [.enter]).0
        XCTAssertEqual(s.playSpeed, 0.5)
        s = press(s, chars(":speed 1000") + [.enter]).0
        XCTAssertEqual(s.playSpeed, 32)
        s = press(s, chars(":speed fast") + [.enter]).0
        XCTAssertTrue(s.messageIsError)
        XCTAssertEqual(s.playSpeed, 32)

        XCTAssertEqual(complete("focus ra", state: s).0, "focus raster")
        XCTAssertEqual(complete("spe", state: s).0, "speed ")
    }

    func testCustomCommandHook() {
        let s = loadedState()
        let (_, cmds) = press(s, chars(":theta 0.5") + [.enter])
        XCTAssertEqual(cmds, [])  // :theta needs a layer and a value: a usage error, nothing sent
        XCTAssertEqual(press(s, chars(":theta 0.5") + [.enter]).0.message, ":theta: usage: :theta LAYER VALUE")
        XCTAssertEqual(press(s, chars(":theta fc1 0.5") + [.enter]).1, [.host(.setTheta(layer: 2, value: 0.5))])
        // After the host handles it, a reload fetches everything again.
        let (r, rc) = update(s, .reload)
        XCTAssertEqual(rc, [.cancelReport, .loadLayout, .loadTrace(sample: 0), .loadReport])
        XCTAssertEqual(r.reportProgress, 0)
    }

    func testHistoryBrowsing() {
        var s = loadedState()
        s = press(s, chars(":step 1") + [.enter] + chars(":step 2") + [.enter] + chars(":step 2") + [.enter]).0
        XCTAssertEqual(s.history, ["step 1", "step 2"])
        s = press(s, chars(":ne")).0
        s = press(s, [.up]).0
        XCTAssertEqual(s.prompt?.text, "step 2")
        s = press(s, [.up, .up]).0
        XCTAssertEqual(s.prompt?.text, "step 1")
        s = press(s, [.down]).0
        XCTAssertEqual(s.prompt?.text, "step 2")
        s = press(s, [.down]).0
        XCTAssertEqual(s.prompt?.text, "ne")  // back to the draft
        s = press(s, [.up, .enter]).0
        XCTAssertEqual(s.step, 2)
    }

    func testBackspaceClosesEmptyPrompt() {
        var s = loadedState()
        s = press(s, chars(":a") + [.backspace]).0
        XCTAssertEqual(s.prompt?.text, "")
        s = press(s, [.backspace]).0
        XCTAssertNil(s.prompt)
    }

    func testPlayTicksAndSpeed() {
        var s = loadedState()
        s = press(s, [.char(" ")]).0
        XCTAssertTrue(s.playing)
        s = update(s, .tick).0
        s = update(s, .tick).0
        XCTAssertEqual(s.step, 2)
        let before = s.playInterval
        s = press(s, [.char("+")]).0
        XCTAssertLessThan(s.playInterval, before)
        s = press(s, [.char("-"), .char("-")]).0
        XCTAssertGreaterThan(s.playInterval, before)
        for _ in 0..<100 { s = update(s, .tick).0 }
        XCTAssertEqual(s.step, s.maxStep)
        XCTAssertFalse(s.playing)
        s = press(s, [.char(" ")]).0  // at the end: restart from 0
        XCTAssertTrue(s.playing)
        XCTAssertEqual(s.step, 0)
        s = press(s, [.char(" ")]).0
        XCTAssertFalse(s.playing)
    }

    func testSampleKeysAndStaleTrace() {
        var s = loadedState()
        var (n, cmds) = press(s, [.char("]")])
        XCTAssertEqual(n.sample, 1)
        XCTAssertEqual(cmds, [.loadTrace(sample: 1)])
        (n, cmds) = press(n, [.char("]")])
        XCTAssertEqual(n.sample, 2)
        // The trace for sample 1 arrives late and is ignored.
        s = update(n, .traceArrived(Fixture.trace(sample: 1))).0
        XCTAssertEqual(s.trace?.sample, 0)
        XCTAssertNil(s.selectedTrace)
        s = update(s, .traceArrived(Fixture.trace(sample: 2))).0
        XCTAssertEqual(s.selectedTrace?.info.index, 0)
        XCTAssertNil(s.loadingSample)
        s = press(s, [.char("["), .char("["), .char("["), .char("[")]).0
        XCTAssertEqual(s.sample, 0)
        s = press(s, [.char("]"), .char("]"), .char("]"), .char("]"), .char("]")]).0
        XCTAssertEqual(s.sample, 3)
    }

    func testBackendFailureKeepsSessionUsable() {
        var s = loadedState()
        s = update(s, .backendFailed("boom")).0
        XCTAssertEqual(s.overlay, .error("boom"))
        s = press(s, [.escape]).0
        XCTAssertEqual(s.overlay, .none)
        s = update(s, .backendFailed("boom")).0
        s = press(s, [.char("n")]).0  // dismisses and still steps
        XCTAssertEqual(s.overlay, .none)
        XCTAssertEqual(s.step, 1)
    }

    func testResizeAndTooSmall() {
        var s = loadedState()
        s = press(s, [.resize(width: 70, height: 20)]).0
        XCTAssertTrue(ScreenLayout(s).tooSmall)
        XCTAssertEqual(press(s, [.char("q")]).1, [.quit])
        s = press(s, [.resize(width: 100, height: 30)]).0
        XCTAssertFalse(ScreenLayout(s).tooSmall)
        XCTAssertEqual(Screen.render(s).width, 100)
    }

    func testMouseSelectsLayersNeuronsHotspots() {
        var s = loadedState()
        let hits = Screen.hitRegions(s)
        let fcRow = hits.first(where: { $0.target == .layerRow(3) })!
        s = update(s, .key(.click(x: fcRow.rect.x + 2, y: fcRow.rect.y))).0
        XCTAssertEqual(s.rowName(s.layerRow), "fc1")
        XCTAssertEqual(s.focus, .layers)
        let neuronHit = Screen.hitRegions(s).first(where: { $0.target == .neuron(5) })!
        s = update(s, .key(.click(x: neuronHit.rect.x, y: neuronHit.rect.y))).0
        XCTAssertEqual(s.neuron, 5)
        let hs = Screen.hitRegions(s).first(where: { $0.target == .hotspot(2) })!
        s = update(s, .key(.click(x: hs.rect.x + 1, y: hs.rect.y))).0
        XCTAssertEqual(s.hotspot, 2)
        XCTAssertEqual(s.focus, .coupling)
        // A second click on the selected hotspot opens it.
        let h = Fixture.report().hotspots[2]
        let (opened, _) = update(s, .key(.click(x: hs.rect.x + 1, y: hs.rect.y)))
        XCTAssertEqual(opened.sample, h.sample)
        XCTAssertEqual(opened.neuron, h.neuron)
    }

    func testReportProgressAndArrival() {
        var s = loadedState(report: false)
        var (n, c) = press(s, [.char("r")])
        XCTAssertEqual(c, [.loadReport])
        XCTAssertEqual(n.reportProgress, 0)
        (n, c) = press(n, [.char("r")])
        XCTAssertTrue(c.isEmpty)  // already running
        s = update(n, .progress(0.5)).0
        XCTAssertEqual(s.reportProgress, 0.5)
        s = update(s, .reportArrived(Fixture.report())).0
        XCTAssertNil(s.reportProgress)
        XCTAssertNotNil(s.selectedReport)
    }

    func testTraceSummaryMatchesLayerTrace() {
        let t = Fixture.trace(sample: 1)
        let sum = TraceSummary(t)
        for (i, lt) in t.layers.enumerated() {
            for g in 0...t.layout.latency {
                let c = lt.spikeCounts(throughGlobal: g)
                let got = sum.spikes(layer: i, slots: lt.slotsEmitted(atGlobal: g))
                XCTAssertEqual(got.0, c.positive)
                XCTAssertEqual(got.1, c.negative)
            }
            // Overflow, coupling and p99.9 against the per-neuron definitions (MarginVerdict, residual).
            var ovf = 0, cpl = 0
            var res: [Float] = []
            for n in 0..<lt.neurons {
                switch lt.marginVerdict(neuron: n) {
                case .overflow: ovf += 1
                case .coupling: cpl += 1
                case .fine: break
                }
                res.append(abs(lt.residual(neuron: n)))
            }
            XCTAssertEqual(sum.overflow[i], ovf)
            XCTAssertEqual(sum.coupling[i], cpl)
            let sorted = res.sorted()
            let rank = 99.9 / 100 * Double(sorted.count - 1), lo = Int(rank)
            let hi = min(lo + 1, sorted.count - 1)
            XCTAssertEqual(sum.residualP999[i],
                           Double(sorted[lo]) + (rank - Double(lo)) * (Double(sorted[hi]) - Double(sorted[lo])))
        }
        XCTAssertGreaterThan(sum.overflow.reduce(0, +) + sum.coupling.reduce(0, +), 0, "the fixture has violations")
    }

    func testFixtureFollowsSpecWorkedExample() {
        // docs/numerics.md §8: X = [0, 2], β = 2, T = 2, L = 1 → spikes 1, 0, margins 2, 2, 2, 1.
        let c = ConversionConfig(T: 2, beta: 2, silent: 1, negative: true)
        let r = Fixture.neuron([0, 2], c: c)
        XCTAssertEqual(r.s, [1, 0])
        XCTAssertEqual(r.m, [2, 2, 2, 1])
        let c0 = ConversionConfig(T: 2, beta: 2, silent: 0, negative: true)
        let r0 = Fixture.neuron([0, 2], c: c0)
        XCTAssertEqual(r0.s, [0, 1])
        XCTAssertEqual(r0.m, [2, 0, 0])
    }
}

final class HeadlessSessionTests: XCTestCase {
    func testStartStepAndHotspot() async {
        var session = HeadlessSession(backend: FixtureBackend(), state: ViewState(width: 160, height: 48))
        await session.start()
        XCTAssertNotNil(session.state.layout)
        XCTAssertNotNil(session.state.report)
        XCTAssertEqual(session.state.trace?.sample, 0)
        await session.press(.char("n"), .char("j"))
        XCTAssertEqual(session.state.step, 1)
        XCTAssertEqual(session.state.selectedLayer, 1)
        await session.type(":sample 2")
        await session.press(.enter)
        XCTAssertEqual(session.state.trace?.sample, 2)
        let text = session.render().text().joined(separator: "\n")
        XCTAssertTrue(text.contains("sample 2/4"))
        await session.type(":theta 1")
        await session.press(.enter)
        XCTAssertEqual(session.hostRequests.count, 0)  // not registered in this state
        XCTAssertEqual(session.state.message, "unknown command :theta")
        await session.press(.char("q"))
        XCTAssertTrue(session.quit)
    }

    func testFailingSampleShowsErrorAndContinues() async {
        var session = HeadlessSession(backend: FixtureBackend(failingSample: 1), state: ViewState(width: 80, height: 24))
        await session.start()
        await session.press(.char("]"))
        guard case .error(let text) = session.state.overlay else { return XCTFail("no error overlay") }
        XCTAssertTrue(text.contains("simulated failure"))
        XCTAssertTrue(session.render().text().joined().contains("Backend error"))
        await session.press(.escape, .char("]"))
        XCTAssertEqual(session.state.trace?.sample, 2)
        XCTAssertEqual(session.state.overlay, .none)
    }
}
