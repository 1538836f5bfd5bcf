import CSSSnapshots

// The overlays drawn over the panes: help, the restore offer, the quit confirmation, errors.

/// Every key and command. Scrolls (j/k, PgUp/PgDn) when taller than the screen.
enum HelpOverlay {
    /// Joins items with `separator` into lines of at most `width` columns, never splitting an item.
    static func wrap(_ items: [String], width: Int, separator: String) -> [String] {
        var out: [String] = []
        var line = ""
        for item in items {
            if line.isEmpty {
                line = item
            } else if DisplayWidth.of(line) + separator.count + DisplayWidth.of(item) <= width {
                line += separator + item
            } else {
                out.append(line)
                line = item
            }
        }
        if !line.isEmpty { out.append(line) }
        return out
    }

    static func frame(_ s: ViewState, _ ls: [String]) -> Rect {
        let w = min(s.width - 2, (ls.map { DisplayWidth.of($0) }.max() ?? 0) + 4)
        let h = min(s.height - 2, ls.count + 2)
        return Rect(x: (s.width - w) / 2, y: max(1, (s.height - h) / 2), width: w, height: h)
    }

    /// Lines that fit at once.
    static func visibleLines(_ s: ViewState) -> Int { max(1, frame(s, lines(s)).height - 2) }

    static func render(_ s: ViewState, into g: inout CellGrid) {
        let ls = lines(s)
        let r = frame(s, ls)
        let w = r.width, h = r.height
        let visible = max(0, h - 2)
        let first = max(0, min(s.helpScroll, ls.count - visible))
        g.fill(r)
        g.box(r, title: "Help — keys and commands", style: Style(.title), titleStyle: Style(.title, [.bold, .reverse]),
              glyphs: s.glyphs)
        for i in 0..<visible where first + i < ls.count {
            g.write(ls[first + i], x: r.x + 2, y: r.y + 1 + i, maxWidth: w - 3)
        }
        let up = s.glyphs.unicode ? "↑" : "^", down = s.glyphs.unicode ? "↓" : "v"
        if first > 0 { g.writeRight(" \(up) more ", rightEdge: r.maxX - 2, y: r.y, style: Style(.title, [.bold])) }
        if first + visible < ls.count {
            g.writeRight(" \(down) more: j/k scroll ", rightEdge: r.maxX - 2, y: r.maxY - 1, style: Style(.title, [.bold]))
        }
    }
}

/// The host offers to restore a saved tuning session: y restores, d discards (keeping a backup),
/// n or Esc leave it for `:restore` (Esc never destroys anything).
enum RestoreOverlay {
    static func render(_ question: String, _ s: ViewState, into g: inout CellGrid) {
        CenteredBox.render(title: "Saved tuning session", text: question,
                           footer: "y restore   d discard (backup kept)   Esc/n not now",
                           maxWidth: 64, role: .warn, footerStyle: Style(.title, [.bold]), s, into: &g)
    }
}

/// `q` with θ changes that no session file keeps and no `:w` wrote.
enum ConfirmQuitOverlay {
    static func render(_ s: ViewState, into g: inout CellGrid) {
        let n = s.tuningStatus?.changes ?? 0
        let text = "θ changes are not saved: this session keeps no session file (--no-session) and "
            + "nothing was written with :w since the last change (\(n) change\(n == 1 ? "" : "s") in the history)."
        CenteredBox.render(title: "Quit without saving?", text: text, footer: "y quit      n / Esc stay (then :w FILE)",
                           maxWidth: 64, role: .warn, footerStyle: Style(.title, [.bold]), s, into: &g)
    }
}

/// `:breaks`: one row per breakpoint — number, whether `c`/`C` stop at it, hits so far and the
/// condition — in a centred box; rows beyond the screen are counted in the footer.
enum BreakpointsOverlay {
    static func lines(_ rows: [BreakpointRow]) -> [String] {
        let hitsW = max(4, rows.map { String($0.hits).count }.max() ?? 0)
        let header = DisplayWidth.pad("#", to: 4) + DisplayWidth.pad("state", to: 10)
            + DisplayWidth.pad("hits", to: hitsW, right: false) + "  condition"
        return [header] + rows.map { r in
            DisplayWidth.pad(String(r.number), to: 4) + DisplayWidth.pad(r.enabled ? "enabled" : "disabled", to: 10)
                + DisplayWidth.pad(String(r.hits), to: hitsW, right: false) + "  " + r.condition
        }
    }

    static func render(_ rows: [BreakpointRow], _ s: ViewState, into g: inout CellGrid) {
        let footer = "Esc closes · c/C continue · :delete N, :disable N, :enable N"
        let ls = lines(rows)
        let w = min(s.width - 4, max(DisplayWidth.of(footer), ls.map { DisplayWidth.of($0) }.max() ?? 0) + 4)
        let h = min(s.height - 2, ls.count + 4)
        let r = Rect(x: (s.width - w) / 2, y: max(1, (s.height - h) / 2), width: w, height: h)
        g.fill(r)
        let n = rows.count
        g.box(r, title: "Breakpoints · \(n)", style: Style(.title), titleStyle: Style(.title, [.bold, .reverse]),
              glyphs: s.glyphs)
        let visible = max(0, h - 4)
        for (i, line) in ls.prefix(visible).enumerated() {
            var style: Style = .normal
            if i == 0 { style = .dim } else if !rows[i - 1].enabled { style = .dim }
            g.write(line, x: r.x + 2, y: r.y + 1 + i, style: style, maxWidth: w - 4)
        }
        let more = ls.count > visible ? " (\(ls.count - visible) more)" : ""
        g.write(footer + more, x: r.x + 2, y: r.maxY - 2, style: Style(.title, [.bold]), maxWidth: w - 4)
    }
}

/// A backend failure, shown until a key is pressed; nothing else is lost.
enum ErrorOverlay {
    static func render(_ text: String, _ s: ViewState, into g: inout CellGrid) {
        CenteredBox.render(title: "Backend error", text: text, footer: "Esc dismisses; the session continues.",
                           maxWidth: 70, role: .bad, footerStyle: .dim, s, into: &g)
    }
}

/// A centred, framed message: wrapped text, a blank line and a footer line.
enum CenteredBox {
    static func render(title: String, text: String, footer: String, maxWidth: Int, role: ColorRole,
                       footerStyle: Style, _ s: ViewState, into g: inout CellGrid) {
        let w = min(s.width - 4, maxWidth)
        let lines = wrap(text, width: w - 4) + ["", footer]
        let h = min(s.height - 2, lines.count + 2)
        let r = Rect(x: (s.width - w) / 2, y: max(1, (s.height - h) / 2), width: w, height: h)
        g.fill(r)
        g.box(r, title: title, style: Style(role), titleStyle: Style(role, [.bold, .reverse]), glyphs: s.glyphs)
        for (i, line) in lines.enumerated() where i < h - 2 {
            g.write(line, x: r.x + 2, y: r.y + 1 + i, style: i == lines.count - 1 ? footerStyle : .normal, maxWidth: w - 4)
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
