import XCTest
import CSSView
@testable import CSSView

/// `:watch` / `:unwatch`: parsing, the values at g (against the trace), the pane's golden screens
/// and the position sessions keep.
final class WatchTests: XCTestCase {
    func run(_ s: ViewState, _ line: String) -> (ViewState, [Command]) { press(s, chars(":" + line) + [.enter]) }

    func watched(width: Int = 80, height: Int = 24) -> ViewState {
        var s = loadedState(width: width, height: height)
        s = run(s, "watch conv1 5").0
        s = run(s, "watch fc1 3").0
        s = run(s, "watch 1 7").0
        s = press(s, chars("nnnn")).0
        return s
    }

    func testWatchParsesLayerAndNeuronAndChecksBounds() {
        var s = loadedState(width: 80, height: 24)
        s = run(s, "watch fc1 3").0
        XCTAssertEqual(s.watches, [Watch(layer: 2, neuron: 3)])
        XCTAssertEqual(s.message, "watch 1: fc1 neuron 3")
        XCTAssertEqual(s.focus, .watch)
        // By tensor name and by index.
        s = run(s, "watch conv1_out 0").0
        s = run(s, "watch 1 2").0
        XCTAssertEqual(s.watches, [Watch(layer: 2, neuron: 3), Watch(layer: 0, neuron: 0), Watch(layer: 1, neuron: 2)])
        // Again: no duplicate.
        s = run(s, "watch fc1 3").0
        XCTAssertEqual(s.watches.count, 3)
        XCTAssertEqual(s.message, "already watching fc1 neuron 3 (watch 1)")
        for (line, error) in [("watch fc1 40", ":watch: neuron 40 out of range 0 to 39 in fc1"),
                              ("watch fc1 x", ":watch: 'x' is not a neuron index"),
                              ("watch fc1", "usage: :watch LAYER NEURON"),
                              ("watch input 0", ":watch takes a spiking layer, not the encoder")] {
            let t = run(s, line).0
            XCTAssertTrue(t.messageIsError, line)
            XCTAssertTrue(t.message?.contains(error) == true, "\(line): \(t.message ?? "nil")")
            XCTAssertFalse(t.message?.contains("\n") == true)
            XCTAssertEqual(t.watches.count, 3)
        }
        let bad = run(s, "watch nosuchlayer 1").0
        XCTAssertTrue(bad.messageIsError)
        XCTAssertEqual(bad.watches.count, 3)
    }

    func testWatchPaneIsFullAtTheLimit() {
        var s = loadedState(width: 80, height: 24)
        for n in 0..<ViewState.maxWatches { s = run(s, "watch fc1 \(n)").0 }
        XCTAssertEqual(s.watches.count, ViewState.maxWatches)
        s = run(s, "watch fc1 30").0
        XCTAssertTrue(s.messageIsError)
        XCTAssertTrue(s.message?.contains("the watch pane is full") == true)
        XCTAssertEqual(s.watches.count, ViewState.maxWatches)
    }

    func testUnwatch() {
        var s = watched()
        s = run(s, "unwatch 2").0
        XCTAssertEqual(s.watches, [Watch(layer: 0, neuron: 5), Watch(layer: 1, neuron: 7)])
        XCTAssertEqual(s.message, "removed watch 2: fc1 neuron 3")
        let bad = run(s, "unwatch 3").0
        XCTAssertEqual(bad.message, ":unwatch: watch 3 out of range 1 to 2")
        XCTAssertTrue(bad.messageIsError)
        s = run(s, "unwatch all").0
        XCTAssertEqual(s.watches, [])
        XCTAssertNotEqual(s.focus, .watch)
        XCTAssertNil(ScreenLayout(s).panes[.watch])
    }

    /// The values follow the trace at every g, and at the end of the window e and u are the
    /// trace's encoded value and residual u[T].
    func testValuesFollowTheTrace() throws {
        var s = watched()
        let t = try XCTUnwrap(s.trace)
        let lt = t.layers[2]
        var seen = Set<Int>()
        for g in 0...s.maxStep {
            s = run(s, "step \(g)").0
            let v = try XCTUnwrap(s.watchValues(1))
            XCTAssertEqual(v.k, g - lt.info.windowStart)
            XCTAssertEqual(v.normalizedMembrane, lt.normalizedMembrane(neuron: 3, localStep: v.k))
            XCTAssertEqual(v.spike, lt.spike(neuron: 3, atGlobal: g))
            XCTAssertEqual(v.margin, lt.margin(neuron: 3, k0: max(0, min(lt.window, v.k))))
            let emitted = lt.slotsEmitted(atGlobal: g)
            XCTAssertEqual(v.spikeSum, (0..<emitted).reduce(0) { $0 + Int(lt.spike(neuron: 3, slot: $1)) })
            XCTAssertEqual(v.residual, Double(lt.target[3]) - v.encoded, accuracy: 1e-12)
            seen.insert(v.spikeSum)
        }
        let end = try XCTUnwrap(s.watchValues(1))
        XCTAssertEqual(end.encoded, Double(lt.encoded[3]), accuracy: 1e-4)
        XCTAssertEqual(end.residual, Double(lt.residual(neuron: 3)), accuracy: 1e-4)
        XCTAssertEqual(end.target ?? .nan, Double(lt.annActivation[3]) / lt.theta, accuracy: 1e-9)
    }

    func testArrowsInTheWatchPaneSelectTheWatchedNeuron() {
        var s = watched()
        XCTAssertEqual(s.focus, .watch)
        s = press(s, [.up]).0
        XCTAssertEqual(s.watchSelection, 1)
        XCTAssertEqual(s.selectedLayer, 2)
        XCTAssertEqual(s.neuron, 3)
    }

    func testWatchesRoundTripThroughThePosition() {
        let s = watched()
        let p = ViewPosition(s)
        XCTAssertEqual(p.watches, s.watches)
        var fresh = loadedState(width: 80, height: 24)
        fresh = update(fresh, .hostReply(HostReply(position: p))).0
        XCTAssertEqual(fresh.watches, s.watches)
        XCTAssertNotNil(ScreenLayout(fresh).panes[.watch])
    }

    /// With a host that serves θ commands, a watch asks it to save the session (position).
    func testWatchAsksTheHostToSaveThePosition() {
        let s = loadedState(width: 80, height: 24)
        let cmds = run(s, "watch fc1 3").1
        XCTAssertTrue(cmds.contains { if case .host(.savePosition) = $0 { return true } else { return false } })
        var noHost = s
        noHost.hostCommands = []
        XCTAssertFalse(run(noHost, "watch fc1 3").1.contains { if case .host = $0 { return true } else { return false } })
    }

    func testGoldenWatch80x24() { assertGolden(Screen.render(watched()), "watch_80x24") }

    func testASCIIHeaderHasNoUnknownGlyphs() {
        var s = watched()
        s.unicode = false
        let rows = Screen.render(s).text().filter { $0.contains("layer") && $0.contains("margin") }
        XCTAssertEqual(rows.count, 1)
        XCTAssertTrue(rows[0].contains("sumS"), rows[0])
        XCTAssertFalse(rows[0].contains("?"), rows[0])
    }

    func testGoldenWatch160x48() { assertGolden(Screen.render(watched(width: 160, height: 48)), "watch_160x48") }
}
