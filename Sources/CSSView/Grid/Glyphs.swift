/// The characters the view draws with: Unicode box drawing, blocks and braille when the
/// terminal speaks UTF-8, plain ASCII otherwise.
public struct Glyphs: Sendable, Equatable {
    public struct Box: Sendable, Equatable {
        public var horizontal: Character, vertical: Character
        public var topLeft: Character, topRight: Character, bottomLeft: Character, bottomRight: Character
    }

    public var unicode: Bool
    public var box: Box
    /// Membrane magnitude glyphs for heat levels 0...Heat.levels.
    public var heat: [Character]
    /// Glyphs for negative heat levels 0...Heat.levels, distinct from `heat`: without colour
    /// (NO_COLOR, monochrome terminals) the sign must still show.
    public var negativeHeat: [Character]
    public var plus: Character
    public var minus: Character
    public var zeroSpike: Character
    public var pointer: Character
    /// Leads the focused pane's title.
    public var focusMarker: Character
    public var dot: Character
    /// Eight bar heights (1/8 ... 8/8).
    public var bars: [Character]
    public var thresholdLine: Character
    public var cross: Character
    public var ellipsis: String
    public var times: String

    public static let unicodeSet = Glyphs(
        unicode: true,
        box: Box(horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘"),
        heat: ["·", "░", "▒", "▓", "█"], negativeHeat: ["·", "⠤", "⠶", "⠿", "⣿"], plus: "+", minus: "−", zeroSpike: "·", pointer: "▸", focusMarker: "▶", dot: "•",
        bars: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"], thresholdLine: "┄", cross: "✗", ellipsis: "…", times: "×")

    public static let asciiSet = Glyphs(
        unicode: false,
        box: Box(horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+"),
        heat: [".", ":", "o", "O", "#"], negativeHeat: [".", "~", "=", "x", "X"], plus: "+", minus: "-", zeroSpike: ".", pointer: ">", focusMarker: "*", dot: "*",
        bars: [".", ".", "-", "-", "=", "=", "#", "#"], thresholdLine: "-", cross: "x", ellipsis: "~", times: "x")

    public static func forUnicode(_ on: Bool) -> Glyphs { on ? unicodeSet : asciiSet }

    /// A spike's glyph and colour (heatmap key, raster, inspector): +, − or the no-spike dot.
    public func spike<N: Comparable & ExpressibleByIntegerLiteral>(_ s: N) -> (Character, ColorRole) {
        s > 0 ? (plus, .positiveSpike) : (s < 0 ? (minus, .negativeSpike) : (zeroSpike, .dim))
    }

    /// The glyph of heat level `l` (−levels...levels): colour carries the sign, so the negative
    /// glyphs are used only when there is no colour.
    public func heatGlyph(_ l: Int, monochrome: Bool) -> Character {
        l < 0 && monochrome ? negativeHeat[min(negativeHeat.count - 1, -l)] : heat[min(heat.count - 1, abs(l))]
    }
}
