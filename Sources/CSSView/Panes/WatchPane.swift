import CSSSnapshots

/// The watched neurons (`:watch`), one row each at the current step g: local step k and phase,
/// o/v and the spike at g, ΣS so far, margin(k), the ANN's target in θ units, the encoded value
/// e(g) and the residual u(g) = a − e(g). Rows scroll to keep the selected watch visible.
enum WatchPane {
    /// Columns after the name: (header, width).
    static let columns: [(String, Int)] = [("n", 6), ("k", 4), ("ph", 4), ("o/v", 6), ("sp", 2), ("ΣS", 4),
                                           ("margin", 6), ("target", 6), ("e", 6), ("u", 6)]

    static func title(_ s: ViewState) -> String {
        "Watch \(s.watches.count)/\(ViewState.maxWatches) · g \(s.step)"
    }

    static func render(_ s: ViewState, into g: inout CellGrid, rect: Rect, hits: inout [HitRegion]) {
        guard !s.watches.isEmpty else {
            g.write("no watches: :watch LAYER NEURON", x: rect.x, y: rect.y, style: .dim)
            return
        }
        let fixed = 3 + columns.reduce(0) { $0 + $1.1 + 1 }
        let nameW = max(6, min(24, rect.width - fixed))
        let names = NameShortening.shorten(s.watches.map { $0.layer < s.spikingLayerCount ? s.rowName($0.layer + 1) : "?" },
                                           to: nameW, ellipsis: s.glyphs.ellipsis)
        var header: [(String, Style)] = [(DisplayWidth.pad("#", to: 3), .dim), (DisplayWidth.pad("layer", to: nameW), .dim)]
        for (h, w) in columns {
            // Σ has no ASCII fallback: `sumS` in ASCII mode.
            let text = h == "ΣS" && !s.glyphs.unicode ? "sumS" : h
            header.append((" " + DisplayWidth.pad(text, to: w, right: false), .dim))
        }
        g.write(header, x: rect.x, y: rect.y, maxWidth: rect.width)
        let rows = max(1, rect.height - 1)
        let first = max(0, min(s.watches.count - rows, s.watchSelection - rows + 1))
        for (r, i) in (first..<min(s.watches.count, first + rows)).enumerated() {
            let y = rect.y + 1 + r
            let selected = s.focus == .watch && i == s.watchSelection
            let bg: ColorRole = selected ? .selection : .normal
            var runs: [(String, Style)] = [(DisplayWidth.pad(String(i + 1), to: 3), Style(.title, bg: bg, [.bold])),
                                           (DisplayWidth.pad(names[i], to: nameW), Style(.normal, bg: bg))]
            func cell(_ text: String, _ col: Int, _ role: ColorRole = .normal, _ attrs: CellAttributes = []) {
                runs.append((" " + DisplayWidth.pad(text, to: columns[col].1, right: false), Style(role, bg: bg, attrs)))
            }
            cell(String(s.watches[i].neuron), 0)
            if let v = s.watchValues(i) {
                let (ph, phRole) = LayerListPane.phaseText(v.phase)
                cell(v.phase == .waiting ? "-" : (v.phase == .done ? "end" : String(v.k)), 1, .dim)
                cell(ph, 2, phRole)
                cell(v.normalizedMembrane.map { Fmt.short(Double($0), width: 6) } ?? "-", 3,
                     v.normalizedMembrane.map { .heat(Heat.level($0)) } ?? .dim)
                let (ch, spRole) = s.glyphs.spike(v.spike)
                cell(v.spike == 0 ? "" : String(ch), 4, spRole, [.bold])
                cell(v.spikeSum > 0 ? "+\(v.spikeSum)" : String(v.spikeSum), 5)
                let m = Double(v.margin)
                cell(Fmt.short(m, width: 5) + (m <= 0 ? String(s.glyphs.cross) : ""), 6, m <= 0 ? .violation : .ok,
                     m <= 0 ? [.bold] : [])
                cell(v.target.map { Fmt.short($0) } ?? "-", 7)
                cell(Fmt.short(v.encoded), 8)
                cell(Fmt.short(v.residual), 9, LayerListPane.residualRole(abs(v.residual)), [.bold])
            } else {
                cell(s.trace == nil ? "loading" : "-", 1, .dim)
            }
            g.write(runs, x: rect.x, y: y, maxWidth: rect.width)
        }
        if s.watches.count > rows {
            let more = "\(first + 1)-\(min(s.watches.count, first + rows)) of \(s.watches.count)"
            g.write(more, x: rect.maxX - DisplayWidth.of(more), y: rect.y, style: .dim)
        }
    }
}
