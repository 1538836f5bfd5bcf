import CSSSnapshots

// `:sweep` in the debugger: the host runs `ConversionSweep` and answers a `SweepResult`; the
// view shows it in the sweep pane and, on Enter, asks the host to reconvert to the chosen
// point's T, β, L and spike sign as one undoable change. The view never simulates.

extension Keymap {
    /// `:sweep [-T LIST] [--beta LIST] [--silent LIST] [--negative LIST] [--rounds N] [--limit N]`;
    /// without words it reopens the last result.
    static let sweepCommand = CommandEntry(
        "sweep", usage: ":sweep -T 4,8 --silent 0,1 …",
        help: ["evaluate every T/β/L/sign combination", "(--negative on,off --beta --rounds --limit);",
               "no words: reopen the last sweep"],
        readme: "evaluate every combination of `-T`, `--beta`, `--silent`, `--negative` (comma lists; a list not given keeps the current setting), with `--rounds N` A.3 rounds and `--limit N` samples, as `cssdbg sweep` does; Esc or the next change cancels it. The sweep pane shows accuracy against latency and the table; Enter reconverts to the selected point (one undo step). Without words: reopen the last sweep",
        argument: .text, .view { s, words, cmds in
            guard s.hasCommand("sweep") else { throw CommandError("unknown command :sweep") }
            if words.isEmpty {
                guard let last = s.sweep else { throw CommandError("no sweep yet: :sweep -T 4,6,8 --silent 0,1 --negative on,off") }
                openSweep(&s, last, keepRow: true)
                return
            }
            let spec: SweepSpec
            do { spec = try SweepSpec.parse(words: words) } catch { throw CommandError(":sweep: \(error)") }
            // Ranges checked here too (on the current config), so a bad value never reaches the host.
            if let base = s.layout?.config {
                do { _ = try spec.configurations(base: base) } catch { throw CommandError(":sweep: \(error)") }
            }
            requestHost(&s, .job(.sweep(spec)), line: (["sweep"] + words).joined(separator: " "), &cmds)
        })
}

/// Shows a sweep result: the pane opens on its first Pareto point (or keeps the selection).
func openSweep(_ s: inout ViewState, _ result: SweepResult, keepRow: Bool = false) {
    if !keepRow || s.sweep != result {
        s.sweepRow = result.rows.firstIndex(where: \.pareto) ?? 0
    }
    s.sweep = result
    s.sweepRow = max(0, min(s.sweepRow, result.rows.count - 1))
    s.overlay = .sweep
    s.playing = false
}

/// The sweep pane's keys: ↑/↓ (k/j) select, g/G first/last, Enter adopts, Esc/q close.
func handleSweepKey(_ s: inout ViewState, _ key: Key, _ cmds: inout [Command]) {
    let n = s.sweep?.rows.count ?? 0
    switch key {
    case .escape, .char("q"):
        s.overlay = .none
    case .down, .char("j"):
        s.sweepRow = min(max(0, n - 1), s.sweepRow + 1)
    case .up, .char("k"):
        s.sweepRow = max(0, s.sweepRow - 1)
    case .home, .char("g"):
        s.sweepRow = 0
    case .end, .char("G"):
        s.sweepRow = max(0, n - 1)
    case .enter:
        guard let row = s.sweep?.rows[safe: s.sweepRow] else { return }
        s.overlay = .none
        let c = row.config
        requestHost(&s, sweepAdoption(c), line: "set T \(c.T) beta \(Fmt.short(c.beta)) silent \(c.silent) negative \(c.negative ? "on" : "off")", &cmds)
    default:
        break
    }
}

/// The one request that reconverts to a sweep point: T, β, L and the spike sign together.
func sweepAdoption(_ c: ConversionConfig) -> HostRequest {
    .setAll([.T(c.T), .beta(c.beta), .silent(c.silent), .negative(c.negative)])
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
