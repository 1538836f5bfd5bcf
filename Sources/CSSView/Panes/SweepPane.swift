import CSSSnapshots

/// The sweep pane (`:sweep`): a braille chart of SNN accuracy (agreement with the ANN when the
/// data has no labels) against latency, one glyph and colour per (L, spike sign) series, the
/// Pareto front in bold; and the table of every point with the selected row. Drawn over the
/// panes between the status bar and the message line, which stay visible (T and L, progress).
enum SweepOverlay {
    /// (header, width): the table's columns, numbers right-aligned.
    static let columns: [(String, Int)] = [("T", 3), ("β", 4), ("L", 2), ("neg", 3), ("lat", 4), ("ANN", 6),
                                           ("SNN", 6), ("agree", 6), ("p99.9", 6), ("ovfl", 5), ("coup", 5), ("synop", 5), ("*", 1)]
    static var tableWidth: Int { 2 + columns.reduce(0) { $0 + $1.1 } + (columns.count - 1) * 2 }

    static let unicodeMarks: [Character] = ["●", "▲", "■", "◆", "▼", "★"]
    static let asciiMarks: [Character] = ["o", "x", "s", "d", "v", "*"]
    static let roles: [ColorRole] = [.positiveSpike, .negativeSpike, .warn, .coupling, .ok, .overflow]

    /// The (L, negative) series, in the order the rows first show them.
    static func series(_ r: SweepResult) -> [(silent: Int, negative: Bool)] {
        var out: [(silent: Int, negative: Bool)] = []
        for row in r.rows where !out.contains(where: { $0.silent == row.config.silent && $0.negative == row.config.negative }) {
            out.append((row.config.silent, row.config.negative))
        }
        return out
    }

    static func seriesIndex(_ row: SweepRow, _ all: [(silent: Int, negative: Bool)]) -> Int {
        all.firstIndex { $0.silent == row.config.silent && $0.negative == row.config.negative } ?? 0
    }

    static func render(_ s: ViewState, into g: inout CellGrid) {
        guard let result = s.sweep, s.width >= 40, s.height >= 12 else { return }
        let frame = Rect(x: 0, y: 2, width: s.width, height: s.height - 3)
        g.fill(frame)
        let score = result.labelled ? "SNN accuracy" : "agreement"
        g.box(frame, title: "Sweep — \(score) against latency · \(result.rows.count) points · \(result.samples) samples"
                + (result.rounds > 0 ? " · A.3 ×\(result.rounds)" : ""),
              style: Style(.focus, [.bold]), titleStyle: Style(.focus, [.bold, .reverse]), glyphs: s.glyphs)
        let inner = Rect(x: 1, y: 3, width: s.width - 2, height: s.height - 5)
        let footer = "↑/↓ select   Enter reconvert to it (u undoes)   Esc/q close"
        g.write(footer, x: inner.x + 1, y: inner.maxY - 1, style: .dim, maxWidth: inner.width - 2)
        let body = Rect(x: inner.x, y: inner.y, width: inner.width, height: inner.height - 1)
        if body.width >= tableWidth + 40 {
            // Side by side: the chart left, the table right.
            let tw = tableWidth + 1
            chart(result, s, into: &g, rect: Rect(x: body.x + 1, y: body.y, width: body.width - tw - 2, height: body.height))
            table(result, s, into: &g, rect: Rect(x: body.maxX - tw, y: body.y, width: tw, height: body.height))
        } else {
            let ch = max(5, min(10, body.height / 2))
            chart(result, s, into: &g, rect: Rect(x: body.x + 1, y: body.y, width: body.width - 2, height: ch))
            table(result, s, into: &g, rect: Rect(x: body.x + 1, y: body.y + ch, width: body.width - 2, height: body.height - ch))
        }
    }

    /// Score axis left, latency axis below, the legend last.
    static func chart(_ r: SweepResult, _ s: ViewState, into g: inout CellGrid, rect: Rect) {
        guard !r.rows.isEmpty, rect.width > 12, rect.height >= 4 else { return }
        let axisW = 7
        let canvasW = rect.width - axisW, canvasH = rect.height - 2
        let lats = r.rows.map { Double($0.latency) }, scores = r.rows.map(\.score)
        var x0 = lats.min()!, x1 = lats.max()!, y0 = scores.min()!, y1 = scores.max()!
        if x1 == x0 { x0 -= 1; x1 += 1 }
        if y1 - y0 < 0.001 { y0 -= 0.005; y1 += 0.005 }
        let probe = BrailleCanvas(cellWidth: canvasW, cellHeight: canvasH)
        func dot(_ row: SweepRow) -> (Int, Int) {
            let dx = Int(((Double(row.latency) - x0) / (x1 - x0) * Double(probe.dotWidth - 1)).rounded())
            let dy = Int(((1 - (row.score - y0) / (y1 - y0)) * Double(probe.dotHeight - 1)).rounded())
            return (dx, dy)
        }
        let all = series(r)
        let cx = rect.x + axisW, cy = rect.y
        // Axes: the score at the top and bottom rows, the latency range under the canvas.
        for y in 0..<canvasH { g.put(s.glyphs.unicode ? "│" : "|", x: cx - 1, y: cy + y, style: .dim) }
        g.writeRight(Fmt.fixed(y1 * 100, 1) + "%", rightEdge: cx - 2, y: cy, style: .dim)
        g.writeRight(Fmt.fixed(y0 * 100, 1) + "%", rightEdge: cx - 2, y: cy + canvasH - 1, style: .dim)
        let axisY = cy + canvasH
        g.write(String(repeating: s.glyphs.unicode ? "─" : "-", count: canvasW), x: cx, y: axisY, style: .dim)
        g.write(String(Int(x0)), x: cx, y: axisY, style: .dim)
        let right = "\(Int(x1)) steps"
        g.write(right, x: cx + canvasW - DisplayWidth.of(right), y: axisY, style: .dim)
        // One line per series through its points in order of latency, in the series colour.
        // Braille has no ASCII fallback: in ASCII mode only the points are drawn.
        for (i, ser) in all.enumerated() where s.glyphs.unicode {
            var canvas = BrailleCanvas(cellWidth: canvasW, cellHeight: canvasH)
            let pts = r.rows.filter { $0.config.silent == ser.silent && $0.config.negative == ser.negative }
                .sorted { ($0.latency, $0.score) < ($1.latency, $1.score) }.map(dot)
            for (a, b) in zip(pts, pts.dropFirst()) { canvas.line(from: a.0, a.1, to: b.0, b.1) }
            canvas.render(into: &g, x: cx, y: cy, role: roles[i % roles.count], attrs: [])
        }
        // The points: the series' glyph, bold on the Pareto front, reversed when selected.
        let marks = s.glyphs.unicode ? unicodeMarks : asciiMarks
        let order = r.rows.indices.sorted { (r.rows[$0].pareto ? 1 : 0, $0 == s.sweepRow ? 1 : 0) < (r.rows[$1].pareto ? 1 : 0, $1 == s.sweepRow ? 1 : 0) }
        for i in order {
            let row = r.rows[i]
            let (dx, dy) = dot(row)
            let k = seriesIndex(row, all)
            var attrs: CellAttributes = row.pareto ? [.bold] : []
            if i == s.sweepRow { attrs.insert(.reverse) }
            g.put(marks[k % marks.count], x: cx + dx / 2, y: cy + dy / 4, style: Style(roles[k % roles.count], attrs))
        }
        var legend: [(String, Style)] = []
        for (k, ser) in all.enumerated() {
            legend.append(("\(marks[k % marks.count]) L\(ser.silent) \(ser.negative ? (s.glyphs.unicode ? "±" : "+-") : "+")  ", Style(roles[k % roles.count])))
        }
        legend.append(("bold: Pareto front", Style(.dim)))
        g.write(legend, x: cx, y: axisY + 1, maxWidth: rect.maxX - cx)
    }

    /// The table; rows scroll to keep the selection visible.
    static func table(_ r: SweepResult, _ s: ViewState, into g: inout CellGrid, rect: Rect) {
        // The synaptic-operations column only where the whole table fits: never a cut number.
        let shown = Set(columns.indices.filter { $0 != 11 || rect.width >= tableWidth })
        var header: [(String, Style)] = [("  ", .dim)]
        for (i, (h, w)) in columns.enumerated() where shown.contains(i) {
            header.append(((i == 0 ? "" : "  ") + DisplayWidth.pad(h, to: w, right: i == 3 || i == 12), Style(.title, [.bold])))
        }
        g.write(header, x: rect.x, y: rect.y, maxWidth: rect.width)
        let visible = max(1, rect.height - 1)
        let first = max(0, min(r.rows.count - visible, s.sweepRow - visible + 1))
        let all = series(r)
        let marks = s.glyphs.unicode ? unicodeMarks : asciiMarks
        for (line, i) in (first..<min(r.rows.count, first + visible)).enumerated() {
            let row = r.rows[i], c = row.config
            let selected = i == s.sweepRow
            let bg: ColorRole = selected ? .selection : .normal
            let k = seriesIndex(row, all)
            var runs: [(String, Style)] = [(String(marks[k % marks.count]) + " ", Style(roles[k % roles.count], bg: bg))]
            let cells = [String(c.T), Fmt.short(c.beta, width: 4), String(c.silent), c.negative ? "on" : "off", String(row.latency),
                         Fmt.percent(row.annAccuracy), Fmt.percent(row.snnAccuracy), Fmt.percent(row.agreement),
                         Fmt.short(row.residualP999Max, width: 6), Fmt.count(row.overflow, width: 5),
                         Fmt.count(row.coupling, width: 5), Fmt.count(Int(row.synapticOps.rounded()), width: 5),
                         row.pareto ? "*" : ""]
            for (j, text) in cells.enumerated() where shown.contains(j) {
                var style = Style(.normal, bg: bg)
                if j == 9, row.overflow > 0 { style = Style(.overflow, bg: bg) }
                if j == 10, row.coupling > 0 { style = Style(.coupling, bg: bg) }
                if j == 12 || (row.pareto && j == 6) { style = Style(.ok, bg: bg, [.bold]) }
                runs.append(((j == 0 ? "" : "  ") + DisplayWidth.pad(text, to: columns[j].1, right: j == 3 || j == 12), style))
            }
            g.write(runs, x: rect.x, y: rect.y + 1 + line, maxWidth: rect.width)
        }
        if r.rows.count > visible {
            let more = "\(first + 1)-\(min(r.rows.count, first + visible)) of \(r.rows.count)"
            g.write(more, x: rect.maxX - DisplayWidth.of(more), y: rect.y, style: .dim)
        }
    }
}
