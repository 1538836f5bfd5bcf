/// The terminal's colour capability, detected once at start-up.
public enum ColorProfile: String, Sendable, CaseIterable {
    case mono, ansi8, ansi256

    /// `NO_COLOR` (any non-empty value) forces mono; otherwise the number of colours decides.
    /// `CSSDBG_COLOR` = mono/8/256 overrides everything.
    public static func detect(colors: Int, hasColors: Bool = true, environment: [String: String]) -> ColorProfile {
        if let o = environment["CSSDBG_COLOR"] {
            switch o.lowercased() {
            case "mono", "none", "0": return .mono
            case "8", "ansi8": return .ansi8
            case "256", "ansi256": return .ansi256
            default: break
            }
        }
        if let nc = environment["NO_COLOR"], !nc.isEmpty { return .mono }
        guard hasColors else { return .mono }
        if colors >= 256 { return .ansi256 }
        if colors >= 8 { return .ansi8 }
        return .mono
    }
}

/// A concrete terminal style: colour numbers (-1 = terminal default) and attributes.
public struct TerminalStyle: Hashable, Sendable {
    public var fg: Int
    public var bg: Int
    public var bold: Bool
    public var reverse: Bool
    public var underline: Bool
    public var dim: Bool

    public init(fg: Int = -1, bg: Int = -1, bold: Bool = false, reverse: Bool = false, underline: Bool = false,
                dim: Bool = false) {
        self.fg = fg
        self.bg = bg
        self.bold = bold
        self.reverse = reverse
        self.underline = underline
        self.dim = dim
    }
}

/// Maps semantic roles to terminal colours for a profile. Pure.
public enum Palette {
    // ANSI colour numbers.
    static let black = 0, red = 1, green = 2, yellow = 3, blue = 4, magenta = 5, cyan = 6, white = 7

    /// Foreground colour and attributes of a role.
    public static func foreground(_ role: ColorRole, _ p: ColorProfile) -> TerminalStyle {
        switch p {
        case .mono:
            switch role {
            case .normal, .ok, .firing: return TerminalStyle()
            case .dim, .waiting, .done, .silent: return TerminalStyle(dim: true)
            case .title: return TerminalStyle(bold: true)
            case .focus: return TerminalStyle(bold: true)
            case .positiveSpike: return TerminalStyle(bold: true)
            case .negativeSpike: return TerminalStyle(underline: true)
            case .violation, .overflow, .bad: return TerminalStyle(bold: true, underline: true)
            case .coupling, .warn: return TerminalStyle(bold: true)
            case .better: return TerminalStyle()
            case .worse: return TerminalStyle(bold: true)
            case .selection: return TerminalStyle(reverse: true)
            case .heat(let l): return TerminalStyle(bold: abs(l) >= Heat.levels, dim: l == 0)
            }
        case .ansi8:
            switch role {
            case .normal: return TerminalStyle()
            case .dim: return TerminalStyle(fg: white, dim: true)
            case .title: return TerminalStyle(fg: cyan)
            case .focus: return TerminalStyle(fg: yellow, bold: true)
            case .positiveSpike: return TerminalStyle(fg: green)
            case .negativeSpike: return TerminalStyle(fg: magenta)
            case .violation, .overflow: return TerminalStyle(fg: red, bold: true)
            case .coupling: return TerminalStyle(fg: yellow, bold: true)
            case .silent: return TerminalStyle(fg: blue)
            case .waiting: return TerminalStyle(fg: white, dim: true)
            case .firing: return TerminalStyle(fg: green)
            case .done: return TerminalStyle(fg: cyan, dim: true)
            case .selection: return TerminalStyle(fg: black, bg: white)
            case .heat(let l):
                if l == 0 { return TerminalStyle(fg: white, dim: true) }
                return TerminalStyle(fg: l > 0 ? red : blue, bold: abs(l) >= 3)
            case .ok: return TerminalStyle(fg: green)
            case .warn: return TerminalStyle(fg: yellow)
            case .bad: return TerminalStyle(fg: red, bold: true)
            case .better: return TerminalStyle(fg: green, bold: true)
            case .worse: return TerminalStyle(fg: red)
            }
        case .ansi256:
            switch role {
            case .normal: return TerminalStyle()
            case .dim: return TerminalStyle(fg: 244)
            case .title: return TerminalStyle(fg: 81)
            case .focus: return TerminalStyle(fg: 226, bold: true)
            case .positiveSpike: return TerminalStyle(fg: 46)
            case .negativeSpike: return TerminalStyle(fg: 201)
            case .violation, .overflow: return TerminalStyle(fg: 196, bold: true)
            case .coupling: return TerminalStyle(fg: 214, bold: true)
            case .silent: return TerminalStyle(fg: 75)
            case .waiting: return TerminalStyle(fg: 240)
            case .firing: return TerminalStyle(fg: 40)
            case .done: return TerminalStyle(fg: 109)
            case .selection: return TerminalStyle(fg: 231, bg: 238)
            case .heat(let l): return TerminalStyle(fg: heat256[max(-Heat.levels, min(Heat.levels, l)) + Heat.levels])
            case .ok: return TerminalStyle(fg: 114)
            case .warn: return TerminalStyle(fg: 220)
            case .bad: return TerminalStyle(fg: 203, bold: true)
            case .better: return TerminalStyle(fg: 78, bold: true)
            case .worse: return TerminalStyle(fg: 167)
            }
        }
    }

    /// Diverging blue–grey–red ramp for o/v from −1 to +1.
    public static let heat256 = [21, 27, 69, 110, 244, 217, 209, 203, 196]

    /// Background colour of a role (-1 = default); selection also reverses in mono.
    public static func background(_ role: ColorRole, _ p: ColorProfile) -> (color: Int, reverse: Bool) {
        guard role != .normal else { return (-1, false) }
        switch p {
        case .mono: return (-1, role == .selection)
        case .ansi8: return (role == .selection ? white : foreground(role, p).fg, false)
        case .ansi256: return (role == .selection ? 238 : foreground(role, p).fg, false)
        }
    }

    /// The complete terminal style of a cell style.
    public static func resolve(_ style: Style, _ p: ColorProfile) -> TerminalStyle {
        var t = foreground(style.fg, p)
        let (bg, rev) = background(style.bg, p)
        if style.bg != .normal { t.bg = bg }
        if style.fg == .selection && style.bg == .normal { t.bg = foreground(.selection, p).bg }
        if p != .mono, style.bg == .selection, t.fg == -1 { t.fg = foreground(.selection, p).fg }
        // 8-colour: text on a white selection bar must stay readable.
        if p == .ansi8, style.bg == .selection, t.fg == white { t.fg = black }
        t.bold = t.bold || style.attrs.contains(.bold)
        t.underline = t.underline || style.attrs.contains(.underline)
        t.reverse = t.reverse != (style.attrs.contains(.reverse) != rev)
        if p == .mono, style.bg == .selection { t.dim = false }
        return t
    }
}

/// Assigns curses colour-pair numbers to (fg, bg) combinations, first come first served.
/// Pair 0 is the terminal default. Pure value; the adapter calls `init_pair` for new ones.
public struct ColorPairTable: Sendable {
    public private(set) var pairs: [PairKey: Int] = [:]
    public let limit: Int

    public struct PairKey: Hashable, Sendable {
        public var fg: Int
        public var bg: Int
    }

    public init(limit: Int) { self.limit = limit }

    /// The pair for a colour combination and whether it is new (needs `init_pair`).
    /// Returns 0 when both are default or the table is full.
    public mutating func pair(fg: Int, bg: Int) -> (pair: Int, isNew: Bool) {
        if fg == -1 && bg == -1 { return (0, false) }
        let key = PairKey(fg: fg, bg: bg)
        if let p = pairs[key] { return (p, false) }
        let next = pairs.count + 1
        guard next < limit else { return (0, false) }
        pairs[key] = next
        return (next, true)
    }
}
