import CSSSnapshots

/// One neuron over its window: o/v plot with ±v lines and spikes, then X[k], spikes and the
/// decoupling margin at every k0 with violations marked.
enum InspectorPane {
    static func render(_ s: ViewState, into g: inout CellGrid, rect: Rect, hits: inout [HitRegion]) {
        guard s.layout != nil else { return }
        guard let trace = s.trace, trace.sample == s.sample else {
            g.write("loading sample \(s.sample)\(s.glyphs.ellipsis)", x: rect.x, y: rect.y, style: .dim)
            return
        }
        if s.isEncoderSelected { renderEncoder(s, trace.encoder, into: &g, rect: rect); return }
        guard let lt = s.selectedTrace else {
            g.write("output: see the decoded scores in the Output pane", x: rect.x, y: rect.y, style: .dim)
            return
        }
        let n = max(0, min(lt.neurons - 1, s.neuron))
        let gl = s.glyphs
        // Summary line.
        let a = Double(lt.target[n]), e = Double(lt.encoded[n]), u = Double(lt.residual(neuron: n))
        var y = rect.y
        var fields: [[(String, Style)]] = [[("n \(n)", Style(.title, [.bold]))]]
        let shape = lt.info.shape
        if shape.count == 3, shape[1] * shape[2] > 1 {
            let hw = shape[1] * shape[2]
            fields.append([(" [c\(n / hw) y\((n % hw) / shape[2]) x\(n % shape[2])]", .dim)])
        }
        fields += [[("  a ", .dim), (Fmt.short(a), .normal)], [("  e ", .dim), (Fmt.short(e), .normal)],
                   [("  u ", .dim), (Fmt.short(u), Style(LayerListPane.residualRole(abs(u)), [.bold]))]]
        let w = lt.window
        switch lt.marginVerdict(neuron: n) {
        case .overflow: fields.append([("  OVERFLOW", Style(.overflow, [.bold]))])
        case .coupling(let f): fields.append([("  COUPLING k0=\(f)", Style(.coupling, [.bold]))])
        case .fine: break
        }
        if n < lt.annActivation.count {
            // In θ units like a, e and u (the ANN's own value is ANN/θ × θ), so it compares with a.
            let ann = lt.theta > 0 ? Double(lt.annActivation[n]) / lt.theta : Double(lt.annActivation[n])
            fields.append([("  ANN/θ ", .dim), (Fmt.short(ann), .normal)])
        }
        g.writeFields(fields, x: rect.x, y: y, maxWidth: rect.width)
        y += 1

        // Columns: one per local step k, plus k0 = T+L for the final margin.
        let labelW = InspectorColumns.labelWidth
        let table = InspectorColumns(s, lt, width: rect.width)
        let (total, cw, ncols, start) = (table.total, table.columnWidth, table.count, table.start)
        let kNow = lt.localStep(atGlobal: s.step)
        let cols = start..<(start + ncols)
        func colX(_ k: Int) -> Int { rect.x + labelW + (k - start) * cw }

        let tableRows = 4
        let plotH = min(9, rect.maxY - y - tableRows)
        if plotH >= 3 {
            renderPlot(s, lt, n, into: &g, x0: rect.x, y0: y, height: plotH, cols: cols, cw: cw, colX: colX, hits: &hits)
            y += plotH
        }
        guard y < rect.maxY else { return }
        // k header.
        g.write("k", x: rect.x, y: y, style: .dim)
        for k in cols {
            let label = k == w ? "end" : String(k)
            let st: Style = k == kNow ? Style(.title, bg: .selection, [.bold]) : .dim
            g.write(DisplayWidth.pad(label, to: cw - 1, right: false), x: colX(k), y: y, style: st)
            if k < w { hits.append(HitRegion(Rect(x: colX(k), y: y, width: cw, height: 1), .step(lt.info.windowStart + k))) }
        }
        // The table follows the current step sideways (or where `{`/`}` scrolled it); arrows say
        // that columns are hidden.
        let left: Character = s.glyphs.unicode ? "←" : "<", right: Character = s.glyphs.unicode ? "→" : ">"
        if start > 0 { g.put(left, x: rect.x + 2, y: y, style: Style(.title, [.bold])) }
        if start + ncols < total { g.put(right, x: rect.maxX - 1, y: y, style: Style(.title, [.bold])) }
        y += 1
        guard y < rect.maxY else { return }
        g.write("X", x: rect.x, y: y, style: .dim)
        // Each row in one precision (`Fmt.sameDecimals`); the columns are wide enough for every value.
        let xs = cols.filter { $0 < lt.T }
        let xTexts = Fmt.sameDecimals(xs.map { Double(lt.input[n * lt.T + $0]) }, width: cw - 1)
        for (k, text) in zip(xs, xTexts) {
            g.write(DisplayWidth.pad(text, to: cw - 1, right: false), x: colX(k), y: y,
                    style: k == kNow ? Style(.normal, [.bold]) : .normal)
        }
        y += 1
        guard y < rect.maxY else { return }
        g.write("S", x: rect.x, y: y, style: .dim)
        for k in cols where k >= lt.silent && k < w {
            let sp = lt.spike(neuron: n, slot: k - lt.silent)
            let fired = k <= kNow
            let (ch, role) = gl.spike(sp)
            g.put(fired ? ch : " ", x: colX(k) + cw - 2, y: y, style: Style(role, [.bold]))
        }
        y += 1
        guard y < rect.maxY else { return }
        g.write("m", x: rect.x, y: y, style: .dim)
        let mTexts = Fmt.sameDecimals(cols.map { Double(lt.margin(neuron: n, k0: $0)) }, width: cw - 2)
        for (k, mText) in zip(cols, mTexts) {
            let m = Double(lt.margin(neuron: n, k0: k))
            let bad = m <= 0
            let text = mText + (bad ? String(gl.cross) : " ")
            // The current step's k0 is marked like the k header, so a hotspot jump lands on its ✗.
            let bg: ColorRole = k == kNow ? .selection : .normal
            g.write(DisplayWidth.pad(text, to: cw - 1, right: false), x: colX(k), y: y,
                    style: bad ? Style(.violation, bg: bg, [.bold]) : Style(.ok, bg: bg))
        }
    }

    static func renderPlot(_ s: ViewState, _ lt: LayerTrace, _ n: Int, into g: inout CellGrid, x0: Int, y0: Int,
                           height: Int, cols: Range<Int>, cw: Int, colX: (Int) -> Int, hits: inout [HitRegion]) {
        let gl = s.glyphs
        if gl.unicode {
            renderBraillePlot(s, lt, n, into: &g, x0: x0, y0: y0, height: height, cols: cols, cw: cw, colX: colX,
                              hits: &hits)
            return
        }
        let w = lt.window
        var ymax: Float = 1.5
        for k in 0..<w { if let v = lt.normalizedMembrane(neuron: n, localStep: k) { ymax = max(ymax, abs(v)) } }
        // Beyond ±3v points are pinned to the edge rows (marked with an arrow) so ±v stay apart.
        ymax = min(ymax, 3)
        func row(_ v: Float) -> Int {
            let r = Int(((ymax - v) / (2 * ymax) * Float(height - 1)).rounded())
            return max(0, min(height - 1, r))
        }
        let plusRow = row(1), minusRow = row(-1), zeroRow = row(0)
        let plotW = (cols.count) * cw
        let lineX = colX(cols.lowerBound)
        for (r, label) in [(plusRow, "+v"), (minusRow, "-v")] {
            g.write(label, x: x0, y: y0 + r, style: .dim)
            g.hline(x: lineX, y: y0 + r, width: plotW, gl.thresholdLine, style: Style(.dim))
        }
        if zeroRow != plusRow && zeroRow != minusRow { g.write("0", x: x0, y: y0 + zeroRow, style: .dim) }
        let kNow = lt.localStep(atGlobal: s.step)
        for k in cols where k < w {
            guard let v = lt.normalizedMembrane(neuron: n, localStep: k) else { continue }
            let x = colX(k) + cw - 2
            let sp: Int8 = k >= lt.silent ? lt.spike(neuron: n, slot: k - lt.silent) : 0
            let role: ColorRole = sp > 0 ? .positiveSpike : (sp < 0 ? .negativeSpike : .heat(Heat.level(v)))
            let bg: ColorRole = k == kNow ? .selection : .normal
            var ch: Character = sp > 0 ? gl.plus : (sp < 0 ? gl.minus : gl.dot)
            if sp == 0 && abs(v) > ymax { ch = v > 0 ? (gl.unicode ? "↑" : "^") : (gl.unicode ? "↓" : "v") }
            g.put(ch, x: x, y: y0 + row(v), style: Style(role, bg: bg, [.bold]))
            hits.append(HitRegion(Rect(x: colX(k), y: y0, width: cw, height: height), .step(lt.info.windowStart + k)))
        }
    }

    /// The Unicode plot: a marker row (spikes +/−, arrows for points beyond ±3v) above a braille
    /// canvas holding the ±v lines (dotted, dim) and o(k) joined by straight lines at 2× horizontal
    /// and 4× vertical resolution. Each step's point sits in the column its markers and k label
    /// end in; the current step's point cell (and marker) get the selection background.
    static func renderBraillePlot(_ s: ViewState, _ lt: LayerTrace, _ n: Int, into g: inout CellGrid, x0: Int,
                                  y0: Int, height: Int, cols: Range<Int>, cw: Int, colX: (Int) -> Int,
                                  hits: inout [HitRegion]) {
        let gl = s.glyphs
        let w = lt.window
        var ymax: Float = 1.5
        for k in 0..<w { if let v = lt.normalizedMembrane(neuron: n, localStep: k) { ymax = max(ymax, abs(v)) } }
        ymax = min(ymax, 3)
        let markerY = y0, plotY = y0 + 1
        let plotW = cols.count * cw
        let lineX = colX(cols.lowerBound)
        var curve = BrailleCanvas(cellWidth: plotW, cellHeight: height - 1)
        let dots = curve.dotHeight
        func dotRow(_ v: Float) -> Int {
            let r = Int(((ymax - v) / (2 * ymax) * Float(dots - 1)).rounded())
            return max(0, min(dots - 1, r))
        }
        // ±v as dotted lines, one dot per cell so the solid curve stands out against them.
        var lines = BrailleCanvas(cellWidth: plotW, cellHeight: height - 1)
        let plusRow = dotRow(1), minusRow = dotRow(-1), zeroRow = dotRow(0)
        for (r, label) in [(plusRow, "+v"), (minusRow, "-v")] {
            lines.hline(y: r, from: 0, to: curve.dotWidth - 1, step: 2)
            g.write(label, x: x0, y: plotY + r / 4, style: .dim)
        }
        if zeroRow / 4 != plusRow / 4 && zeroRow / 4 != minusRow / 4 {
            g.write("0", x: x0, y: plotY + zeroRow / 4, style: .dim)
        }

        let kNow = lt.localStep(atGlobal: s.step)
        // The points, in canvas dots, and the heat role of each step's cells.
        var points: [(k: Int, x: Int, y: Int)] = []
        var roleOfK: [Int: ColorRole] = [:]
        for k in cols where k < w {
            guard let v = lt.normalizedMembrane(neuron: n, localStep: k) else { continue }
            hits.append(HitRegion(Rect(x: colX(k), y: y0, width: cw, height: height), .step(lt.info.windowStart + k)))
            let cell = colX(k) + cw - 2
            points.append((k, 2 * (cell - lineX), dotRow(v)))
            roleOfK[k] = .heat(Heat.level(v))
            // Marker row: what the text plot would draw instead of a plain point.
            let sp: Int8 = k >= lt.silent ? lt.spike(neuron: n, slot: k - lt.silent) : 0
            var mark: Character? = sp > 0 ? gl.plus : (sp < 0 ? gl.minus : nil)
            if sp == 0 && abs(v) > ymax { mark = v > 0 ? "↑" : "↓" }
            let role: ColorRole = sp > 0 ? .positiveSpike : (sp < 0 ? .negativeSpike : .heat(Heat.level(v)))
            if let mark {
                g.put(mark, x: cell, y: markerY, style: Style(role, bg: k == kNow ? .selection : .normal, [.bold]))
            }
        }
        for (i, p) in points.enumerated() {
            if i > 0, points[i - 1].k == p.k - 1 {
                curve.line(from: points[i - 1].x, points[i - 1].y, to: p.x, p.y)
            } else {
                curve.set(p.x, p.y)
            }
        }
        let now = points.first(where: { $0.k == kNow })
        var all = lines
        all.formUnion(curve)
        all.render(into: &g, x: lineX, y: plotY) { cx, cy in
            guard curve.mask(cellX: cx, cellY: cy) != 0 else { return Style(.dim) }
            // A cell takes the role of the step whose point is nearest.
            let k = cols.lowerBound + Int((Double(cx - (cw - 2)) / Double(cw)).rounded())
            let role = roleOfK[k] ?? .dim
            let isNow = now.map { $0.x / 2 == cx && $0.y / 4 == cy } ?? false
            return Style(role, bg: isNow ? .selection : .normal, [.bold])
        }
    }

    static func renderEncoder(_ s: ViewState, _ enc: EncoderTrace, into g: inout CellGrid, rect: Rect) {
        let n = max(0, min(enc.inputs.count - 1, s.neuron))
        guard n < enc.inputs.count, enc.T > 0 else { return }
        let x = Double(enc.inputs[n])
        let weights = s.config?.slotWeights ?? []
        var encoded = 0.0
        for i in 0..<enc.T where i < weights.count { encoded += weights[i] * Double(enc.spikes[n * enc.T + i]) }
        let xu = enc.theta != 0 ? x / enc.theta : 0
        let fields: [[(String, Style)]] = [
            [("input \(n)", Style(.title, [.bold]))], [("  x ", .dim), (Fmt.short(x), .normal)],
            [("  x/θ₀ ", .dim), (Fmt.short(xu), .normal)], [("  e ", .dim), (Fmt.short(encoded), .normal)],
            [("  u ", .dim), (Fmt.short(xu - encoded), Style(LayerListPane.residualRole(abs(xu - encoded))))],
        ]
        g.writeFields(fields, x: rect.x, y: rect.y, maxWidth: rect.width)
        guard rect.height >= 3 else { return }
        g.write("slot", x: rect.x, y: rect.y + 1, style: .dim)
        g.write("S", x: rect.x, y: rect.y + 2, style: .dim)
        let gl = s.glyphs
        for i in 0..<enc.T {
            let cx = rect.x + 5 + i * 3
            guard cx + 2 < rect.maxX else { break }
            g.write(DisplayWidth.pad(String(i), to: 2, right: false), x: cx, y: rect.y + 1,
                    style: i == s.step ? Style(.title, bg: .selection, [.bold]) : .dim)
            let sp = enc.spikes[n * enc.T + i]
            let (ch, role) = gl.spike(sp)
            g.put(i <= s.step ? ch : " ", x: cx + 1, y: rect.y + 2, style: Style(role, [.bold]))
        }
    }
}

/// The k columns of the inspector's table that fit its width: one per local step plus the final
/// margin, centred on the current step unless the user scrolled them (`ViewState.inspectorScroll`).
struct InspectorColumns {
    static let labelWidth = 4
    let total: Int, columnWidth: Int, count: Int, start: Int

    init(_ s: ViewState, _ lt: LayerTrace, width: Int) {
        total = lt.window + 1
        // Wide enough for every X and margin of the neuron (the margin's ✗ takes a column), so
        // that no number is cut: a narrow pane shows fewer steps and scrolls instead.
        let n = max(0, min(lt.neurons - 1, s.neuron))
        var need = 3
        for k in 0..<total {
            if k < lt.T { need = max(need, Fmt.minWidth(Double(lt.input[n * lt.T + k])) + 1) }
            need = max(need, Fmt.minWidth(Double(lt.margin(neuron: n, k0: k))) + 2)
        }
        columnWidth = max(need, 4, min(7, (width - Self.labelWidth) / total))
        count = max(1, min(total, (width - Self.labelWidth) / columnWidth))
        let follow = lt.localStep(atGlobal: s.step) - count / 2
        start = max(0, min(total - count, s.inspectorScroll ?? follow))
    }

    /// `{`/`}` in the neuron pane: half a table sideways; a step key follows the step again.
    static func scroll(_ s: inout ViewState, _ d: Int) {
        guard let lt = s.selectedTrace, let r = ScreenLayout(s).panes[.inspector]?.inset(1) else { return }
        let c = InspectorColumns(s, lt, width: r.width)
        guard c.count < c.total else {
            s.message = "the whole window fits the neuron pane: nothing to scroll"
            s.messageIsError = false
            return
        }
        s.inspectorScroll = max(0, min(c.total - c.count, c.start + d * max(1, c.count / 2)))
    }
}
