/// The one error type of the import layer. Its description is a single line
/// `FILE: problem`, optionally followed by `; hint`.
public struct ImportError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file the problem is in, as the user named it (or as it was found in a bundle).
    public var file: String
    /// What is wrong, without the file name.
    public var problem: String
    /// What to do about it, if there is something short to say.
    public var hint: String?

    public init(file: String, problem: String, hint: String? = nil) {
        self.file = file
        self.problem = problem
        self.hint = hint
    }

    public var description: String {
        Self.oneLine("\(file): \(problem)" + (hint.map { "; \($0)" } ?? ""))
    }

    /// `text` made safe to print as one terminal line. Names from the file (tensor, node and
    /// θ keys, npy `descr`) end up in messages, so this works on Unicode scalars, not
    /// `Character`s: `"\r\n"` is a single Character equal to neither `"\r"` nor `"\n"`.
    /// Every run of line breaks (CR, LF, VT, FF, NEL, U+2028/2029) becomes one space, a tab one
    /// space; other control characters (C0, DEL, C1) and the bidirectional overrides that can make a line
    /// display differently from what it holds are written as `\u{XX}` escapes.
    static func oneLine(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingBreak = false
        for s in text.unicodeScalars {
            switch s.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029:
                pendingBreak = true
                continue
            default:
                break
            }
            if pendingBreak {
                // Like splitting into lines and joining with " ": no leading separator, one per run.
                if !out.isEmpty { out.append(" ") }
                pendingBreak = false
            }
            if s.value == 0x09 {
                out.append(" ")
            } else if s.value < 0x20 || (0x7F...0x9F).contains(s.value) || (0x202A...0x202E).contains(s.value)
                || (0x2066...0x2069).contains(s.value) {
                out.append(contentsOf: "\\u{\(String(s.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(s)
            }
        }
        return String(out)
    }
}
