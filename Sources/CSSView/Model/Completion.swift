import CSSSnapshots

/// Tab completion from `Keymap.commands`: command names for the first word, then the first
/// argument by the entry's `ArgumentKind` (layer rows, spiking layers and `all`, `:set` keys, …).
/// Returns the new text and the candidates considered.
public func complete(_ text: String, state s: ViewState) -> (String, [String]) {
    let words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    let live = Keymap.commands.filter { (!$0.isHost && !Keymap.hostCommandNames.contains($0.name)) || s.hasCommand($0.name) }
    if words.count <= 1 {
        let names = Array(Set(live.flatMap { [$0.name] + $0.completes })).sorted()
        let c = names.filter { $0.hasPrefix(text) }
        guard !c.isEmpty else { return (text, []) }
        if c.count == 1 { return (c[0] + " ", c) }
        return (commonPrefix(c), c)
    }
    let head = words[0]
    guard let entry = live.first(where: { $0.name == head || $0.aliases.contains(head) }) else { return (text, []) }
    let spiking = (s.layout?.layers ?? []).map(\.name)
    if entry.argument == .layerRow {
        let partial = words.dropFirst().joined(separator: " ")
        let names = (0..<s.layerRowCount).map { s.rowName($0) }
        return completeArgument(head, partial: partial, names: orTensorNames(names, partial, s), caseInsensitive: true,
                                finalSpace: false)
    }
    guard words.count == 2 else { return (text, []) }  // only the first argument completes
    let partial = words[1]
    switch entry.argument {
    case .spikingLayer, .spikingLayerOrAll:
        let names = spiking + (entry.argument == .spikingLayerOrAll ? ["all"] : [])
        return completeArgument(head, partial: partial, names: orTensorNames(names, partial, s), caseInsensitive: true,
                                finalSpace: true)
    case .hotspots:
        return completeArgument(head, partial: partial, names: HotspotFilter.allCases.map(\.rawValue) + spiking,
                                caseInsensitive: true, finalSpace: false)
    case .setKey:
        return completeArgument(head, partial: partial, names: setKeys, caseInsensitive: true, finalSpace: true)
    case .sort:
        return completeArgument(head, partial: partial, names: LayerSort.allCases.map(\.rawValue),
                                caseInsensitive: true, finalSpace: false)
    case .pane:
        return completeArgument(head, partial: partial, names: Pane.allCases.map(\.commandName),
                                caseInsensitive: true, finalSpace: false)
    case .none, .text, .layerRow:
        return (text, [])
    }
}

/// Layer names, or the layers' ONNX tensor names when no layer name starts with `partial`
/// (commands take either).
func orTensorNames(_ names: [String], _ partial: String, _ s: ViewState) -> [String] {
    let key = partial.lowercased()
    if names.contains(where: { $0.lowercased().hasPrefix(key) }) { return names }
    return (s.layout?.layers ?? []).map(\.tensor)
}

/// Completes the argument after `head`: a unique match in full (plus a space when more words
/// follow), several matches to their common prefix.
func completeArgument(_ head: String, partial: String, names: [String], caseInsensitive: Bool,
                      finalSpace: Bool) -> (String, [String]) {
    let key = caseInsensitive ? partial.lowercased() : partial
    let c = names.filter { (caseInsensitive ? $0.lowercased() : $0).hasPrefix(key) }
    let original = head + " " + partial
    guard !c.isEmpty else { return (original, []) }
    if c.count == 1 { return (head + " " + c[0] + (finalSpace ? " " : ""), c) }
    let p = commonPrefix(c)
    return (head + " " + (p.count >= partial.count ? p : partial), c)
}

func commonPrefix(_ xs: [String]) -> String {
    guard var p = xs.first else { return "" }
    for x in xs.dropFirst() {
        while !x.hasPrefix(p) { p.removeLast() }
    }
    return p
}

