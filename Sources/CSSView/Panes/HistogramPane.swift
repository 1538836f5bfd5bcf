import CSSSnapshots

/// Signed u[T] over the whole data set for the selected layer, log-scaled, ±0.5 and ±1 marked.
enum HistogramPane {
    static func render(_ s: ViewState, into g: inout CellGrid, rect: Rect) {
        guard let i = s.selectedLayer else {
            g.write("select a spiking layer (the encoder and output have no u[T] here)", x: rect.x, y: rect.y,
                    style: .dim, maxWidth: rect.width)
            return
        }
        guard let lr = s.report.flatMap({ i < $0.layers.count ? $0.layers[i] : nil }) else {
            let text = s.reportProgress != nil ? "data-set report running\(s.glyphs.ellipsis)" : "no data-set report yet: press r"
            g.write(text, x: rect.x, y: rect.y, style: .dim, maxWidth: rect.width)
            return
        }
        let h = lr.residualHistogram
        let info: [(String, Style)] = [
            ("p99.9 |u| ", .dim), (Fmt.short(lr.residualP999), Style(LayerListPane.residualRole(lr.residualP999), [.bold])),
            ("  max ", .dim), (Fmt.short(lr.residualMax), Style(LayerListPane.residualRole(lr.residualMax))),
            ("  |u|≥1 ", .dim), (Fmt.count(lr.overOne), Style(lr.overOne > 0 ? .bad : .ok)),
            ("  out ", .dim), ("\(Fmt.count(h.below))/\(Fmt.count(h.above))", Style(h.below + h.above > 0 ? .bad : .dim)),
            ("  log", .dim),
        ]
        g.write(info, x: rect.x, y: rect.y, maxWidth: rect.width)
        let barsH = rect.height - 3
        guard barsH >= 1, !h.bins.isEmpty, h.upper > h.lower else { return }
        let nb = h.bins.count
        let cols = max(1, min(rect.width, nb))
        let x0 = rect.x + (rect.width - cols) / 2
        var colCounts = [Int](repeating: 0, count: cols)
        for b in 0..<nb { colCounts[min(cols - 1, b * cols / nb)] += h.bins[b] }
        let maxLog = log1pish(colCounts.max() ?? 0)
        let gl = s.glyphs
        func valueAt(col c: Int) -> Double { h.lower + (Double(c) + 0.5) / Double(cols) * (h.upper - h.lower) }
        for c in 0..<cols where colCounts[c] > 0 {
            let frac = maxLog > 0 ? log1pish(colCounts[c]) / maxLog : 0
            let eighths = max(1, Int((frac * Double(barsH * 8)).rounded()))
            let v = abs(valueAt(col: c))
            let role: ColorRole = v >= 1 ? .bad : (v >= 0.5 ? .warn : .ok)
            for r in 0..<barsH {
                let fill = eighths - r * 8
                guard fill > 0 else { break }
                let ch = gl.bars[min(8, fill) - 1]
                g.put(ch, x: x0 + c, y: rect.y + barsH - r, style: Style(role))
            }
        }
        // Axis with the ±0.5 and ±1 marks.
        let axisY = rect.y + barsH + 1
        g.hline(x: x0, y: axisY, width: cols, gl.box.horizontal, style: .dim)
        func colOf(_ v: Double) -> Int? {
            let c = Int(((v - h.lower) / (h.upper - h.lower) * Double(cols)).rounded(.down))
            return (0..<cols).contains(c) ? c : nil
        }
        let marks: [(Double, String, ColorRole)] = [(-1, "-1", .bad), (-0.5, "-.5", .warn), (0, "0", .dim),
                                                    (0.5, ".5", .warn), (1, "1", .bad)]
        for (v, label, role) in marks {
            guard let c = colOf(v) else { continue }
            g.put(gl.unicode ? "┼" : "+", x: x0 + c, y: axisY, style: Style(role, [.bold]))
            let lx = x0 + c - DisplayWidth.of(label) / 2
            g.write(label, x: lx, y: axisY + 1, style: Style(role))
            if v != 0 {
                for r in 1...barsH where g[x0 + c, rect.y + r].glyph == " " {
                    g.put(gl.unicode ? "┊" : ":", x: x0 + c, y: rect.y + r, style: Style(role))
                }
            }
        }
        g.write(Fmt.short(h.lower, width: 4), x: x0, y: axisY + 1, style: .dim)
        g.writeRight(Fmt.short(h.upper, width: 4), rightEdge: x0 + cols, y: axisY + 1, style: .dim)
    }

    static func log1pish(_ n: Int) -> Double {
        // ln(1 + n) without Foundation: series is not needed, use the bit-exact identity via log2.
        Double(n).isZero ? 0 : naturalLog(1 + Double(n))
    }

    static func naturalLog(_ x: Double) -> Double {
        // ln x = 2·atanh((x-1)/(x+1)) after scaling by powers of 2.
        var m = x, e = 0.0
        while m > 2 { m /= 2; e += 1 }
        while m < 1 { m *= 2; e -= 1 }
        let y = (m - 1) / (m + 1), y2 = y * y
        var term = y, sum = 0.0
        var k = 1.0
        for _ in 0..<30 { sum += term / k; term *= y2; k += 2 }
        return 2 * sum + e * 0.6931471805599453
    }
}
