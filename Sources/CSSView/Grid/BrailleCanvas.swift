/// A dot canvas drawn with Unicode braille (U+2800 ... U+28FF): every cell holds 2 × 4 dots, so
/// a plot gets twice the horizontal and four times the vertical resolution of the cell grid.
///
/// Dot coordinates start at the top-left; `x` grows to the right, `y` downwards. Dots outside the
/// canvas are ignored. The type is pure: drawing only changes the dot masks, and `render` writes
/// the non-empty cells into a `CellGrid` (empty cells are left untouched, so a canvas overlays
/// what is already drawn).
public struct BrailleCanvas: Equatable, Sendable {
    /// Size in cells.
    public let cellWidth: Int
    public let cellHeight: Int
    /// One dot mask per cell, row-major; bit layout as in the Unicode braille block.
    public private(set) var masks: [UInt8]

    public init(cellWidth: Int, cellHeight: Int) {
        self.cellWidth = max(0, cellWidth)
        self.cellHeight = max(0, cellHeight)
        masks = Array(repeating: 0, count: self.cellWidth * self.cellHeight)
    }

    /// Size in dots.
    public var dotWidth: Int { cellWidth * 2 }
    public var dotHeight: Int { cellHeight * 4 }
    public var isEmpty: Bool { !masks.contains(where: { $0 != 0 }) }

    /// The braille bit of the dot at (dx, dy) inside its cell (dx in 0...1, dy in 0...3):
    /// dots 1-2-3 run down the left column, 4-5-6 down the right, 7 and 8 are the bottom row.
    public static func bit(dx: Int, dy: Int) -> UInt8 {
        switch (dx, dy) {
        case (0, 0): return 0x01
        case (0, 1): return 0x02
        case (0, 2): return 0x04
        case (1, 0): return 0x08
        case (1, 1): return 0x10
        case (1, 2): return 0x20
        case (0, 3): return 0x40
        case (1, 3): return 0x80
        default: return 0
        }
    }

    /// The braille character for a dot mask (0 is the blank pattern U+2800).
    public static func character(for mask: UInt8) -> Character {
        Character(Unicode.Scalar(0x2800 + UInt32(mask))!)
    }

    public func contains(x: Int, y: Int) -> Bool { x >= 0 && y >= 0 && x < dotWidth && y < dotHeight }

    public mutating func set(_ x: Int, _ y: Int) {
        guard contains(x: x, y: y) else { return }
        masks[(y / 4) * cellWidth + x / 2] |= BrailleCanvas.bit(dx: x % 2, dy: y % 4)
    }

    public mutating func unset(_ x: Int, _ y: Int) {
        guard contains(x: x, y: y) else { return }
        masks[(y / 4) * cellWidth + x / 2] &= ~BrailleCanvas.bit(dx: x % 2, dy: y % 4)
    }

    public func isSet(_ x: Int, _ y: Int) -> Bool {
        guard contains(x: x, y: y) else { return false }
        return masks[(y / 4) * cellWidth + x / 2] & BrailleCanvas.bit(dx: x % 2, dy: y % 4) != 0
    }

    /// A straight line of dots from (x0, y0) to (x1, y1), both ends included (Bresenham). Parts
    /// outside the canvas are dropped.
    public mutating func line(from x0: Int, _ y0: Int, to x1: Int, _ y1: Int) {
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        var x = x0, y = y0
        while true {
            set(x, y)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// A horizontal line at dot row `y` from `x0` to `x1` (inclusive), setting every `step`-th dot
    /// (step 2 gives a dotted line).
    public mutating func hline(y: Int, from x0: Int, to x1: Int, step: Int = 1) {
        guard x0 <= x1 else { return }
        for x in stride(from: x0, through: x1, by: max(1, step)) { set(x, y) }
    }

    /// Adds every dot of `other` (aligned at the top-left; parts that do not fit are dropped).
    public mutating func formUnion(_ other: BrailleCanvas) {
        for cy in 0..<min(cellHeight, other.cellHeight) {
            for cx in 0..<min(cellWidth, other.cellWidth) {
                masks[cy * cellWidth + cx] |= other.masks[cy * other.cellWidth + cx]
            }
        }
    }

    /// The dot mask of cell (cx, cy); 0 outside the canvas.
    public func mask(cellX cx: Int, cellY cy: Int) -> UInt8 {
        guard cx >= 0, cy >= 0, cx < cellWidth, cy < cellHeight else { return 0 }
        return masks[cy * cellWidth + cx]
    }

    /// The glyph of cell (cx, cy), nil when it has no dots.
    public func character(cellX cx: Int, cellY cy: Int) -> Character? {
        let m = mask(cellX: cx, cellY: cy)
        return m == 0 ? nil : BrailleCanvas.character(for: m)
    }

    /// The canvas as text, one line per cell row (blank cells as U+2800), for tests and debugging.
    public func lines() -> [String] {
        (0..<cellHeight).map { cy in
            String((0..<cellWidth).map { BrailleCanvas.character(for: mask(cellX: $0, cellY: cy)) })
        }
    }

    /// Writes the non-empty cells with their top-left cell at (x, y), each styled by `style`
    /// (given the cell's canvas coordinates). Grid clipping applies.
    public func render(into g: inout CellGrid, x: Int, y: Int, style: (_ cellX: Int, _ cellY: Int) -> Style) {
        for cy in 0..<cellHeight {
            for cx in 0..<cellWidth {
                guard let ch = character(cellX: cx, cellY: cy) else { continue }
                g.put(ch, x: x + cx, y: y + cy, style: style(cx, cy))
            }
        }
    }

    /// Writes the non-empty cells in one colour role.
    public func render(into g: inout CellGrid, x: Int, y: Int, role: ColorRole, bg: ColorRole = .normal,
                       attrs: CellAttributes = []) {
        render(into: &g, x: x, y: y) { _, _ in Style(role, bg: bg, attrs) }
    }
}
