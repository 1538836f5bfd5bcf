import CSSView

/// Escape sequences that curses hands over undecoded. With keypad mode on, curses turns the
/// sequences its terminfo entry lists into KEY_ codes (Shift-Tab `ESC [ Z` → KEY_BTAB), but when
/// the entry lacks one (TERM=vt100/vt220 have no `kcbt`) it returns a plain ESC followed by the
/// rest as ordinary characters — which would read as Esc, `[` (previous sample), `Z`. The terminal
/// adapter collects the characters that arrived together with an ESC and asks `decode` what they
/// were. Pure.
public enum EscapeSequence {
    public enum Result: Equatable, Sendable {
        /// The key (nil: a well-formed sequence with no binding, dropped) and how many characters
        /// of the tail it used; the rest are ordinary keys typed afterwards.
        case key(Key?, consumed: Int)
        /// The tail is the start of a longer sequence: wait briefly for the rest.
        case incomplete
    }

    /// Longest CSI accepted; anything longer is dropped as garbage.
    public static let maxLength = 24

    /// `tail`: the characters that followed an ESC without delay. `complete`: no more input is
    /// coming (an unfinished sequence is then dropped rather than read as keys).
    public static func decode(_ tail: [Character], complete: Bool = false) -> Result {
        guard let first = tail.first else { return .key(.escape, consumed: 0) }
        switch first {
        case "\t":
            // ESC Tab: Shift-Tab on the Linux console (kcbt=\E^I) and in some terminals.
            return .key(.backTab, consumed: 1)
        case "[":
            return csi(tail, complete: complete)
        case "O":
            // SS3: application-mode cursor keys (ESC O A …).
            guard tail.count >= 2 else { return complete ? .key(nil, consumed: 1) : .incomplete }
            let key: Key?
            switch tail[1] {
            case "A": key = .up
            case "B": key = .down
            case "C": key = .right
            case "D": key = .left
            case "H": key = .home
            case "F": key = .end
            case "M": key = .enter
            case "Z": key = .backTab
            default: key = nil
            }
            return .key(key, consumed: 2)
        default:
            // A plain Esc (then, e.g., Alt-x reads as Esc followed by x).
            return .key(.escape, consumed: 0)
        }
    }

    /// `ESC [ params intermediates final`.
    static func csi(_ tail: [Character], complete: Bool) -> Result {
        var params = ""
        var i = 1
        while i < tail.count {
            let c = tail[i]
            guard let v = c.asciiValue else { return .key(nil, consumed: i) }
            switch v {
            case 0x30...0x3F:
                params.append(c)
            case 0x20...0x2F:
                break  // intermediate bytes: none of the keys we know use them
            case 0x40...0x7E:
                return .key(csiKey(final: c, params: params), consumed: i + 1)
            default:
                // Not part of a CSI (a control character): drop what came so far.
                return .key(nil, consumed: i)
            }
            i += 1
            if i > maxLength { return .key(nil, consumed: i) }
        }
        return complete ? .key(nil, consumed: tail.count) : .incomplete
    }

    static func csiKey(final: Character, params: String) -> Key? {
        // Modifier parameters (`1;2A` = Shift-Up) do not change which key it is.
        let first = params.split(separator: ";", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        switch final {
        case "Z": return .backTab
        case "A": return .up
        case "B": return .down
        case "C": return .right
        case "D": return .left
        case "H": return .home
        case "F": return .end
        case "~":
            switch first {
            case "1", "7": return .home
            case "4", "8": return .end
            case "5": return .pageUp
            case "6": return .pageDown
            case "3": return .delete
            default: return nil
            }
        default: return nil
        }
    }
}
