import Foundation
import XCTest
import CSSSnapshots
@testable import CSSView

/// The restore offer, a θ change through a headless session, and the tuned screens' goldens.
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
        let backend = RoundsFixtureBackend()
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
