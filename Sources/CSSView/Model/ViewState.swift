import CSSSnapshots

/// The whole state of the debugger UI. A value: `update` returns a new one.
public struct ViewState: Sendable {
    // MARK: Terminal
    public var width: Int
    public var height: Int
    /// Draw with Unicode blocks and box drawing (false: ASCII only).
    public var unicode: Bool
    /// The terminal shows no colour (NO_COLOR, a monochrome terminal): signs need glyphs.
    public var monochrome = false

    // MARK: Data from the backend
    public var layout: NetworkLayout?
    public var sampleCount: Int = 0
    public var trace: SampleTrace?
    public var summary: TraceSummary?
    public var report: DatasetReport?
    /// Report progress in 0...1 while the report runs; nil when idle.
    public var reportProgress: Double?
    /// Sample whose trace is being fetched.
    public var loadingSample: Int?

    // MARK: Cursor
    public var sample: Int
    /// Global step g.
    public var step: Int = 0
    /// Row of the layer list: 0 = encoder, 1...n = spiking layer i-1, n+1 = output.
    public var layerRow: Int = 1
    public var neuron: Int = 0
    public var focus: Pane = .layers
    /// Which pane the shared lower-left / lower-right slots show on small screens.
    public var lowerLeft: Pane = .coupling
    public var lowerRight: Pane = .inspector
    /// Pinned neurons (`:watch`) and the selected row of the watch pane.
    public var watches: [Watch] = []
    public var watchSelection = 0
    /// Selected row of the hotspot list (an index into `visibleHotspots`).
    public var hotspot: Int = 0
    /// Which hotspots the list shows.
    public var hotspotFilter: HotspotFilter = .all
    /// The layer list's order (`:sort`, `s` in the layer list).
    public var layerSort: LayerSort = .graph
    /// Only this spiking layer's hotspots (`:hotspots LAYER`); nil: every layer's.
    public var hotspotLayer: Int?

    /// First k column of the neuron pane's table when scrolled sideways (`{`/`}`); nil: the
    /// table follows the current step.
    public var inspectorScroll: Int?

    // MARK: Play
    public var playing = false
    /// Index into `ViewState.speeds`.
    public var speedIndex = 2
    public static let speeds: [Double] = [0.5, 1, 2, 4, 8, 16, 32]

    // MARK: Overlays and prompt
    public var overlay: Overlay = .none
    public var prompt: Prompt?
    public var history: [String] = []
    /// The last `/` search (`f` / `F` go to its next / previous match).
    public var lastSearch: String?
    /// A count typed before a motion (`5n`, `10]`); nil when none is pending.
    public var countPrefix: Int?
    /// Last status message (info or error) shown in the bottom bar.
    public var message: String?
    public var messageIsError = false
    /// Names of the host's `:` commands it serves (`Keymap.hostCommandNames`); the others, and
    /// their keys, are neither offered nor sent.
    public var hostCommands: [String] = []
    /// Host requests sent and not yet answered, oldest (the running one) first.
    public var hostQueue: [PendingHostRequest] = []
    /// Progress of the running host request (a long `:adjust`), 0...1.
    public var hostProgress: Double?
    /// First line of the help overlay shown (it scrolls when taller than the screen).
    public var helpScroll = 0
    /// The last finished `:sweep` (the host computed it; the view only shows it).
    public var sweep: SweepResult?
    /// The selected row of the sweep pane.
    public var sweepRow = 0
    /// The last `:attribution` and `:doctor` results and their selections.
    public var analysis = AnalysisViews()

    // MARK: Tuning: before / after
    /// The report that was current before the last change (set when the report after a `reload`
    /// arrives); deltas in the status line and layer list are against it.
    public var previousReport: DatasetReport?
    /// The first report of the session (normally the calibrated start).
    public var baselineReport: DatasetReport?
    /// A `reload` arrived and `report` still describes the conversion before it.
    public var reportStale = false
    /// A `reload` arrived and `trace` still describes the conversion before it.
    public var traceStale = false
    /// Number of `reload`s seen (the conversion changed this often; includes undo/redo).
    public var reloadCount = 0
    /// The host's tuning history, if it reports one (`Message.tuningStatus`).
    public var tuningStatus: TuningStatus?
    /// The θ file the session's θ came from (`Message.thetaOrigin`), shown in the status line;
    /// nil when θ is calibrated.
    public var thetaOrigin: String?

    public init(width: Int, height: Int, unicode: Bool = true, sample: Int = 0, hostCommands: [String] = []) {
        self.width = width
        self.height = height
        self.unicode = unicode
        self.sample = sample
        self.hostCommands = hostCommands
    }

    // MARK: Derived

    public var glyphs: Glyphs { Glyphs.forUnicode(unicode) }
    public var playSpeed: Double { ViewState.speeds[speedIndex] }
    /// Seconds between play ticks.
    public var playInterval: Double { 1 / playSpeed }

    public var config: ConversionConfig? { layout?.config }
    public var spikingLayerCount: Int { layout?.layers.count ?? 0 }
    /// Number of rows of the layer list (encoder + spiking layers + output).
    public var layerRowCount: Int { spikingLayerCount + 2 }
    /// The spiking layer index of the selected row, nil for encoder and output.
    public var selectedLayer: Int? {
        let i = layerRow - 1
        return (i >= 0 && i < spikingLayerCount) ? i : nil
    }
    public var isEncoderSelected: Bool { layerRow == 0 }
    public var isOutputSelected: Bool { layout != nil && layerRow == layerRowCount - 1 }

    /// Last global step (everything is done at `latency`).
    public var maxStep: Int { max(0, layout?.latency ?? 0) }

    /// The trace of the selected spiking layer, if the trace for the current sample is loaded.
    public var selectedTrace: LayerTrace? {
        guard let i = selectedLayer, let t = trace, t.sample == sample, i < t.layers.count else { return nil }
        return t.layers[i]
    }

    public var selectedReport: LayerReport? {
        guard let i = selectedLayer, let r = report, i < r.layers.count else { return nil }
        return r.layers[i]
    }

    /// Indices into `report.hotspots` of the hotspots the filter lets through, in report order.
    public var visibleHotspots: [Int] {
        guard let r = report else { return [] }
        if hotspotFilter == .all && hotspotLayer == nil { return Array(r.hotspots.indices) }
        return r.hotspots.indices.filter {
            hotspotFilter.includes(r.hotspots[$0].kind) && (hotspotLayer == nil || r.hotspots[$0].layer == hotspotLayer)
        }
    }

    /// Layer-list rows in display order: the encoder, the spiking layers (sorted by `layerSort`
    /// on the data-set report, worst first, graph order among equals), the output.
    public var layerDisplayOrder: [Int] {
        let n = spikingLayerCount
        var layers = Array(1...max(1, n)).filter { $0 <= n }
        if layerSort != .graph, let r = report, r.layers.count == n {
            func key(_ row: Int) -> Double {
                let l = r.layers[row - 1]
                switch layerSort {
                case .graph: return 0
                case .coupling: return Double(l.coupling)
                case .overflow: return Double(l.overflow)
                case .residual: return l.residualP999
                }
            }
            layers.sort { key($0) != key($1) ? key($0) > key($1) : $0 < $1 }
        }
        return layout == nil ? [] : [0] + layers + [n + 1]
    }

    /// The `:hotspots` arguments that give the list's filter (`coupling block2.relu1`, `all`).
    public var hotspotArguments: String {
        var a = hotspotFilter.rawValue
        if let l = hotspotLayer, let layers = layout?.layers ?? report?.layout.layers, l < layers.count {
            a += " " + layers[l].name
        }
        return a
    }

    /// Cases of the data set the filter covers (the list holds the worst of them): overflow and
    /// coupling counts of the layer reports, of the filtered layer only when there is one.
    public var hotspotCasesInDataSet: Int {
        guard let r = report else { return 0 }
        return r.layers.enumerated().reduce(0) { sum, e in
            guard hotspotLayer == nil || e.offset == hotspotLayer else { return sum }
            switch hotspotFilter {
            case .all: return sum + e.element.overflow + e.element.coupling
            case .overflow: return sum + e.element.overflow
            case .coupling: return sum + e.element.coupling
            }
        }
    }

    /// The selected hotspot of the list, if any.
    public var selectedHotspot: Hotspot? {
        let v = visibleHotspots
        guard let r = report, hotspot >= 0, hotspot < v.count else { return nil }
        return r.hotspots[v[hotspot]]
    }

    /// The report the layer list and status line compare against: the one before the last change
    /// (nil before the first change).
    public var comparisonReport: DatasetReport? { reportStale ? nil : previousReport }

    /// The trace is for the current sample and the current conversion.
    public var traceIsFresh: Bool {
        guard let t = trace, t.sample == sample else { return false }
        return !traceStale
    }

    /// Whether the host serves a `:` command.
    public func hasCommand(_ name: String) -> Bool { hostCommands.contains(name) }

    /// Number of neurons of the selected row.
    public var neuronCount: Int {
        if let i = selectedLayer { return layout?.layers[i].neurons ?? 0 }
        if isEncoderSelected { return layout.map { $0.inputShape.reduce(1, *) } ?? 0 }
        if isOutputSelected { return layout?.outputCount ?? 0 }
        return 0
    }

    /// Shape of the selected row (`[C,H,W]` or `[N]`).
    public var selectedShape: [Int] {
        if let i = selectedLayer { return layout?.layers[i].shape ?? [] }
        if isEncoderSelected { return layout?.inputShape ?? [] }
        return [layout?.outputCount ?? 0]
    }

    /// Name of a layer-list row.
    public func rowName(_ row: Int) -> String {
        if row == 0 { return "encoder" }
        if let l = layout, row - 1 < l.layers.count, row >= 1 { return l.layers[row - 1].name }
        return "output"
    }

    /// Global step at which the selected row's window starts.
    public var selectedWindowStart: Int {
        if let i = selectedLayer { return layout?.layers[i].windowStart ?? 0 }
        if isOutputSelected { return layout?.outputStart ?? 0 }
        return 0
    }
}
