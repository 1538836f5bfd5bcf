import XCTest
@testable import CSSView

/// The `:` line edits like readline (issue 28): the cursor moves, typing inserts at it, and each
/// deleting key removes what readline's does.
final class PromptEditingTests: XCTestCase {
    /// The prompt after typing `text` at `:` and then `keys`.
    func prompt(_ text: String, _ keys: [Key]) -> Prompt {
        press(loadedState(width: 80, height: 24), [.char(":")] + chars(text) + keys).0.prompt!
    }

    func testCursorMovesAndTypingInsertsAtIt() {
        var p = prompt("theta 0.5", [.left, .left, .left])
        XCTAssertEqual(p.cursorIndex, 6)
        p = prompt("theta 0.5", [.left, .left, .left, .char("1")])
        XCTAssertEqual(p.text, "theta 10.5")
        XCTAssertEqual(p.cursorIndex, 7)
        p = prompt("heta", [.home, .char("t")])
        XCTAssertEqual(p.text, "theta")
        XCTAssertEqual(p.cursorIndex, 1)
        p = prompt("heta", [.ctrl("a"), .char("t"), .ctrl("e"), .char(" ")])
        XCTAssertEqual(p.text, "theta ")
        XCTAssertNil(p.cursor)
        p = prompt("ab", [.home, .right, .char("x"), .end, .char("y")])
        XCTAssertEqual(p.text, "axby")
        // The cursor never leaves the text.
        p = prompt("ab", [.left, .left, .left, .left])
        XCTAssertEqual(p.cursorIndex, 0)
        p = prompt("ab", [.right, .right])
        XCTAssertEqual(p.cursorIndex, 2)
    }

    func testDeletingKeys() {
        XCTAssertEqual(prompt("theta", [.left, .backspace]).text, "thea")
        XCTAssertEqual(prompt("theta", [.home, .backspace]).text, "theta")
        XCTAssertEqual(prompt("theta", [.home, .delete]).text, "heta")
        XCTAssertEqual(prompt("theta", [.delete]).text, "theta")
        // Ctrl-U: start to cursor; Ctrl-K: cursor to end; Ctrl-W: the word before the cursor.
        var p = prompt("theta conv1 0.5", [.left, .left, .left, .ctrl("u")])
        XCTAssertEqual(p.text, "0.5")
        XCTAssertEqual(p.cursorIndex, 0)
        p = prompt("theta conv1 0.5", [.left, .left, .left, .ctrl("k")])
        XCTAssertEqual(p.text, "theta conv1 ")
        p = prompt("theta conv1 0.5", [.ctrl("w")])
        XCTAssertEqual(p.text, "theta conv1 ")
        p = prompt("theta conv1 0.5", [.ctrl("w"), .ctrl("w")])
        XCTAssertEqual(p.text, "theta ")
        p = prompt("theta conv1 0.5", [.left, .left, .left, .left, .ctrl("w")])
        XCTAssertEqual(p.text, "theta  0.5")  // as readline's unix-word-rubout leaves it
        XCTAssertEqual(p.cursorIndex, 6)
        // Backspace on an empty line closes it, as before.
        XCTAssertNil(press(loadedState(width: 80, height: 24), [.char(":"), .backspace]).0.prompt)
    }

    func testEnterRunsTheWholeLineWhereverTheCursorIs() {
        let s = press(loadedState(width: 80, height: 24), [.char(":")] + chars("stp 3") + [.home, .right, .right, .char("e")]).0
        XCTAssertEqual(s.prompt?.text, "step 3")
        let after = update(s, .key(.enter)).0
        XCTAssertEqual(after.step, 3)
        XCTAssertEqual(after.history.last, "step 3")
    }

    func testHistoryPutsTheCursorAtTheEnd() {
        var s = press(loadedState(width: 80, height: 24), [.char(":")] + chars("step 2") + [.enter]).0
        s = press(s, [.char(":")] + chars("x") + [.left, .up]).0
        XCTAssertEqual(s.prompt?.text, "step 2")
        XCTAssertNil(s.prompt?.cursor)
        s = press(s, [.down]).0
        XCTAssertEqual(s.prompt?.text, "x")
    }

    /// The bottom line shows the cursor as a reversed cell where the next character goes.
    func testCursorIsDrawnWhereItIs() {
        let s = press(loadedState(width: 80, height: 24), [.char(":")] + chars("theta") + [.left, .left]).0
        let g = Screen.render(s)
        XCTAssertTrue(g.text()[23].hasPrefix(":theta"))
        XCTAssertTrue(g[4, 23].style.attrs.contains(.reverse))
        XCTAssertFalse(g[6, 23].style.attrs.contains(.reverse))
        // A line longer than the screen scrolls to keep the cursor in view.
        let long = press(loadedState(width: 80, height: 24), [.char(":")] + chars(String(repeating: "a", count: 100) + "z")).0
        let line = Screen.render(long).text()[23]
        XCTAssertTrue(line.contains("az"), line)
    }
}

/// htop's keys: F1 opens help, F10 quits (asking first when θ changes are unsaved, like `q`).
final class FunctionKeyTests: XCTestCase {
    func testF1OpensHelpAndF10Quits() {
        let s = loadedState(width: 80, height: 24)
        XCTAssertEqual(update(s, .key(.function(1))).0.overlay, .help)
        XCTAssertEqual(update(s, .key(.function(10))).1, update(s, .key(.char("q"))).1)
        XCTAssertFalse(update(s, .key(.function(10))).1.isEmpty)
    }
}
