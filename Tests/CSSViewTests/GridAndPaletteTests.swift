import XCTest
@testable import CSSView

final class GridTests: XCTestCase {
    func testDisplayWidth() {
        XCTAssertEqual(DisplayWidth.of("abc"), 3)
        XCTAssertEqual(DisplayWidth.of("卷积"), 4)
        XCTAssertEqual(DisplayWidth.of("e\u{301}"), 1)  // combining accent
        XCTAssertEqual(DisplayWidth.of("ｆｕｌｌ"), 8)
        XCTAssertEqual(DisplayWidth.of("█▓·−"), 4)
        XCTAssertEqual(DisplayWidth.clip("卷积层", to: 5), "卷积")
        XCTAssertEqual(DisplayWidth.truncate("卷积层二号", to: 7), "卷积层…")
        XCTAssertEqual(DisplayWidth.pad("卷", to: 4), "卷  ")
    }

    func testWideCharactersAreClippedByWidth() {
        var g = CellGrid(width: 6, height: 2)
        let w = g.write("a卷积层", x: 0, y: 0, maxWidth: 4)
        XCTAssertEqual(w, 3)  // "a卷" fits, "积" would need columns 3-4 of a 4-wide limit: 1+2+2 = 5 > 4
        XCTAssertEqual(g.text()[0], "a卷   ")
        g.write("卷积层", x: 1, y: 1)  // the last glyph would cross the right edge
        XCTAssertEqual(g.text()[1], " 卷积 ")
        for line in g.text() { XCTAssertEqual(DisplayWidth.of(line), 6) }
    }

    func testOverwritingHalfAWideGlyph() {
        var g = CellGrid(width: 4, height: 1)
        g.write("卷积", x: 0, y: 0)
        g.put("x", x: 1, y: 0)  // right half of 卷
        XCTAssertEqual(g.text()[0], " x积")
        g.put("y", x: 2, y: 0)  // left half of 积
        XCTAssertEqual(g.text()[0], " xy ")
        XCTAssertEqual(DisplayWidth.of(g.text()[0]), 4)
    }

    func testClipRectangle() {
        var g = CellGrid(width: 8, height: 3)
        g.clipped(to: Rect(x: 2, y: 1, width: 3, height: 1)) { g in
            g.write("hello", x: 0, y: 1)
            g.write("zz", x: 2, y: 0)
            g.write("卷积", x: 3, y: 1)  // 积 would cross the clip edge
        }
        XCTAssertEqual(g.text(), ["        ", "  l卷   ", "        "])
    }

    func testBoxAndRoles() {
        var g = CellGrid(width: 10, height: 3)
        g.box(g.bounds, title: "T", glyphs: .unicodeSet)
        g.write("+", x: 2, y: 1, style: Style(.positiveSpike))
        g.write("-", x: 3, y: 1, style: Style(.negativeSpike, bg: .selection))
        XCTAssertEqual(g.text(), ["┌ T ─────┐", "│ +-     │", "└────────┘"])
        XCTAssertEqual(g.roles()[1], "d.p#.....d")
        var a = CellGrid(width: 10, height: 3)
        a.box(a.bounds, glyphs: .asciiSet)
        XCTAssertEqual(a.text()[0], "+--------+")
    }

    func testASCIIFallbackKeepsColumns() {
        var g = CellGrid(width: 6, height: 1)
        g.write("卷·█x", x: 0, y: 0)
        g.applyASCIIFallback()
        XCTAssertEqual(g.text()[0], "??.#x ")
    }

    func testHeatLevels() {
        XCTAssertEqual(Heat.level(0), 0)
        XCTAssertEqual(Heat.level(0.04), 0)
        XCTAssertEqual(Heat.level(0.2), 1)
        XCTAssertEqual(Heat.level(-0.3), -2)
        XCTAssertEqual(Heat.level(0.99), 3)
        XCTAssertEqual(Heat.level(1), 4)
        XCTAssertEqual(Heat.level(-7), -4)
        XCTAssertEqual(Heat.level(.infinity), 4)
        XCTAssertEqual(Set(ColorRole.all.map(\.letter)).count, ColorRole.all.count)
    }

    func testNumberFormatting() {
        XCTAssertEqual(Fmt.count(1234), "1234")
        XCTAssertEqual(Fmt.count(12345), "12k")
        XCTAssertEqual(Fmt.count(19_876), "20k")
        XCTAssertEqual(Fmt.count(999_999), "1.0M")  // rounded, never cut
        XCTAssertEqual(Fmt.count(1_234_567), "1.2M")
        XCTAssertEqual(Fmt.count(19_249_000), "19M")
        for n in [0, 9999, 10_000, 123_456, 9_999_999, 99_999_999] { XCTAssertLessThanOrEqual(Fmt.count(n).count, 4) }
        XCTAssertEqual(Fmt.short(-2, width: 4), "-2")
        XCTAssertEqual(Fmt.short(0.45, width: 3), ".45")
        XCTAssertEqual(Fmt.short(-0.45, width: 3), "-.5")
        XCTAssertEqual(Fmt.short(3.14159), "3.14")
        XCTAssertEqual(Fmt.short(0.000123), "1.2e-4")
        XCTAssertEqual(Fmt.fixed(-0.001, 2), "0.00")
        XCTAssertEqual(Fmt.percent(0.9876), "98.8%")
    }
}

final class PaletteTests: XCTestCase {
    func testProfileDetection() {
        XCTAssertEqual(ColorProfile.detect(colors: 256, environment: [:]), .ansi256)
        XCTAssertEqual(ColorProfile.detect(colors: 8, environment: [:]), .ansi8)
        XCTAssertEqual(ColorProfile.detect(colors: 16, environment: [:]), .ansi8)
        XCTAssertEqual(ColorProfile.detect(colors: 2, environment: [:]), .mono)
        XCTAssertEqual(ColorProfile.detect(colors: 256, hasColors: false, environment: [:]), .mono)
        XCTAssertEqual(ColorProfile.detect(colors: 256, environment: ["NO_COLOR": "1"]), .mono)
        XCTAssertEqual(ColorProfile.detect(colors: 256, environment: ["NO_COLOR": ""]), .ansi256)
        XCTAssertEqual(ColorProfile.detect(colors: 256, environment: ["CSSDBG_COLOR": "8"]), .ansi8)
        XCTAssertEqual(ColorProfile.detect(colors: 8, environment: ["NO_COLOR": "x", "CSSDBG_COLOR": "256"]), .ansi256)
    }

    func testMonoUsesAttributesOnly() {
        for role in ColorRole.all {
            let t = Palette.resolve(Style(role), .mono)
            XCTAssertEqual(t.fg, -1, "\(role)")
            XCTAssertEqual(t.bg, -1, "\(role)")
        }
        XCTAssertTrue(Palette.resolve(Style(.normal, bg: .selection), .mono).reverse)
        XCTAssertTrue(Palette.resolve(Style(.violation), .mono).bold)
        XCTAssertNotEqual(Palette.resolve(Style(.positiveSpike), .mono), Palette.resolve(Style(.negativeSpike), .mono))
        XCTAssertTrue(Palette.resolve(Style(.dim), .mono).dim)
    }

    func testANSI8() {
        for role in ColorRole.all {
            let t = Palette.resolve(Style(role), .ansi8)
            XCTAssertTrue((-1..<8).contains(t.fg), "\(role)")
            XCTAssertTrue((-1..<8).contains(t.bg), "\(role)")
        }
        XCTAssertEqual(Palette.resolve(Style(.positiveSpike), .ansi8).fg, 2)
        XCTAssertEqual(Palette.resolve(Style(.negativeSpike), .ansi8).fg, 5)
        XCTAssertEqual(Palette.resolve(Style(.violation), .ansi8).fg, 1)
        XCTAssertEqual(Palette.resolve(Style(.heat(-4)), .ansi8).fg, 4)
        XCTAssertEqual(Palette.resolve(Style(.heat(4)), .ansi8).fg, 1)
        let sel = Palette.resolve(Style(.dim, bg: .selection), .ansi8)
        XCTAssertEqual(sel.bg, 7)
        XCTAssertEqual(sel.fg, 0)  // readable on the white bar
    }

    func testANSI256() {
        for role in ColorRole.all {
            let t = Palette.resolve(Style(role), .ansi256)
            XCTAssertTrue((-1..<256).contains(t.fg), "\(role)")
        }
        let ramp = (-Heat.levels...Heat.levels).map { Palette.resolve(Style(.heat($0)), .ansi256).fg }
        XCTAssertEqual(ramp, Palette.heat256)
        XCTAssertEqual(Set(ramp).count, ramp.count)
        XCTAssertEqual(Palette.resolve(Style(.normal, bg: .selection), .ansi256).bg, 238)
        XCTAssertTrue(Palette.resolve(Style(.title, [.bold, .reverse]), .ansi256).reverse)
    }

    func testPairTable() {
        var t = ColorPairTable(limit: 4)
        XCTAssertEqual(t.pair(fg: -1, bg: -1).pair, 0)
        let a = t.pair(fg: 2, bg: -1)
        XCTAssertEqual(a.pair, 1)
        XCTAssertTrue(a.isNew)
        XCTAssertEqual(t.pair(fg: 2, bg: -1).isNew, false)
        XCTAssertEqual(t.pair(fg: 3, bg: -1).pair, 2)
        XCTAssertEqual(t.pair(fg: 4, bg: 7).pair, 3)
        XCTAssertEqual(t.pair(fg: 5, bg: -1).pair, 0)  // full: falls back to the default pair
    }
}
