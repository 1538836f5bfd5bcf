import CSSCore
import CSSImport
import CSSView

/// The view's position as the session file keeps it (pane and filter names, as `:focus` and
/// `:hotspots` take them), and back.
extension SessionPosition {
    public init(_ p: ViewPosition, layout: NetworkLayout) {
        var filter = p.hotspotFilter?.rawValue
        if let l = p.hotspotLayer, l >= 0, l < layout.layers.count { filter = (filter ?? "all") + " " + layout.layers[l].name }
        self.init(sample: p.sample, step: p.step, layer: p.layer, neuron: p.neuron, focus: p.focus?.commandName,
                  lowerLeft: p.lowerLeft?.commandName, lowerRight: p.lowerRight?.commandName, hotspotFilter: filter,
                  playSpeed: p.playSpeed,
                  watches: p.watches.map { $0.compactMap { w in
                      w.layer >= 0 && w.layer < layout.layers.count
                          ? SessionWatch(layer: layout.layers[w.layer].tensor, neuron: w.neuron) : nil
                  } })
    }
}

extension ViewPosition {
    /// Names that no longer mean anything (a pane renamed, a layer gone) are left out.
    public init(_ p: SessionPosition, layout: NetworkLayout) {
        var filter: HotspotFilter? = nil
        var layer: Int? = nil
        for (i, word) in (p.hotspotFilter ?? "").split(separator: " ").map(String.init).enumerated() {
            if i == 0, let f = HotspotFilter(argument: word) {
                filter = f
            } else if let l = try? layout.layerIndex(matching: word), l >= 0 {
                layer = l
            }
        }
        self.init(sample: p.sample, step: p.step, layer: p.layer, neuron: p.neuron,
                  focus: p.focus.flatMap(Pane.init(commandName:)), lowerLeft: p.lowerLeft.flatMap(Pane.init(commandName:)),
                  lowerRight: p.lowerRight.flatMap(Pane.init(commandName:)), hotspotFilter: filter, hotspotLayer: layer,
                  playSpeed: p.playSpeed,
                  watches: p.watches.map { $0.compactMap { w in
                      (try? layout.layerIndex(matching: w.layer)).flatMap { $0 >= 0 ? Watch(layer: $0, neuron: w.neuron) : nil }
                  } })
    }
}
