import CSSSnapshots

/// Runs one `:` line (without the colon): the entry of `Keymap.commands` its first word names.
/// Host commands are parsed here and sent as a typed `HostRequest`; errors are one line in the
/// message bar.
func executeCommandLine(_ s: inout ViewState, _ line: String, _ cmds: inout [Command]) {
    var words = line.split(whereSeparator: { $0.isWhitespace }).map(String.init)
    guard !words.isEmpty else { return }
    let name = words.removeFirst()
    guard let entry = Keymap.command(named: name), !entry.isHost || s.hasCommand(entry.name) else {
        s.message = "unknown command :\(name.hasPrefix(":") ? String(name.dropFirst()) : name)"
        s.messageIsError = true
        return
    }
    do {
        switch entry.action {
        case .view(let run):
            try run(&s, words, &cmds)
        case .host(let parse):
            let request: HostRequest
            do { request = try parse(words, s.layout) } catch { throw CommandError(":\(entry.name): \(error)") }
            requestHost(&s, request, line: ([entry.name] + words).joined(separator: " "), &cmds)
        }
    } catch {
        s.message = "\(error)"
        s.messageIsError = true
    }
}

/// `:hotspots [KIND] [LAYER]`: the list (focus on the coupling pane) with that filter; what is
/// not named is all. Without words it only shows the list.
func showHotspots(_ s: inout ViewState, _ words: [String]) throws {
    if words.isEmpty {
        focus(&s, .coupling)
        s.message = hotspotSummary(s)
        s.messageIsError = false
        return
    }
    var kind = HotspotFilter.all
    var layer: Int? = nil
    for w in words {
        if let f = HotspotFilter(argument: w) {
            kind = f
        } else if let row = try? layerRow(named: w, in: s), row >= 1, row <= s.spikingLayerCount {
            layer = row - 1
        } else {
            throw CommandError(":hotspots takes all, overflow or coupling and/or a spiking layer; no layer \"\(w)\"")
        }
    }
    focus(&s, .coupling)
    s.hotspotLayer = layer
    setHotspotFilter(&s, kind)
}

/// The layer-list row `name` means: `encoder`/`input`, `output`, else a spiking layer as
/// `:theta` takes it (`NetworkLayout.layerIndex(matching:)`: name, tensor, index, unambiguous part).
func layerRow(named name: String, in s: ViewState) throws -> Int {
    guard let layout = s.layout else { throw CommandError("the model is still loading") }
    if name.lowercased() == "output", !layout.layers.contains(where: { $0.name.lowercased() == "output" }) {
        return s.layerRowCount - 1
    }
    return try layout.layerIndex(matching: name) + 1
}
