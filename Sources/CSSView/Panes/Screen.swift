import CSSSnapshots

/// What a click on a screen region selects.
public enum HitTarget: Equatable, Sendable {
    case pane(Pane)
    case layerRow(Int)
    case neuron(Int)
    case hotspot(Int)
    case step(Int)

    var isPane: Bool { if case .pane = self { return true } else { return false } }
}

public struct HitRegion: Equatable, Sendable {
    public var rect: Rect
    public var target: HitTarget
    public init(_ rect: Rect, _ target: HitTarget) {
        self.rect = rect
        self.target = target
    }
}

/// Where everything goes on a screen of a given size.
public struct ScreenLayout: Equatable, Sendable {
    public static let minWidth = 80
    public static let minHeight = 24

    public var tooSmall: Bool
    public var status: Rect
    public var bottom: Rect
    /// Visible panes and their outer rectangles (frames included).
    public var panes: [Pane: Rect]

    public init(_ s: ViewState) {
        let w = s.width, h = s.height
        tooSmall = w < ScreenLayout.minWidth || h < ScreenLayout.minHeight
        status = Rect(x: 0, y: 0, width: w, height: 2)
        bottom = Rect(x: 0, y: h - 1, width: w, height: 1)
        panes = [:]
        if tooSmall { return }
        var body = Rect(x: 0, y: 2, width: w, height: h - 3)
        if !s.watches.isEmpty {
            // The watch pane: a full-width strip under the others (a header and one row per
            // watch, up to a third of the body; it scrolls to the selected watch beyond that).
            let (top, strip) = body.splitTop(body.height - min(s.watches.count + 3, max(5, body.height / 3)))
            body = top
            panes[.watch] = strip
        }
        let large = w >= 140 && h >= 40
        let leftW = large ? ScreenLayout.largeLeftWidth(s) : max(43, w * 21 / 40)
        let (left, right) = body.splitLeft(leftW)
        let layersH = min(s.layerRowCount + 3, large ? body.height * 2 / 5 : body.height / 2)
        let (layers, leftRest) = left.splitTop(max(5, layersH))
        panes[.layers] = layers
        if large {
            let (hist, coupling) = leftRest.splitTop(min(12, leftRest.height / 2))
            panes[.histogram] = hist
            panes[.coupling] = coupling
            let (mem, rightRest) = right.splitTop(right.height * 9 / 20)
            let (insp, raster) = rightRest.splitTop(min(14, rightRest.height * 11 / 20))
            panes[.membrane] = mem
            panes[.inspector] = insp
            panes[.raster] = raster
        } else {
            panes[s.lowerLeft] = leftRest
            let (mem, rightRest) = right.splitTop(right.height / 2)
            panes[.membrane] = mem
            panes[s.lowerRight] = rightRest
        }
    }
}

extension ScreenLayout {
    /// Right column kept on large screens (membrane tiles, inspector table, raster).
    static let largeRightMinimum = 80

    /// The left column on large screens: its usual share, widened (never below the right
    /// column's minimum) so that layer names up to 24 columns fit beside the layer list's
    /// columns and the coupling map's k0 columns.
    static func largeLeftWidth(_ s: ViewState) -> Int {
        let w = s.width
        // Its share of a 160-column screen at most: wider terminals give the extra columns to the
        // heatmap, plot and raster (issue 14).
        let base = max(56, min(w, 160) * 2 / 5)
        guard let l = s.layout else { return base }
        let longest = min(24, (0..<s.layerRowCount).map { DisplayWidth.of(s.rowName($0)) }.max() ?? 7)
        // The layer list's columns, widened for exact counts.
        let exact = LayerListPane.exactWidths((0..<s.layerRowCount).map { LayerListPane.rowData(s, row: $0) })
            .filter { LayerListPane.plainColumns.contains($0.key) }
        let extra = exact.reduce(0) { $0 + $1.value - LayerListPane.width(of: $1.key) }
        let listNeed = 2 + 1 + max(7, longest) + LayerListPane.plainColumnsWidth + extra
        let mapNeed = 2 + min(25, longest + 1) + (l.config.window + 1) * 5
        return max(base, min(max(listNeed, mapNeed), w - largeRightMinimum))
    }
}

/// Renders the whole screen from the state. Pure.
public enum Screen {
    public static func render(_ s: ViewState) -> CellGrid {
        var hits: [HitRegion] = []
        return render(s, hits: &hits)
    }

    public static func hitRegions(_ s: ViewState) -> [HitRegion] {
        var hits: [HitRegion] = []
        _ = render(s, hits: &hits)
        return hits
    }

    public static func render(_ s: ViewState, hits: inout [HitRegion]) -> CellGrid {
        var g = CellGrid(width: s.width, height: s.height)
        let layout = ScreenLayout(s)
        if layout.tooSmall {
            renderTooSmall(s, &g)
            if !s.unicode { g.applyASCIIFallback() }
            return g
        }
        StatusPane.render(s, into: &g, rect: layout.status)
        for pane in Pane.allCases {
            guard let r = layout.panes[pane] else { continue }
            hits.append(HitRegion(r, .pane(pane)))
            renderPane(pane, s, into: &g, rect: r, hits: &hits)
        }
        BottomBar.render(s, into: &g, rect: layout.bottom)
        switch s.overlay {
        case .none: break
        case .help: HelpOverlay.render(s, into: &g)
        case .error(let text): ErrorOverlay.render(text, s, into: &g)
        case .restoreOffer(let question): RestoreOverlay.render(question, s, into: &g)
        case .confirmQuit: ConfirmQuitOverlay.render(s, into: &g)
        case .breakpoints(let rows): BreakpointsOverlay.render(rows, s, into: &g)
        case .sweep: SweepOverlay.render(s, into: &g)
        case .attribution: AttributionOverlay.render(s, into: &g)
        case .doctor: DoctorOverlay.render(s, into: &g)
        case .anytime: AnytimeOverlay.render(s, into: &g)
        }
        if !s.unicode { g.applyASCIIFallback() }
        return g
    }

    /// One pane, with its frame, into `rect`.
    public static func renderPane(_ pane: Pane, _ s: ViewState, into g: inout CellGrid, rect: Rect,
                                  hits: inout [HitRegion]) {
        let focused = s.focus == pane
        // The focused pane: a bold frame in the focus colour and a reversed title led by a marker;
        // the others: dim frames and plain titles.
        let title = focused ? String(s.glyphs.focusMarker) + " " + paneTitle(pane, s) : paneTitle(pane, s)
        g.box(rect, title: title, style: focused ? Style(.focus, [.bold]) : .dim,
              titleStyle: focused ? Style(.focus, [.bold, .reverse]) : Style(.title), glyphs: s.glyphs)
        let inner = rect.inset(1)
        guard !inner.isEmpty else { return }
        g.clipped(to: inner) { g in
            switch pane {
            case .layers: LayerListPane.render(s, into: &g, rect: inner, hits: &hits)
            case .membrane: MembranePane.render(s, into: &g, rect: inner, hits: &hits)
            case .inspector: InspectorPane.render(s, into: &g, rect: inner, hits: &hits)
            case .raster: RasterPane.render(s, into: &g, rect: inner, hits: &hits)
            case .histogram: HistogramPane.render(s, into: &g, rect: inner)
            case .coupling: CouplingPane.render(s, into: &g, rect: inner, hits: &hits)
            case .watch: WatchPane.render(s, into: &g, rect: inner, hits: &hits)
            }
        }
    }

    static func paneTitle(_ pane: Pane, _ s: ViewState) -> String {
        let name = s.layout == nil ? "" : " · " + s.rowName(s.layerRow)
        switch pane {
        case .layers:
            // Until the first data-set report is in, p99.9/ovf/cpl are the focused sample's.
            if s.report == nil, s.layout != nil, s.trace?.sample == s.sample, s.summary != nil {
                return "Layers · p99.9/ovf/cpl of sample \(s.sample)"
            }
            return s.layerSort == .graph ? "Layers" : "Layers · by \(s.layerSort.rawValue)"
        case .membrane:
            if s.isOutputSelected { return "Output" + " · decoded at g \(s.step)" }
            if s.isEncoderSelected {
                let page = MembranePane.pageText(s)
                return "Input" + name + (page.isEmpty ? "" : " · " + page)
            }
            let page = MembranePane.pageText(s)
            return "Membrane o/v" + name + (page.isEmpty ? "" : " · " + page)
        case .inspector: return "Neuron \(s.neuron)" + name
        case .raster:
            var t = "Raster" + name
            if let r = ScreenLayout(s).panes[.raster], let T = s.config?.T, s.neuronCount > 0 {
                let geo = RasterGeometry(s, slots: T, area: r.inset(1))
                if s.neuronCount > geo.perPage {
                    t += " · n \(geo.first)-\(min(s.neuronCount, geo.first + geo.perPage) - 1)/\(s.neuronCount)"
                }
            }
            return t
        case .histogram: return "Residual u[T]" + name
        case .coupling: return "Coupling map"
        case .watch: return WatchPane.title(s)
        }
    }

    static func renderTooSmall(_ s: ViewState, _ g: inout CellGrid) {
        let lines = ["cssdbg needs at least \(ScreenLayout.minWidth)\(s.glyphs.times)\(ScreenLayout.minHeight)",
                     "terminal is \(s.width)\(s.glyphs.times)\(s.height)", "enlarge the window, q quits"]
        let top = max(0, (s.height - lines.count) / 2)
        for (i, l) in lines.enumerated() where top + i < s.height {
            let w = DisplayWidth.of(l)
            g.write(l, x: max(0, (s.width - w) / 2), y: top + i, style: i == 0 ? Style(.warn, [.bold]) : .normal)
        }
    }
}
