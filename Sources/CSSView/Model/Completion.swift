import CSSSnapshots

/// Tab completion from `Keymap.commands`: command names for the first word, then the arguments
/// by the entry's `ArgumentKind` (layer rows, spiking layers and `all`, `:set` keys and their
/// on|off values, `:break` conditions and their layers, …). Returns the new text and the
/// candidates considered. File paths are not completed here (the view reads no directory):
/// see `pathToComplete`.
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
    let before = words.dropLast().joined(separator: " ")
    if words.count == 3, entry.argument == .setKey, ["negative", "rate"].contains(words[1].lowercased()) {
        return completeArgument(before, partial: words[2], names: ["on", "off"], caseInsensitive: true, finalSpace: false)
    }
    if entry.argument == .breakCondition {
        return completeBreakCondition(words, state: s)
    }
    guard words.count == 2 else { return (text, []) }  // otherwise only the first argument completes
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
    case .none, .text, .layerRow, .breakCondition, .path:
        return (text, [])
    }
}

/// `:break COND`: the condition's keyword, then (for those that watch a layer) a spiking layer,
/// and `<` / `>` where `margin` / `residual` may go without one.
func completeBreakCondition(_ words: [String], state s: ViewState) -> (String, [String]) {
    let before = words.dropLast().joined(separator: " "), partial = words.last ?? ""
    let noArgument: Set<String> = ["flip", "wrong", "disagree"]
    if words.count == 2 {
        let (text, c) = completeArgument(before, partial: partial, names: BreakCondition.keywords, caseInsensitive: true,
                                         finalSpace: true)
        // A condition that takes nothing more is complete as it is.
        return c.count == 1 && noArgument.contains(c[0]) ? (String(text.dropLast()), c) : (text, c)
    }
    let keyword = words[1].lowercased()
    guard words.count == 3, BreakCondition.keywords.contains(keyword), !noArgument.contains(keyword) else {
        return (words.joined(separator: " "), [])
    }
    let spiking = (s.layout?.layers ?? []).map(\.name)
    let extra = keyword == "margin" ? ["<"] : keyword == "residual" ? [">"] : []
    return completeArgument(before, partial: partial, names: orTensorNames(spiking, partial, s) + extra,
                            caseInsensitive: true, finalSpace: true)
}

/// The path to complete when `text` is a command taking a file (`:w`, `:w!`, `:load`) and its
/// one argument is being typed: the host lists the directory it names (`Command.listFiles`)
/// and `.filesListed` comes back into `update`, so the view stays pure.
public func pathToComplete(_ text: String, state s: ViewState) -> String? {
    let words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    guard words.count == 2, let entry = Keymap.command(named: words[0]), entry.argument == .path else { return nil }
    return words[1]
}

/// The entries of the directory `partial` names whose names start with its last component, as
/// `partial`'s directory part followed by the name (a directory with a trailing `/`); hidden
/// entries only when the last component starts with a dot. Sorted; empty when nothing is there.
public func fileCompletions(_ partial: String, list: (String) -> [(name: String, isDirectory: Bool)]) -> [String] {
    let slash = partial.lastIndex(of: "/")
    let directory = slash.map { String(partial[...$0]) } ?? ""
    let stem = slash.map { String(partial[partial.index(after: $0)...]) } ?? partial
    return list(directory.isEmpty ? "." : directory)
        .filter { $0.name.hasPrefix(stem) && (stem.hasPrefix(".") || !$0.name.hasPrefix(".")) }
        .map { directory + $0.name + ($0.isDirectory ? "/" : "") }
        .sorted()
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

