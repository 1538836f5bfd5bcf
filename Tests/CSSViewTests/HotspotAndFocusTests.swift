import XCTest
import CSSSnapshots
import CSSTerminal
@testable import CSSView

/// Shift-Tab decoding, the hotspot filter (keys, `:hotspots`, Enter on a filtered row), the
/// focused pane's frame, and wide layer names / large counts in the layer list and coupling map.
final class EscapeSequenceTests: XCTestCase {
    func decode(_ s: String, complete: Bool = false) -> EscapeSequence.Result {
        EscapeSequence.decode(Array(s), complete: complete)
    }

    func testShiftTab() {
        XCTAssertEqual(decode("[Z"), .key(.backTab, consumed: 2))
        XCTAssertEqual(decode("\t"), .key(.backTab, consumed: 1))  // Linux console kcbt
        XCTAssertEqual(decode("OZ"), .key(.backTab, consumed: 2))
        // Keys typed right after the sequence are left for the next read.
        XCTAssertEqual(decode("[Zq"), .key(.backTab, consumed: 2))
    }

    func testPlainEscape() {
        XCTAssertEqual(decode(""), .key(.escape, consumed: 0))
        XCTAssertEqual(decode("", complete: true), .key(.escape, consumed: 0))
        // Esc then a key (Alt-x): Esc now, x read next.
        XCTAssertEqual(decode("x"), .key(.escape, consumed: 0))
        XCTAssertEqual(decode("\u{1B}"), .key(.escape, consumed: 0))
    }

    func testOtherSequences() {
        XCTAssertEqual(decode("[A"), .key(.up, consumed: 2))
        XCTAssertEqual(decode("[1;2B"), .key(.down, consumed: 5))
        XCTAssertEqual(decode("OC"), .key(.right, consumed: 2))
        XCTAssertEqual(decode("[5~"), .key(.pageUp, consumed: 3))
        XCTAssertEqual(decode("[6~"), .key(.pageDown, consumed: 3))
        XCTAssertEqual(decode("[3~"), .key(.delete, consumed: 3))
        XCTAssertEqual(decode("[1~"), .key(.home, consumed: 3))
        XCTAssertEqual(decode("[F"), .key(.end, consumed: 2))
        // Well-formed but unbound (bracketed paste, F5): dropped whole, never read as `[` etc.
        XCTAssertEqual(decode("[200~"), .key(nil, consumed: 5))
        XCTAssertEqual(decode("[15~"), .key(nil, consumed: 4))
    }

    func testIncompleteSequences() {
        XCTAssertEqual(decode("["), .incomplete)
        XCTAssertEqual(decode("[1;2"), .incomplete)
        XCTAssertEqual(decode("O"), .incomplete)
        // Nothing more is coming: dropped, so `[` never selects the previous sample.
        XCTAssertEqual(decode("[", complete: true), .key(nil, consumed: 1))
        XCTAssertEqual(decode("O", complete: true), .key(nil, consumed: 1))
    }

    func testBackTabCyclesFocusBackwards() {
        var s = loadedState()
        var seen: [Pane] = []
        for _ in 0..<6 {
            s = press(s, [.backTab]).0
            seen.append(s.focus)
        }
        XCTAssertEqual(seen, [.coupling, .histogram, .raster, .inspector, .membrane, .layers])
        // Under the help overlay Shift-Tab does nothing; Esc closes the overlay.
        s = press(s, [.char("?"), .backTab]).0
        XCTAssertEqual(s.focus, .layers)
        s = press(s, [.escape]).0
        XCTAssertEqual(s.overlay, .none)
    }
}

final class HotspotFilterTests: XCTestCase {
    let report = Fixture.report()
    var overflowCount: Int { report.hotspots.filter { $0.kind == .overflow }.count }
    var couplingCount: Int { report.hotspots.filter { $0.kind == .coupling }.count }

    func couplingFocused(width: Int = 160, height: Int = 48, commands: [String] = ["theta", "set"]) -> ViewState {
        var s = loadedState(width: width, height: height)
        s.hostCommands = commands
        while s.focus != .coupling { s = press(s, [.tab]).0 }
        return s
    }

    func testFixtureHasBothKinds() {
        XCTAssertGreaterThan(overflowCount, 0)
        XCTAssertGreaterThan(couplingCount, 0)
        // Overflow first: the coupling cases are at the end of the list.
        XCTAssertEqual(report.hotspots.first?.kind, .overflow)
    }

    func testFilterKeys() {
        var s = couplingFocused()
        XCTAssertEqual(s.hotspotFilter, .all)
        XCTAssertEqual(s.visibleHotspots.count, report.hotspots.count)
        s = press(s, [.char("c")]).0
        XCTAssertEqual(s.hotspotFilter, .coupling)
        XCTAssertEqual(s.visibleHotspots.count, couplingCount)
        XCTAssertTrue(s.visibleHotspots.allSatisfy { report.hotspots[$0].kind == .coupling })
        XCTAssertEqual(s.message, "hotspots coupling: the worst \(couplingCount) of \(report.layers.reduce(0) { $0 + $1.coupling }) cases in the data set")
        XCTAssertEqual(s.selectedHotspot?.kind, .coupling)
        s = press(s, [.char("o")]).0
        XCTAssertEqual(s.hotspotFilter, .overflow)
        XCTAssertEqual(s.visibleHotspots.count, overflowCount)
        XCTAssertTrue(s.visibleHotspots.allSatisfy { report.hotspots[$0].kind == .overflow })
        s = press(s, [.char("a")]).0
        XCTAssertEqual(s.hotspotFilter, .all)
        XCTAssertEqual(s.message, "hotspots all: the worst \(report.hotspots.count) of \(report.layers.reduce(0) { $0 + $1.overflow + $1.coupling }) cases in the data set")
    }

    func testMovementStaysInTheFilteredList() {
        var s = press(couplingFocused(), [.char("c")]).0
        s = press(s, Array(repeating: .down, count: 200)).0
        XCTAssertEqual(s.hotspot, couplingCount - 1)
        s = press(s, [.pageUp, .pageUp, .pageUp, .pageUp, .pageUp]).0
        XCTAssertEqual(s.hotspot, 0)
    }

    func testFilterKeepsTheSelectedHotspot() {
        var s = couplingFocused()
        let firstCoupling = report.hotspots.firstIndex(where: { $0.kind == .coupling })!
        s = press(s, Array(repeating: .down, count: firstCoupling + 1)).0
        let chosen = s.selectedHotspot
        XCTAssertEqual(chosen?.kind, .coupling)
        s = press(s, [.char("c")]).0
        XCTAssertEqual(s.hotspot, 1)
        XCTAssertEqual(s.selectedHotspot, chosen)
        s = press(s, [.char("a")]).0
        XCTAssertEqual(s.hotspot, firstCoupling + 1)
        // Not in the overflow list: back to its top.
        s = press(s, [.char("o")]).0
        XCTAssertEqual(s.hotspot, 0)
    }

    func testFilterKeysOnlyInTheCouplingPane() {
        var s = loadedState()
        s.hostCommands = ["adjust"]
        XCTAssertEqual(s.focus, .layers)
        s = press(s, [.char("c"), .char("o")]).0
        XCTAssertEqual(s.hotspotFilter, .all)
        // Elsewhere `a` is still one adjustment round; in the coupling pane it is the filter.
        XCTAssertEqual(press(s, [.char("a")]).1.first?.isCustom("adjust"), true)
        var c = couplingFocused(commands: ["adjust"])
        c = press(c, [.char("c")]).0
        let (next, cmds) = press(c, [.char("a")])
        XCTAssertTrue(cmds.isEmpty)
        XCTAssertEqual(next.hotspotFilter, .all)
    }

    func testEnterOnAFilteredHotspotJumpsToItsViolation() {
        // 80×24 with the raster in the lower-right slot: the jump brings the inspector back.
        var s = couplingFocused(width: 80, height: 24)
        s.lowerRight = .raster
        s = press(s, [.char("c"), .down]).0
        let h = s.selectedHotspot!
        XCTAssertEqual(h.kind, .coupling)
        var (next, cmds) = press(s, [.enter])
        if h.sample != s.sample { XCTAssertEqual(cmds, [.loadTrace(sample: h.sample)]) } else { XCTAssertTrue(cmds.isEmpty) }
        let start = report.layout.layers[h.layer].windowStart
        XCTAssertEqual(next.sample, h.sample)
        XCTAssertEqual(next.selectedLayer, h.layer)
        XCTAssertEqual(next.neuron, h.neuron)
        XCTAssertEqual(next.step, start + h.firstViolationStep)
        XCTAssertEqual(next.lowerRight, .inspector)
        XCTAssertEqual(next.focus, .coupling)  // j/k and Enter keep browsing the list
        XCTAssertTrue(next.message?.hasPrefix("hotspot 2 (coupling): coupling in ") == true, next.message ?? "")
        next = update(next, .traceArrived(Fixture.trace(sample: h.sample))).0
        XCTAssertNotNil(ScreenLayout(next).panes[.inspector])

        // The inspector's margin row marks the current k0 (= first violation) as violated.
        let g = renderPane(.inspector, next, width: 94, height: 14)
        let text = g.text()
        XCTAssertTrue(text.joined().contains("COUPLING k0=\(h.firstViolationStep)"))
        let mRow = text.firstIndex(where: { $0.hasPrefix("│m ") })!
        let current = (0..<g.width).filter { g[$0, mRow].style.bg == .selection }
        XCTAssertFalse(current.isEmpty)
        XCTAssertTrue(current.allSatisfy { g[$0, mRow].style.fg == .violation })
        XCTAssertTrue(current.map { g[$0, mRow].glyph }.joined().contains("✗"))
        // … and it is the k header's current column.
        let kRow = text.firstIndex(where: { $0.hasPrefix("│k ") })!
        let header = (0..<g.width).filter { g[$0, kRow].style.bg == .selection }
        XCTAssertEqual(header, current)
    }

    func testHotspotsCommand() {
        var s = loadedState()
        s = press(s, chars(":hotspots coupling") + [.enter]).0
        XCTAssertEqual(s.hotspotFilter, .coupling)
        XCTAssertEqual(s.focus, .coupling)
        XCTAssertFalse(s.messageIsError)
        s = press(s, chars(":hotspots ovf") + [.enter]).0
        XCTAssertEqual(s.hotspotFilter, .overflow)
        s = press(s, chars(":hotspots a") + [.enter]).0
        XCTAssertEqual(s.hotspotFilter, .all)
        s = press(s, chars(":hotspots nope") + [.enter]).0
        XCTAssertEqual(s.hotspotFilter, .all)
        XCTAssertTrue(s.messageIsError)
        XCTAssertEqual(s.message, ":hotspots takes all, overflow or coupling and/or a spiking layer; no layer \"nope\"")
        s = press(s, chars(":hotspots") + [.enter]).0
        XCTAssertFalse(s.messageIsError)
        XCTAssertEqual(s.message, "hotspots all: the worst \(report.hotspots.count) of \(report.layers.reduce(0) { $0 + $1.overflow + $1.coupling }) cases in the data set")
        XCTAssertEqual(complete("hots", state: s).0, "hotspots ")
        XCTAssertEqual(complete("hotspots cou", state: s).0, "hotspots coupling")
        XCTAssertEqual(complete("hotspots ", state: s).1, ["all", "overflow", "coupling", "conv1", "conv2", "fc1"])
        // A layer: only its hotspots, and the title says how many of its cases the list holds.
        s = press(s, chars(":hotspots conv2") + [.enter]).0
        XCTAssertFalse(s.messageIsError, s.message ?? "")
        XCTAssertEqual(s.hotspotLayer, 1)
        XCTAssertFalse(s.visibleHotspots.isEmpty)
        XCTAssertTrue(s.visibleHotspots.allSatisfy { report.hotspots[$0].layer == 1 })
        XCTAssertEqual(s.hotspotCasesInDataSet, report.layers[1].overflow + report.layers[1].coupling)
        XCTAssertEqual(s.hotspotArguments, "all conv2")
        s = press(s, chars(":hotspots coupling conv1") + [.enter]).0
        XCTAssertEqual([s.hotspotFilter.rawValue, s.hotspotArguments], ["coupling", "coupling conv1"])
        XCTAssertTrue(s.visibleHotspots.allSatisfy { report.hotspots[$0].layer == 0 && report.hotspots[$0].kind == .coupling })
        let title = renderPane(.coupling, s, width: 62, height: 14).text().first { $0.contains("hotspots") }!
        XCTAssertTrue(title.contains("hotspots coupling · conv1: worst \(s.visibleHotspots.count) of \(report.layers[0].coupling)"), title)
        s = press(s, chars(":hotspots") + [.enter]).0
        XCTAssertEqual(s.hotspotLayer, 0, ":hotspots alone shows the list as it is")
        s = press(s, chars(":hotspots all") + [.enter]).0
        XCTAssertNil(s.hotspotLayer)
    }

    func testFilterSurvivesANewReport() {
        var s = press(couplingFocused(), [.char("c")]).0
        s = press(s, Array(repeating: .down, count: 100)).0
        s = update(s, .reportArrived(report)).0
        XCTAssertEqual(s.hotspotFilter, .coupling)
        XCTAssertEqual(s.hotspot, couplingCount - 1)
    }

    func testHelpListsTheNewKeys() {
        let lines = HelpOverlay.lines(loadedState())
        XCTAssertTrue(lines.contains { $0.hasPrefix("o / c / a") && $0.contains("overflow/coupling/all") })
        XCTAssertTrue(lines.contains { $0.contains(":hotspots F") && $0.contains("all, overflow, coupling or a LAYER") })
        XCTAssertTrue(lines.contains { $0.hasPrefix("Tab / S-Tab") })
        var s = loadedState()
        s.hostCommands = ["adjust"]
        XCTAssertTrue(HelpOverlay.lines(s).contains { $0.contains("in the coupling pane a shows all hotspots") })
    }

    func testBottomHintInTheCouplingPane() {
        let g = Screen.render(couplingFocused())
        XCTAssertTrue(g.text().last!.contains("o overflow  c coupling  a all"))
    }

    // MARK: Goldens

    func testFilteredListGolden() {
        let s = press(couplingFocused(), [.char("c"), .down]).0
        let g = renderPane(.coupling, s, width: 62, height: 14)
        let text = g.text()
        XCTAssertTrue(text.contains { $0.contains("hotspots coupling: worst \(couplingCount) of \(report.layers.reduce(0) { $0 + $1.coupling })") }, text.joined(separator: "\n"))
        XCTAssertFalse(text.contains { $0.contains(" ovf ") })
        assertGolden(g, "pane_coupling_filtered")
        let o = press(s, [.char("o")]).0
        let og = renderPane(.coupling, o, width: 62, height: 14)
        XCTAssertFalse(og.text().contains { $0.contains(" cpl ") })
        assertGolden(og, "pane_coupling_overflow")
    }
}

final class FocusAndWidthTests: XCTestCase {
    func testFocusedPaneFrame() {
        var s = loadedState(width: 80, height: 24)
        s = press(s, [.tab]).0
        XCTAssertEqual(s.focus, .membrane)
        let g = Screen.render(s)
        let layout = ScreenLayout(s)
        for (pane, r) in layout.panes {
            let corner = g[r.x, r.y].style
            let titleCell = g[r.x + 2, r.y].style
            if pane == s.focus {
                XCTAssertEqual(corner.fg, .focus, "\(pane)")
                XCTAssertTrue(corner.attrs.contains(.bold))
                XCTAssertEqual(titleCell.fg, .focus)
                XCTAssertTrue(titleCell.attrs.contains(.reverse))
                XCTAssertEqual(g[r.x + 2, r.y].glyph, "▶")
                XCTAssertEqual(g[r.x, r.y + 1].style.fg, .focus)  // left edge too
            } else {
                XCTAssertEqual(corner.fg, .dim, "\(pane)")
                XCTAssertFalse(titleCell.attrs.contains(.reverse), "\(pane)")
            }
        }
        // The palette makes the focus frame stand out in every profile.
        for p in ColorProfile.allCases {
            let focus = Palette.resolve(Style(.focus, [.bold]), p)
            XCTAssertNotEqual(focus, Palette.resolve(.dim, p), "\(p)")
            XCTAssertTrue(focus.bold)
            XCTAssertTrue(Palette.resolve(Style(.focus, [.bold, .reverse]), p).reverse)
        }
        assertGolden(g, "screen_80x24_focus_membrane")
    }

    func testFocusedPaneASCII() {
        var s = loadedState(width: 80, height: 24, unicode: false)
        s = press(s, [.backTab]).0
        let g = Screen.render(s)
        XCTAssertTrue(g.text().contains { $0.contains("+ * Coupling map -") }, g.text().joined(separator: "\n"))
    }

    /// Layer names like digits-resnet's, one longer than 24 columns, and counts of every size.
    func longNames(width: Int, height: Int) -> ViewState {
        var s = loadedState(width: width, height: height)
        let names = ["block1.relu1", "block2.downsample.relu", "head.classifier.fc1.relu.out"]
        var layout = s.layout!
        for i in layout.layers.indices { layout.layers[i].name = names[i] }
        s.layout = layout
        var r = s.report!
        r.layout = layout
        for i in r.layers.indices { r.layers[i].info.name = names[i] }
        r.layers[0].violationsByStep = [1234, 19_876, 123_456, 1_234_567, 12_345_678, 99, 0, 9999]
        s.report = r
        return s
    }

    func testWideTerminalGivesNamesRoom() {
        let s = longNames(width: 160, height: 48)
        let g = Screen.render(s)
        let text = g.text()
        // Whole names up to 24 columns in the layer list, the coupling map and the hotspot list.
        XCTAssertTrue(text.contains { $0.contains("│▸block1.relu1 ") })
        XCTAssertTrue(text.contains { $0.contains("│ block2.downsample.relu ") })
        XCTAssertTrue(text.contains { $0.contains("│block2.downsample.relu ") })
        XCTAssertTrue(text.contains { $0.contains("│ h.c.fc1.relu.out ") })  // leading parts abbreviated
        XCTAssertTrue(text.contains { $0.contains(" block1.relu1 ") && $0.contains(" n ") })
        XCTAssertFalse(text.joined().contains("block1.rel…"))
        // Counts are exact where their column has room (five columns here), else shortened to a
        // unit, right-aligned on the column labels.
        let map = text.first { $0.contains("│block1.relu1 ") }!
        for c in ["1234", "19876", "123k", "1.2M", "12M", "99", "9999"] {
            XCTAssertTrue(map.contains(" " + c + " "), "\(c) in \(map)")
        }
        let header = text.first { $0.contains("│k0 ") }!
        func left(_ l: String) -> String { String(l.split(separator: "││", maxSplits: 1).first ?? "") }
        let edges = rightEdges(of: left(header), after: "k0")
        XCTAssertEqual(edges.count, 8)
        XCTAssertEqual(edges, rightEdges(of: left(map), after: "block1.relu1"))
        assertGolden(g, "screen_160x48_long_names")
    }

    func testNarrowTerminalStaysCompact() {
        let s = longNames(width: 80, height: 24)
        let wide = ScreenLayout(longNames(width: 160, height: 48)).panes[.layers]!.width
        XCTAssertEqual(ScreenLayout(s).panes[.layers]!.width, 43)
        XCTAssertGreaterThan(wide, 64)
        XCTAssertLessThanOrEqual(wide, 160 - ScreenLayout.largeRightMinimum)
        // Before there is a layout the large left column keeps its usual width.
        XCTAssertEqual(ScreenLayout(ViewState(width: 160, height: 48)).panes[.layers]!.width, 64)
        let text = Screen.render(s).text()
        // Names are abbreviated part by part, so that the rows stay distinct; coupling and θ stay.
        XCTAssertTrue(text.contains { $0.hasPrefix("│▸block1.relu1 sil") }, text.joined(separator: "\n"))
        XCTAssertTrue(text.contains { $0.hasPrefix("│ b2.d.relu    wait") }, text.joined(separator: "\n"))
        XCTAssertTrue(text.contains { $0.hasPrefix("│ h.c.f1.r.out wait") }, text.joined(separator: "\n"))
        XCTAssertTrue(text.contains { $0.hasPrefix("│ layer") && $0.contains(" cpl ") && $0.contains(" θ") })
        // The coupling map: counts are never cut; the k0 columns that do not fit are left out.
        var c = s
        c.focus = .coupling
        c.lowerLeft = .coupling
        let map = Screen.render(c).text().first { $0.contains("1234") }!
        XCTAssertTrue(map.contains(" 1234 ") && map.contains(" 20k "), map)
    }

    /// Column indices where runs of non-space characters end, after `prefix`.
    func rightEdges(of line: String, after prefix: String) -> [Int] {
        let chars = Array(line)
        let p = Array(prefix)
        var start = 0
        for i in 0...(chars.count - p.count) where Array(chars[i..<(i + p.count)]) == p { start = i + p.count; break }
        var out: [Int] = []
        for i in start..<(chars.count - 1) where chars[i] != " " && chars[i + 1] == " " { out.append(i) }
        return out
    }
}

extension Command {
    func isCustom(_ name: String) -> Bool {
        if case .host(let r) = self { return r.commandName == name }
        return false
    }
}
