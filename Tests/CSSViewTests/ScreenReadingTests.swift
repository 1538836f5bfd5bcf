import XCTest
import CSSSnapshots
@testable import CSSView

/// Issue 14, "reading the screen".
final class HelpExplainsTheScreenTests: XCTestCase {
    func testHelpExplainsEveryAbbreviationAndCommand() {
        let s = loadedState(width: 80, height: 24).with { $0.hostCommands = tuningCommands + ["load"] }
        let help = HelpOverlay.lines(s).joined(separator: "\n")
        // Every abbreviation the panes show.
        for word in ["now", "+spk", "-spk", "p99.9", "ovf", "cpl", "Δ", "(Δ / Δ)", "o/v", "±v", "a e u", "ANN/θ",
                     "k0", "|u|≥1", "out B/A", "n s k0 m |u|", "9.7k", "X  S  m"] {
            XCTAssertTrue(help.contains(word), "help does not explain \(word)")
        }
        // Every command with its arguments, the :set keys included.
        for usage in [":sample N", ":step G", ":layer NAME", ":neuron I", ":hotspots F", ":focus PANE", ":speed N",
                      ":theta LAYER VALUE", ":scale LAYER FACTOR", ":adjust [LAYER|all] [ROUNDS 1-100]",
                      ":reset [LAYER|all]", ":set KEY VALUE", ":w [FILE]", ":load FILE", ":restore", ":q!"] {
            XCTAssertTrue(help.contains(usage), "help does not list \(usage)")
        }
        for key in setKeys { XCTAssertTrue(help.contains(key), "help does not name :set \(key)") }
        // Nothing is clipped: every line fits the overlay of an 80-column screen, none is cut.
        for line in HelpOverlay.lines(s) { XCTAssertLessThanOrEqual(DisplayWidth.of(line), 80 - 6, line) }
        XCTAssertTrue(HelpOverlay.lines(s.with { $0.unicode = false }).joined().allSatisfy { $0.isASCII || $0 == "Δ" || $0 == "±" || $0 == "≥" || $0 == "≤" || $0 == "×" || $0 == "β" || $0 == "·" || $0 == "…" })
    }

    func testInspectorShowsTheANNValueInThetaUnits() {
        let s = GoldenTestsState.mid()
        let line = renderPane(.inspector, s, width: 94, height: 14).text()[1]
        XCTAssertTrue(line.contains("ANN/θ"), line)
        let lt = s.selectedTrace!
        XCTAssertTrue(line.contains("ANN/θ " + Fmt.short(Double(lt.annActivation[s.neuron]) / lt.theta)), line)
    }
}

enum GoldenTestsState {
    static func mid() -> ViewState {
        press(loadedState(), [.char("n"), .char("n"), .right, .right, .right, .right, .right, .right, .right]).0
    }
}

final class CompletionCycleTests: XCTestCase {
    func testTabListsThenCyclesAndSetCompletesItsKeys() {
        var s = loadedState().with { $0.hostCommands = tuningCommands }
        // `:set ` lists its keys; a second Tab puts them in turn.
        s = press(s, chars(":set ") + [.tab]).0
        XCTAssertEqual(s.prompt?.text, "set ")
        XCTAssertEqual(s.message?.hasPrefix(setKeys.joined(separator: "  ")), true, s.message ?? "")
        s = press(s, [.tab]).0
        XCTAssertEqual(s.prompt?.text, "set T")
        XCTAssertEqual(s.message?.hasPrefix("[T]  beta"), true, s.message ?? "")
        s = press(s, [.tab, .tab]).0
        XCTAssertEqual(s.prompt?.text, "set silent")
        for _ in 0..<(setKeys.count - 2) { s = press(s, [.tab]).0 }
        XCTAssertEqual(s.prompt?.text, "set T", "wraps around")
        // Typing ends the cycle: the next Tab completes what was typed.
        s = press(s, [.backspace] + chars("b") + [.tab]).0
        XCTAssertEqual(s.prompt?.text, "set beta ")
        // Command names cycle too.
        s = press(loadedState().with { $0.hostCommands = tuningCommands }, chars(":re") + [.tab]).0
        XCTAssertEqual(s.prompt?.text, "re")
        s = press(s, [.tab]).0
        XCTAssertEqual(s.prompt?.text, "redo")
        s = press(s, [.tab]).0
        XCTAssertEqual(s.prompt?.text, "report")
        // Layer names after a command.
        s = press(loadedState().with { $0.hostCommands = tuningCommands }, chars(":scale ") + [.tab, .tab]).0
        XCTAssertEqual(s.prompt?.text, "scale conv1")
    }
}

/// Without colour the heatmap still shows the sign of o/v.
final class MonochromeHeatmapTests: XCTestCase {
    func testNegativeAndPositiveHaveDistinctGlyphsWithoutColour() {
        for unicode in [true, false] {
            let gl = Glyphs.forUnicode(unicode)
            let pos = (1...Heat.levels).map { gl.heatGlyph($0, monochrome: true) }
            let neg = (1...Heat.levels).map { gl.heatGlyph(-$0, monochrome: true) }
            XCTAssertTrue(Set(pos).isDisjoint(with: neg), "\(pos) \(neg)")
            XCTAssertEqual(Set(pos + neg).count, 2 * Heat.levels)
            XCTAssertFalse(neg.contains(gl.plus) || neg.contains(gl.minus) || pos.contains(gl.plus) || pos.contains(gl.minus))
            XCTAssertEqual(gl.heatGlyph(0, monochrome: true), gl.heatGlyph(0, monochrome: false))
            // With colour the sign is the colour's, and the glyphs are the magnitude only.
            XCTAssertEqual(gl.heatGlyph(-3, monochrome: false), gl.heatGlyph(3, monochrome: false))
        }
        var s = GoldenTestsState.mid()
        s.monochrome = true
        let g = renderPane(.membrane, s, width: 60, height: 12)
        let text = g.text().joined()
        XCTAssertTrue(text.contains("⠿") || text.contains("⣿") || text.contains("⠶") || text.contains("⠤"))
        assertGolden(g, "pane_membrane_conv_mono")
        s.unicode = false
        let ascii = renderPane(.membrane, s, width: 60, height: 12)
        XCTAssertTrue(ascii.text()[1].contains("Xx=~.:oO#"), ascii.text()[1])
        assertGolden(ascii, "pane_membrane_conv_mono_ascii")
    }
}

final class LayerSortTests: XCTestCase {
    func testSortByCouplingOverflowResidualKeepsTheSelection() {
        var s = loadedState()
        let r = Fixture.report()
        func shown(_ s: ViewState) -> [String] {
            renderPane(.layers, s, width: 64, height: 8).text().dropFirst(2).dropLast().map {
                String($0.dropFirst(2).prefix(while: { $0 != " " }))
            }
        }
        XCTAssertEqual(shown(s), ["encoder", "conv1", "conv2", "fc1", "output"])
        for (key, value) in [("coupling", { (l: LayerReport) in Double(l.coupling) }),
                             ("overflow", { (l: LayerReport) in Double(l.overflow) }),
                             ("residual", { (l: LayerReport) in l.residualP999 })] {
            s = press(s, chars(":sort \(key)") + [.enter]).0
            XCTAssertFalse(s.messageIsError)
            let expected = r.layers.enumerated().sorted { value($0.element) != value($1.element) ? value($0.element) > value($1.element) : $0.offset < $1.offset }
                .map { $0.element.info.name }
            XCTAssertEqual(shown(s), ["encoder"] + expected + ["output"], key)
            XCTAssertTrue(renderPane(.layers, s, width: 64, height: 8).text()[0].contains("by \(key)"))
        }
        // j/k walk the list as shown; the selection is a layer, not a position.
        s = press(s, chars(":sort coupling") + [.enter]).0
        let order = s.layerDisplayOrder
        s.layerRow = order[1]
        s = press(s, [.char("j")]).0
        XCTAssertEqual(s.layerRow, order[2])
        s = press(s, [.char("k"), .char("k")]).0
        XCTAssertEqual(s.layerRow, 0)
        // s cycles in the layer list; :sort graph goes back.
        let before = s.layerSort
        s = press(s, [.char("s")]).0
        XCTAssertNotEqual(s.layerSort, before)
        s = press(s, chars(":sort graph") + [.enter]).0
        XCTAssertEqual(shown(s), ["encoder", "conv1", "conv2", "fc1", "output"])
        XCTAssertTrue(press(s, chars(":sort nope") + [.enter]).0.messageIsError)
        assertGolden(renderPane(.layers, press(s, chars(":sort cpl") + [.enter]).0, width: 64, height: 8), "pane_layers_sorted")
    }
}

final class InspectorSidewaysTests: XCTestCase {
    func testNarrowInspectorFollowsTheStepAndMarksHiddenColumns() {
        var s = GoldenTestsState.mid()
        s.step = 0
        func kRow(_ s: ViewState) -> String {
            renderPane(.inspector, s, width: 30, height: 14).text().first { $0.hasPrefix("│k ") }!
        }
        // At the window's start: later columns are hidden (→), none before.
        XCTAssertTrue(kRow(s).hasSuffix("→│"), kRow(s))
        XCTAssertFalse(kRow(s).contains("←"))
        // At its end the table has moved sideways: earlier columns hidden (←), "end" shown.
        s.step = s.maxStep
        XCTAssertTrue(kRow(s).contains("←") && kRow(s).contains("end"), kRow(s))
        XCTAssertFalse(kRow(s).contains("→"))
        // Wide enough for the whole window: no arrows.
        let wide = renderPane(.inspector, s, width: 94, height: 14).text().first { $0.hasPrefix("│k ") }!
        XCTAssertFalse(wide.contains("←") || wide.contains("→"), wide)
    }

    /// `{`/`}` in the neuron pane scroll its table sideways without moving the step; a step key
    /// makes it follow the step again.
    func testBracesScrollTheTableIndependentlyOfTheStep() {
        var s = press(GoldenTestsState.mid().with { $0.width = 80; $0.height = 24 }, chars(":focus neuron") + [.enter]).0
        s = press(s, [.char("g")]).0
        XCTAssertEqual(s.focus, .inspector)
        func kRow(_ s: ViewState) -> String { Screen.render(s).text().first { $0.contains("│k ") }! }
        XCTAssertFalse(kRow(s).contains("←"), kRow(s))
        s = press(s, [.char("}"), .char("}"), .char("}")]).0
        XCTAssertEqual(s.step, 0, "the step stays")
        XCTAssertNotNil(s.inspectorScroll)
        XCTAssertTrue(kRow(s).contains("←") && kRow(s).contains("end"), kRow(s))
        let atEnd = s.inspectorScroll
        XCTAssertEqual(press(s, [.char("}")]).0.inspectorScroll, atEnd, "stops at the last column")
        s = press(s, [.char("{")]).0
        XCTAssertLessThan(s.inspectorScroll ?? .max, atEnd ?? 0)
        s = press(s, [.char("n")]).0
        XCTAssertNil(s.inspectorScroll, "a step key follows the step again")
        // Elsewhere the braces do nothing.
        XCTAssertNil(press(loadedState(), [.char("}")]).0.inspectorScroll)
        // Scrolled to the start while the step is at the end (golden).
        var g = GoldenTestsState.mid()
        g.step = g.maxStep
        g.inspectorScroll = 0
        assertGolden(renderPane(.inspector, g, width: 30, height: 14), "pane_inspector_scrolled")
    }
}
