import XCTest
import CSSSnapshots
@testable import CSSView

final class GoldenTests: XCTestCase {
    /// conv1, neuron 7, at a step where conv1 fires and conv2 is silent.
    func midState(width: Int = 160, height: Int = 48, unicode: Bool = true) -> ViewState {
        var s = loadedState(width: width, height: height, unicode: unicode)
        s = press(s, [.char("n"), .char("n"), .right, .right, .right, .right, .right, .right, .right]).0
        return s
    }

    func testScreen160x48() {
        assertGolden(Screen.render(midState()), "screen_160x48")
    }

    /// On a wide terminal the extra columns go to the membrane heatmap, inspector plot and
    /// raster; the left column keeps what its names and numbers need.
    func testWideTerminalGivesTheExtraWidthToTheRightColumn() {
        let normal = ScreenLayout(midState()), wide = ScreenLayout(midState(width: 240, height: 48))
        XCTAssertEqual(wide.panes[.layers]?.width, normal.panes[.layers]?.width)
        for pane in [Pane.membrane, .inspector, .raster] {
            XCTAssertEqual(wide.panes[pane]!.width - normal.panes[pane]!.width, 80, "\(pane)")
        }
        assertGolden(Screen.render(midState(width: 240, height: 48)), "screen_240x48")
    }

    func testScreen80x24() {
        assertGolden(Screen.render(midState(width: 80, height: 24)), "screen_80x24")
    }

    func testScreen80x24ASCII() {
        let g = Screen.render(midState(width: 80, height: 24, unicode: false))
        for line in g.text() { XCTAssertTrue(line.allSatisfy { $0.isASCII }, line) }
        assertGolden(g, "screen_80x24_ascii")
    }

    func testScreenTooSmall() {
        let g = Screen.render(midState(width: 60, height: 20))
        XCTAssertTrue(g.text().joined().contains("cssdbg needs at least 80×24"))
        assertGolden(g, "screen_too_small_60x20")
    }

    func testScreenBeforeAnyData() {
        assertGolden(Screen.render(ViewState(width: 80, height: 24)), "screen_empty_80x24")
    }

    func testScreenWhileReportRuns() {
        var s = loadedState(width: 80, height: 24, report: false)
        s = update(s, .progress(0.42)).0
        assertGolden(Screen.render(s), "screen_progress_80x24")
    }

    func testStatusPane() {
        var g = CellGrid(width: 120, height: 2)
        StatusPane.render(midState(), into: &g, rect: g.bounds)
        assertGolden(g, "pane_status")
    }

    func testLayerListPane() {
        assertGolden(renderPane(.layers, midState(), width: 64, height: 8), "pane_layers")
        assertGolden(renderPane(.layers, midState(), width: 34, height: 8), "pane_layers_narrow")
    }

    func testLayerListWideName() {
        // A CJK layer name is clipped by display width: no half glyphs, columns stay aligned.
        var s = loadedState(wideName: true)
        s = press(s, [.down]).0
        let g = renderPane(.layers, s, width: 40, height: 8)
        for line in g.text() { XCTAssertEqual(DisplayWidth.of(line), 40, line) }
        assertGolden(g, "pane_layers_wide_name")
    }

    func testMembraneConv() {
        assertGolden(renderPane(.membrane, midState(), width: 60, height: 12), "pane_membrane_conv")
    }

    func testMembraneCropAndPage() {
        // Tiles larger than the pane are cropped around the selected neuron; one channel per page.
        var s = midState()
        s.neuron = 3 * 36 + 5 * 6 + 5
        assertGolden(renderPane(.membrane, s, width: 20, height: 6), "pane_membrane_crop")
    }

    func testMembraneDense() {
        var s = midState()
        s = press(s, [.down, .down, .char("n"), .char("n")]).0
        XCTAssertEqual(s.rowName(s.layerRow), "fc1")
        assertGolden(renderPane(.membrane, s, width: 30, height: 6), "pane_membrane_dense")
    }

    func testMembraneEncoderAndOutput() {
        var s = midState()
        s = press(s, [.up]).0
        XCTAssertTrue(s.isEncoderSelected)
        assertGolden(renderPane(.membrane, s, width: 40, height: 10), "pane_membrane_encoder")
        s = press(s, [.char("G"), .down, .down, .down, .down]).0
        XCTAssertTrue(s.isOutputSelected)
        assertGolden(renderPane(.membrane, s, width: 50, height: 12), "pane_membrane_output")
    }

    func testMembraneWaiting() {
        var s = loadedState()
        s = press(s, [.down, .down]).0  // fc1 starts at g=2
        assertGolden(renderPane(.membrane, s, width: 60, height: 5), "pane_membrane_waiting")
    }

    func testInspector() {
        assertGolden(renderPane(.inspector, midState(), width: 94, height: 14), "pane_inspector")
        assertGolden(renderPane(.inspector, midState(), width: 40, height: 11), "pane_inspector_narrow")
    }

    func testInspectorCouplingNeuron() {
        // A neuron with a late burst: a coupling case with its violations marked.
        var s = loadedState()
        let h = Fixture.report().hotspots.first(where: { $0.kind == .coupling && $0.sample == 0 })!
        s.layerRow = h.layer + 1
        s.neuron = h.neuron
        s.step = Fixture.layout().layers[h.layer].windowStart + h.firstViolationStep
        let g = renderPane(.inspector, s, width: 94, height: 14)
        XCTAssertTrue(g.text().joined().contains("COUPLING k0=\(h.firstViolationStep)"))
        XCTAssertTrue(g.roles().joined().contains("v"))
        assertGolden(g, "pane_inspector_coupling")
    }

    func testInspectorPlotIsBrailleOnlyInUnicode() {
        func isBraille(_ c: Cell) -> Bool { c.glyph.unicodeScalars.first.map { (0x2800...0x28FF).contains($0.value) } ?? false }
        for unicode in [true, false] {
            var s = loadedState(unicode: unicode)
            let h = Fixture.report().hotspots.first(where: { $0.kind == .coupling && $0.sample == 0 })!
            s.layerRow = h.layer + 1
            s.neuron = h.neuron
            s.step = Fixture.layout().layers[h.layer].windowStart + h.firstViolationStep
            let g = renderPane(.inspector, s, width: 94, height: 14)
            let text = g.text()
            let kRow = text.firstIndex(where: { $0.hasPrefix("\(s.glyphs.box.vertical)k ") })!
            let sRow = text.firstIndex(where: { $0.hasPrefix("\(s.glyphs.box.vertical)S ") })!
            let plotRows = 2..<kRow
            let braille = plotRows.flatMap { y in (0..<g.width).filter { isBraille(g[$0, y]) } }
            XCTAssertEqual(!braille.isEmpty, unicode)
            XCTAssertTrue(text[plotRows].contains(where: { $0.hasPrefix("\(s.glyphs.box.vertical)+v  ") }))
            XCTAssertTrue(text[plotRows].contains(where: { $0.hasPrefix("\(s.glyphs.box.vertical)-v  ") }))
            guard unicode else { continue }
            // Every spike of the S row (steps up to the current one) is marked, in its column, on
            // the row above the braille plot; the plot shows the whole window, like the text plot.
            let current = (0..<g.width).filter { g[$0, kRow].style.bg == .selection }
            let spikes = (0..<g.width).filter { ["+", "−"].contains(g[$0, sRow].glyph) }
            XCTAssertFalse(spikes.isEmpty)
            let markers = (0..<g.width).filter { ["+", "−"].contains(g[$0, 2].glyph) }
            let markedSoFar = markers.filter { $0 <= current.max()! }
            XCTAssertEqual(markedSoFar, spikes)
            XCTAssertEqual(markedSoFar.map { g[$0, 2].glyph }, spikes.map { g[$0, sRow].glyph })
            XCTAssertGreaterThan(markers.count, markedSoFar.count)
            // The current step is highlighted on its marker and on the curve cell below it.
            let marked = plotRows.flatMap { y in (0..<g.width).filter { g[$0, y].style.bg == .selection }.map { ($0, y) } }
            XCTAssertEqual(marked.count, 2)
            XCTAssertTrue(marked.allSatisfy { current.contains($0.0) })
            XCTAssertTrue(marked.contains(where: { isBraille(g[$0.0, $0.1]) }))
        }
    }

    func testRaster() {
        assertGolden(renderPane(.raster, midState(), width: 60, height: 8), "pane_raster")
    }

    func testHistogram() {
        assertGolden(renderPane(.histogram, midState(), width: 50, height: 12), "pane_histogram")
    }

    func testCoupling() {
        assertGolden(renderPane(.coupling, midState(), width: 62, height: 14), "pane_coupling")
    }

    func testHelpOverlay() {
        let s = press(midState(width: 80, height: 24), [.char("?")]).0
        assertGolden(Screen.render(s), "overlay_help_80x24")
    }

    func testErrorOverlay() {
        let s = update(midState(width: 80, height: 24), .backendFailed("sample 9: simulated failure")).0
        assertGolden(Screen.render(s), "overlay_error_80x24")
    }

    func testCommandLineRendering() {
        let s = press(midState(width: 80, height: 24), chars(":sam")).0
        let g = Screen.render(s)
        XCTAssertEqual(g.text().last?.hasPrefix(":sam "), true)
    }
}

extension ViewState {
    func with(_ f: (inout ViewState) -> Void) -> ViewState {
        var s = self
        f(&s)
        return s
    }
}
