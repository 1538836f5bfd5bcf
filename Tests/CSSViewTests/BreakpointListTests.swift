import XCTest
import CSSView
@testable import CSSView

/// `:breaks`: the host's list shown as an overlay (number, enabled, hits, condition), the keys
/// that close it, and the one-line answer when there are none.
final class BreakpointListTests: XCTestCase {
    static let rows = [
        BreakpointRow(number: 1, enabled: true, condition: "coupling conv1", hits: 3),
        BreakpointRow(number: 2, enabled: false, condition: "flip", hits: 0),
        BreakpointRow(number: 4, enabled: true, condition: "residual fc1 > 2", hits: 12),
    ]

    /// A state whose `:breaks` the host answered with `rows`.
    func listed(width: Int = 80, height: Int = 24, rows: [BreakpointRow] = rows) -> (ViewState, [Command]) {
        var s = loadedState(width: width, height: height)
        s.hostCommands = ["breaks", "break"]
        let (asked, cmds) = press(s, chars(":breaks") + [.enter])
        XCTAssertEqual(cmds, [.host(.breakpoint(.list))])
        return update(asked, .hostReply(HostReply(message: "3 breakpoints (1 disabled); Esc closes the list",
                                                  breakpoints: rows.isEmpty ? nil : rows)))
    }

    func testTheReplyOpensTheList() {
        let (s, _) = listed()
        XCTAssertEqual(s.overlay, .breakpoints(Self.rows))
        XCTAssertEqual(s.message, "3 breakpoints (1 disabled); Esc closes the list")
        let text = Screen.render(s).text().joined(separator: "\n")
        XCTAssertTrue(text.contains("2   disabled     0  flip"), text)
        XCTAssertTrue(text.contains("4   enabled     12  residual fc1 > 2"), text)
    }

    func testEscEnterAndQCloseItAndNothingElseMoves() {
        for key in [Key.escape, .enter, .char("q")] {
            let (s, _) = listed()
            let (closed, cmds) = update(s, .key(key))
            XCTAssertEqual(closed.overlay, .none, "\(key)")
            XCTAssertEqual(cmds, [], "\(key): q closes the list, it does not quit")
        }
        // Other keys leave it open and change nothing under it.
        let (s, _) = listed()
        let (after, cmds) = press(s, chars("nnjc"))
        XCTAssertEqual(after.overlay, .breakpoints(Self.rows))
        XCTAssertEqual([after.step, after.layerRow], [s.step, s.layerRow])
        XCTAssertEqual(cmds, [])
    }

    func testNoBreakpointsIsOneLine() {
        var s = loadedState(width: 80, height: 24)
        s.hostCommands = ["breaks"]
        s = press(s, chars(":breaks") + [.enter]).0
        s = update(s, .hostReply(HostReply(message: "no breakpoints; :break COND adds one"))).0
        XCTAssertEqual(s.overlay, .none)
        XCTAssertEqual(s.message, "no breakpoints; :break COND adds one")
    }

    func testGoldenBreakpoints80x24() { assertGolden(Screen.render(listed().0), "breaks_80x24") }
    func testGoldenBreakpoints160x48() { assertGolden(Screen.render(listed(width: 160, height: 48).0), "breaks_160x48") }
}
