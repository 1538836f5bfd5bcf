import CSSCore

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
        let nameW = min(12, max(6, (r.layers.map { DisplayWidth.of($0.info.name) }.max() ?? 6) + 1))
        let cw = max(3, min(6, (rect.width - nameW) / max(1, total)))
        let tableRows = min(r.layers.count, max(1, (rect.height - 2) / 2))
        var y = rect.y
        g.write("k0", x: rect.x, y: y, style: Style(.dim, [.underline]))
        for k in 0..<total {
            let label = k == c.window ? "end" : String(k)
            g.write(DisplayWidth.pad(label, to: cw - 1, right: false), x: rect.x + nameW + k * cw, y: y, style: .dim)
        }
        y += 1
        let off = LayerListPane.scrollOffset(selected: max(0, s.selectedLayer ?? 0), rows: r.layers.count, visible: tableRows)
        for li in off..<min(r.layers.count, off + tableRows) {
            let lr = r.layers[li]
            let sel = s.selectedLayer == li
            g.write(DisplayWidth.truncate(lr.info.name, to: nameW - 1, ellipsis: s.glyphs.ellipsis), x: rect.x, y: y,
                    style: sel ? Style(.title, [.bold]) : .normal)
            for k in 0..<min(total, lr.violationsByStep.count) {
                let v = lr.violationsByStep[k]
                let role: ColorRole = v == 0 ? .dim : (k == 0 ? .overflow : (k == c.window ? .violation : .coupling))
                let text = v == 0 ? String(s.glyphs.zeroSpike) : Fmt.count(v)
                g.write(DisplayWidth.pad(DisplayWidth.clip(text, to: cw - 1), to: cw - 1, right: false),
                        x: rect.x + nameW + k * cw, y: y, style: Style(role))
            }
            hits.append(HitRegion(Rect(x: rect.x, y: y, width: rect.width, height: 1), .layerRow(li + 1)))
            y += 1
        }
        guard y + 1 < rect.maxY else { return }
        let header = "hotspots \(r.hotspots.count) by severity (Enter jumps)"
        g.write(header, x: rect.x, y: y, style: Style(.dim, [.underline]), maxWidth: rect.width)
        y += 1
        let visible = rect.maxY - y
        guard visible > 0 else { return }
        if r.hotspots.isEmpty {
            g.write("no violations", x: rect.x, y: y, style: Style(.ok))
            return
        }
        let hoff = LayerListPane.scrollOffset(selected: s.hotspot, rows: r.hotspots.count, visible: visible)
        for i in hoff..<min(r.hotspots.count, hoff + visible) {
            let h = r.hotspots[i]
            let sel = i == s.hotspot
            let bg: ColorRole = sel ? .selection : .normal
            if sel { g.fill(Rect(x: rect.x, y: y, width: rect.width, height: 1), style: Style(.normal, bg: bg)) }
            let name = h.layer < r.layout.layers.count ? r.layout.layers[h.layer].name : "#\(h.layer)"
            let kindRole: ColorRole = h.kind == .overflow ? .overflow : .coupling
            let runs: [(String, Style)] = [
                (sel ? String(s.glyphs.pointer) : " ", Style(.title, bg: bg, [.bold])),
                (h.kind == .overflow ? "ovf " : "cpl ", Style(kindRole, bg: bg, [.bold])),
                (DisplayWidth.pad(DisplayWidth.truncate(name, to: 10, ellipsis: s.glyphs.ellipsis), to: 11), Style(.normal, bg: bg)),
                ("n " + DisplayWidth.pad(String(h.neuron), to: 6), Style(.normal, bg: bg)),
                ("s " + DisplayWidth.pad(String(h.sample), to: 5), Style(.normal, bg: bg)),
                ("k0 " + DisplayWidth.pad(String(h.firstViolationStep), to: 3), Style(.normal, bg: bg)),
                ("m " + DisplayWidth.pad(Fmt.short(h.worstMargin, width: 5), to: 6), Style(.violation, bg: bg)),
                ("|u| " + Fmt.short(h.residual, width: 5), Style(.dim, bg: bg)),
            ]
            g.write(runs, x: rect.x, y: y, maxWidth: rect.width)
            hits.append(HitRegion(Rect(x: rect.x, y: y, width: rect.width, height: 1), .hotspot(i)))
            y += 1
        }
    }
}
