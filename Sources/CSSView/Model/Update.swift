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
        return update(s, .summarisedTraceArrived(trace, TraceSummary(trace)))
    case .summarisedTraceArrived(let trace, let summary):
        guard trace.sample == s.sample else { break }  // stale: the user moved on
        s.trace = trace
        s.summary = summary
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
    case .filesListed(let partial, let names):
        guard var p = s.prompt, p.kind == .command, pathToComplete(p.text, state: s) == partial else { break }
        let head = String(p.text.prefix(while: { $0 != " " }))
        let (text, candidates) = completeArgument(head, partial: partial, names: names, caseInsensitive: false,
                                                  finalSpace: false)
        if candidates.isEmpty {
            s.message = "no file matches \(partial.isEmpty ? "here" : partial)"
            s.messageIsError = true
        }
        showCompletion(&s, &p, text, candidates)
        s.prompt = p
    case .offerRestore(let question):
        s.overlay = .restoreOffer(question)
        s.playing = false
    case .hostReply(let r):
        applyHostReply(&s, r, &cmds)
    case .hostProgress(let p):
        guard let running = s.hostQueue.first else { break }
        s.hostProgress = max(0, min(1, p))
        s.message = ":" + running.line + " … " + Fmt.fixed(s.hostProgress! * 100, 0) + "%"
            + (running.request.isCancellable ? " (Esc cancels)" : "")
        s.messageIsError = false
    }
    return (s, cmds)
}

/// The host answered the oldest request still waiting: status first, then the position to go
/// back to, a reload, and the message last (the moves would otherwise hide it).
func applyHostReply(_ s: inout ViewState, _ r: HostReply, _ cmds: inout [Command]) {
    let finished = s.hostQueue.isEmpty ? nil : s.hostQueue.removeFirst()
    s.hostProgress = nil
    if let t = r.tuning { s.tuningStatus = t }
    if let o = r.thetaOrigin { s.thetaOrigin = o }
    if let result = r.job { openJobResult(&s, result) }
    var moves: [Command] = []
    if let p = r.position { restorePosition(&s, p, &moves) }
    if r.reload {
        // The reload fetches the (new) current sample's trace anyway.
        moves.removeAll { if case .loadTrace = $0 { return true } else { return false } }
        let (next, more) = update(s, .reload)
        s = next
        moves += more
    }
    cmds += moves
    if let rows = r.breakpoints, !rows.isEmpty {
        s.overlay = .breakpoints(rows)
        s.playing = false
    }
    if !r.message.isEmpty {
        s.message = r.message
        s.messageIsError = r.isError
        if let old = finished?.superseded { s.message! += " (superseded :\(old), cancelled)" }
    }
    if r.quit { cmds.append(.quit) }
}

/// Goes back to a saved position: sample, step, layer, neuron, then the screen (the hotspot
/// filter brings the coupling pane forward, then the lower panes, the focused pane last, as
/// focusing a lower pane puts it in its slot) and the play speed. Out-of-range parts are skipped.
func restorePosition(_ s: inout ViewState, _ p: ViewPosition, _ cmds: inout [Command]) {
    if p.sample >= 0, s.sampleCount == 0 || p.sample < s.sampleCount, p.sample != s.sample { selectSample(&s, p.sample, &cmds) }
    if p.step >= 0, p.step <= s.maxStep { setStep(&s, p.step) }
    if let l = p.layer, l >= 0, l < s.spikingLayerCount { setLayerRow(&s, l + 1) }
    if p.neuron >= 0, p.neuron < s.neuronCount { s.neuron = p.neuron }
    if let f = p.hotspotFilter, f != .all || p.hotspotLayer != nil {
        focus(&s, .coupling)
        s.hotspotLayer = p.hotspotLayer.flatMap { $0 >= 0 && $0 < s.spikingLayerCount ? $0 : nil }
        setHotspotFilter(&s, f)
    }
    if let w = p.watches { restoreWatches(&s, w) }
    for pane in [p.lowerLeft, p.lowerRight, p.focus] {
        if let pane, pane != .watch || !s.watches.isEmpty { focus(&s, pane) }
    }
    if let v = p.playSpeed, v > 0, v.isFinite { setSpeed(&s, v) }
}

