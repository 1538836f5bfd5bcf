import CSSCore

/// Encoder, every spiking layer, output: shape, θ, phase at g, spikes so far by sign,
/// residual p99.9, overflow and coupling counts, coloured by severity.
enum LayerListPane {
    struct Column {
        var header: String
        var width: Int
        var rightAligned: Bool
    }

    struct RowData {
        var name: String
        var shape: String
        var theta: String
        var phase: LayerPhase?
        var positive: String
        var negative: String
        var p999: String
        var p999Role: ColorRole
        var overflow: String
        var overflowRole: ColorRole
        var coupling: String
        var couplingRole: ColorRole
        var severity: ColorRole
    }

    /// Columns after the name, in the order they are dropped when space runs out (last first).
    static let optional: [(String, Int)] = [("now", 4), ("+spk", 5), ("-spk", 5), ("p99.9", 5), ("ovf", 4),
                                            ("cpl", 4), ("θ", 6), ("shape", 9)]

    static func chooseColumns(width: Int) -> (nameWidth: Int, columns: [String]) {
        let minName = 7
        var used = 1 + minName
        var cols: [String] = []
        for (h, w) in optional where used + 1 + w <= width {
            used += 1 + w
            cols.append(h)
        }
        let nameW = min(24, minName + (width - used))
        return (nameW, cols)
    }

    static func width(of column: String) -> Int { optional.first(where: { $0.0 == column })?.1 ?? 4 }

    static func phaseText(_ p: LayerPhase?) -> (String, ColorRole) {
        switch p {
        case .waiting: return ("wait", .waiting)
        case .silent: return ("sil", .silent)
        case .firing: return ("fire", .firing)
        case .done: return ("done", .done)
        case nil: return ("-", .dim)
        }
    }

    static func residualRole(_ r: Double) -> ColorRole { r >= 1 ? .bad : (r >= 0.5 ? .warn : .ok) }

    static func rowData(_ s: ViewState, row: Int) -> RowData {
        let times = s.glyphs.times
        guard let l = s.layout else {
            return RowData(name: s.rowName(row), shape: "", theta: "", phase: nil, positive: "", negative: "",
                           p999: "", p999Role: .dim, overflow: "", overflowRole: .dim, coupling: "",
                           couplingRole: .dim, severity: .normal)
        }
        let c = l.config
        let g = s.step
        let traceOK = s.trace?.sample == s.sample ? s.trace : nil
        let summary = traceOK != nil ? s.summary : nil
        if row == 0 {
            let theta = s.report?.amplitudes.input ?? traceOK?.encoder.theta
            let phase: LayerPhase = g < c.T ? .firing : .done
            let sp = summary?.encoderSpikes(slots: min(c.T, g + 1))
            return RowData(name: "encoder", shape: Fmt.shape(l.inputShape, times: times),
                           theta: theta.map { Fmt.short($0) } ?? "-", phase: phase,
                           positive: sp.map { Fmt.count($0.0) } ?? "-", negative: sp.map { Fmt.count($0.1) } ?? "-",
                           p999: "", p999Role: .dim, overflow: "", overflowRole: .dim, coupling: "",
                           couplingRole: .dim, severity: .normal)
        }
        if row == s.layerRowCount - 1 {
            let phase: LayerPhase = g < l.outputStart ? .waiting : (g < l.outputStart + c.T ? .firing : .done)
            return RowData(name: "output", shape: "\(l.outputCount)", theta: "", phase: phase, positive: "",
                           negative: "", p999: "", p999Role: .dim, overflow: "", overflowRole: .dim, coupling: "",
                           couplingRole: .dim, severity: .normal)
        }
        let i = row - 1
        let info = l.layers[i]
        let k = g - info.windowStart
        let phase: LayerPhase = k < 0 ? .waiting : (k >= c.window ? .done : (k < c.silent ? .silent : .firing))
        let emitted = max(0, min(c.T, k - c.silent + 1))
        let sp = summary?.spikes(layer: i, slots: emitted)
        let lr = s.report.flatMap { i < $0.layers.count ? $0.layers[i] : nil }
        let theta = lr?.theta ?? (traceOK.flatMap { i < $0.layers.count ? $0.layers[i].theta : nil })
        // Data-set numbers when the report is in, else this sample's.
        let p999: Double? = lr?.residualP999 ?? summary.flatMap { i < $0.residualP999.count ? $0.residualP999[i] : nil }
        let ovf: Int? = lr?.overflow ?? summary.flatMap { i < $0.overflow.count ? $0.overflow[i] : nil }
        let cpl: Int? = lr?.coupling ?? summary.flatMap { i < $0.coupling.count ? $0.coupling[i] : nil }
        let pRole = p999.map(residualRole) ?? .dim
        let oRole: ColorRole = (ovf ?? 0) > 0 ? .overflow : .dim
        let cRole: ColorRole = (cpl ?? 0) > 0 ? .coupling : .dim
        var sev: ColorRole = .normal
        if p999 != nil || ovf != nil {
            sev = (ovf ?? 0) > 0 || (p999 ?? 0) >= 1 ? .bad : ((cpl ?? 0) > 0 || (p999 ?? 0) >= 0.5 ? .warn : .ok)
        }
        return RowData(name: info.name, shape: Fmt.shape(info.shape, times: times),
                       theta: theta.map { Fmt.short($0) } ?? "-", phase: phase,
                       positive: sp.map { Fmt.count($0.0) } ?? "-", negative: sp.map { Fmt.count($0.1) } ?? "-",
                       p999: p999.map { Fmt.short($0, width: 5) } ?? "-", p999Role: pRole,
                       overflow: ovf.map(Fmt.count) ?? "-", overflowRole: oRole,
                       coupling: cpl.map(Fmt.count) ?? "-", couplingRole: cRole, severity: sev)
    }

    /// First visible row so that the selection stays in view.
    static func scrollOffset(selected: Int, rows: Int, visible: Int) -> Int {
        guard rows > visible, visible > 0 else { return 0 }
        return max(0, min(rows - visible, selected - visible / 2))
    }

    static func render(_ s: ViewState, into g: inout CellGrid, rect: Rect, hits: inout [HitRegion]) {
        guard s.layout != nil else {
            g.write("waiting for the backend…", x: rect.x, y: rect.y, style: .dim)
            return
        }
        let (nameW, cols) = chooseColumns(width: rect.width)
        // Header.
        var x = rect.x + 1
        g.write("layer", x: x, y: rect.y, style: Style(.dim, [.underline]), maxWidth: nameW)
        x += nameW
        for c in cols {
            let w = width(of: c)
            let label = c == "θ" && !s.glyphs.unicode ? "theta" : c
            let rightAligned = c != "now" && c != "shape"
            g.write(DisplayWidth.pad(label, to: w, right: !rightAligned), x: x + 1, y: rect.y,
                    style: Style(.dim, [.underline]))
            x += 1 + w
        }
        let visible = rect.height - 1
        let rows = s.layerRowCount
        let off = scrollOffset(selected: s.layerRow, rows: rows, visible: visible)
        for vi in 0..<max(0, min(visible, rows - off)) {
            let row = off + vi
            let y = rect.y + 1 + vi
            let d = rowData(s, row: row)
            let selected = row == s.layerRow
            let bg: ColorRole = selected ? .selection : .normal
            if selected { g.fill(Rect(x: rect.x, y: y, width: rect.width, height: 1), style: Style(.normal, bg: bg)) }
            if selected { g.put(s.glyphs.pointer, x: rect.x, y: y, style: Style(.title, bg: bg, [.bold])) }
            var cx = rect.x + 1
            g.write(DisplayWidth.truncate(d.name, to: nameW, ellipsis: s.glyphs.ellipsis), x: cx, y: y,
                    style: Style(d.severity, bg: bg, selected ? [.bold] : []), maxWidth: nameW)
            cx += nameW
            for c in cols {
                let w = width(of: c)
                var text = "", role: ColorRole = .normal, right = true
                switch c {
                case "now":
                    let (t, r) = phaseText(d.phase); text = t; role = r; right = false
                case "+spk": text = d.positive; role = d.positive == "-" || d.positive == "0" ? .dim : .positiveSpike
                case "-spk": text = d.negative; role = d.negative == "-" || d.negative == "0" ? .dim : .negativeSpike
                case "p99.9": text = d.p999; role = d.p999Role
                case "ovf": text = d.overflow; role = d.overflowRole
                case "cpl": text = d.coupling; role = d.couplingRole
                case "θ": text = d.theta; role = .normal
                case "shape": text = d.shape; role = .dim; right = false
                default: break
                }
                g.write(DisplayWidth.pad(text, to: w, right: !right), x: cx + 1, y: y, style: Style(role, bg: bg))
                cx += 1 + w
            }
            hits.append(HitRegion(Rect(x: rect.x, y: y, width: rect.width, height: 1), .layerRow(row)))
        }
        if off > 0 { g.put(s.glyphs.unicode ? "↑" : "^", x: rect.maxX - 1, y: rect.y + 1, style: .dim) }
        if off + visible < rows { g.put(s.glyphs.unicode ? "↓" : "v", x: rect.maxX - 1, y: rect.maxY - 1, style: .dim) }
    }
}
