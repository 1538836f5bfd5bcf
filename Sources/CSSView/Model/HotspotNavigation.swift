import CSSSnapshots

// The hotspot list: moving in it, its filter, and opening a hotspot.

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
