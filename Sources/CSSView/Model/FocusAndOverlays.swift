import CSSSnapshots

// Pane focus, help, Esc, quitting and the report key.

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

func openHelp(_ s: inout ViewState) {
    s.overlay = .help
    s.helpScroll = 0
}

func scrollHelp(_ s: inout ViewState, _ d: Int) {
    let maxScroll = max(0, HelpOverlay.lines(s).count - HelpOverlay.visibleLines(s))
    s.helpScroll = max(0, min(maxScroll, s.helpScroll + d))
}

func cycleFocus(_ s: inout ViewState, forward: Bool) {
    // The watch pane is on the cycle only while it holds watches.
    let all = Pane.allCases.filter { $0 != .watch || !s.watches.isEmpty }
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

/// `r`, `:report`: (re)compute the data-set report unless it is already running.
func startReport(_ s: inout ViewState, _ cmds: inout [Command]) {
    if s.reportProgress == nil {
        s.reportProgress = 0
        cmds.append(.loadReport)
    }
}

/// Esc on the main screen: cancels a running long host job, else clears the message.
func escape(_ s: inout ViewState, _ cmds: inout [Command]) {
    if let running = s.hostQueue.first, running.request.isCancellable {
        if !running.cancelled { cmds.append(.cancelHost) }
        s.hostQueue[0].cancelled = true
        s.message = "cancelling :" + running.line + " …"
        s.messageIsError = false
    } else {
        s.message = nil
    }
}
