import CSSSnapshots

/// Keys in order of precedence: resize, Ctrl-C and clicks always; then the modal dialogs
/// (restore offer, quit confirmation), an open prompt, the help overlay; then the key table
/// (`Keymap.keys`: the focused pane's keys, then the global ones).
func handleKey(_ s: inout ViewState, _ key: Key, _ cmds: inout [Command]) {
    switch key {
    case .resize(let w, let h):
        s.width = max(0, w)
        s.height = max(0, h)
        return
    case .ctrlC:
        handleNormalKey(&s, key, &cmds)  // the key table's Ctrl-C, before any dialog or prompt
        return
    case .click(let x, let y):
        handleClick(&s, x: x, y: y, &cmds)
        return
    case .wheel(let x, let y, let up):
        handleWheel(&s, x: x, y: y, up: up, &cmds)
        return
    default:
        break
    }
    if case .restoreOffer = s.overlay {
        // Modal: it needs an answer before anything else (even an open prompt waits).
        switch key {
        case .char("y"), .char("Y"):
            s.overlay = .none
            requestHost(&s, .restore, line: "restore", &cmds)
        case .char("d"), .char("D"):
            // Discarding is explicit; the host keeps the discarded session as a backup.
            s.overlay = .none
            requestHost(&s, .discard, line: "discard", &cmds)
        case .char("n"), .char("N"), .escape:
            // Not now: nothing is written; the saved session stays on disk for `:restore`.
            s.overlay = .none
            s.message = "not restored: :restore brings the saved session back (until a change is saved)"
            s.messageIsError = false
        default:
            break
        }
        return
    }
    if s.overlay == .confirmQuit {
        switch key {
        case .char("y"), .char("Y"): cmds.append(.quit)
        case .char("n"), .char("N"), .escape:
            s.overlay = .none
            s.message = ":w FILE writes θ; :q! quits without it"
            s.messageIsError = false
        default: break
        }
        return
    }
    if s.prompt != nil {
        handlePromptKey(&s, key, &cmds)
        return
    }
    switch s.overlay {
    case .help:
        switch key {
        case .escape, .char("?"), .enter: s.overlay = .none
        case .char("q"): requestQuit(&s, &cmds)
        case .down, .char("j"): scrollHelp(&s, 1)
        case .up, .char("k"): scrollHelp(&s, -1)
        case .pageDown, .char(" "): scrollHelp(&s, HelpOverlay.visibleLines(s))
        case .pageUp: scrollHelp(&s, -HelpOverlay.visibleLines(s))
        case .home, .char("g"): s.helpScroll = 0
        case .end, .char("G"): scrollHelp(&s, Int.max / 2)
        default: break
        }
        return
    case .breakpoints:
        // A list to read: the keys that close it, nothing else (the panes stay as they were).
        switch key {
        case .escape, .enter, .char("q"): s.overlay = .none
        default: break
        }
        return
    case .sweep:
        handleSweepKey(&s, key, &cmds)
        return
    case .attribution:
        handleAttributionKey(&s, key, &cmds)
        return
    case .doctor:
        handleDoctorKey(&s, key, &cmds)
        return
    case .anytime:
        // The chart follows the step: every other key works as on the main screen.
        if key == .escape || key == .char("q") || key == .enter { s.overlay = .none; return }
    case .restoreOffer, .confirmQuit:
        return
    case .error:
        s.overlay = .none
        if key == .escape || key == .enter { return }
    case .none:
        break
    }
    handleNormalKey(&s, key, &cmds)
}

/// The main screen's keys: whatever the key table binds in this state. Digits typed first are a
/// count (`5n`, `10]`, as in vim and less): a motion runs that many times (one trace is asked
/// for, the last one); any other key drops the count.
func handleNormalKey(_ s: inout ViewState, _ key: Key, _ cmds: inout [Command]) {
    if case .char(let c) = key, let d = c.wholeNumberValue, c.isASCII, d > 0 || s.countPrefix != nil {
        s.countPrefix = min(9999, (s.countPrefix ?? 0) * 10 + d)
        s.message = "\(s.countPrefix!)…"
        s.messageIsError = false
        return
    }
    let count = s.countPrefix ?? 1
    if s.countPrefix != nil {
        s.countPrefix = nil
        s.message = nil
    }
    guard let action = Keymap.action(for: key, in: s) else { return }
    guard count > 1, Keymap.repeatableKeys.contains(key) else {
        action(&s, &cmds)
        return
    }
    var all: [Command] = []
    for _ in 0..<count {
        var c: [Command] = []
        Keymap.action(for: key, in: s)?(&s, &c)
        all += c
    }
    // Only the last sample's trace is wanted.
    let lastTrace = all.lastIndex { if case .loadTrace = $0 { return true } else { return false } }
    cmds += all.enumerated().filter { i, c in
        if case .loadTrace = c { return i == lastTrace }
        return true
    }.map(\.element)
}

// MARK: - Mouse

/// The wheel scrolls the pane under the pointer: that pane is focused (as a click would) and a
/// notch moves in it as ↑ / ↓ do there (layers, membrane grid, raster rows, hotspots, watch rows,
/// help). Over an open prompt or dialog it does nothing.
func handleWheel(_ s: inout ViewState, x: Int, y: Int, up: Bool, _ cmds: inout [Command]) {
    if s.prompt != nil { return }
    switch s.overlay {
    case .help:
        scrollHelp(&s, up ? -1 : 1)
        return
    case .none, .anytime:
        break
    default:
        return
    }
    let hits = Screen.hitRegions(s)
    guard let pane = hits.last(where: { $0.rect.contains(x: x, y: y) && $0.target.isPane }),
          case .pane(let p) = pane.target else { return }
    focus(&s, p)
    handleNormalKey(&s, up ? .up : .down, &cmds)
}

func handleClick(_ s: inout ViewState, x: Int, y: Int, _ cmds: inout [Command]) {
    if case .restoreOffer = s.overlay { return }  // needs y or n
    if s.prompt != nil { return }
    if s.overlay != .none { s.overlay = .none; return }
    let hits = Screen.hitRegions(s)
    if let pane = hits.last(where: { $0.rect.contains(x: x, y: y) && $0.target.isPane }) {
        if case .pane(let p) = pane.target { focus(&s, p) }
    }
    guard let hit = hits.last(where: { $0.rect.contains(x: x, y: y) && !$0.target.isPane }) else { return }
    switch hit.target {
    case .layerRow(let r): setLayerRow(&s, r)
    case .neuron(let n): setNeuron(&s, n)
    case .hotspot(let i):
        if i == s.hotspot { openHotspot(&s, i, &cmds) } else { s.hotspot = i }
    case .step(let g): setStep(&s, g)
    case .pane: break
    }
}

