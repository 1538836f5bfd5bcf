import XCTest
import CSSView

final class BrailleCanvasTests: XCTestCase {
    private func single(_ x: Int, _ y: Int) -> Character? {
        var c = BrailleCanvas(cellWidth: 1, cellHeight: 1)
        c.set(x, y)
        return c.character(cellX: 0, cellY: 0)
    }

    func testEachDotMapsToItsBrailleBit() {
        // Dots 1-2-3 down the left column, 4-5-6 down the right, 7 and 8 on the bottom row.
        XCTAssertEqual(single(0, 0), "\u{2801}")
        XCTAssertEqual(single(0, 1), "\u{2802}")
        XCTAssertEqual(single(0, 2), "\u{2804}")
        XCTAssertEqual(single(1, 0), "\u{2808}")
        XCTAssertEqual(single(1, 1), "\u{2810}")
        XCTAssertEqual(single(1, 2), "\u{2820}")
        XCTAssertEqual(single(0, 3), "\u{2840}")
        XCTAssertEqual(single(1, 3), "\u{2880}")
    }

    func testFullAndEmptyCells() {
        var c = BrailleCanvas(cellWidth: 2, cellHeight: 1)
        XCTAssertTrue(c.isEmpty)
        XCTAssertNil(c.character(cellX: 0, cellY: 0))
        for y in 0..<4 { for x in 0..<2 { c.set(x, y) } }
        XCTAssertEqual(c.character(cellX: 0, cellY: 0), "\u{28FF}")
        XCTAssertNil(c.character(cellX: 1, cellY: 0))
        XCTAssertEqual(c.lines(), ["\u{28FF}\u{2800}"])
        XCTAssertEqual(BrailleCanvas.character(for: 0), "\u{2800}")
        XCTAssertEqual(BrailleCanvas.character(for: 0xFF), "\u{28FF}")
        c.unset(1, 3)
        XCTAssertEqual(c.character(cellX: 0, cellY: 0), "\u{287F}")
    }

    func testDotsAddressTheRightCell() {
        var c = BrailleCanvas(cellWidth: 3, cellHeight: 2)
        XCTAssertEqual(c.dotWidth, 6)
        XCTAssertEqual(c.dotHeight, 8)
        c.set(5, 7)  // last dot of the last cell
        c.set(2, 4)  // first dot of cell (1, 1)
        XCTAssertEqual(c.mask(cellX: 2, cellY: 1), 0x80)
        XCTAssertEqual(c.mask(cellX: 1, cellY: 1), 0x01)
        XCTAssertTrue(c.isSet(5, 7))
        XCTAssertFalse(c.isSet(4, 7))
        XCTAssertEqual(c.masks.filter { $0 != 0 }.count, 2)
    }

    func testOutOfRangeDotsAreIgnored() {
        var c = BrailleCanvas(cellWidth: 2, cellHeight: 1)
        c.set(-1, 0); c.set(0, -1); c.set(4, 0); c.set(0, 4)
        XCTAssertTrue(c.isEmpty)
        XCTAssertFalse(c.isSet(-1, 0))
        XCTAssertEqual(c.mask(cellX: 5, cellY: 0), 0)
        // A line leaving the canvas keeps its visible part.
        c.line(from: -3, 1, to: 10, 1)
        XCTAssertEqual(c.lines(), ["\u{2812}\u{2812}"])
        XCTAssertTrue(BrailleCanvas(cellWidth: 0, cellHeight: -1).isEmpty)
    }

    func testHorizontalVerticalAndDiagonalLines() {
        var h = BrailleCanvas(cellWidth: 2, cellHeight: 1)
        h.line(from: 0, 0, to: 3, 0)
        XCTAssertEqual(h.lines(), ["\u{2809}\u{2809}"])  // ⠉⠉

        var v = BrailleCanvas(cellWidth: 1, cellHeight: 2)
        v.line(from: 1, 7, to: 1, 0)  // drawn upwards
        XCTAssertEqual(v.lines(), ["\u{28B8}", "\u{28B8}"])  // right column full: 4+5+6+8

        var d = BrailleCanvas(cellWidth: 2, cellHeight: 1)
        d.line(from: 0, 0, to: 3, 3)
        // (0,0) (1,1) | (2,2) (3,3): dots 1+5, then 3+8.
        XCTAssertEqual(d.lines(), ["\u{2811}\u{2884}"])
        var back = BrailleCanvas(cellWidth: 2, cellHeight: 1)
        back.line(from: 3, 3, to: 0, 0)
        XCTAssertEqual(back, d)
    }

    func testShallowAndSteepLinesAreConnected() {
        // Every column of a shallow line and every row of a steep line gets exactly one dot.
        var shallow = BrailleCanvas(cellWidth: 10, cellHeight: 1)
        shallow.line(from: 0, 0, to: 19, 3)
        for x in 0..<20 { XCTAssertEqual((0..<4).filter { shallow.isSet(x, $0) }.count, 1, "column \(x)") }
        XCTAssertTrue(shallow.isSet(0, 0) && shallow.isSet(19, 3))

        var steep = BrailleCanvas(cellWidth: 1, cellHeight: 5)
        steep.line(from: 0, 0, to: 1, 19)
        for y in 0..<20 { XCTAssertEqual((0..<2).filter { steep.isSet($0, y) }.count, 1, "row \(y)") }

        var point = BrailleCanvas(cellWidth: 1, cellHeight: 1)
        point.line(from: 1, 2, to: 1, 2)
        XCTAssertEqual(point.lines(), ["\u{2820}"])
    }

    func testDottedHorizontalLineAndUnion() {
        var a = BrailleCanvas(cellWidth: 3, cellHeight: 1)
        a.hline(y: 1, from: 0, to: 5, step: 2)
        XCTAssertEqual(a.lines(), ["\u{2802}\u{2802}\u{2802}"])
        var b = BrailleCanvas(cellWidth: 2, cellHeight: 2)
        b.set(1, 1); b.set(0, 5)
        a.formUnion(b)  // b's second row does not fit and is dropped
        XCTAssertEqual(a.lines(), ["\u{2812}\u{2802}\u{2802}"])
    }

    func testRenderWritesOnlyCellsWithDots() {
        var g = CellGrid(width: 6, height: 3)
        g.fill(g.bounds, with: "x", style: .dim)
        var c = BrailleCanvas(cellWidth: 3, cellHeight: 1)
        c.set(0, 0); c.set(5, 3)
        c.render(into: &g, x: 2, y: 1, role: .positiveSpike)
        XCTAssertEqual(g.text(), ["xxxxxx", "xx\u{2801}x\u{2880}x", "xxxxxx"])
        XCTAssertEqual(g.roles(), ["dddddd", "ddpdpd", "dddddd"])

        // The per-cell style closure sees canvas coordinates; grid clipping applies.
        var h = CellGrid(width: 3, height: 1)
        var seen: [Int] = []
        c.render(into: &h, x: 1, y: 0) { cx, _ in seen.append(cx); return Style(.title, bg: .selection) }
        XCTAssertEqual(seen, [0, 2])
        XCTAssertEqual(h.text(), [" \u{2801} "])
        XCTAssertEqual(h.roles(), [".#."])
    }

    func testBrailleGlyphsAreOneColumnWide() {
        for m in [0x01, 0x80, 0xFF] as [UInt8] {
            XCTAssertEqual(DisplayWidth.of(BrailleCanvas.character(for: m)), 1)
        }
    }
}
