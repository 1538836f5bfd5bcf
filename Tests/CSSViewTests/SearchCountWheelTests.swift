import XCTest
import CSSSnapshots
@testable import CSSView

/// `/` then `f` / `F` walk the matches (n is a time step here), a count repeats a motion, and
/// the wheel scrolls the pane under the pointer.
final class SearchCountWheelTests: XCTestCase {
    func testFindLayer() {
        var s = loadedState()
        s = press(s, chars("/fc")).0
        XCTAssertEqual(s.rowName(s.layerRow), "fc1")  // incremental
        s = press(s, [.enter]).0
        XCTAssertNil(s.prompt)
        XCTAssertEqual(s.rowName(s.layerRow), "fc1")
        s = press(s, chars("/zzz") + [.enter]).0
        XCTAssertTrue(s.messageIsError)
        // A failed search leaves the selection where it was, even when a prefix matched on the way.
        s = press(s, [.up, .up]).0
        XCTAssertEqual(s.rowName(s.layerRow), "conv1")
        s = press(s, chars("/fcx")).0
        s = press(s, [.enter]).0
        XCTAssertEqual(s.rowName(s.layerRow), "conv1")
        XCTAssertEqual(s.message, "no layer matches \"fcx\"")
        // Esc clears the message line, from the prompt too.
        XCTAssertNil(press(s, [.escape]).0.message)
        XCTAssertNil(press(s, [.char(":"), .escape]).0.message)
    }

    func testSearchNextAndPreviousWrapAround() {
        var s = press(loadedState(width: 100, height: 30), [.char("/")] + chars("conv") + [.enter]).0
        XCTAssertEqual(s.layerRow, 1)
        XCTAssertEqual(s.message, "/conv: match 1 of 2; f / F: next / previous")
        let before = s.step
        s = press(s, [.char("f")]).0
        XCTAssertEqual(s.layerRow, 2)
        XCTAssertEqual(s.message, "/conv: match 2 of 2")
        XCTAssertEqual(s.step, before, "f does not move in time")
        s = press(s, [.char("f")]).0
        XCTAssertEqual(s.layerRow, 1)
        XCTAssertEqual(s.message, "/conv: match 1 of 2 (wrapped to the top)")
        s = press(s, [.char("F")]).0
        XCTAssertEqual(s.layerRow, 2)
        XCTAssertEqual(s.message, "/conv: match 2 of 2 (wrapped to the bottom)")
        s = press(s, [.char("F")]).0
        XCTAssertEqual(s.layerRow, 1)
        XCTAssertFalse(s.messageIsError)
        // n stays a time step.
        XCTAssertEqual(press(s, [.char("n")]).0.step, before + 1)
    }

    func testSearchWithoutMatchSaysSo() {
        var s = loadedState(width: 100, height: 30)
        s = press(s, [.char("f")]).0
        XCTAssertEqual(s.message, "no search yet: / finds a layer by name")
        XCTAssertTrue(s.messageIsError)
        s = press(s, [.char("j"), .char("/")] + chars("zzz") + [.enter]).0
        XCTAssertEqual(s.layerRow, 2, "a failed search leaves the selection")
        XCTAssertEqual(s.message, "no layer matches \"zzz\"")
        XCTAssertTrue(s.messageIsError)
        s = press(s, [.char("f")]).0
        XCTAssertEqual(s.message, "no layer matches \"zzz\"")
        XCTAssertEqual(s.layerRow, 2)
    }

    func testCountRepeatsAMotion() {
        let s = loadedState(width: 100, height: 30)
        var (t, _) = press(s, chars("5n"))
        XCTAssertEqual(t.step, 5)
        XCTAssertNil(t.countPrefix)
        t = press(t, chars("2b")).0
        XCTAssertEqual(t.step, 3)
        t = press(t, chars("12n")).0
        XCTAssertEqual(t.step, min(15, t.maxStep))
        // The count shows while typed; a count of 1 digit then a non-motion is dropped.
        XCTAssertEqual(press(s, chars("3")).0.message, "3…")
        let g = press(s, chars("3g")).0
        XCTAssertEqual(g.step, 0)
        XCTAssertNil(g.countPrefix)
        XCTAssertEqual(press(g, chars("n")).0.step, 1, "the count is gone after a key it does not repeat")
        // 0 alone is no count; after a digit it is one.
        XCTAssertNil(press(s, chars("0")).0.countPrefix)
        XCTAssertEqual(press(s, chars("10")).0.countPrefix, 10)
        // Samples: 3] moves three samples and asks for one trace, the last one's.
        let (u, cmds) = press(s, chars("3]"))
        XCTAssertEqual(u.sample, 3)
        XCTAssertEqual(cmds.filter { if case .loadTrace = $0 { return true } else { return false } },
                       [.loadTrace(sample: 3)])
        // Layers: 2j.
        XCTAssertEqual(press(s, chars("2j")).0.layerRow, s.layerRow + 2)
        // Esc drops a pending count.
        XCTAssertEqual(press(s, chars("4") + [.escape, .char("n")]).0.step, 1)
    }

    func testWheelScrollsThePaneUnderThePointer() {
        var s = loadedState(width: 100, height: 30)
        let layers = Screen.hitRegions(s).first { $0.target == .pane(.layers) }!
        s = update(s, .key(.wheel(x: layers.rect.x + 2, y: layers.rect.y + 2, up: false))).0
        XCTAssertEqual(s.layerRow, 2)
        XCTAssertEqual(s.focus, .layers)
        s = update(s, .key(.wheel(x: layers.rect.x + 2, y: layers.rect.y + 2, up: true))).0
        XCTAssertEqual(s.layerRow, 1)
        // Over another pane: that pane is focused and moves as ↓ does there.
        let other = Screen.hitRegions(s).first { $0.target == .pane(.coupling) }!
        let viaWheel = update(s, .key(.wheel(x: other.rect.x + 2, y: other.rect.y + 2, up: false))).0
        var viaKeys = s
        focus(&viaKeys, .coupling)
        viaKeys = press(viaKeys, [.down]).0
        XCTAssertEqual(viaWheel.focus, .coupling)
        XCTAssertEqual(viaWheel.hotspot, viaKeys.hotspot)
        XCTAssertEqual(viaWheel.layerRow, s.layerRow)
        // In help it scrolls the help; over an open prompt it does nothing.
        var help = press(s, [.char("?")]).0
        help = update(help, .key(.wheel(x: 10, y: 10, up: false))).0
        XCTAssertEqual(help.helpScroll, 1)
        let typing = press(s, [.char(":")]).0
        XCTAssertEqual(update(typing, .key(.wheel(x: layers.rect.x + 2, y: layers.rect.y + 2, up: false))).0.layerRow,
                       s.layerRow)
    }
}
