import CSSSnapshots

/// How the membrane pane lays out neurons: conv layers as channel tiles H×W, everything else as
/// a wrapped vector. Used by rendering, paging and grid navigation alike.
struct MembraneGeometry {
    var channels: Int
    var height: Int
    var width: Int
    var isTiled: Bool
    /// Visible part of each tile (crop when a tile is larger than the pane).
    var viewY: Int, viewX: Int, viewH: Int, viewW: Int
    var tilesPerRow: Int
    var tilesPerPage: Int
    var firstChannel: Int
    /// Dense: first visible row of the wrapped vector.
    var firstRow: Int
    /// Top-left of the tile area.
    var originX: Int, originY: Int
    var labelRows: Int

    /// The pane's inner rectangle, or nil if the pane is not on screen.
    static func area(_ s: ViewState) -> Rect? {
        ScreenLayout(s).panes[.membrane].map { $0.inset(1) }
    }

    init(_ s: ViewState, area a: Rect) {
        let shape = s.selectedShape
        let count = s.neuronCount
        let legendRows = 1
        let availH = max(1, a.height - legendRows)
        originX = a.x
        originY = a.y + legendRows
        if shape.count == 3, shape[1] * shape[2] > 1 {
            isTiled = true
            channels = shape[0]; height = shape[1]; width = shape[2]
            labelRows = width >= 3 && availH >= 3 ? 1 : 0
            viewH = min(height, max(1, availH - labelRows))
            viewW = min(width, max(1, a.width))
            tilesPerRow = max(1, (a.width + 1) / (viewW + 1))
            let tileRows = max(1, (availH + 1) / (viewH + labelRows + 1))
            tilesPerPage = max(1, tilesPerRow * tileRows)
            let n = min(max(0, s.neuron), max(0, count - 1))
            let c = n / max(1, height * width)
            let y = (n / width) % height, x = n % width
            firstChannel = (c / tilesPerPage) * tilesPerPage
            viewY = max(0, min(height - viewH, y - viewH / 2))
            viewX = max(0, min(width - viewW, x - viewW / 2))
            firstRow = 0
        } else {
            isTiled = false
            channels = 1
            width = max(1, min(max(1, count), a.width))
            height = (count + width - 1) / width
            labelRows = 0
            viewH = min(height, availH); viewW = width
            viewY = 0; viewX = 0
            tilesPerRow = 1; tilesPerPage = 1; firstChannel = 0
            let row = max(0, s.neuron) / width
            firstRow = viewH > 0 ? (row / max(1, viewH)) * max(1, viewH) : 0
        }
    }

    /// Screen position of a neuron, or nil when it is not on this page.
    func position(of n: Int) -> (x: Int, y: Int)? {
        if isTiled {
            let per = height * width
            let c = n / per, y = (n / width) % height, x = n % width
            let t = c - firstChannel
            guard t >= 0, t < tilesPerPage, y >= viewY, y < viewY + viewH, x >= viewX, x < viewX + viewW else {
                return nil
            }
            let tx = t % tilesPerRow, ty = t / tilesPerRow
            let rowH = viewH + labelRows + 1
            return (originX + tx * (viewW + 1) + (x - viewX), originY + ty * rowH + labelRows + (y - viewY))
        }
        let row = n / width - firstRow
        guard row >= 0, row < viewH else { return nil }
        return (originX + n % width, originY + row)
    }

    /// Neurons visible on this page, in index order.
    func visibleNeurons(count: Int) -> [Int] {
        var out: [Int] = []
        if isTiled {
            let per = height * width
            for c in firstChannel..<min(channels, firstChannel + tilesPerPage) {
                for y in viewY..<(viewY + viewH) {
                    for x in viewX..<(viewX + viewW) {
                        let n = c * per + y * width + x
                        if n < count { out.append(n) }
                    }
                }
            }
        } else {
            let start = firstRow * width
            let end = min(count, (firstRow + viewH) * width)
            if start < end { out = Array(start..<end) }
        }
        return out
    }

    /// Neuron index distance of one grid row (up/down in the membrane pane).
    static func rowStride(_ s: ViewState) -> Int {
        guard let a = area(s) else { return max(1, s.selectedShape.last ?? 1) }
        return max(1, MembraneGeometry(s, area: a).width)
    }

    /// Neurons per page (PgUp/PgDn in the membrane pane).
    static func pageSize(_ s: ViewState) -> Int {
        guard let a = area(s) else { return 1 }
        let m = MembraneGeometry(s, area: a)
        return m.isTiled ? max(1, m.tilesPerPage * m.height * m.width) : max(1, m.viewH * m.width)
    }
}

/// Heatmap of o/v of the selected layer at step g, with this step's spikes marked.
enum MembranePane {
    static func render(_ s: ViewState, into g: inout CellGrid, rect: Rect, hits: inout [HitRegion]) {
        guard s.layout != nil else { return }
        if s.isOutputSelected { renderOutput(s, into: &g, rect: rect); return }
        guard let trace = s.trace, trace.sample == s.sample else {
            g.write("loading sample \(s.sample)\(s.glyphs.ellipsis)", x: rect.x, y: rect.y, style: .dim)
            return
        }
        let count = s.neuronCount
        var value: (Int) -> Float? = { _ in nil }
        var spike: (Int) -> Int8 = { _ in 0 }
        var note = ""
        if let lt = s.selectedTrace {
            let k = lt.localStep(atGlobal: s.step)
            let phase = lt.phase(atGlobal: s.step)
            if phase == .waiting {
                renderLegend(s, into: &g, rect: rect, note: "")
                g.write("waiting: window starts at g \(lt.info.windowStart)  (w jumps there)", x: rect.x,
                        y: rect.y + 2, style: Style(.waiting))
                return
            }
            let kk = min(lt.window - 1, max(0, k))
            note = phase == .done ? "done, k \(kk)" : "k \(kk) \(phase.rawValue)"
            value = { lt.normalizedMembrane(neuron: $0, localStep: kk) }
            if phase == .firing { spike = { lt.spike(neuron: $0, atGlobal: s.step) } }
        } else if s.isEncoderSelected {
            let enc = trace.encoder
            let scale = Float(enc.theta * (s.config?.sumWeights ?? 1))
            value = { n in n < enc.inputs.count && scale != 0 ? enc.inputs[n] / scale : nil }
            let slot = s.step
            if slot < enc.T { spike = { n in n * enc.T + slot < enc.spikes.count ? enc.spikes[n * enc.T + slot] : 0 } }
            note = slot < enc.T ? "slot \(slot), x/(θ₀Σw)" : "done, x/(θ₀Σw)"
            if !s.glyphs.unicode { note = slot < enc.T ? "slot \(slot), x/(theta0*sum w)" : "done" }
        }
        renderLegend(s, into: &g, rect: rect, note: note)
        let m = MembraneGeometry(s, area: rect)
        let gl = s.glyphs
        if m.isTiled && m.labelRows > 0 {
            for c in m.firstChannel..<min(m.channels, m.firstChannel + m.tilesPerPage) {
                let t = c - m.firstChannel
                let tx = t % m.tilesPerRow, ty = t / m.tilesPerRow
                let x = m.originX + tx * (m.viewW + 1)
                let y = m.originY + ty * (m.viewH + m.labelRows + 1)
                let selectedChannel = s.neuron / max(1, m.height * m.width) == c
                g.write("c\(c)", x: x, y: y, style: selectedChannel ? Style(.title, [.bold]) : .dim, maxWidth: m.viewW)
            }
        }
        for n in m.visibleNeurons(count: count) {
            guard let (x, y) = m.position(of: n) else { continue }
            let bg: ColorRole = n == s.neuron ? .selection : .normal
            let sp = spike(n)
            if sp != 0 {
                let (ch, role) = gl.spike(sp)
                g.put(ch, x: x, y: y, style: Style(role, bg: bg, [.bold]))
            } else if let v = value(n) {
                let l = Heat.level(v)
                g.put(gl.heatGlyph(l, monochrome: s.monochrome), x: x, y: y, style: Style(.heat(l), bg: bg))
            } else {
                g.put(" ", x: x, y: y, style: Style(.normal, bg: bg))
            }
            hits.append(HitRegion(Rect(x: x, y: y, width: 1, height: 1), .neuron(n)))
        }
    }

    /// "ch 4-7/16", "rows 0-9/40" or crop offsets, when not everything fits on one page.
    static func pageText(_ s: ViewState) -> String {
        guard s.layout != nil, !s.isOutputSelected, let a = MembraneGeometry.area(s) else { return "" }
        let m = MembraneGeometry(s, area: a)
        if m.isTiled {
            let last = min(m.channels, m.firstChannel + m.tilesPerPage) - 1
            let crop = m.viewH < m.height || m.viewW < m.width
            if m.tilesPerPage >= m.channels && !crop { return "" }
            return "ch \(m.firstChannel)-\(last)/\(m.channels)" + (crop ? " crop y\(m.viewY) x\(m.viewX)" : "")
        }
        return m.height > m.viewH ? "rows \(m.firstRow)-\(min(m.height, m.firstRow + m.viewH) - 1)/\(m.height)" : ""
    }

    static func renderLegend(_ s: ViewState, into g: inout CellGrid, rect: Rect, note: String) {
        let gl = s.glyphs
        var x = rect.x
        x += g.write(gl.unicode ? "−1 " : "-1 ", x: x, y: rect.y, style: .dim)
        for l in stride(from: -Heat.levels, through: Heat.levels, by: 1) {
            g.put(gl.heatGlyph(l, monochrome: s.monochrome), x: x, y: rect.y, style: Style(.heat(l)))
            x += 1
        }
        x += g.write(" +1 ", x: x, y: rect.y, style: .dim)
        for sp: Int8 in [1, -1] {
            let (ch, role) = gl.spike(sp)
            g.put(ch, x: x, y: rect.y, style: Style(role, [.bold])); x += 1
        }
        x += g.write(" spike ", x: x, y: rect.y, style: .dim)
        if !note.isEmpty { g.write(note, x: x + 1, y: rect.y, style: .normal, maxWidth: rect.maxX - x - 1) }
    }

    /// The output integrator: decoded score per class at g, argmax marked.
    static func renderOutput(_ s: ViewState, into g: inout CellGrid, rect: Rect) {
        guard let t = s.trace, t.sample == s.sample else {
            g.write("loading sample \(s.sample)\(s.glyphs.ellipsis)", x: rect.x, y: rect.y, style: .dim)
            return
        }
        let out = t.decodedOutput(atGlobal: s.step)
        let pred = t.anytimePrediction(atGlobal: s.step)
        let maxAbs = max(1e-9, out.map { abs($0) }.max() ?? 1)
        let barW = max(1, rect.width - 16)
        for (c, v) in out.enumerated() where c < rect.height {
            let y = rect.y + c
            let isPred = pred == c
            g.write(DisplayWidth.pad(String(c), to: 3, right: false), x: rect.x, y: y,
                    style: isPred ? Style(.title, [.bold]) : .dim)
            g.write(DisplayWidth.pad(Fmt.short(Double(v), width: 8), to: 9, right: false), x: rect.x + 3, y: y)
            let n = Int((Double(abs(v)) / Double(maxAbs) * Double(barW)).rounded())
            let ch: Character = s.glyphs.unicode ? "█" : "#"
            g.write(String(repeating: ch, count: n), x: rect.x + 13, y: y,
                    style: Style(v < 0 ? .negativeSpike : (isPred ? .ok : .positiveSpike)))
        }
    }
}
