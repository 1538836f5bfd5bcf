import CSSSnapshots

// The selection: sample, layer row, neuron, and moving it by keys, pages and sideways.

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

/// ←→ h/l: the neuron, or the hotspot in the coupling pane.
func moveSideways(_ s: inout ViewState, _ d: Int) {
    if s.focus == .coupling { moveHotspot(&s, d) } else { setNeuron(&s, s.neuron + d) }
}
