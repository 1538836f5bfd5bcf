import CNcurses
import CSSView

/// Everything that touches curses. One instance, used only on the main actor.
@MainActor
final class TerminalScreen {
    let profile: ColorProfile
    let utf8: Bool
    private var pairs: ColorPairTable
    private var styleCache: [Style: (pair: Int32, attrs: Int32)] = [:]
    private var previous: CellGrid?
    private(set) var ended = false

    struct InitError: Error, CustomStringConvertible {
        var description: String
    }

    /// Sets the locale, starts curses, detects colours, enables the mouse.
    init(environment: [String: String], mouse: Bool) throws {
        utf8 = cnc_setlocale_utf8() != 0
        guard cnc_isatty() != 0 else { throw InitError(description: "cssdbg's debugger needs a terminal (stdin and stdout must be a tty)") }
        cnc_install_signal_handlers()
        guard cnc_start() == 0 else {
            cnc_restore_signal_handlers()
            throw InitError(description: "cannot initialise the terminal (TERM=\(environment["TERM"] ?? "unset"))")
        }
        let colors = Int(cnc_start_color())
        profile = ColorProfile.detect(colors: colors, hasColors: colors > 0, environment: environment)
        pairs = ColorPairTable(limit: profile == .mono ? 1 : Int(cnc_color_pairs()))
        if mouse { _ = cnc_enable_mouse() }
        cnc_cursor(0)
        _ = cnc_wake_open()
    }

    /// Ends a `readKey` wait at once, from any thread: a result from the backend is drawn when it
    /// arrives instead of after the rest of the key timeout.
    nonisolated static let wake: @Sendable () -> Void = { cnc_wake() }

    var size: (width: Int, height: Int) { (Int(cnc_cols()), Int(cnc_lines())) }

    /// Restores the terminal. Safe to call more than once.
    func end() {
        guard !ended else { return }
        ended = true
        cnc_cursor(1)
        _ = cnc_end()
        cnc_restore_signal_handlers()
    }

    func invalidate() { previous = nil }

    private func attributes(_ style: Style) -> (pair: Int32, attrs: Int32) {
        if let c = styleCache[style] { return c }
        let t = Palette.resolve(style, profile)
        var pair = 0
        if profile != .mono {
            let (p, isNew) = pairs.pair(fg: t.fg, bg: t.bg)
            if isNew { _ = cnc_init_pair(Int32(p), Int32(t.fg), Int32(t.bg)) }
            pair = p
        }
        var a: Int32 = 0
        if t.bold { a |= Int32(CNC_ATTR_BOLD) }
        if t.reverse { a |= Int32(CNC_ATTR_REVERSE) }
        if t.underline { a |= Int32(CNC_ATTR_UNDERLINE) }
        if t.dim { a |= Int32(CNC_ATTR_DIM) }
        let r = (Int32(pair), a)
        styleCache[style] = r
        return r
    }

    /// Draws only the cells that differ from the last frame (everything after a resize).
    func draw(_ grid: CellGrid) {
        let full = previous.map { $0.width != grid.width || $0.height != grid.height } ?? true
        if full { cnc_clear() }
        for y in 0..<grid.height {
            for x in 0..<grid.width {
                let c = grid[x, y]
                if c.isContinuation { continue }
                if !full, let p = previous {
                    let old = p[x, y]
                    // A wide glyph's right half changing means the glyph itself changed.
                    let rightChanged = x + 1 < grid.width && grid[x + 1, y].isContinuation != p[x + 1, y].isContinuation
                    if old == c && !rightChanged { continue }
                }
                let (pair, attrs) = attributes(c.style)
                if c.glyph.utf8.count == 1, let b = c.glyph.utf8.first, b >= 0x20, b < 0x7F {
                    cnc_put_ascii(Int32(y), Int32(x), CChar(bitPattern: b), pair, attrs)
                } else {
                    let glyph = utf8 ? c.glyph : "?"
                    glyph.withCString { cnc_put(Int32(y), Int32(x), $0, pair, attrs) }
                }
            }
        }
        previous = grid
        cnc_refresh()
    }

    /// A key code as curses delivered it: a Unicode character or a KEY_ constant.
    struct RawKey {
        var code: Int
        var isCharacter: Bool
        var character: Character? {
            guard isCharacter, let u = Unicode.Scalar(UInt32(truncatingIfNeeded: code)) else { return nil }
            return Character(u)
        }
    }

    /// Keys read while decoding an escape sequence that belong to what was typed next.
    private var pending: [RawKey] = []

    private func nextRaw(timeoutMs: Int, wakeable: Bool = false) -> RawKey? {
        if !pending.isEmpty { return pending.removeFirst() }
        var wide: Int32 = 0
        let k = wakeable ? cnc_get_key_or_wake(Int32(timeoutMs), &wide) : cnc_get_key(Int32(timeoutMs), &wide)
        if k == cnc_err() { return nil }
        return RawKey(code: Int(k), isCharacter: wide != 0)
    }

    /// Waits up to `timeoutMs` for input, or until `wake` is called; nil then (or on input that is
    /// no key). The rest of an escape sequence is waited for without waking.
    func readKey(timeoutMs: Int) -> Key? {
        guard let raw = nextRaw(timeoutMs: timeoutMs, wakeable: true) else { return nil }
        if raw.isCharacter && raw.code == 27 { return readEscape() }
        return decode(raw)
    }

    private func decode(_ raw: RawKey) -> Key? {
        TerminalKeys.decode(code: raw.code, isCharacter: raw.isCharacter, mouse: {
            var y: Int32 = 0, x: Int32 = 0
            let button = cnc_get_mouse(&y, &x)
            return button != 0 ? (Int(x), Int(y), Int(button)) : nil
        }, resize: {
            var l: Int32 = 0, c: Int32 = 0
            cnc_update_size(&l, &c)
            return (Int(c), Int(l))
        })
    }

    /// After an ESC that curses did not turn into a key: collects the characters that are already
    /// there (curses has waited ESCDELAY for them), waits a few milliseconds more only while they
    /// are the start of a sequence, and decodes them (`EscapeSequence`). A lone Esc costs no
    /// extra wait. Whatever the sequence did not use is read as the next keys.
    private func readEscape() -> Key? {
        var tail: [RawKey] = []
        func chars() -> [Character] { tail.compactMap(\.character) }
        func take(timeoutMs: Int) -> Bool {
            guard tail.count < EscapeSequence.maxLength + 2, let r = nextRaw(timeoutMs: timeoutMs) else { return false }
            guard r.character != nil else {
                pending.insert(r, at: 0)  // a KEY_ code or resize: not part of the sequence
                return false
            }
            tail.append(r)
            return true
        }
        while take(timeoutMs: 0) {}
        var result = EscapeSequence.decode(chars())
        var waits = 0
        while result == .incomplete && waits < 3 {
            waits += 1
            if take(timeoutMs: 10) { while take(timeoutMs: 0) {} }
            result = EscapeSequence.decode(chars(), complete: waits == 3)
        }
        if result == .incomplete { result = EscapeSequence.decode(chars(), complete: true) }
        guard case .key(let key, let consumed) = result else { return nil }
        pending.insert(contentsOf: tail.dropFirst(consumed), at: 0)
        return key
    }
}

/// Decoding of curses key codes into `Key`s.
enum TerminalKeys {
    /// `mouse`: the pointer and the button (1: a click, 4 / 5: the wheel up / down).
    static func decode(code: Int, isCharacter: Bool, mouse: () -> (Int, Int, Int)?,
                       resize: () -> (Int, Int)) -> Key? {
        if isCharacter {
            switch code {
            case 3: return .ctrlC
            case 9: return .tab
            case 10, 13: return .enter
            case 27: return .escape
            case 8, 127: return .backspace
            case 1...26: return .ctrl(Character(Unicode.Scalar(UInt8(code + 96))))
            default:
                guard code >= 32, let u = Unicode.Scalar(UInt32(code)) else { return nil }
                return .char(Character(u))
            }
        }
        switch Int32(code) {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_BTAB: return .backTab
        case (KEY_F0 + 1)...(KEY_F0 + 12): return .function(code - Int(KEY_F0))
        case cnc_key_resize():
            let (w, h) = resize()
            return .resize(width: w, height: h)
        case cnc_key_mouse():
            guard let (x, y, button) = mouse() else { return nil }
            switch button {
            case 4: return .wheel(x: x, y: y, up: true)
            case 5: return .wheel(x: x, y: y, up: false)
            default: return .click(x: x, y: y)
            }
        default: return nil
        }
    }
}
