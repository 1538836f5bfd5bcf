import CSSSnapshots

/// Breakpoint work the view asks of its host (docs/numerics.md §11). Conditions stay text here:
/// the host parses them against the current layout (the view does not know the core's grammar).
public enum BreakpointRequest: Equatable, Sendable {
    /// `:break COND`.
    case add(String)
    /// `:breaks`: number, enabled, condition, hit count.
    case list
    /// `:delete N|all` (nil: all).
    case delete(Int?)
    /// `:enable N` / `:disable N`.
    case enable(Int, Bool)
    /// `c` / `C`: the next stop of the enabled breakpoints after / before the current step.
    case next(forward: Bool)

    /// Whether it edits the list (which the session file keeps).
    public var changesList: Bool {
        switch self {
        case .add, .delete, .enable: true
        case .list, .next: false
        }
    }

    public var commandName: String {
        switch self {
        case .add: "break"
        case .list: "breaks"
        case .delete: "delete"
        case .enable(_, let on): on ? "enable" : "disable"
        case .next(let forward): forward ? "continue" : "reverse-continue"
        }
    }
}

/// `:delete`/`:enable`/`:disable`'s breakpoint number (`all` only where `allowAll`).
func breakpointNumber(_ words: [String], _ name: String, allowAll: Bool) throws -> Int? {
    let usage = allowAll ? "usage: :\(name) N|all" : "usage: :\(name) N"
    guard words.count == 1 else { throw CommandError(usage) }
    if allowAll, words[0].lowercased() == "all" { return nil }
    guard let n = Int(words[0]), n > 0 else { throw CommandError("'\(words[0])' is not a breakpoint number; \(usage)") }
    return n
}

extension Keymap {
    /// The breakpoint `:` commands (appended to `commands`).
    static let breakpointCommands: [CommandEntry] = [
        CommandEntry("break", usage: ":break COND", help: ["add a breakpoint (c/C stop at its hits)"],
                     readme: "add a numbered breakpoint: `coupling|overflow|violation [LAYER]`, `spike LAYER N`, `margin < X`, `residual [LAYER] > X`, `flip`, `wrong`, `disagree` (docs/numerics.md §11)",
                     argument: .breakCondition, .host { w, _ in
            guard !w.isEmpty else { throw CommandError("usage: :break COND") }
            return .breakpoint(.add(w.joined(separator: " ")))
        }),
        CommandEntry("breaks", usage: ":breaks", help: ["list breakpoints and their hit counts"], .host { w, _ in
            guard w.isEmpty else { throw CommandError("usage: :breaks") }
            return .breakpoint(.list)
        }),
        CommandEntry("delete", usage: ":delete N|all", help: ["delete breakpoint N (or all)"], .host { w, _ in
            .breakpoint(.delete(try breakpointNumber(w, "delete", allowAll: true)))
        }),
        CommandEntry("disable", usage: ":disable N", help: ["disable breakpoint N"], .host { w, _ in
            .breakpoint(.enable(try breakpointNumber(w, "disable", allowAll: false)!, false))
        }),
        CommandEntry("enable", usage: ":enable N", help: ["enable breakpoint N"], .host { w, _ in
            .breakpoint(.enable(try breakpointNumber(w, "enable", allowAll: false)!, true))
        }),
    ]
}
