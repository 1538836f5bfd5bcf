/// Semantic colour roles. The view never names a colour; the terminal adapter maps roles to
/// colour pairs for the detected profile (see `Palette`).
public enum ColorRole: Hashable, Sendable {
    case normal, dim, title
    /// The frame and title of the pane that has the keyboard focus.
    case focus
    case positiveSpike, negativeSpike
    case violation, overflow, coupling
    case silent, waiting, firing, done
    case selection
    /// Membrane heat level in `-Heat.levels ... Heat.levels` (sign = sign of o/v).
    case heat(Int)
    case ok, warn, bad
    /// A number that changed for the better / worse since the previous report (tuning deltas).
    case better, worse

    /// One letter per role, for golden role grids.
    public var letter: Character {
        switch self {
        case .normal: return "."
        case .dim: return "d"
        case .title: return "t"
        case .focus: return "*"
        case .positiveSpike: return "p"
        case .negativeSpike: return "n"
        case .violation: return "v"
        case .overflow: return "o"
        case .coupling: return "c"
        case .silent: return "s"
        case .waiting: return "w"
        case .firing: return "f"
        case .done: return "e"
        case .selection: return "#"
        case .heat(let level):
            let letters: [Character] = ["A", "B", "C", "D", "E", "F", "G", "H", "I"]
            let i = max(-Heat.levels, min(Heat.levels, level)) + Heat.levels
            return letters[i]
        case .ok: return "g"
        case .warn: return "y"
        case .bad: return "r"
        case .better: return "+"
        case .worse: return "-"
        }
    }

    /// Every role, in a fixed order (used by palette tests and pair pre-allocation).
    public static var all: [ColorRole] {
        var r: [ColorRole] = [.normal, .dim, .title, .focus, .positiveSpike, .negativeSpike, .violation, .overflow,
                              .coupling, .silent, .waiting, .firing, .done, .selection]
        for l in -Heat.levels...Heat.levels { r.append(.heat(l)) }
        r += [.ok, .warn, .bad, .better, .worse]
        return r
    }
}

/// The membrane heat scale: `o/v` mapped onto `-levels ... levels`.
public enum Heat {
    public static let levels = 4
    /// Upper bounds of |o/v| for levels 0..<levels; anything at or above the last is `levels`.
    public static let bounds: [Float] = [0.05, 0.25, 0.5, 1.0]

    public static func level(_ x: Float) -> Int {
        guard x.isFinite else { return x > 0 ? levels : (x < 0 ? -levels : 0) }
        let a = abs(x)
        var l = levels
        for (i, b) in bounds.enumerated() where a < b { l = i; break }
        return x < 0 ? -l : l
    }
}

/// Text attributes of a cell.
public struct CellAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = CellAttributes(rawValue: 1)
    public static let reverse = CellAttributes(rawValue: 2)
    public static let underline = CellAttributes(rawValue: 4)
}

/// The style of written text: foreground and background roles plus attributes.
public struct Style: Hashable, Sendable {
    public var fg: ColorRole
    public var bg: ColorRole
    public var attrs: CellAttributes

    public init(_ fg: ColorRole = .normal, bg: ColorRole = .normal, _ attrs: CellAttributes = []) {
        self.fg = fg
        self.bg = bg
        self.attrs = attrs
    }

    public static let normal = Style()
    public static let dim = Style(.dim)
    public static let title = Style(.title, [.bold])
    public static let selected = Style(.normal, bg: .selection)
}

/// One terminal cell. A wide glyph occupies its own cell plus a continuation cell to its right.
public struct Cell: Hashable, Sendable {
    /// One grapheme of display width 1 or 2; empty for the right half of a wide glyph.
    public var glyph: String
    public var style: Style
    public var isContinuation: Bool { glyph.isEmpty }

    public init(_ glyph: String = " ", style: Style = .normal) {
        self.glyph = glyph
        self.style = style
    }

    public static let blank = Cell()
}

/// Display width of characters and strings in terminal columns (East Asian Wide/Fullwidth = 2,
/// combining marks and format characters = 0). Independent of the process locale.
public enum DisplayWidth {
    public static func of(_ c: Character) -> Int {
        guard let first = c.unicodeScalars.first else { return 0 }
        if c.isASCII { return first.value < 0x20 || first.value == 0x7F ? 0 : 1 }
        let scalars = c.unicodeScalars
        // Emoji presentation (or text + VS16) is drawn two columns wide.
        if scalars.contains(where: { $0.value == 0xFE0F }) && first.properties.isEmoji { return 2 }
        return of(scalar: first)
    }

    public static func of(scalar s: Unicode.Scalar) -> Int {
        let v = s.value
        if v == 0 { return 0 }
        if v < 0x20 || (v >= 0x7F && v < 0xA0) { return 0 }
        switch s.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if v >= 0x1160 && v <= 0x11FF { return 0 }  // Hangul medial vowels / final consonants
        if s.properties.isEmojiPresentation { return 2 }
        if isWide(v) { return 2 }
        return 1
    }

    static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF,
             0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3,
             0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }

    public static func of(_ s: String) -> Int { s.reduce(0) { $0 + of($1) } }

    /// The longest prefix of `s` whose width is at most `width`.
    public static func clip(_ s: String, to width: Int) -> String {
        var out = ""
        var w = 0
        for c in s {
            let cw = of(c)
            if w + cw > width { break }
            out.append(c)
            w += cw
        }
        return out
    }

    /// Clips to `width`, ending with an ellipsis when something was cut.
    public static func truncate(_ s: String, to width: Int, ellipsis: String = "…") -> String {
        if of(s) <= width { return s }
        let ew = of(ellipsis)
        guard width > ew else { return clip(s, to: width) }
        return clip(s, to: width - ew) + ellipsis
    }

    /// Pads with spaces (right by default) to exactly `width` columns, clipping if longer.
    public static func pad(_ s: String, to width: Int, right: Bool = true) -> String {
        let c = clip(s, to: width)
        let fill = String(repeating: " ", count: max(0, width - of(c)))
        return right ? c + fill : fill + c
    }
}
