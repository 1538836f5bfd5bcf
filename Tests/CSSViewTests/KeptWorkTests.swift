import XCTest
import CSSSnapshots
@testable import CSSView

/// Issue 14, "work that is kept": with no session file, `q` with unsaved θ changes asks first.
final class ConfirmQuitTests: XCTestCase {
    func testQAsksWhenChangesAreUnsaved() {
        var s = loadedState(width: 80, height: 24)
        // Saved (or nothing changed): q quits at once.
        XCTAssertEqual(press(s, [.char("q")]).1, [.quit])
        s = update(s, .tuningStatus(TuningStatus(changes: 2, unsaved: false))).0
        XCTAssertEqual(press(s, [.char("q")]).1, [.quit])
        // Unsaved: q, :q and q in the help overlay ask.
        s = update(s, .tuningStatus(TuningStatus(changes: 2, unsaved: true))).0
        for keys in [[Key.char("q")], chars(":q") + [.enter], chars(":quit") + [.enter], [.char("?"), .char("q")]] {
            let (n, cmds) = press(s, keys)
            XCTAssertEqual(cmds, [], "\(keys)")
            XCTAssertEqual(n.overlay, .confirmQuit, "\(keys)")
        }
        let asked = press(s, [.char("q")]).0
        assertGolden(Screen.render(asked), "overlay_confirm_quit_80x24")
        // Other keys wait for the answer; n and Esc stay, y quits.
        XCTAssertEqual(press(asked, [.char("j"), .char("G")]).0.overlay, .confirmQuit)
        XCTAssertEqual(press(asked, [.char("j")]).0.layerRow, asked.layerRow)
        for key in [Key.escape, .char("n")] {
            let (n, cmds) = press(asked, [key])
            XCTAssertEqual(cmds, [])
            XCTAssertEqual(n.overlay, .none)
            XCTAssertEqual(n.message?.contains(":w FILE"), true)
        }
        XCTAssertEqual(press(asked, [.char("y")]).1, [.quit])
        // :q! quits without asking; Ctrl-C always quits.
        XCTAssertEqual(press(s, chars(":q!") + [.enter]).1, [.quit])
        XCTAssertEqual(press(s, [.ctrlC]).1, [.quit])
    }
}
