/// A rectangle of cells in grid coordinates.
public struct Rect: Hashable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }

    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && px < maxX && py >= y && py < maxY
    }

    /// The rectangle shrunk by `d` on every side.
    public func inset(_ d: Int) -> Rect { Rect(x: x + d, y: y + d, width: width - 2 * d, height: height - 2 * d) }

    public func intersection(_ o: Rect) -> Rect {
        let nx = max(x, o.x), ny = max(y, o.y)
        return Rect(x: nx, y: ny, width: min(maxX, o.maxX) - nx, height: min(maxY, o.maxY) - ny)
    }

    /// Splits off `n` rows from the top: (top, rest).
    public func splitTop(_ n: Int) -> (Rect, Rect) {
        let h = min(max(0, n), height)
        return (Rect(x: x, y: y, width: width, height: h), Rect(x: x, y: y + h, width: width, height: height - h))
    }

    /// Splits off `n` columns from the left: (left, rest).
    public func splitLeft(_ n: Int) -> (Rect, Rect) {
        let w = min(max(0, n), width)
        return (Rect(x: x, y: y, width: w, height: height), Rect(x: x + w, y: y, width: width - w, height: height))
    }
}

/// An in-memory screen: width × height cells. Everything the view draws goes here; the terminal
/// adapter diffs two grids and flushes the changes. Writes are clipped by display width and to
/// an optional clip rectangle.
public struct CellGrid: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]
    /// Writes outside this rectangle are dropped.
    public var clip: Rect

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.cells = Array(repeating: .blank, count: self.width * self.height)
        self.clip = Rect(x: 0, y: 0, width: self.width, height: self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
    }

    /// Runs `body` with writes clipped to `rect` (within the current clip).
    public mutating func clipped(to rect: Rect, _ body: (inout CellGrid) -> Void) {
        let saved = clip
        clip = clip.intersection(rect)
        body(&self)
        clip = saved
    }

    private func writable(_ x: Int, _ y: Int) -> Bool { clip.contains(x: x, y: y) }

    /// Puts one glyph of width 1 or 2 at (x, y). Wide glyphs that would cross the clip edge are
    /// replaced by a space; halves of wide glyphs that get overwritten are blanked.
    public mutating func put(_ ch: Character, x: Int, y: Int, style: Style = .normal) {
        let w = DisplayWidth.of(ch)
        if w == 0 { return }
        guard writable(x, y) else { return }
        if w == 2 && !writable(x + 1, y) {
            setCell(Cell(" ", style: style), x: x, y: y)
            return
        }
        setCell(Cell(String(ch), style: style), x: x, y: y)
        if w == 2 { setCell(Cell("", style: style), x: x + 1, y: y) }
    }

    private mutating func setCell(_ c: Cell, x: Int, y: Int) {
        let i = y * width + x
        let old = cells[i]
        // Overwriting the left half of a wide glyph orphans its right half: blank it.
        if !old.isContinuation, x + 1 < width, cells[i + 1].isContinuation {
            cells[i + 1] = Cell(" ", style: cells[i + 1].style)
        }
        // Overwriting the right half orphans the left half: blank it.
        if old.isContinuation, !c.isContinuation, x > 0 {
            cells[i - 1] = Cell(" ", style: cells[i - 1].style)
        }
        cells[i] = c
    }

    /// Writes `text` starting at (x, y), clipped to `maxWidth` columns (and the clip rectangle).
    /// Returns the number of columns written.
    @discardableResult
    public mutating func write(_ text: String, x: Int, y: Int, style: Style = .normal, maxWidth: Int? = nil) -> Int {
        let limit = maxWidth ?? Int.max
        var cx = x
        for ch in text {
            let w = DisplayWidth.of(ch)
            if w == 0 { continue }
            if cx - x + w > limit { break }
            if ch == "\n" || ch == "\t" { put(" ", x: cx, y: y, style: style); cx += 1; continue }
            put(ch, x: cx, y: y, style: style)
            cx += w
        }
        return cx - x
    }

    /// Writes text right-aligned so that it ends at column `rightEdge` (exclusive).
    @discardableResult
    public mutating func writeRight(_ text: String, rightEdge: Int, y: Int, style: Style = .normal) -> Int {
        write(text, x: rightEdge - DisplayWidth.of(text), y: y, style: style)
    }

    /// Writes fields (each a few styled runs, e.g. a label and its number) whole or not at all:
    /// the first field that does not fit in `maxWidth` (and the clip rectangle) and every one
    /// after it are left out, so that no number is ever cut. Returns the columns written.
    @discardableResult
    public mutating func writeFields(_ fields: [[(String, Style)]], x: Int, y: Int, maxWidth: Int? = nil) -> Int {
        let limit = min(maxWidth ?? Int.max, clip.maxX - x)
        var cx = x
        for f in fields {
            let w = f.reduce(0) { $0 + DisplayWidth.of($1.0) }
            if cx - x + w > limit { break }
            cx += write(f, x: cx, y: y)
        }
        return cx - x
    }

    /// Writes a sequence of styled runs.
    @discardableResult
    public mutating func write(_ runs: [(String, Style)], x: Int, y: Int, maxWidth: Int? = nil) -> Int {
        var cx = x
        let limit = maxWidth ?? Int.max
        for (text, style) in runs {
            let rest = limit - (cx - x)
            if rest <= 0 { break }
            cx += write(text, x: cx, y: y, style: style, maxWidth: rest)
        }
        return cx - x
    }

    public mutating func fill(_ rect: Rect, with ch: Character = " ", style: Style = .normal) {
        let r = rect.intersection(clip)
        guard !r.isEmpty else { return }
        let w = DisplayWidth.of(ch)
        for y in r.y..<r.maxY {
            var x = r.x
            while x < r.maxX {
                put(ch, x: x, y: y, style: style)
                x += max(1, w)
            }
        }
    }

    /// Changes the style of cells already drawn (keeps glyphs).
    public mutating func restyle(_ rect: Rect, _ transform: (Style) -> Style) {
        let r = rect.intersection(clip)
        guard !r.isEmpty else { return }
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX {
                cells[y * width + x].style = transform(cells[y * width + x].style)
            }
        }
    }

    public mutating func hline(x: Int, y: Int, width w: Int, _ ch: Character, style: Style = .normal) {
        fill(Rect(x: x, y: y, width: w, height: 1), with: ch, style: style)
    }

    /// Draws a frame around `rect` with an optional title in the top edge.
    public mutating func box(_ rect: Rect, title: String? = nil, style: Style = .dim, titleStyle: Style = .title,
                             glyphs: Glyphs) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let b = glyphs.box
        put(b.topLeft, x: rect.x, y: rect.y, style: style)
        put(b.topRight, x: rect.maxX - 1, y: rect.y, style: style)
        put(b.bottomLeft, x: rect.x, y: rect.maxY - 1, style: style)
        put(b.bottomRight, x: rect.maxX - 1, y: rect.maxY - 1, style: style)
        hline(x: rect.x + 1, y: rect.y, width: rect.width - 2, b.horizontal, style: style)
        hline(x: rect.x + 1, y: rect.maxY - 1, width: rect.width - 2, b.horizontal, style: style)
        for y in (rect.y + 1)..<(rect.maxY - 1) {
            put(b.vertical, x: rect.x, y: y, style: style)
            put(b.vertical, x: rect.maxX - 1, y: y, style: style)
        }
        if let title, rect.width > 4 {
            write(" " + title + " ", x: rect.x + 1, y: rect.y, style: titleStyle, maxWidth: rect.width - 2)
        }
    }

    /// The glyphs, one line per row (continuation cells contribute nothing, so every line has
    /// display width `width`).
    public func text() -> [String] {
        (0..<height).map { y in
            var line = ""
            for x in 0..<width { line += cells[y * width + x].glyph }
            return line
        }
    }

    /// One role letter per cell: the background role when it is not `.normal`, else the foreground.
    public func roles() -> [String] {
        (0..<height).map { y in
            var line = ""
            for x in 0..<width {
                let s = cells[y * width + x].style
                line.append(s.bg != .normal ? s.bg.letter : s.fg.letter)
            }
            return line
        }
    }
}

extension CellGrid {
    /// Replaces every non-ASCII glyph with an ASCII stand-in (for terminals without UTF-8).
    /// Wide glyphs become `??`, so column positions are kept.
    public mutating func applyASCIIFallback() {
        for i in cells.indices {
            let g = cells[i].glyph
            if g.isEmpty { cells[i].glyph = "?"; continue }
            if g.utf8.count == 1 { continue }
            cells[i].glyph = String(CellGrid.asciiMap[g.first ?? "?"] ?? "?")
        }
    }

    static let asciiMap: [Character: Character] = [
        "·": ".", "—": "-", "–": "-", "…": "~", "≥": ">", "≤": "<", "−": "-", "β": "b", "θ": "t", "₀": "0",
        "×": "x", "▸": ">", "▶": ">", "•": "*", "✗": "x", "↑": "^", "↓": "v", "←": "<", "→": ">",
        "─": "-", "│": "|", "┌": "+", "┐": "+", "└": "+", "┘": "+", "┼": "+", "┊": ":", "┄": "-",
        "░": ":", "▒": "o", "▓": "O", "█": "#", "▁": ".", "▂": ".", "▃": "-", "▄": "-", "▅": "=", "▆": "=", "▇": "#",
        "Σ": "S", "₁": "1",
    ]
}
