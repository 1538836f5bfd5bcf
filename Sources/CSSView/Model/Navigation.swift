import CSSSnapshots

// Moves and selections shared by keys, `:` commands and host replies.

/// `q`: quits, unless θ changes would be lost (no session file, nothing written since): then
/// it asks first.
func requestQuit(_ s: inout ViewState, _ cmds: inout [Command]) {
    if s.tuningStatus?.unsaved == true {
        s.overlay = .confirmQuit
        s.playing = false
    } else {
        cmds.append(.quit)
    }
}

func openHelp(_ s: inout ViewState) {
    s.overlay = .help
    s.helpScroll = 0
}

func scrollHelp(_ s: inout ViewState, _ d: Int) {
    let maxScroll = max(0, HelpOverlay.lines(s).count - HelpOverlay.visibleLines(s))
    s.helpScroll = max(0, min(maxScroll, s.helpScroll + d))
}

func formatSpeed(_ v: Double) -> String {
    v == v.rounded() ? String(Int(v)) : String(v)
}

func setStep(_ s: inout ViewState, _ g: Int) {
    s.step = max(0, min(s.maxStep, g))
    s.inspectorScroll = nil  // the neuron pane's table follows the step again
}

func setNeuron(_ s: inout ViewState, _ n: Int) {
    s.neuron = max(0, min(max(0, s.neuronCount - 1), n))
}

func setLayerRow(_ s: inout ViewState, _ row: Int) {
    let r = max(0, min(max(0, s.layerRowCount - 1), row))
    if r != s.layerRow {
        s.layerRow = r
        s.inspectorScroll = nil
        setNeuron(&s, s.neuron)
    }
}

func moveHotspot(_ s: inout ViewState, _ d: Int) {
    let n = s.visibleHotspots.count
    s.hotspot = max(0, min(max(0, n - 1), s.hotspot + d))
}

/// Changes which hotspots the list shows; the selected one stays selected when the new filter
/// keeps it, else the list starts at its top.
func setHotspotFilter(_ s: inout ViewState, _ f: HotspotFilter) {
    let before = s.visibleHotspots
    let selected = s.hotspot >= 0 && s.hotspot < before.count ? before[s.hotspot] : nil
    s.hotspotFilter = f
    let after = s.visibleHotspots
    s.hotspot = selected.flatMap { after.firstIndex(of: $0) } ?? 0
    s.message = hotspotSummary(s)
    s.messageIsError = false
}

/// "hotspots coupling: the worst 312 of 9741 cases in the data set".
func hotspotSummary(_ s: ViewState) -> String {
    guard s.report != nil else { return "hotspots: \(s.hotspotArguments) (no data-set report yet)" }
    return "hotspots \(s.hotspotArguments): the worst \(s.visibleHotspots.count) of \(s.hotspotCasesInDataSet) cases in the data set"
}

func moveVertical(_ s: inout ViewState, _ d: Int) {
    switch s.focus {
    case .membrane:
        let stride = MembraneGeometry.rowStride(s)
        let n = s.neuron + d * stride
        if n >= 0 && n < s.neuronCount { s.neuron = n }
    case .raster:
        setNeuron(&s, s.neuron + d)
    case .coupling:
        moveHotspot(&s, d)
    case .watch:
        moveWatch(&s, d)
    case .layers, .inspector, .histogram:
        moveLayerRow(&s, d)
    }
}

/// Moves the layer selection by `d` rows of the list as it is shown (sorted or not).
func moveLayerRow(_ s: inout ViewState, _ d: Int) {
    let order = s.layerDisplayOrder
    guard let i = order.firstIndex(of: s.layerRow) else { setLayerRow(&s, s.layerRow + d); return }
    setLayerRow(&s, order[max(0, min(order.count - 1, i + d))])
}

/// `:sort KEY` and `s`: the layer list's order; the selected layer stays selected.
func setLayerSort(_ s: inout ViewState, _ sort: LayerSort) {
    s.layerSort = sort
    s.message = sort == .graph ? "layers in graph order"
        : "layers by \(sort.rawValue), worst first" + (s.report == nil ? " (once the data-set report is in)" : "")
    s.messageIsError = false
}

func page(_ s: inout ViewState, _ d: Int) {
    switch s.focus {
    case .membrane:
        setNeuron(&s, s.neuron + d * MembraneGeometry.pageSize(s))
    case .raster:
        setNeuron(&s, s.neuron + d * RasterGeometry.pageSize(s))
    case .coupling:
        moveHotspot(&s, d * 10)
    case .watch:
        moveWatch(&s, d * 10)
    case .layers, .inspector, .histogram:
        moveLayerRow(&s, d * 10)
    }
}

func cycleFocus(_ s: inout ViewState, forward: Bool) {
    // The watch pane is on the cycle only while it holds watches.
    let all = Pane.allCases.filter { $0 != .watch || !s.watches.isEmpty }
    let i = all.firstIndex(of: s.focus) ?? 0
    let next = all[(i + (forward ? 1 : all.count - 1)) % all.count]
    focus(&s, next)
}

func focus(_ s: inout ViewState, _ p: Pane) {
    s.focus = p
    switch p {
    case .histogram, .coupling: s.lowerLeft = p
    case .inspector, .raster: s.lowerRight = p
    default: break
    }
}

func selectSample(_ s: inout ViewState, _ n: Int, _ cmds: inout [Command]) {
    let upper = s.sampleCount > 0 ? s.sampleCount - 1 : Int.max
    let t = max(0, min(upper, n))
    guard t != s.sample else { return }
    s.sample = t
    s.loadingSample = t
    s.playing = false
    cmds.append(.loadTrace(sample: t))
}

func clampSelection(_ s: inout ViewState) {
    if s.layout != nil { s.layerRow = max(0, min(s.layerRowCount - 1, s.layerRow)) }
    s.step = max(0, min(s.maxStep, s.step))
    if s.neuronCount > 0 { s.neuron = max(0, min(s.neuronCount - 1, s.neuron)) }
    let hc = s.visibleHotspots.count
    s.hotspot = max(0, min(max(0, hc - 1), s.hotspot))
}

/// Jumps to a hotspot (`index` into the filtered list): its sample, layer, neuron, and global
/// step windowStart + first violation k0, with the neuron inspector on screen, so the margin row
/// shows the violation at the current column.
func openHotspot(_ s: inout ViewState, _ index: Int, _ cmds: inout [Command]) {
    let visible = s.visibleHotspots
    guard let r = s.report, index >= 0, index < visible.count else { return }
    let h = r.hotspots[visible[index]]
    s.hotspot = index
    s.lowerRight = .inspector
    let layout = s.layout ?? r.layout
    selectSample(&s, h.sample, &cmds)
    s.layerRow = h.layer + 1
    if h.layer < layout.layers.count {
        s.neuron = max(0, min(layout.layers[h.layer].neurons - 1, h.neuron))
        s.step = max(0, min(s.maxStep, layout.layers[h.layer].windowStart + h.firstViolationStep))
    }
    s.playing = false
    s.message = "hotspot \(index + 1)\(s.hotspotFilter == .all ? "" : " (" + s.hotspotFilter.rawValue + ")"): \(h.kind.rawValue) in \(s.rowName(s.layerRow)) neuron \(h.neuron) sample \(h.sample), first violation k0=\(h.firstViolationStep)"
    s.messageIsError = false
}


/// Space: play from here (from the start when at the end), or pause.
func togglePlay(_ s: inout ViewState) {
    if s.playing {
        s.playing = false
    } else {
        if s.step >= s.maxStep { s.step = 0 }
        s.playing = s.maxStep > 0
    }
}

/// `+`/`-`: the next faster / slower play speed.
func changeSpeed(_ s: inout ViewState, _ d: Int) {
    s.speedIndex = max(0, min(ViewState.speeds.count - 1, s.speedIndex + d))
    s.message = "play speed \(formatSpeed(s.playSpeed)) steps/s"
    s.messageIsError = false
}

/// `:speed N`: the nearest of the speeds `+`/`-` step through.
func setSpeed(_ s: inout ViewState, _ v: Double) {
    s.speedIndex = ViewState.speeds.indices.min { ratioDistance(ViewState.speeds[$0], v) < ratioDistance(ViewState.speeds[$1], v) }!
    s.message = "play speed \(formatSpeed(s.playSpeed)) steps/s"
    s.messageIsError = false
}

/// How far apart two positive speeds are as a ratio (2 and 4 are as far as 4 and 8).
func ratioDistance(_ a: Double, _ b: Double) -> Double { max(a, b) / min(a, b) }

/// ←→ h/l: the neuron, or the hotspot in the coupling pane.
func moveSideways(_ s: inout ViewState, _ d: Int) {
    if s.focus == .coupling { moveHotspot(&s, d) } else { setNeuron(&s, s.neuron + d) }
}

/// `r`, `:report`: (re)compute the data-set report unless it is already running.
func startReport(_ s: inout ViewState, _ cmds: inout [Command]) {
    if s.reportProgress == nil {
        s.reportProgress = 0
        cmds.append(.loadReport)
    }
}

/// Esc on the main screen: cancels a running long host job, else clears the message.
func escape(_ s: inout ViewState, _ cmds: inout [Command]) {
    if let running = s.hostQueue.first, running.request.isCancellable {
        if !running.cancelled { cmds.append(.cancelHost) }
        s.hostQueue[0].cancelled = true
        s.message = "cancelling :" + running.line + " …"
        s.messageIsError = false
    } else {
        s.message = nil
    }
}

// MARK: - Host requests

/// The selected spiking layer's index for a θ key; nil (with a message) when none is selected.
func tuningLayer(_ s: inout ViewState) -> Int? {
    guard let i = s.selectedLayer else {
        s.message = "select a spiking layer first (j/k): θ keys act on the selected layer"
        s.messageIsError = true
        return nil
    }
    return i
}

func scaleSelected(_ s: inout ViewState, _ factor: Double, _ cmds: inout [Command]) {
    guard let i = tuningLayer(&s) else { return }
    requestHost(&s, .scaleTheta(layer: i, factor: factor), line: "scale \(i) \(factor)", &cmds)
}

/// Asks the host for `request` and echoes `line` in the message bar until the host answers. A
/// change while a long job (`:adjust`) runs cancels that job first.
func requestHost(_ s: inout ViewState, _ request: HostRequest, line: String, _ cmds: inout [Command]) {
    var superseded: String?
    if request.isChange, let running = s.hostQueue.first, running.request.isCancellable, !running.cancelled {
        cmds.append(.cancelHost)
        s.hostQueue[0].cancelled = true
        superseded = running.line
    }
    cmds.append(.host(request))
    s.hostQueue.append(PendingHostRequest(request: request, line: line, superseded: superseded))
    s.message = ":" + line + " …"
    s.messageIsError = false
}
