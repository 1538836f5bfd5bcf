import Foundation
import XCTest
import CSSView

/// Compares a rendered grid with `Golden/<name>.txt` (text lines, then a role-letter grid).
/// `CSSDBG_RECORD=1` rewrites the file instead.
func assertGolden(_ grid: CellGrid, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    let dir = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Golden")
    let url = dir.appendingPathComponent(name + ".txt")
    let text = grid.text().map { "|" + $0 + "|" }
    let roles = grid.roles().map { "|" + $0 + "|" }
    let body = "# \(grid.width)x\(grid.height) screen\n" + text.joined(separator: "\n") + "\n# roles\n"
        + roles.joined(separator: "\n") + "\n"
    if ProcessInfo.processInfo.environment["CSSDBG_RECORD"] == "1" {
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        XCTAssertNoThrow(try body.write(to: url, atomically: true, encoding: .utf8), file: file, line: line)
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        XCTFail("missing golden file \(url.path); run with CSSDBG_RECORD=1 to record", file: file, line: line)
        return
    }
    if expected != body {
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = body.split(separator: "\n", omittingEmptySubsequences: false)
        var diff: [String] = []
        for i in 0..<max(e.count, a.count) {
            let el = i < e.count ? String(e[i]) : "<none>"
            let al = i < a.count ? String(a[i]) : "<none>"
            if el != al { diff.append("line \(i + 1):\n  expected \(el)\n  actual   \(al)") }
            if diff.count >= 8 { break }
        }
        XCTFail("golden \(name) differs (CSSDBG_RECORD=1 re-records):\n" + diff.joined(separator: "\n"),
                file: file, line: line)
    }
}

/// A state with the fixture loaded (layout, trace of `sample`, report) at a given size.
func loadedState(width: Int = 160, height: Int = 48, sample: Int = 0, unicode: Bool = true, wideName: Bool = false,
                 report: Bool = true) -> ViewState {
    var s = ViewState(width: width, height: height, unicode: unicode, sample: sample, hostCommands: ["theta", "set"])
    s = update(s, .layoutArrived(Fixture.layout(wideName: wideName), sampleCount: 4)).0
    s = update(s, .traceArrived(Fixture.trace(sample: sample, wideName: wideName))).0
    if report { s = update(s, .reportArrived(Fixture.report(wideName: wideName))).0 }
    return s
}

/// Applies keys in order, collecting the commands.
func press(_ s: ViewState, _ keys: [Key]) -> (ViewState, [Command]) {
    var st = s
    var all: [Command] = []
    for k in keys {
        let (n, c) = update(st, .key(k))
        st = n
        all += c
    }
    return (st, all)
}

func chars(_ text: String) -> [Key] { text.map { Key.char($0) } }

/// Renders one pane with its frame into a grid of its own.
func renderPane(_ pane: Pane, _ s: ViewState, width: Int, height: Int) -> CellGrid {
    var g = CellGrid(width: width, height: height)
    var hits: [HitRegion] = []
    Screen.renderPane(pane, s, into: &g, rect: g.bounds, hits: &hits)
    return g
}
