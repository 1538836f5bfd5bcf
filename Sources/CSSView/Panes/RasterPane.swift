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
                let (ch, role) = gl.spike(sp)
                g.put(ch, x: cx, y: y, style: Style(role, bg: sel ? .selection : .normal, sp != 0 ? [.bold] : []))
            }
            hits.append(HitRegion(Rect(x: x, y: y, width: geo.blockW - 1, height: 1), .neuron(n)))
        }
    }
}
