import CSSSnapshots

/// Layers × k0 violation counts over the data set, then the hotspot list sorted by severity.
enum CouplingPane {
    static func render(_ s: ViewState, into g: inout CellGrid, rect: Rect, hits: inout [HitRegion]) {
        guard let r = s.report else {
            let text = s.reportProgress != nil ? "data-set report running\(s.glyphs.ellipsis)" : "no data-set report yet: press r"
            g.write(text, x: rect.x, y: rect.y, style: .dim, maxWidth: rect.width)
            return
        }
        let c = r.layout.config
        let total = c.window + 1
        let longest = r.layers.map { DisplayWidth.of($0.info.name) }.max() ?? 6
        // Exact counts when every k0 column fits with them, else counts shortened to a unit.
        let counts = r.layers.flatMap(\.violationsByStep)
        let exact = MapGeometry(width: rect.width, total: total, longestName: longest,
                                widestCount: counts.map { String($0).count }.max() ?? 1)
        let geo = exact.columns == total ? exact
            : MapGeometry(width: rect.width, total: total, longestName: longest,
                          widestCount: counts.map { DisplayWidth.of(Fmt.count($0)) }.max() ?? 1)
        let nameW = geo.nameWidth, cw = geo.columnWidth
        let mapNames = NameShortening.shorten(r.layers.map(\.info.name), to: nameW - 1, ellipsis: s.glyphs.ellipsis)
        // When not every k0 fits, the columns follow the selected layer's current local step.
        let kNow = s.selectedLayer.map { s.step - r.layout.layers[$0].windowStart } ?? 0
        let first = max(0, min(total - geo.columns, kNow - geo.columns / 2))
        let shown = first..<(first + geo.columns)
        func colX(_ k: Int) -> Int { rect.x + nameW + (k - first) * cw }
        let tableRows = min(r.layers.count, max(1, (rect.height - 2) / 2))
        var y = rect.y
        g.write("k0", x: rect.x, y: y, style: Style(.dim, [.underline]))
        if first > 0 { g.write(s.glyphs.ellipsis, x: rect.x + 2, y: y, style: .dim) }
        for k in shown {
            let label = k == c.window ? "end" : String(k)
            g.write(DisplayWidth.pad(label, to: cw - 1, right: false), x: colX(k), y: y, style: .dim)
        }
        y += 1
        let off = LayerListPane.scrollOffset(selected: max(0, s.selectedLayer ?? 0), rows: r.layers.count, visible: tableRows)
        for li in off..<min(r.layers.count, off + tableRows) {
            let lr = r.layers[li]
            let sel = s.selectedLayer == li
            g.write(mapNames[li], x: rect.x, y: y,
                    style: sel ? Style(.title, [.bold]) : .normal)
            for k in shown where k < lr.violationsByStep.count {
                let v = lr.violationsByStep[k]
                let role: ColorRole = v == 0 ? .dim : (k == 0 ? .overflow : (k == c.window ? .violation : .coupling))
                let text = v == 0 ? String(s.glyphs.zeroSpike) : Fmt.count(v, width: cw - 1)
                g.write(DisplayWidth.pad(text, to: cw - 1, right: false), x: colX(k), y: y, style: Style(role))
            }
            hits.append(HitRegion(Rect(x: rect.x, y: y, width: rect.width, height: 1), .layerRow(li + 1)))
            y += 1
        }
        guard y + 1 < rect.maxY else { return }
        g.writeFields(headerRuns(s, r), x: rect.x, y: y, maxWidth: rect.width)
        y += 1
        let visible = rect.maxY - y
        guard visible > 0 else { return }
        let list = s.visibleHotspots
        if r.hotspots.isEmpty {
            g.write("no violations", x: rect.x, y: y, style: Style(.ok))
            return
        }
        if list.isEmpty {
            g.write("no \(s.hotspotArguments) hotspots in the report's list (:hotspots all shows all)", x: rect.x, y: y,
                    style: .dim, maxWidth: rect.width)
            return
        }
        let hoff = LayerListPane.scrollOffset(selected: s.hotspot, rows: list.count, visible: visible)
        let shownRows = Array(hoff..<min(list.count, hoff + visible))
        let rows = HotspotRows(shownRows.map { r.hotspots[list[$0]] }, layout: r.layout, width: rect.width,
                               ellipsis: s.glyphs.ellipsis)
        for (line, i) in shownRows.enumerated() {
            let h = r.hotspots[list[i]]
            let sel = i == s.hotspot
            let bg: ColorRole = sel ? .selection : .normal
            if sel { g.fill(Rect(x: rect.x, y: y, width: rect.width, height: 1), style: Style(.normal, bg: bg)) }
            g.writeFields(rows.fields(line, h, selected: sel, glyphs: s.glyphs, bg: bg), x: rect.x, y: y,
                          maxWidth: rect.width)
            hits.append(HitRegion(Rect(x: rect.x, y: y, width: rect.width, height: 1), .hotspot(i)))
            y += 1
        }
    }

    /// The hotspot list's columns for the rows on screen: every number whole (widths from the
    /// values shown), margin and |u| in one precision per row, names shortened by the one rule
    /// (`NameShortening`) to the room the numbers leave; |u| is left out first when the pane is
    /// narrow, then the sample.
    struct HotspotRows {
        var nameWidth: Int
        var names: [String]
        var neuronW: Int, sampleW: Int, stepW: Int, marginW: Int, residualW: Int
        var showResidual: Bool, showSample: Bool
        var values: [(m: String, u: String)]

        init(_ hs: [Hotspot], layout: NetworkLayout, width: Int, ellipsis: String) {
            func w(_ xs: [Int]) -> Int { xs.map { String($0).count }.max() ?? 1 }
            neuronW = w(hs.map(\.neuron)); sampleW = w(hs.map(\.sample)); stepW = w(hs.map(\.firstViolationStep))
            // m and |u| with the same decimals (two, one, none: what fits 6 columns for all).
            values = hs.map { h in
                let f = Fmt.sameDecimals([h.worstMargin, h.residual], width: 7, maxDigits: 2)
                return (f[0], f[1])
            }
            marginW = values.map { $0.m.count }.max() ?? 1
            residualW = values.map { $0.u.count }.max() ?? 1
            let longest = hs.map { DisplayWidth.of(layout.layers.indices.contains($0.layer) ? layout.layers[$0.layer].name : "#\($0.layer)") }.max() ?? 6
            // "▸ovf " name " n N s S k0 K m M |u| U"
            let base = 5 + (3 + neuronW) + (4 + stepW) + (3 + marginW)
            let sample = 3 + sampleW, residual = 5 + residualW
            let minName = 8
            showSample = base + sample + minName <= width
            showResidual = showSample && base + sample + residual + minName <= width
            let used = base + (showSample ? sample : 0) + (showResidual ? residual : 0)
            nameWidth = max(4, min(24, longest, width - used))
            names = NameShortening.shorten(layout.layers.map(\.name), to: nameWidth, ellipsis: ellipsis)
        }

        func fields(_ line: Int, _ h: Hotspot, selected: Bool, glyphs: Glyphs, bg: ColorRole) -> [[(String, Style)]] {
            let name = h.layer < names.count ? names[h.layer] : "#\(h.layer)"
            let kindRole: ColorRole = h.kind == .overflow ? .overflow : .coupling
            let v = values[line]
            var out: [[(String, Style)]] = [
                [(selected ? String(glyphs.pointer) : " ", Style(.title, bg: bg, [.bold])),
                 (h.kind == .overflow ? "ovf " : "cpl ", Style(kindRole, bg: bg, [.bold])),
                 (DisplayWidth.pad(name, to: nameWidth), Style(.normal, bg: bg))],
                [(" n " + DisplayWidth.pad(String(h.neuron), to: neuronW), Style(.normal, bg: bg))],
            ]
            if showSample { out.append([(" s " + DisplayWidth.pad(String(h.sample), to: sampleW), Style(.normal, bg: bg))]) }
            out.append([(" k0 " + DisplayWidth.pad(String(h.firstViolationStep), to: stepW), Style(.normal, bg: bg))])
            out.append([(" m " + DisplayWidth.pad(v.m, to: marginW, right: false), Style(.violation, bg: bg))])
            if showResidual { out.append([(" |u| " + DisplayWidth.pad(v.u, to: residualW, right: false), Style(.dim, bg: bg))]) }
            return out
        }
    }

    /// "hotspots: worst 500 of 12k (ovf 188, cpl 312)", "coupling · block2.relu1: worst 120 of
    /// 9741": what the list holds of the data set's cases, then the keys.
    static func headerRuns(_ s: ViewState, _ r: DatasetReport) -> [[(String, Style)]] {
        let head = Style(.dim, [.underline])
        let list = s.visibleHotspots.map { r.hotspots[$0] }
        let ovf = list.reduce(0) { $0 + ($1.kind == .overflow ? 1 : 0) }
        var first: [(String, Style)] = [("hotspots", head)]
        if s.hotspotFilter != .all {
            first.append((" " + s.hotspotFilter.rawValue, Style(s.hotspotFilter == .overflow ? .overflow : .coupling, [.bold, .underline])))
        }
        if let l = s.hotspotLayer, l < r.layout.layers.count {
            first.append((" · " + r.layout.layers[l].name, Style(.title, [.bold, .underline])))
        }
        first.append((": worst ", head))
        first.append(("\(list.count)", Style(.title, [.bold, .underline])))
        // Fields are written whole or not at all: a count is never cut.
        var fields: [[(String, Style)]] = [first, [(" of \(s.hotspotCasesInDataSet)", head)]]
        if s.hotspotFilter == .all { fields.append([(" (ovf \(ovf), cpl \(list.count - ovf))", head)]) }
        fields.append([("  o/c/a filter, Enter jumps", .dim)])
        return fields
    }

    /// Widths of the layers × k0 table: every count (at most 4 columns, `Fmt.count`) and the
    /// `end` label fit their column; names get what is left, up to 24 columns.
    struct MapGeometry: Equatable {
        var nameWidth: Int
        var columnWidth: Int
        /// k0 columns that fit (all of them unless the pane is narrow).
        var columns: Int

        init(width: Int, total: Int, longestName: Int, widestCount: Int) {
            let minCW = max(3, widestCount) + 1
            var nameW = max(6, min(25, longestName + 1))
            if nameW + total * minCW > width { nameW = max(6, width - total * minCW) }
            columnWidth = max(minCW, min(6, (width - nameW) / max(1, total)))
            columns = max(1, min(total, (width - nameW) / columnWidth))
            nameWidth = nameW
        }
    }
}
