import CSSSnapshots

/// The views of `:attribution`, `:doctor` and `:anytime`: drawn over the panes between the status
/// bar and the message line like the sweep pane. Tables keep whole numbers: a column that does
/// not fit is left out, never cut.
enum AnalysisTable {
    /// Writes `rows` under `header` into `rect` from row `first`, as many columns as fit whole
    /// (column 0, the name, is shortened from the middle when it must). Returns rows drawn.
    @discardableResult
    static func draw(_ header: [String], _ rows: [[String]], styles: [[Style]] = [], selected: Int?, first: Int,
                     into g: inout CellGrid, rect: Rect) -> Int {
        guard rect.width > 4, rect.height > 1 else { return 0 }
        let widths = header.indices.map { i in max(DisplayWidth.of(header[i]), rows.map { DisplayWidth.of($0[i]) }.max() ?? 0) }
        // The name column takes what the number columns leave, at least 8.
        var shown = header.count
        func used(_ n: Int) -> Int { (1..<max(1, n)).reduce(0) { $0 + widths[$1] + 2 } }
        while shown > 1 && rect.width - 2 - used(shown) < min(8, widths[0]) { shown -= 1 }
        let nameW = max(1, min(widths[0], rect.width - 2 - used(shown)))
        func line(_ cells: [String], _ style: [Style]?, bg: ColorRole, y: Int) {
            var runs: [(String, Style)] = [("  ", Style(.normal, bg: bg))]
            runs.append((DisplayWidth.pad(NameShortening.shorten(cells[0], to: nameW), to: nameW, right: true),
                         Style(style?.first?.fg ?? .normal, bg: bg, style?.first?.attrs ?? [])))
            for i in 1..<shown {
                let st = style.flatMap { $0.indices.contains(i) ? $0[i] : nil } ?? .normal
                runs.append(("  " + DisplayWidth.pad(cells[i], to: widths[i], right: false), Style(st.fg, bg: bg, st.attrs)))
            }
            g.write(runs, x: rect.x, y: y, maxWidth: rect.width)
        }
        line(header, header.map { _ in Style(.title, [.bold]) }, bg: .normal, y: rect.y)
        let visible = max(0, rect.height - 1)
        for (k, i) in (first..<min(rows.count, first + visible)).enumerated() {
            line(rows[i], styles.indices.contains(i) ? styles[i] : nil, bg: i == selected ? .selection : .normal, y: rect.y + 1 + k)
        }
        return min(visible, rows.count - first)
    }

    /// The first row to show so that `selected` is visible in `visible` rows.
    static func firstRow(selected: Int, visible: Int, count: Int) -> Int {
        max(0, min(count - visible, selected - visible + 1))
    }

    /// The overlay's frame and inner rectangle (nil when the screen is too small).
    static func frame(_ s: ViewState, title: String, into g: inout CellGrid) -> Rect? {
        guard s.width >= 40, s.height >= 12 else { return nil }
        let frame = Rect(x: 0, y: 2, width: s.width, height: s.height - 3)
        g.fill(frame)
        g.box(frame, title: title, style: Style(.focus, [.bold]), titleStyle: Style(.focus, [.bold, .reverse]), glyphs: s.glyphs)
        return Rect(x: 1, y: 3, width: s.width - 2, height: s.height - 5)
    }

    /// A column chart of `values` (0...1) with labels under it: one bar per value, `mark` drawn
    /// reversed (the current g).
    static func bars(_ values: [Double], labels: [String], mark: Int?, lower: Double, into g: inout CellGrid, rect: Rect,
                     unicode: Bool) {
        guard !values.isEmpty, rect.height >= 3, rect.width >= 10 else { return }
        let axisW = 7, h = rect.height - 1
        let colW = max(1, min(4, (rect.width - axisW) / values.count))
        let levels: [Character] = unicode ? [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] : [" ", ".", ".", ":", ":", "|", "|", "#", "#"]
        let top = 1.0, span = max(1e-9, top - lower)
        g.writeRight(Fmt.fixed(top * 100, 0) + "%", rightEdge: rect.x + axisW - 2, y: rect.y, style: .dim)
        g.writeRight(Fmt.fixed(lower * 100, 0) + "%", rightEdge: rect.x + axisW - 2, y: rect.y + h - 1, style: .dim)
        for (i, v) in values.enumerated() {
            let x = rect.x + axisW + i * colW
            guard x + max(1, colW - 1) <= rect.maxX else { break }
            let eighths = Int(((max(lower, min(top, v)) - lower) / span * Double(h * 8)).rounded())
            for row in 0..<h {
                let fill = max(0, min(8, eighths - (h - 1 - row) * 8))
                let style = i == mark ? Style(.focus, [.bold, .reverse]) : Style(.ok)
                for dx in 0..<max(1, colW - 1) { g.put(levels[fill], x: x + dx, y: rect.y + row, style: style) }
            }
            if i < labels.count, colW >= DisplayWidth.of(labels[i]) || i % max(1, (DisplayWidth.of(labels[i]) + colW) / colW) == 0 {
                g.write(labels[i], x: x, y: rect.y + h, style: i == mark ? Style(.focus, [.bold]) : .dim, maxWidth: rect.maxX - x)
            }
        }
    }
}

/// `:attribution`: per layer the coupling count, the decoupled accuracy and its gain, the
/// exact-prefix accuracy and its step, the culprits; the exact-prefix curve as a chart.
enum AttributionOverlay {
    static func render(_ s: ViewState, into g: inout CellGrid) {
        guard let r = s.analysis.attribution, let a = r.attribution else { return }
        let byLabels = a.exactPrefixAccuracy != nil
        let what = byLabels ? "accuracy" : "agreement"
        guard let inner = AnalysisTable.frame(s, title: "Attribution — which layer costs the \(what) · \(r.samples) samples", into: &g)
        else { return }
        let prefix = a.exactPrefixAccuracy ?? a.exactPrefixAgreement
        let decoupled = a.decoupledAccuracy ?? a.decoupledAgreement
        let plain = prefix[0]
        func pct(_ x: Double) -> String { Fmt.fixed(x * 100, 1) }
        func signed(_ x: Double) -> String { (x >= 0.0005 ? "+" : "") + Fmt.fixed(x * 100, 1) }
        let header = ["layer", "cpl", "decoupled", "gain", "exact≤", "step", "culprit"]
        var rows: [[String]] = [], styles: [[Style]] = []
        for (l, layer) in r.layers.enumerated() {
            let gain = decoupled[l] - plain, step = prefix[l + 1] - prefix[l]
            rows.append([layer.info.name, String(layer.coupling), pct(decoupled[l]), signed(gain), pct(prefix[l + 1]),
                         signed(step), String(a.culpritSamples[l])])
            styles.append([.normal, layer.coupling > 0 ? Style(.coupling) : .normal, .normal,
                           gain > 0.005 ? Style(.warn, [.bold]) : .dim, .normal, step > 0.005 ? Style(.warn, [.bold]) : .dim,
                           a.culpritSamples[l] > 0 ? Style(.overflow) : .dim])
        }
        let summary = "the SNN \(pct(plain)) %  ·  every layer exact \(pct(prefix.last!)) %  ·  \(a.unresolved) sample\(a.unresolved == 1 ? "" : "s") \(byLabels ? "wrong" : "disagreeing") even then"
        g.write(summary, x: inner.x + 1, y: inner.y, style: .normal, maxWidth: inner.width - 2)
        let footer = "↑/↓ select   Enter: the layer and its worst hotspot   Esc/q close"
        g.write(footer, x: inner.x + 1, y: inner.maxY - 1, style: .dim, maxWidth: inner.width - 2)
        let body = Rect(x: inner.x, y: inner.y + 2, width: inner.width, height: inner.height - 3)
        let chartH = body.height >= rows.count + 9 ? min(8, body.height - rows.count - 2) : 0
        let tableH = body.height - chartH
        let first = AnalysisTable.firstRow(selected: s.analysis.attributionRow, visible: tableH - 1, count: rows.count)
        AnalysisTable.draw(header, rows, styles: styles, selected: s.analysis.attributionRow, first: first, into: &g,
                           rect: Rect(x: body.x, y: body.y, width: body.width, height: tableH))
        if chartH >= 4 {
            g.write("exact-prefix \(what) (j = first layers exact; 0: the SNN)", x: body.x + 2, y: body.y + tableH,
                    style: .dim, maxWidth: body.width - 2)
            let lower = max(0, (prefix.min() ?? 0) - 0.05)
            AnalysisTable.bars(prefix, labels: prefix.indices.map(String.init), mark: s.analysis.attributionRow + 1,
                               lower: lower, into: &g,
                               rect: Rect(x: body.x + 2, y: body.y + tableH + 1, width: body.width - 4, height: chartH - 1),
                               unicode: s.glyphs.unicode)
        }
    }
}

/// `:doctor`: the findings (Enter jumps to the layer) and the proposals (Enter adopts one).
enum DoctorOverlay {
    static func render(_ s: ViewState, into g: inout CellGrid) {
        guard let d = s.analysis.doctor else { return }
        let what = d.byLabels ? "accuracy" : "agreement"
        guard let inner = AnalysisTable.frame(s, title: "Doctor — \(d.samples) samples · \(d.evaluated) configurations evaluated"
                                                + (d.complete ? "" : " · stopped early"), into: &g) else { return }
        var y = inner.y
        let width = inner.width - 4
        g.write("findings", x: inner.x + 1, y: y, style: Style(.title, [.bold]))
        y += 1
        let proposalsH = min(d.proposals.count + 2, max(3, inner.height / 3))
        let findingsBottom = inner.maxY - 1 - proposalsH
        for (i, f) in d.findings.enumerated() {
            let selected = s.analysis.doctorRow == i
            let style: Style = f.kind == .overflow ? Style(.overflow) : (f.kind == .coupling ? Style(.coupling) : .normal)
            // Each finding wrapped on word boundaries, as many lines as it needs and fit.
            for (k, text) in wrap(f.text, width: width).enumerated() where y < findingsBottom {
                let runs: [(String, Style)] = [(k == 0 ? (selected ? "▸ " : "  ") : "  ", Style(.focus, bg: selected ? .selection : .normal)),
                                               (text, Style(style.fg, bg: selected ? .selection : .normal, style.attrs))]
                g.write(runs, x: inner.x + 1, y: y, maxWidth: inner.width - 2)
                y += 1
            }
        }
        let py = findingsBottom
        g.write(d.proposals.isEmpty ? "no lossless configuration found" : "proposals (Enter adopts: one undoable change)",
                x: inner.x + 1, y: py, style: Style(.title, [.bold]), maxWidth: inner.width - 2)
        let header = ["why", "latency", "T", "β", "L", "neg", "A.3", what, "syn.ops"]
        let rows = d.proposals.map { p in
            [p.why, String(p.latency), String(p.config.T), Fmt.short(p.config.beta, width: 4), String(p.config.silent),
             p.config.negative ? "on" : "off", String(p.rounds), Fmt.fixed(p.score * 100, 2) + "%", Fmt.short(p.synapticOps, width: 7)]
        }
        let sel = s.analysis.doctorRow - d.findings.count
        let visible = proposalsH - 1
        AnalysisTable.draw(header, rows, styles: d.proposals.map { $0.lossless ? [Style(.ok, [.bold])] : [.normal] },
                           selected: sel >= 0 ? sel : nil,
                           first: AnalysisTable.firstRow(selected: max(0, sel), visible: visible - 1, count: rows.count),
                           into: &g, rect: Rect(x: inner.x, y: py + 1, width: inner.width, height: visible))
        let footer = "↑/↓ select   Enter: a finding's layer and worst hotspot, or adopt a proposal (u undoes)   Esc/q close"
        g.write(footer, x: inner.x + 1, y: inner.maxY - 1, style: .dim, maxWidth: inner.width - 2)
    }

    /// Words into lines of at most `width` columns (a word longer than that on a line of its own).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if line.isEmpty { line = String(word) } else if DisplayWidth.of(line) + 1 + DisplayWidth.of(String(word)) <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = String(word)
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}

/// `:anytime`: the data-set report's accuracy against the global step; the current g marked.
enum AnytimeOverlay {
    static func render(_ s: ViewState, into g: inout CellGrid) {
        guard let r = s.report, let a = r.anytime else { return }
        let scores = a.accuracy ?? a.agreement
        let what = a.accuracy == nil ? "agreement with the ANN" : "accuracy"
        guard let inner = AnalysisTable.frame(s, title: "Anytime \(what) against the global step · \(r.samples) samples", into: &g),
              !scores.isEmpty else { return }
        let start = r.layout.outputStart
        let final = scores.last!
        // The first slot from which the curve stays within half a point of its final value.
        var reached = scores.count - 1
        while reached > 0, abs(scores[reached - 1] - final) <= 0.005 { reached -= 1 }
        let mark = s.step >= start ? min(scores.count - 1, s.step - start) : nil
        let now = mark.map { "at g \(s.step): \(Fmt.fixed(scores[$0] * 100, 2)) %" } ?? "at g \(s.step): no output slot yet (slot 0 arrives at g \(start))"
        g.write("final \(Fmt.fixed(final * 100, 2)) % at g \(start + scores.count - 1); within half a point of it from g \(start + reached); \(now)",
                x: inner.x + 1, y: inner.y, maxWidth: inner.width - 2)
        let settled = a.settledBySlot.map(String.init).joined(separator: " ")
        g.write("settled by slot: \(settled)", x: inner.x + 1, y: inner.y + 1, style: .dim, maxWidth: inner.width - 2)
        let lower = max(0, (scores.min() ?? 0) - 0.05)
        AnalysisTable.bars(scores, labels: scores.indices.map { String(start + $0) }, mark: mark, lower: lower, into: &g,
                           rect: Rect(x: inner.x + 1, y: inner.y + 3, width: inner.width - 2, height: inner.height - 5),
                           unicode: s.glyphs.unicode)
        g.write("global step g of each output slot (n/b step, Esc/q close)", x: inner.x + 1, y: inner.maxY - 1, style: .dim,
                maxWidth: inner.width - 2)
    }
}
