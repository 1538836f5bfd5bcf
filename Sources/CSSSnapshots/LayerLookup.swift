extension NetworkLayout {
    /// The spiking layer a user means by `text` (in `:layer`, `:theta`, ...): its display name or
    /// ONNX tensor name exactly, its index, the name without regard to case, else the one layer
    /// whose name starts with it or, failing that, contains it. `input`/`encoder` is −1. Errors
    /// name what was typed and, when several layers match, which.
    public func layerIndex(matching text: String) throws -> Int {
        if text == "input" || text == "encoder" { return -1 }
        if let l = layers.first(where: { $0.name == text }) ?? layers.first(where: { $0.tensor == text }) { return l.index }
        if let i = Int(text) {
            guard i >= 0, i < layers.count else {
                throw GraphError("layer index \(i) is out of range 0 to \(layers.count - 1)")
            }
            return i
        }
        let lower = text.lowercased()
        let tiers: [(SpikingLayerInfo) -> Bool] = [
            { $0.name.lowercased() == lower },
            { $0.name.lowercased().hasPrefix(lower) },
            { $0.name.lowercased().contains(lower) || $0.tensor.lowercased().contains(lower) },
        ]
        for matches in tiers {
            let found = layers.filter(matches)
            if found.count == 1 { return found[0].index }
            if found.count > 1 {
                let shown = found.prefix(4).map(\.name).joined(separator: ", ") + (found.count > 4 ? ", …" : "")
                throw GraphError("'\(text)' matches \(found.count) layers (\(shown)); type more of the name")
            }
        }
        throw GraphError("no spiking layer named '\(text)'")
    }
}
