import CSSSnapshots
import Dispatch

/// The panes of the screen, in Tab order.
public enum Pane: Int, CaseIterable, Sendable {
    case layers, membrane, inspector, raster, histogram, coupling, watch

    /// The name `:focus` takes (and sessions store).
    public var commandName: String {
        switch self {
        case .layers: return "layers"
        case .membrane: return "membrane"
        case .inspector: return "neuron"
        case .raster: return "raster"
        case .histogram: return "histogram"
        case .coupling: return "coupling"
        case .watch: return "watch"
        }
    }

    /// A `:focus` argument: the command names, the pane titles' words and a unique prefix.
    public init?(commandName name: String) {
        let key = name.lowercased()
        let aliases: [String: Pane] = ["inspector": .inspector, "residual": .histogram, "hotspots": .coupling]
        if let p = Pane.allCases.first(where: { $0.commandName == key }) ?? aliases[key] {
            self = p
            return
        }
        let matches = Pane.allCases.filter { !key.isEmpty && $0.commandName.hasPrefix(key) }
        guard matches.count == 1 else { return nil }
        self = matches[0]
    }
}

/// Modal overlays drawn over the panes.
public enum Overlay: Equatable, Sendable {
    case none
    case help
    /// A backend failure; Esc dismisses it and the session continues.
    case error(String)
    /// The host offers to restore a saved tuning session (the question to ask). Modal:
    /// `y` restores, `d` discards (the host keeps a backup), `n` or Esc close it and leave the
    /// saved session for `:restore`.
    case restoreOffer(String)
    /// `q` with unsaved θ changes (no session file): `y` quits, `n`/Esc stay.
    case confirmQuit
    /// `:breaks`: the numbered breakpoints, enabled or not, their conditions and hit counts, as
    /// the host answered them. Esc, Enter or q close it.
    case breakpoints([BreakpointRow])
    /// The last `:sweep`'s chart and table (`ViewState.sweep`): ↑/↓ select a point, Enter
    /// reconverts to it (one undoable change), Esc/q close it.
    case sweep
    /// The last `:attribution` (`ViewState.analysis`): ↑/↓ select a layer, Enter jumps to it.
    case attribution
    /// The last `:doctor`: findings (Enter jumps) and proposals (Enter adopts).
    case doctor
    /// `:anytime`: the data-set report's accuracy against the global step.
    case anytime
}

/// Which data-set hotspots the coupling pane lists (the report sorts overflow first, so the
/// temporal-coupling cases come after every overflow).
public enum HotspotFilter: String, CaseIterable, Sendable {
    case all, overflow, coupling

    public func includes(_ kind: ViolationKind) -> Bool {
        switch self {
        case .all: return true
        case .overflow: return kind == .overflow
        case .coupling: return kind == .coupling
        }
    }

    /// `all`, `overflow`/`ovf`/`o`, `coupling`/`cpl`/`c` (any unique prefix).
    public init?(argument: String) {
        let a = argument.lowercased()
        switch a {
        case "ovf": self = .overflow
        case "cpl": self = .coupling
        default:
            guard !a.isEmpty, let f = HotspotFilter.allCases.first(where: { $0.rawValue.hasPrefix(a) }) else {
                return nil
            }
            self = f
        }
    }
}

/// The layer list's order: graph order, or the spiking layers by a data-set number, worst first
/// (encoder first and output last either way).
public enum LayerSort: String, CaseIterable, Sendable {
    case graph, coupling, overflow, residual

    /// `graph`, `coupling`/`cpl`, `overflow`/`ovf`, `residual`/`p99.9` (any unique prefix).
    public init?(argument: String) {
        let a = argument.lowercased()
        let aliases: [String: LayerSort] = ["cpl": .coupling, "ovf": .overflow, "p99.9": .residual, "p": .residual]
        if let f = aliases[a] { self = f; return }
        let m = LayerSort.allCases.filter { !a.isEmpty && $0.rawValue.hasPrefix(a) }
        guard m.count == 1 else { return nil }
        self = m[0]
    }
}

/// A host request waiting for its reply, with the `:` line that shows it.
public struct PendingHostRequest: Equatable, Sendable {
    public var request: HostRequest
    public var line: String
    /// A cancel was sent (the reply is still to come).
    public var cancelled = false
    /// The long request this change cancelled (its `:` line): the change's reply says so, as it
    /// comes after the cancelled one's and would otherwise hide it.
    public var superseded: String?
}

/// A one-line prompt at the bottom: the `:` command line or the `/` layer search.
public struct Prompt: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case command, find }
    public var kind: Kind
    public var text: String
    /// The cursor, in characters from the start of `text`; nil: at the end (where typing,
    /// history and completion leave it).
    public var cursor: Int?
    /// Position in the history while browsing with up/down (nil = editing a new line).
    public var historyIndex: Int?
    /// What was typed before browsing history started.
    public var draft: String
    /// Layer-list row and neuron selected when a `/` search started (Esc goes back to them).
    public var originRow: Int?
    public var originNeuron: Int?
    /// After a Tab that found several candidates: the next Tab puts them in turn in place of
    /// the word being completed.
    public var cycle: CompletionCycle?

    public struct CompletionCycle: Equatable, Sendable {
        /// The text before the word being completed.
        public var prefix: String
        public var candidates: [String]
        /// The candidate shown (-1: none yet, the common prefix is shown).
        public var index: Int
        /// The prompt text the cycle left (any other edit ends the cycle).
        public var shown: String
    }

    /// The cursor as an index in 0...text.count.
    public var cursorIndex: Int { min(text.count, max(0, cursor ?? text.count)) }

    public init(kind: Kind, text: String = "", originRow: Int? = nil, originNeuron: Int? = nil) {
        self.kind = kind
        self.text = text
        self.historyIndex = nil
        self.draft = ""
        self.originRow = originRow
        self.originNeuron = originNeuron
    }
}

/// Per-sample numbers the layer list needs at every step, computed once when a trace arrives.
public struct TraceSummary: Sendable {
    /// `[layer][slot]` cumulative positive / negative spikes through slot.
    public var cumulativePositive: [[Int]]
    public var cumulativeNegative: [[Int]]
    /// Per layer, neurons of this sample that overflow / couple (docs/numerics.md §6).
    public var overflow: [Int]
    public var coupling: [Int]
    /// Per layer, 99.9th percentile of |u[T]| over this sample's neurons.
    public var residualP999: [Double]
    /// Encoder cumulative spikes by slot.
    public var encoderPositive: [Int]
    public var encoderNegative: [Int]

    public init(_ trace: SampleTrace) {
        cumulativePositive = []
        cumulativeNegative = []
        overflow = []
        coupling = []
        residualP999 = []
        // Layers in parallel: this runs on the trace's task, and the cores are free while the
        // user waits for the trace to show.
        let layers = trace.layers
        let parts = Locked([(p: [Int], m: [Int], ovf: Int, cpl: Int, p999: Double)?](repeating: nil, count: layers.count))
        DispatchQueue.concurrentPerform(iterations: layers.count) { l in
            let (p, m, ovf, cpl, res) = Self.summarise(layers[l])
            let part = (p: p, m: m, ovf: ovf, cpl: cpl, p999: percentile(res, 99.9))
            parts.withLock { $0[l] = part }
        }
        for part in parts.withLock({ $0 }) {
            cumulativePositive.append(part!.p)
            cumulativeNegative.append(part!.m)
            overflow.append(part!.ovf)
            coupling.append(part!.cpl)
            residualP999.append(part!.p999)
        }
        let et = trace.encoder
        var p = [Int](repeating: 0, count: et.T), m = p
        if et.T > 0 {
            for (j, s) in et.spikes.enumerated() {
                if s > 0 { p[j % et.T] += 1 } else if s < 0 { m[j % et.T] += 1 }
            }
            for i in stride(from: 1, to: et.T, by: 1) { p[i] += p[i - 1]; m[i] += m[i - 1] }
        }
        encoderPositive = p
        encoderNegative = m
    }

    /// One layer: cumulative spikes by sign per slot, overflow and coupling neurons (the same
    /// verdict as `MarginVerdict`), |u[T]| per neuron. Raw loops over the trace's buffers: at
    /// 224×224 a ResNet-18 sample has 2.3 M neurons (the per-neuron accessors took 0.25 s).
    static func summarise(_ lt: LayerTrace) -> ([Int], [Int], Int, Int, [Float]) {
        let T = lt.T, N = lt.neurons, stride = lt.window + 1
        var p = [Int](repeating: 0, count: T), m = p
        if T > 0, lt.spikes.count >= N * T {
            var pos = [Int32](repeating: 0, count: T), neg = pos
            lt.spikes.withUnsafeBufferPointer { sp in
                pos.withUnsafeMutableBufferPointer { pc in
                    neg.withUnsafeMutableBufferPointer { nc in
                        for n in 0..<N {
                            let row = sp.baseAddress! + n * T
                            for i in 0..<T {
                                pc[i] &+= row[i] > 0 ? 1 : 0
                                nc[i] &+= row[i] < 0 ? 1 : 0
                            }
                        }
                    }
                }
            }
            var run = 0, runNeg = 0
            for i in 0..<T {
                run += Int(pos[i]); runNeg += Int(neg[i])
                p[i] = run; m[i] = runNeg
            }
        }
        var ovf = 0, cpl = 0
        let withMargins = min(N, lt.margins.count / stride)  // neurons without margins are fine
        if withMargins > 0 {
            lt.margins.withUnsafeBufferPointer { mg in
                for n in 0..<withMargins {
                    let row = mg.baseAddress! + n * stride
                    if row[0] <= 0 { ovf += 1; continue }
                    for k in 1..<stride where row[k] <= 0 {
                        cpl += 1
                        break
                    }
                }
            }
        }
        let count = min(N, lt.target.count, lt.encoded.count)
        let res = [Float](unsafeUninitializedCapacity: count) { r, initialised in
            lt.target.withUnsafeBufferPointer { t in
                lt.encoded.withUnsafeBufferPointer { e in
                    for n in 0..<count { r[n] = abs(t[n] - e[n]) }
                }
            }
            initialised = count
        }
        return (p, m, ovf, cpl, res)
    }

    /// Spikes (positive, negative) of spiking layer `layer` in its first `slots` slots.
    public func spikes(layer: Int, slots: Int) -> (Int, Int) {
        guard layer < cumulativePositive.count, slots > 0 else { return (0, 0) }
        let i = min(slots, cumulativePositive[layer].count) - 1
        return i < 0 ? (0, 0) : (cumulativePositive[layer][i], cumulativeNegative[layer][i])
    }

    public func encoderSpikes(slots: Int) -> (Int, Int) {
        let i = min(slots, encoderPositive.count) - 1
        return i < 0 ? (0, 0) : (encoderPositive[i], encoderNegative[i])
    }
}

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
