import CSSSnapshots

/// Raster geometry: neurons down then across in blocks of `label + T slots`.
struct RasterGeometry {
    var labelW: Int
    var blockW: Int
    var blocksPerRow: Int
    var rowsPerPage: Int
    var perPage: Int
    var first: Int

    init(_ s: ViewState, slots T: Int, area a: Rect) {
        let count = max(1, s.neuronCount)
        labelW = String(count - 1).count + 1
        blockW = labelW + 1 + T + 2
        blocksPerRow = max(1, (a.width + 2) / blockW)
        rowsPerPage = max(1, a.height - 1)
        perPage = blocksPerRow * rowsPerPage
        first = (max(0, s.neuron) / perPage) * perPage
    }

    static func pageSize(_ s: ViewState) -> Int {
        guard let r = ScreenLayout(s).panes[.raster], let T = s.config?.T else { return 10 }
        return RasterGeometry(s, slots: T, area: r.inset(1)).perPage
    }
}

/// Neurons × slots of the selected layer, ternary spikes coloured, slots not yet emitted blank.
enum RasterPane {
    static func render(_ s: ViewState, into g: inout CellGrid, rect: Rect, hits: inout [HitRegion]) {
        guard let layout = s.layout else { return }
        guard let trace = s.trace, trace.sample == s.sample else {
            g.write("loading sample \(s.sample)\(s.glyphs.ellipsis)", x: rect.x, y: rect.y, style: .dim)
            return
        }
        let T = layout.config.T
        var spike: (Int, Int) -> Int8
        let emitted: Int
        if let lt = s.selectedTrace {
            spike = { lt.spike(neuron: $0, slot: $1) }
            emitted = lt.slotsEmitted(atGlobal: s.step)
        } else if s.isEncoderSelected {
            let enc = trace.encoder
            spike = { n, i in n * enc.T + i < enc.spikes.count ? enc.spikes[n * enc.T + i] : 0 }
            emitted = max(0, min(enc.T, s.step + 1))
        } else {
            g.write("the output integrator does not spike", x: rect.x, y: rect.y, style: .dim)
            return
        }
        let geo = RasterGeometry(s, slots: T, area: rect)
        let gl = s.glyphs
        let count = s.neuronCount
        // Header: slot digits per block, the current slot highlighted.
        for b in 0..<geo.blocksPerRow where geo.first + b * geo.rowsPerPage < count {
            let bx = rect.x + b * geo.blockW + geo.labelW + 1
            for i in 0..<T {
                let now = i == emitted - 1
                g.put(Character(String(i % 10)), x: bx + i, y: rect.y,
                      style: now ? Style(.title, bg: .selection, [.bold]) : .dim)
            }
        }
        for idx in 0..<geo.perPage {
            let n = geo.first + idx
            guard n < count else { break }
            let b = idx / geo.rowsPerPage, r = idx % geo.rowsPerPage
            let x = rect.x + b * geo.blockW
            let y = rect.y + 1 + r
            let sel = n == s.neuron
            g.write(DisplayWidth.pad(String(n), to: geo.labelW, right: false), x: x, y: y,
                    style: sel ? Style(.title, bg: .selection, [.bold]) : .dim)
            for i in 0..<T {
                let cx = x + geo.labelW + 1 + i
                guard i < emitted else { g.put(" ", x: cx, y: y); continue }
                let sp = spike(n, i)
                let (ch, role): (Character, ColorRole) = sp > 0 ? (gl.plus, .positiveSpike) : (sp < 0 ? (gl.minus, .negativeSpike) : (gl.zeroSpike, .dim))
                g.put(ch, x: cx, y: y, style: Style(role, bg: sel ? .selection : .normal, sp != 0 ? [.bold] : []))
            }
            hits.append(HitRegion(Rect(x: x, y: y, width: geo.blockW - 1, height: 1), .neuron(n)))
        }
    }
}

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
