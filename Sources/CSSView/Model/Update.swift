import CSSSnapshots

/// Commands to issue when the debugger starts: layout, the initial sample's trace, the report.
public func initialCommands(_ state: ViewState) -> [Command] {
    [.loadLayout, .loadTrace(sample: state.sample), .loadReport]
}

/// The Elm-style update: one message in, the next state and the effects to run out.
/// Pure: no I/O, no clocks.
public func update(_ state: ViewState, _ message: Message) -> (ViewState, [Command]) {
    var s = state
    var cmds: [Command] = []
    switch message {
    case .key(let key):
        handleKey(&s, key, &cmds)
    case .tick:
        if s.playing {
            if s.step < s.maxStep { s.step += 1 }
            if s.step >= s.maxStep { s.playing = false }
        }
    case .layoutArrived(let layout, let count):
        s.layout = layout
        s.sampleCount = count
        clampSelection(&s)
    case .traceArrived(let trace):
        guard trace.sample == s.sample else { break }  // stale: the user moved on
        s.trace = trace
        s.summary = TraceSummary(trace)
        s.loadingSample = nil
        s.traceStale = false
        if s.layout == nil { s.layout = trace.layout }
        clampSelection(&s)
    case .reportArrived(let report):
        // Before/after: the report shown while a change was recomputing becomes "previous".
        if s.reportStale, let old = s.report { s.previousReport = old }
        if s.baselineReport == nil { s.baselineReport = report }
        s.reportStale = false
        s.report = report
        s.reportProgress = nil
        if s.layout == nil { s.layout = report.layout }
        if s.sampleCount == 0 { s.sampleCount = report.samples }
        clampSelection(&s)
    case .progress(let p):
        s.reportProgress = max(0, min(1, p))
    case .backendFailed(let text):
        if case .restoreOffer = s.overlay {
            // Keep the question on screen; the host waits for the answer.
            s.message = text
            s.messageIsError = true
        } else {
            s.overlay = .error(text)
        }
        s.loadingSample = nil
        s.reportProgress = nil
        s.playing = false
    case .info(let text):
        s.message = text
        s.messageIsError = false
    case .commandError(let text):
        s.message = text
        s.messageIsError = true
    case .reload:
        s.loadingSample = s.sample
        s.reportProgress = 0
        s.reloadCount += 1
        // Keep showing the old numbers, marked stale, until the new ones arrive.
        if s.report != nil { s.reportStale = true }
        if s.trace != nil { s.traceStale = true }
        cmds = [.cancelReport, .loadLayout, .loadTrace(sample: s.sample), .loadReport]
    case .tuningStatus(let status):
        s.tuningStatus = status
    case .thetaOrigin(let origin):
        s.thetaOrigin = origin
    case .offerRestore(let question):
        s.overlay = .restoreOffer(question)
        s.playing = false
    }
    return (s, cmds)
}

// MARK: - Keys

func handleKey(_ s: inout ViewState, _ key: Key, _ cmds: inout [Command]) {
    switch key {
    case .resize(let w, let h):
        s.width = max(0, w)
        s.height = max(0, h)
        return
    case .ctrlC:
        cmds.append(.quit)
        return
    case .click(let x, let y):
        handleClick(&s, x: x, y: y, &cmds)
        return
    default:
        break
    }
    if case .restoreOffer = s.overlay {
        // Modal: it needs an answer before anything else (even an open prompt waits).
        switch key {
        case .char("y"), .char("Y"):
            s.overlay = .none
            cmds.append(.custom(name: "restore", arguments: [], line: "restore"))
        case .char("d"), .char("D"):
            // Discarding is explicit; the host keeps the discarded session as a backup.
            s.overlay = .none
            cmds.append(.custom(name: "discard", arguments: [], line: "discard"))
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

func handleNormalKey(_ s: inout ViewState, _ key: Key, _ cmds: inout [Command]) {
    if s.focus == .coupling {
        // The hotspot list's filter (`a` adjusts θ everywhere else).
        switch key {
        case .char("o"): setHotspotFilter(&s, .overflow); return
        case .char("c"): setHotspotFilter(&s, .coupling); return
        case .char("a"): setHotspotFilter(&s, .all); return
        default: break
        }
    }
    switch key {
    case .char("q"):
        requestQuit(&s, &cmds)
    case .char("s") where s.focus == .layers:
        let all = LayerSort.allCases
        setLayerSort(&s, all[((all.firstIndex(of: s.layerSort) ?? 0) + 1) % all.count])
    case .char("n"):
        setStep(&s, s.step + 1)
    case .char("b"):
        setStep(&s, s.step - 1)
    case .char("g"):
        setStep(&s, 0)
    case .char("G"):
        setStep(&s, s.maxStep)
    case .char(" "):
        if s.playing {
            s.playing = false
        } else {
            if s.step >= s.maxStep { s.step = 0 }
            s.playing = s.maxStep > 0
        }
    case .char("+"), .char("="):
        s.speedIndex = min(ViewState.speeds.count - 1, s.speedIndex + 1)
        s.message = "play speed \(formatSpeed(s.playSpeed)) steps/s"
        s.messageIsError = false
    case .char("-"), .char("_"):
        s.speedIndex = max(0, s.speedIndex - 1)
        s.message = "play speed \(formatSpeed(s.playSpeed)) steps/s"
        s.messageIsError = false
    case .char("w"):
        setStep(&s, s.selectedWindowStart)
    case .char("["):
        selectSample(&s, s.sample - 1, &cmds)
    case .char("]"):
        selectSample(&s, s.sample + 1, &cmds)
    case .char("?"):
        openHelp(&s)
    case .char(":"):
        s.prompt = Prompt(kind: .command)
    case .char("/"):
        s.prompt = Prompt(kind: .find, originRow: s.layerRow, originNeuron: s.neuron)
    case .char(">"):
        scaleSelected(&s, "1.05", &cmds)
    case .char("<"):
        scaleSelected(&s, "0.95", &cmds)
    case .char("."):
        scaleSelected(&s, "1.01", &cmds)
    case .char(","):
        scaleSelected(&s, "0.99", &cmds)
    case .char("a"):
        if let i = tuningLayer(&s, "adjust") { tuningCommand(&s, "adjust", [String(i), "1"], &cmds) }
    case .char("A"):
        if s.hasCommand("adjust") { tuningCommand(&s, "adjust", ["all", "1"], &cmds) }
    case .char("u"):
        if s.hasCommand("undo") { tuningCommand(&s, "undo", [], &cmds) }
    case .char("U"):
        if s.hasCommand("redo") { tuningCommand(&s, "redo", [], &cmds) }
    case .char("R"):
        if let i = tuningLayer(&s, "reset") { tuningCommand(&s, "reset", [String(i)], &cmds) }
    case .char("r"):
        if s.reportProgress == nil {
            s.reportProgress = 0
            cmds.append(.loadReport)
        }
    case .tab:
        cycleFocus(&s, forward: true)
    case .backTab:
        cycleFocus(&s, forward: false)
    case .escape:
        s.message = nil
    case .up, .char("k"):
        moveVertical(&s, -1)
    case .down, .char("j"):
        moveVertical(&s, 1)
    case .left, .char("h"):
        if s.focus == .coupling { moveHotspot(&s, -1) } else { setNeuron(&s, s.neuron - 1) }
    case .right, .char("l"):
        if s.focus == .coupling { moveHotspot(&s, 1) } else { setNeuron(&s, s.neuron + 1) }
    case .pageUp:
        page(&s, -1)
    case .pageDown:
        page(&s, 1)
    case .home:
        setNeuron(&s, 0)
    case .end:
        setNeuron(&s, s.neuronCount - 1)
    case .enter:
        if s.focus == .coupling { openHotspot(&s, s.hotspot, &cmds) }
    default:
        break
    }
}

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

// MARK: - Tuning keys

/// The selected spiking layer's index for a tuning key bound to `command`; nil (with a message
/// when a layer is needed) when the host did not register the command or no spiking layer is selected.
func tuningLayer(_ s: inout ViewState, _ command: String) -> Int? {
    guard s.hasCommand(command) else { return nil }
    guard let i = s.selectedLayer else {
        s.message = "select a spiking layer first (j/k): θ keys act on the selected layer"
        s.messageIsError = true
        return nil
    }
    return i
}

func scaleSelected(_ s: inout ViewState, _ factor: String, _ cmds: inout [Command]) {
    guard let i = tuningLayer(&s, "scale") else { return }
    tuningCommand(&s, "scale", [String(i), factor], &cmds)
}

/// Emits a host command as if typed on the `:` line, and echoes it in the message bar until the
/// host answers.
func tuningCommand(_ s: inout ViewState, _ name: String, _ arguments: [String], _ cmds: inout [Command]) {
    let line = ([name] + arguments).joined(separator: " ")
    cmds.append(.custom(name: name, arguments: arguments, line: line))
    s.message = ":" + line + " …"
    s.messageIsError = false
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
}

func setNeuron(_ s: inout ViewState, _ n: Int) {
    s.neuron = max(0, min(max(0, s.neuronCount - 1), n))
}

func setLayerRow(_ s: inout ViewState, _ row: Int) {
    let r = max(0, min(max(0, s.layerRowCount - 1), row))
    if r != s.layerRow {
        s.layerRow = r
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
    case .layers, .inspector, .histogram:
        moveLayerRow(&s, d * 10)
    }
}

func cycleFocus(_ s: inout ViewState, forward: Bool) {
    let all = Pane.allCases
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

// MARK: - Mouse

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

// MARK: - Prompt

func handlePromptKey(_ s: inout ViewState, _ key: Key, _ cmds: inout [Command]) {
    guard var p = s.prompt else { return }
    switch key {
    case .escape:
        s.prompt = nil
        s.message = nil
        if p.kind == .find, let row = p.originRow {
            // Esc abandons the search: back to where it started.
            setLayerRow(&s, row)
            if let n = p.originNeuron { setNeuron(&s, n) }
        }
        return
    case .enter:
        s.prompt = nil
        if p.kind == .command {
            let line = p.text.trimmingWhitespace()
            if !line.isEmpty {
                if s.history.last != line { s.history.append(line) }
                if s.history.count > 100 { s.history.removeFirst(s.history.count - 100) }
                executeCommandLine(&s, line, &cmds)
            }
        } else if !findLayer(&s, p.text, report: true), let row = p.originRow {
            // A failed search leaves the selection where it was before the search.
            setLayerRow(&s, row)
            if let n = p.originNeuron { setNeuron(&s, n) }
        }
        return
    case .backspace, .delete:
        if p.text.isEmpty { s.prompt = nil; return }
        p.text.removeLast()
    case .up where p.kind == .command:
        guard !s.history.isEmpty else { break }
        if p.historyIndex == nil { p.draft = p.text; p.historyIndex = s.history.count }
        let i = max(0, (p.historyIndex ?? 0) - 1)
        p.historyIndex = i
        p.text = s.history[i]
    case .down where p.kind == .command:
        guard let hi = p.historyIndex else { break }
        if hi + 1 >= s.history.count {
            p.historyIndex = nil
            p.text = p.draft
        } else {
            p.historyIndex = hi + 1
            p.text = s.history[hi + 1]
        }
    case .tab:
        if p.kind == .command {
            if var c = p.cycle, c.shown == p.text, !c.candidates.isEmpty {
                // A second Tab: the candidates in turn.
                c.index = (c.index + 1) % c.candidates.count
                p.text = c.prefix + c.candidates[c.index]
                c.shown = p.text
                p.cycle = c
                s.message = c.candidates.enumerated().map { $0 == c.index ? "[\($1)]" : $1 }.joined(separator: "  ")
                s.messageIsError = false
            } else {
                let (text, candidates) = complete(p.text, state: s)
                p.text = text
                p.cycle = nil
                if candidates.count > 1 {
                    let prefix = text.lastIndex(of: " ").map { String(text[...$0]) } ?? ""
                    p.cycle = Prompt.CompletionCycle(prefix: prefix, candidates: candidates, index: -1, shown: text)
                    s.message = candidates.joined(separator: "  ") + "   (Tab again: each in turn)"
                    s.messageIsError = false
                }
            }
        }
    case .char(let c):
        p.text.append(c)
    default:
        break
    }
    s.prompt = p
    if p.kind == .find { findLayer(&s, p.text, report: false) }
}

extension String {
    func trimmingWhitespace() -> String {
        var sub = Substring(self)
        while let f = sub.first, f.isWhitespace { sub.removeFirst() }
        while let l = sub.last, l.isWhitespace { sub.removeLast() }
        return String(sub)
    }
}

/// Selects the first layer-list row whose name contains `text` (case-insensitive); false when
/// none does.
@discardableResult
func findLayer(_ s: inout ViewState, _ text: String, report: Bool) -> Bool {
    guard !text.isEmpty else { return true }
    let needle = text.lowercased()
    for row in 0..<s.layerRowCount where s.rowName(row).lowercased().contains(needle) {
        setLayerRow(&s, row)
        return true
    }
    if report {
        s.message = "no layer matches \"\(text)\""
        s.messageIsError = true
    }
    return false
}

/// Built-in `:` commands, for help and completion.
public let builtinCommandNames = ["sample", "step", "layer", "neuron", "report", "hotspots", "focus", "speed", "sort", "help",
                                  "quit", "q", "q!"]

/// Runs one `:` line (without the colon).
func executeCommandLine(_ s: inout ViewState, _ line: String, _ cmds: inout [Command]) {
    var words = line.split(whereSeparator: { $0.isWhitespace }).map(String.init)
    guard !words.isEmpty else { return }
    var name = words.removeFirst()
    if name.hasPrefix(":") { name.removeFirst() }
    let arg = words.joined(separator: " ")
    func fail(_ m: String) { s.message = m; s.messageIsError = true }
    func int(_ what: String) -> Int? {
        guard let v = Int(arg) else { fail(":\(name) needs an integer \(what)"); return nil }
        return v
    }
    switch name {
    case "q", "quit", "qa":
        requestQuit(&s, &cmds)
    case "q!", "quit!", "qa!":
        cmds.append(.quit)
    case "sample":
        guard let v = int("sample index") else { return }
        if v < 0 || (s.sampleCount > 0 && v >= s.sampleCount) {
            fail("sample \(v) out of range 0 to \(s.sampleCount - 1)")
            return
        }
        if v == s.sample { return }
        selectSample(&s, v, &cmds)
    case "step":
        guard let v = int("global step") else { return }
        if v < 0 || v > s.maxStep { fail("step \(v) out of range 0...\(s.maxStep)"); return }
        setStep(&s, v)
    case "layer":
        guard !arg.isEmpty else { fail(":layer needs a name"); return }
        do { setLayerRow(&s, try layerRow(named: arg, in: s)) } catch { fail(":layer: \(error)") }
    case "neuron":
        guard let v = int("neuron index") else { return }
        if v < 0 || v >= s.neuronCount { fail("neuron \(v) out of range 0 to \(s.neuronCount - 1)"); return }
        s.neuron = v
    case "report":
        if s.reportProgress == nil {
            s.reportProgress = 0
            cmds.append(.loadReport)
        }
    case "hotspots":
        // Shows the list (focus on the coupling pane) with the filter asked for.
        if arg.isEmpty {
            focus(&s, .coupling)
            s.message = hotspotSummary(s)
            s.messageIsError = false
            return
        }
        // Words: a kind (all, overflow, coupling) and/or a layer; what is not named is all.
        var kind = HotspotFilter.all
        var layer: Int? = nil
        for w in words {
            if let f = HotspotFilter(argument: w) {
                kind = f
            } else if let row = try? layerRow(named: w, in: s), row >= 1, row <= s.spikingLayerCount {
                layer = row - 1
            } else {
                fail(":hotspots takes all, overflow or coupling and/or a spiking layer; no layer \"\(w)\"")
                return
            }
        }
        focus(&s, .coupling)
        s.hotspotLayer = layer
        setHotspotFilter(&s, kind)
    case "focus":
        guard let p = Pane(commandName: arg) else {
            fail(":focus takes " + Pane.allCases.map(\.commandName).joined(separator: ", "))
            return
        }
        focus(&s, p)
    case "speed":
        // Play speed in steps per second: the nearest of the speeds +/- step through.
        guard let v = Double(arg), v > 0, v.isFinite else { fail(":speed needs steps per second, e.g. :speed 4"); return }
        s.speedIndex = ViewState.speeds.indices.min { ratioDistance(ViewState.speeds[$0], v) < ratioDistance(ViewState.speeds[$1], v) }!
        s.message = "play speed \(formatSpeed(s.playSpeed)) steps/s"
        s.messageIsError = false
    case "sort":
        guard let k = LayerSort(argument: arg) else {
            fail(":sort takes " + LayerSort.allCases.map(\.rawValue).joined(separator: ", "))
            return
        }
        setLayerSort(&s, k)
    case "help":
        openHelp(&s)
    default:
        if s.customCommands.contains(name) {
            cmds.append(.custom(name: name, arguments: words, line: line))
        } else {
            fail("unknown command :\(name)")
        }
    }
}

/// The layer-list row `name` means: `encoder`/`input`, `output`, else a spiking layer as
/// `:theta` takes it (`NetworkLayout.layerIndex(matching:)`: name, tensor, index, unambiguous part).
func layerRow(named name: String, in s: ViewState) throws -> Int {
    guard let layout = s.layout else { throw GraphError("the model is still loading") }
    if name.lowercased() == "output", !layout.layers.contains(where: { $0.name.lowercased() == "output" }) {
        return s.layerRowCount - 1
    }
    return try layout.layerIndex(matching: name) + 1
}

/// Host commands whose first argument is a spiking layer (and those that also take `all`).
public let layerArgumentCommands = ["theta", "scale", "adjust", "reset"]
let allArgumentCommands: Set<String> = ["adjust", "reset"]
/// Keys of `:set`.
public let setKeys = ["T", "beta", "silent", "negative", "rate", "percentile"]

/// Tab completion: command names for the first word; layer names after `layer `; spiking-layer
/// names (and `all`) as the first argument of `:theta`, `:scale`, `:adjust`, `:reset`; keys after
/// `:set`. Returns the new text and the candidates considered.
public func complete(_ text: String, state s: ViewState) -> (String, [String]) {
    let words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    if words.count <= 1 {
        let names = Array(Set(builtinCommandNames + s.customCommands)).sorted()
        let c = names.filter { $0.hasPrefix(text) }
        guard !c.isEmpty else { return (text, []) }
        if c.count == 1 { return (c[0] + " ", c) }
        return (commonPrefix(c), c)
    }
    let head = words[0]
    if head == "layer" {
        let partial = words.dropFirst().joined(separator: " ")
        let names = (0..<s.layerRowCount).map { s.rowName($0) }
        return completeArgument(head, partial: partial, names: orTensorNames(names, partial, s), caseInsensitive: true,
                                finalSpace: false)
    }
    guard words.count == 2 else { return (text, []) }  // only the first argument completes
    if layerArgumentCommands.contains(head) {
        var names = (s.layout?.layers ?? []).map(\.name)
        if allArgumentCommands.contains(head) { names.append("all") }
        return completeArgument(head, partial: words[1], names: orTensorNames(names, words[1], s), caseInsensitive: true,
                                finalSpace: true)
    }
    if head == "hotspots" {
        return completeArgument(head, partial: words[1],
                                names: HotspotFilter.allCases.map(\.rawValue) + (s.layout?.layers ?? []).map(\.name),
                                caseInsensitive: true, finalSpace: false)
    }
    if head == "set" {
        return completeArgument(head, partial: words[1], names: setKeys, caseInsensitive: true, finalSpace: true)
    }
    if head == "sort" {
        return completeArgument(head, partial: words[1], names: LayerSort.allCases.map(\.rawValue),
                                caseInsensitive: true, finalSpace: false)
    }
    if head == "focus" {
        return completeArgument(head, partial: words[1], names: Pane.allCases.map(\.commandName),
                                caseInsensitive: true, finalSpace: false)
    }
    return (text, [])
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

/// How far apart two positive speeds are as a ratio (2 and 4 are as far as 4 and 8).
func ratioDistance(_ a: Double, _ b: Double) -> Double { max(a, b) / min(a, b) }
