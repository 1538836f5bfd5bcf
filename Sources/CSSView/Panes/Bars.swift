import CSSCore

/// The two status lines: where we are and how the network is doing.
enum StatusPane {
    static func render(_ s: ViewState, into g: inout CellGrid, rect: Rect) {
        guard rect.height >= 1 else { return }
        let top = Style(.title, bg: .selection, [.bold])
        g.fill(Rect(x: rect.x, y: rect.y, width: rect.width, height: 1), style: top)
        var runs: [(String, Style)] = [(" cssdbg ", top)]
        if let l = s.layout {
            let c = l.config
            runs.append((" " + l.modelName + " ", top))
            var sampleText = " sample \(s.sample)"
            if s.sampleCount > 0 { sampleText += "/\(s.sampleCount)" }
            if let t = s.trace, t.sample == s.sample, let label = t.label { sampleText += " label \(label)" }
            runs.append((sampleText + " ", top))
            runs.append((" g \(s.step)/\(l.latency) ", top))
            let beta = Fmt.fixed(c.beta, c.beta * 100 == (c.beta * 100).rounded() ? 2 : 3)
            runs.append((" T \(c.T) β \(beta) L \(c.silent) neg \(c.negative ? "on" : "off") ", top))
            if c.isRate { runs.append((" rate ", top)) }
        } else {
            runs.append((" loading…", top))
        }
        g.write(runs, x: rect.x, y: rect.y, maxWidth: rect.width)
        if s.playing {
            let p = (s.glyphs.unicode ? "▶ " : "> ") + formatSpeed(s.playSpeed) + "/s "
            g.writeRight(p, rightEdge: rect.maxX, y: rect.y, style: Style(.firing, bg: .selection, [.bold]))
        }
        guard rect.height >= 2 else { return }
        let y = rect.y + 1
        var line: [(String, Style)] = []
        if let t = s.trace, t.sample == s.sample {
            let ann = t.annPrediction
            line.append((" ANN ", .dim))
            line.append(("\(ann)", Style(.normal, [.bold])))
            line.append(("  SNN@\(s.step) ", .dim))
            if let p = t.anytimePrediction(atGlobal: s.step) {
                line.append(("\(p)", Style(p == ann ? .ok : .warn, [.bold])))
            } else {
                line.append(("-", .dim))
            }
            let fin = t.snnPrediction
            line.append(("  final ", .dim))
            line.append(("\(fin)", Style(fin == ann ? .ok : .bad, [.bold])))
            if let label = t.label {
                line.append((" ", .normal))
                line.append((fin == label ? "correct" : "wrong", Style(fin == label ? .ok : .bad)))
            }
        } else if s.layout != nil {
            line.append((" sample \(s.sample) loading…", .dim))
        }
        if let r = s.report {
            line.append(("   acc ANN ", .dim))
            line.append((Fmt.percent(r.annAccuracy), .normal))
            line.append((" SNN ", .dim))
            line.append((Fmt.percent(r.snnAccuracy), .normal))
            line.append(("  agree ", .dim))
            line.append((Fmt.percent(r.agreement), Style(r.agreement >= 0.99 ? .ok : (r.agreement >= 0.9 ? .warn : .bad))))
            line.append(("  (\(r.samples) samples)", .dim))
        }
        g.write(line, x: rect.x, y: y, maxWidth: rect.width)
        if let p = s.reportProgress {
            let barW = 12
            let filled = Int((p * Double(barW)).rounded(.down))
            let full: Character = s.glyphs.unicode ? "█" : "#"
            let empty: Character = s.glyphs.unicode ? "░" : "."
            let bar = String(repeating: full, count: filled) + String(repeating: empty, count: barW - filled)
            let text = "report " + bar + " " + Fmt.fixed(p * 100, 0) + "% "
            g.writeRight(text, rightEdge: rect.maxX, y: y, style: Style(.warn))
        } else if let l = s.loadingSample {
            g.writeRight("loading sample \(l)… ", rightEdge: rect.maxX, y: y, style: Style(.warn))
        }
    }
}

/// The bottom line: the prompt, the last message, or key hints.
enum BottomBar {
    static func render(_ s: ViewState, into g: inout CellGrid, rect: Rect) {
        guard rect.height >= 1 else { return }
        if let p = s.prompt {
            let lead = p.kind == .command ? ":" : "/"
            let w = g.write(lead + p.text, x: rect.x, y: rect.y, style: .normal, maxWidth: rect.width - 1)
            g.put(" ", x: rect.x + w, y: rect.y, style: Style(.normal, [.reverse]))
            return
        }
        if let m = s.message {
            g.write(m, x: rect.x, y: rect.y, style: s.messageIsError ? Style(.bad, [.bold]) : .normal,
                    maxWidth: rect.width)
            return
        }
        let hint = "? help  : command  n/b step  space play  [/] sample  j/k layer  h/l neuron  Tab pane  q quit"
        g.write(hint, x: rect.x, y: rect.y, style: .dim, maxWidth: rect.width)
    }
}

/// Every key and command.
enum HelpOverlay {
    static func lines(_ s: ViewState) -> [String] {
        let arrows = s.glyphs.unicode ? "↑↓" : "up/dn"
        let lr = s.glyphs.unicode ? "←→" : "lt/rt"
        var rows: [(String, String)] = [
            ("n / b", "step forward / back one global step"),
            ("g / G", "first / last step"),
            ("space", "play / pause      + / -   play speed"),
            ("w", "jump to the selected layer's window start"),
            ("[ / ]", "previous / next sample"),
            ("\(arrows)  j / k", "select layer (membrane: move in grid,"),
            ("", "raster: neuron, coupling: hotspot)"),
            ("\(lr)  h / l", "select neuron"),
            ("PgUp / PgDn", "page (membrane, raster, hotspots, layers)"),
            ("Home / End", "first / last neuron"),
            ("Tab / S-Tab", "cycle pane focus"),
            ("Enter", "coupling pane: jump to the selected hotspot"),
            ("/", "find layer by name (Enter keeps, Esc stops)"),
            ("r", "compute the data-set report"),
            (":", "command line (\(arrows) history, Tab completes)"),
            ("", ":sample N  :step G  :layer NAME  :neuron I"),
            ("", ":report  :help  :q"),
        ]
        if !s.customCommands.isEmpty {
            rows.append(("", s.customCommands.map { ":" + $0 }.joined(separator: "  ")))
        }
        rows += [
            ("mouse", "click layers, neurons, hotspots, panes"),
            ("?", "toggle this help        Esc  close overlays"),
            ("q / Ctrl-C", "quit"),
        ]
        return rows.map { DisplayWidth.pad($0.0, to: 14) + " " + $0.1 }
    }

    static func render(_ s: ViewState, into g: inout CellGrid) {
        let ls = lines(s)
        let w = min(s.width - 2, (ls.map { DisplayWidth.of($0) }.max() ?? 0) + 4)
        let h = min(s.height - 2, ls.count + 2)
        let r = Rect(x: (s.width - w) / 2, y: max(1, (s.height - h) / 2), width: w, height: h)
        g.fill(r)
        g.box(r, title: "Help — keys and commands", style: Style(.title), titleStyle: Style(.title, [.bold, .reverse]),
              glyphs: s.glyphs)
        for (i, line) in ls.enumerated() where i < h - 2 {
            g.write(line, x: r.x + 2, y: r.y + 1 + i, maxWidth: w - 3)
        }
    }
}

/// A backend failure, shown until a key is pressed; nothing else is lost.
enum ErrorOverlay {
    static func render(_ text: String, _ s: ViewState, into g: inout CellGrid) {
        let w = min(s.width - 4, 70)
        let lines = wrap(text, width: w - 4) + ["", "Esc dismisses; the session continues."]
        let h = min(s.height - 2, lines.count + 2)
        let r = Rect(x: (s.width - w) / 2, y: max(1, (s.height - h) / 2), width: w, height: h)
        g.fill(r)
        g.box(r, title: "Backend error", style: Style(.bad), titleStyle: Style(.bad, [.bold, .reverse]),
              glyphs: s.glyphs)
        for (i, line) in lines.enumerated() where i < h - 2 {
            g.write(line, x: r.x + 2, y: r.y + 1 + i, style: i < lines.count - 1 ? .normal : .dim, maxWidth: w - 4)
        }
    }
}

/// Greedy word wrap by display width.
func wrap(_ text: String, width: Int) -> [String] {
    guard width > 0 else { return [] }
    var out: [String] = []
    for para in text.split(separator: "\n", omittingEmptySubsequences: false) {
        var line = ""
        for word in para.split(separator: " ") {
            var w = String(word)
            while DisplayWidth.of(w) > width {
                if !line.isEmpty { out.append(line); line = "" }
                let head = DisplayWidth.clip(w, to: width)
                out.append(head)
                w = String(w.dropFirst(head.count))
            }
            if line.isEmpty {
                line = w
            } else if DisplayWidth.of(line) + 1 + DisplayWidth.of(w) <= width {
                line += " " + w
            } else {
                out.append(line)
                line = w
            }
        }
        out.append(line)
    }
    return out
}
