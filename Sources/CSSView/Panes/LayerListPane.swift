import CSSSnapshots

/// Encoder, every spiking layer, output: shape, θ, phase at g, spikes so far by sign,
/// residual p99.9, overflow and coupling counts, coloured by severity. After a tuning change,
/// Δ columns compare p99.9, ovf, cpl and θ with the report before the change (better green,
/// worse red); numbers from before a change that is still recomputing are dim.
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
        var thetaRole: ColorRole = .normal
        /// Spike counts come from a trace of the conversion before a change.
        var spikesStale = false
        /// Deltas against `ViewState.comparisonReport` (θ: against the report being replaced while
        /// the new θ is known only from the fresh trace). Empty when there is nothing to compare.
        var p999Delta = Delta()
        var overflowDelta = Delta()
        var couplingDelta = Delta()
        var thetaDelta = Delta()
        /// The counts behind the texts, so that a column wide enough shows them exact.
        var counts: [String: Int] = [:]
        /// Operation columns' texts (`MACs`, `synop`, `s/M`) and synaptic operations per MAC.
        var ops: [String: String] = [:]
        var opsRatio = 0.0
    }

    struct Delta {
        var text = ""
        var role: ColorRole = .dim
        /// The change as a count (Δo, Δc), for exact display in a wide column.
        var count: Int? = nil
    }

    /// Columns when there is nothing to compare (no tuning change yet), on screen.
    static let plainColumns = ["now", "+spk", "-spk", "p99.9", "ovf", "cpl", "θ", "shape"]
    /// The order they are kept in when space runs out: coupling and θ, the tool's main numbers,
    /// are never dropped for the phase or the spike counts (at 80×24 the list keeps p99.9, ovf,
    /// cpl, θ and the phase).
    static let plainPriority = ["p99.9", "ovf", "cpl", "θ", "now", "+spk", "-spk", "shape"]
    /// Columns holding counts: exact when the pane has the room (`exactWidths`).
    static let countColumns: Set<String> = ["+spk", "-spk", "ovf", "cpl", "Δo", "Δc", "MACs", "synop"]
    /// With the operation columns on (`E`): the ANN's MACs, the SNN's synaptic operations per
    /// sample and their ratio (docs/numerics.md §13), before the phase and spike counts.
    static let opsPriority = ["p99.9", "ovf", "cpl", "θ", "MACs", "synop", "s/M", "now", "+spk", "-spk", "shape"]
    static let opsOrder = ["now", "+spk", "-spk", "p99.9", "ovf", "cpl", "θ", "MACs", "synop", "s/M", "shape"]
    /// Columns after a change, in the order they are kept when space runs out, and on screen.
    /// θ comes before the Δ columns: tuning never hides the amplitude it changes (at 80×24 the
    /// list keeps p99.9, Δp, ovf, cpl and θ); Δp first because A.3 acts on the residual.
    static let comparePriority = ["p99.9", "ovf", "cpl", "θ", "Δp", "Δc", "Δo", "Δθ", "now", "+spk", "-spk", "shape"]
    static let compareOrder = ["now", "+spk", "-spk", "p99.9", "Δp", "ovf", "Δo", "cpl", "Δc", "θ", "Δθ", "shape"]
    static let deltaBase = ["Δp": "p99.9", "Δo": "ovf", "Δc": "cpl", "Δθ": "θ"]

    /// Columns after the name, in the order they are dropped when space runs out (last first).
    static let optional: [(String, Int)] = [("now", 4), ("+spk", 5), ("-spk", 5), ("p99.9", 5), ("ovf", 4),
                                            ("cpl", 4), ("θ", 6), ("shape", 9),
                                            ("Δp", 5), ("Δo", 5), ("Δc", 5), ("Δθ", 5),
                                            ("MACs", 5), ("synop", 5), ("s/M", 4)]

    /// Columns of the plain list, with their separating spaces.
    static var plainColumnsWidth: Int { plainColumns.reduce(0) { $0 + 1 + width(of: $1) } }

    /// Panes at least this wide keep whole layer names (up to 24 columns) before adding columns.
    static let wideNamesFrom = 60

    /// `longestName`: the widest row name; on wide panes the name column keeps room for it
    /// (up to 24) before columns are added, on narrow ones names give way to columns.
    static func chooseColumns(width: Int, compare: Bool = false, operations: Bool = false, longestName: Int = 7,
                              widths: [String: Int] = [:]) -> (nameWidth: Int, columns: [String]) {
        let minName = width >= wideNamesFrom ? max(7, min(24, longestName)) : 7
        var used = 1 + minName
        var chosen: Set<String> = []
        for h in operations ? opsPriority : (compare ? comparePriority : plainPriority) {
            let w = widths[h] ?? self.width(of: h)
            if let base = deltaBase[h], !chosen.contains(base) || !chosen.contains("θ") { continue }
            if used + 1 + w <= width {
                used += 1 + w
                chosen.insert(h)
            }
        }
        let cols = (operations ? opsOrder : (compare ? compareOrder : plainColumns)).filter { chosen.contains($0) }
        let nameW = min(24, minName + (width - used))
        return (nameW, cols)
    }

    /// Column widths that show every count of `rows` exact, where that is wider than the default.
    static func exactWidths(_ rows: [RowData]) -> [String: Int] {
        var out: [String: Int] = [:]
        for d in rows {
            for (c, n) in d.counts {
                let w = String(n).count + (c.hasPrefix("Δ") && n > 0 ? 1 : 0)
                if w > width(of: c) { out[c] = max(out[c] ?? 0, w) }
            }
        }
        return out
    }

    static func width(of column: String) -> Int { optional.first(where: { $0.0 == column })?.1 ?? 4 }

    /// Whether the list shows Δ columns: after the first change (or while it recomputes).
    static func compares(_ s: ViewState) -> Bool {
        s.comparisonReport != nil || (s.reportStale && s.report != nil)
    }

    /// Signed change of a number where smaller is better (residual, violation counts).
    static func delta(_ now: Double?, _ before: Double?, width: Int, integer: Bool) -> Delta {
        guard let now, let before else { return Delta() }
        let d = now - before
        if abs(d) <= 1e-9 * max(1, abs(before)) { return Delta(text: "0", role: .dim) }
        let text: String
        if integer {
            text = Fmt.count(Int(d.rounded()), width: width, signed: true)
        } else {
            text = d > 0 ? "+" + Fmt.short(d, width: width - 1) : Fmt.short(d, width: width)
        }
        return Delta(text: text, role: d < 0 ? .better : .worse, count: integer ? Int(d.rounded()) : nil)
    }

    /// Relative change of θ in percent (neither better nor worse).
    static func thetaDelta(_ now: Double?, _ before: Double?, width: Int) -> Delta {
        guard let now, let before, before != 0 else { return Delta() }
        let pct = (now / before - 1) * 100
        if abs(pct) < 0.005 { return Delta(text: "0", role: .dim) }
        let sign = pct > 0 ? "+" : "-"
        let a = abs(pct)
        var text = sign + Fmt.fixed(a, 1) + "%"
        if text.count > width { text = sign + Fmt.fixed(a, 0) + "%" }
        if text.count > width { text = "×" + Fmt.short(now / before, width: width - 1) }
        return Delta(text: text, role: .title)
    }

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
        let traceFresh = s.traceIsFresh
        // Which θ to show and what to compare it with: the report's θ against the previous report,
        // or, while the report recomputes, the fresh trace's θ against the report being replaced.
        func pickTheta(report: Double?, trace: Double?, previous: Double?)
            -> (value: Double?, role: ColorRole, delta: Delta) {
            if s.reportStale {
                if traceFresh, let t = trace {
                    return (t, .normal, thetaDelta(t, report, width: width(of: "Δθ")))
                }
                return (report ?? trace, .dim, Delta())
            }
            if let r = report { return (r, .normal, thetaDelta(r, previous, width: width(of: "Δθ"))) }
            return (trace, s.traceStale ? .dim : .normal, Delta())
        }
        let compare = s.comparisonReport
        if row == 0 {
            let th = pickTheta(report: s.report?.amplitudes.input, trace: traceOK?.encoder.theta,
                               previous: compare?.amplitudes.input)
            let phase: LayerPhase = g < c.T ? .firing : .done
            let sp = summary?.encoderSpikes(slots: min(c.T, g + 1))
            var d = RowData(name: "encoder", shape: Fmt.shape(l.inputShape, times: times),
                            theta: th.value.map { Fmt.short($0) } ?? "-", phase: phase,
                            positive: sp.map { Fmt.count($0.0, width: width(of: "+spk")) } ?? "-",
                            negative: sp.map { Fmt.count($0.1, width: width(of: "-spk")) } ?? "-",
                            p999: "", p999Role: .dim, overflow: "", overflowRole: .dim, coupling: "",
                            couplingRole: .dim, severity: .normal)
            d.thetaRole = th.role
            d.thetaDelta = th.delta
            d.spikesStale = s.traceStale
            if let sp { d.counts["+spk"] = sp.0; d.counts["-spk"] = sp.1 }
            return d
        }
        if row == s.layerRowCount - 1 {
            let phase: LayerPhase = g < l.outputStart ? .waiting : (g < l.outputStart + c.T ? .firing : .done)
            var d = RowData(name: "output", shape: "\(l.outputCount)", theta: "", phase: phase, positive: "",
                            negative: "", p999: "", p999Role: .dim, overflow: "", overflowRole: .dim, coupling: "",
                            couplingRole: .dim, severity: .normal)
            addOperations(&d, s.report?.operations?.counts(layer: nil))
            return d
        }
        let i = row - 1
        let info = l.layers[i]
        let k = g - info.windowStart
        let phase: LayerPhase = k < 0 ? .waiting : (k >= c.window ? .done : (k < c.silent ? .silent : .firing))
        let emitted = max(0, min(c.T, k - c.silent + 1))
        let sp = summary?.spikes(layer: i, slots: emitted)
        let lr = s.report.flatMap { i < $0.layers.count ? $0.layers[i] : nil }
        let before = compare.flatMap { i < $0.layers.count ? $0.layers[i] : nil }
        let th = pickTheta(report: lr?.theta, trace: traceOK.flatMap { i < $0.layers.count ? $0.layers[i].theta : nil },
                           previous: before?.theta)
        // Data-set numbers when the report is in, else this sample's.
        let p999: Double? = lr?.residualP999 ?? summary.flatMap { i < $0.residualP999.count ? $0.residualP999[i] : nil }
        let ovf: Int? = lr?.overflow ?? summary.flatMap { i < $0.overflow.count ? $0.overflow[i] : nil }
        let cpl: Int? = lr?.coupling ?? summary.flatMap { i < $0.coupling.count ? $0.coupling[i] : nil }
        // Report numbers from before a change that is still recomputing are dim, and so are
        // this sample's numbers when they stand in for the report and the trace is stale.
        let stale = lr != nil ? s.reportStale : s.traceStale
        let pRole = stale ? .dim : (p999.map(residualRole) ?? .dim)
        let oRole: ColorRole = !stale && (ovf ?? 0) > 0 ? .overflow : .dim
        let cRole: ColorRole = !stale && (cpl ?? 0) > 0 ? .coupling : .dim
        var sev: ColorRole = .normal
        if p999 != nil || ovf != nil {
            sev = (ovf ?? 0) > 0 || (p999 ?? 0) >= 1 ? .bad : ((cpl ?? 0) > 0 || (p999 ?? 0) >= 0.5 ? .warn : .ok)
        }
        var d = RowData(name: info.name, shape: Fmt.shape(info.shape, times: times),
                        theta: th.value.map { Fmt.short($0) } ?? "-", phase: phase,
                        positive: sp.map { Fmt.count($0.0, width: width(of: "+spk")) } ?? "-",
                            negative: sp.map { Fmt.count($0.1, width: width(of: "-spk")) } ?? "-",
                        p999: p999.map { Fmt.short($0, width: 5) } ?? "-", p999Role: pRole,
                        overflow: ovf.map { Fmt.count($0, width: width(of: "ovf")) } ?? "-", overflowRole: oRole,
                        coupling: cpl.map { Fmt.count($0, width: width(of: "cpl")) } ?? "-", couplingRole: cRole, severity: sev)
        d.thetaRole = th.role
        d.thetaDelta = th.delta
        d.spikesStale = s.traceStale
        if let sp { d.counts["+spk"] = sp.0; d.counts["-spk"] = sp.1 }
        if let ovf { d.counts["ovf"] = ovf }
        if let cpl { d.counts["cpl"] = cpl }
        addOperations(&d, s.report?.operations.map { $0.counts(layer: i) })
        if let lr, let before, !s.reportStale {
            d.p999Delta = delta(lr.residualP999, before.residualP999, width: width(of: "Δp"), integer: false)
            d.overflowDelta = delta(Double(lr.overflow), Double(before.overflow), width: width(of: "Δo"), integer: true)
            d.couplingDelta = delta(Double(lr.coupling), Double(before.coupling), width: width(of: "Δc"), integer: true)
            if d.overflowDelta.count != nil { d.counts["Δo"] = d.overflowDelta.count }
            if d.couplingDelta.count != nil { d.counts["Δc"] = d.couplingDelta.count }
        }
        return d
    }

    /// MACs, synaptic operations and their ratio per sample, when the report has them.
    static func addOperations(_ d: inout RowData, _ c: OperationCounts?) {
        guard let c else { return }
        let syn = Int(c.synapticOps.rounded())
        d.counts["MACs"] = c.macs
        d.counts["synop"] = syn
        d.ops = ["MACs": Fmt.count(c.macs, width: width(of: "MACs")), "synop": Fmt.count(syn, width: width(of: "synop")),
                 "s/M": c.macs > 0 ? Fmt.short(c.synapticOps / Double(c.macs), width: width(of: "s/M")) : "-"]
        d.opsRatio = c.macs > 0 ? c.synapticOps / Double(c.macs) : 0
    }

    /// The text of column `c` of a row, its colour and whether it is right-aligned. Every text
    /// fits its column (`width(of:)`): counts are shortened by `Fmt.count`, never cut.
    static func cell(_ d: RowData, _ c: String, width w: Int? = nil) -> (text: String, role: ColorRole, right: Bool) {
        if let w, w > width(of: c), let n = d.counts[c] {
            // A column widened for exact counts.
            let text = Fmt.count(n, width: w, signed: c.hasPrefix("Δ"))
            switch c {
            case "+spk": return (text, d.spikesStale || n == 0 ? .dim : .positiveSpike, true)
            case "-spk": return (text, d.spikesStale || n == 0 ? .dim : .negativeSpike, true)
            case "ovf": return (text, d.overflowRole, true)
            case "cpl": return (text, d.couplingRole, true)
            case "Δo": return (text, d.overflowDelta.role, true)
            case "Δc": return (text, d.couplingDelta.role, true)
            case "MACs", "synop": return (text, .normal, true)
            default: break
            }
        }
        switch c {
        case "now":
            let (t, r) = phaseText(d.phase)
            return (t, r, false)
        case "+spk":
            return (d.positive, d.spikesStale || d.positive == "-" || d.positive == "0" ? .dim : .positiveSpike, true)
        case "-spk":
            return (d.negative, d.spikesStale || d.negative == "-" || d.negative == "0" ? .dim : .negativeSpike, true)
        case "p99.9": return (d.p999, d.p999Role, true)
        case "ovf": return (d.overflow, d.overflowRole, true)
        case "cpl": return (d.coupling, d.couplingRole, true)
        case "θ": return (d.theta, d.thetaRole, true)
        case "Δp": return (d.p999Delta.text, d.p999Delta.role, true)
        case "Δo": return (d.overflowDelta.text, d.overflowDelta.role, true)
        case "Δc": return (d.couplingDelta.text, d.couplingDelta.role, true)
        case "Δθ": return (d.thetaDelta.text, d.thetaDelta.role, true)
        case "shape": return (d.shape, .dim, false)
        case "MACs", "synop": return (d.ops[c] ?? "", .normal, true)
        case "s/M": return (d.ops[c] ?? "", d.opsRatio > 1 ? .warn : .ok, true)
        default: return ("", .normal, true)
        }
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
        let names = (0..<s.layerRowCount).map { s.rowName($0) }
        let longest = names.map { DisplayWidth.of($0) }.max() ?? 7
        let visible = rect.height - 1
        let rows = s.layerRowCount
        // When the list scrolls, its last column holds the scroll arrows and no digit.
        let scrolls = rows > visible
        let data = (0..<rows).map { rowData(s, row: $0) }
        let avail = rect.width - (scrolls ? 1 : 0)
        var (nameW, cols) = chooseColumns(width: avail, compare: compares(s), operations: s.analysis.operations, longestName: longest)
        // Counts exact where the pane has room for them without losing a column or name width.
        var widths: [String: Int] = [:]
        let exact = exactWidths(data)
        if !exact.isEmpty {
            let e = chooseColumns(width: avail, compare: compares(s), operations: s.analysis.operations, longestName: longest, widths: exact)
            // Exact counts are worth more than the shape column (the membrane pane shows it).
            let kept = e.columns == cols || e.columns == cols.filter { $0 != "shape" }
            if kept { nameW = e.nameWidth; widths = exact; cols = e.columns }
        }
        func colWidth(_ c: String) -> Int { widths[c] ?? width(of: c) }
        // Header.
        var x = rect.x + 1
        g.write("layer", x: x, y: rect.y, style: Style(.dim, [.underline]), maxWidth: nameW)
        x += nameW
        for c in cols {
            let w = colWidth(c)
            var label = c == "θ" && !s.glyphs.unicode ? "theta" : c
            if deltaBase[c] != nil { label = s.glyphs.unicode ? "Δ" : "d" }
            let rightAligned = c != "now" && c != "shape"
            g.write(DisplayWidth.pad(label, to: w, right: !rightAligned), x: x + 1, y: rect.y,
                    style: Style(.dim, [.underline]))
            x += 1 + w
        }
        // Shortened together, so that rows stay distinct at every width.
        let shortNames = NameShortening.shorten(names, to: nameW, ellipsis: s.glyphs.ellipsis)
        let order = s.layerDisplayOrder.count == rows ? s.layerDisplayOrder : Array(0..<rows)
        let off = scrollOffset(selected: order.firstIndex(of: s.layerRow) ?? s.layerRow, rows: rows, visible: visible)
        for vi in 0..<max(0, min(visible, rows - off)) {
            let row = order[off + vi]
            let y = rect.y + 1 + vi
            let d = data[row]
            let selected = row == s.layerRow
            let bg: ColorRole = selected ? .selection : .normal
            if selected { g.fill(Rect(x: rect.x, y: y, width: rect.width, height: 1), style: Style(.normal, bg: bg)) }
            if selected { g.put(s.glyphs.pointer, x: rect.x, y: y, style: Style(.title, bg: bg, [.bold])) }
            var cx = rect.x + 1
            g.write(shortNames[row], x: cx, y: y,
                    style: Style(d.severity, bg: bg, selected ? [.bold] : []), maxWidth: nameW)
            cx += nameW
            for c in cols {
                let w = colWidth(c)
                let (text, role, right) = cell(d, c, width: w)
                g.write(DisplayWidth.pad(text, to: w, right: !right), x: cx + 1, y: y, style: Style(role, bg: bg))
                cx += 1 + w
            }
            hits.append(HitRegion(Rect(x: rect.x, y: y, width: rect.width, height: 1), .layerRow(row)))
        }
        if off > 0 { g.put(s.glyphs.unicode ? "↑" : "^", x: rect.maxX - 1, y: rect.y + 1, style: .dim) }
        if off + visible < rows { g.put(s.glyphs.unicode ? "↓" : "v", x: rect.maxX - 1, y: rect.maxY - 1, style: .dim) }
    }
}
