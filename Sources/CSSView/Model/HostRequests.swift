import CSSSnapshots

// Requests to the host from keys: θ keys on the selected layer, and any request (one at a time, queued in order).

/// The selected spiking layer's index for a θ key; nil (with a message) when none is selected.
func tuningLayer(_ s: inout ViewState) -> Int? {
    guard let i = s.selectedLayer else {
        s.message = "select a spiking layer first (j/k): θ keys act on the selected layer"
        s.messageIsError = true
        return nil
    }
    return i
}

func scaleSelected(_ s: inout ViewState, _ factor: Double, _ cmds: inout [Command]) {
    guard let i = tuningLayer(&s) else { return }
    requestHost(&s, .scaleTheta(layer: i, factor: factor), line: "scale \(i) \(factor)", &cmds)
}

/// Asks the host for `request` and echoes `line` in the message bar until the host answers. A
/// change while a long job (`:adjust`) runs cancels that job first.
func requestHost(_ s: inout ViewState, _ request: HostRequest, line: String, _ cmds: inout [Command]) {
    var superseded: String?
    if request.isChange, let running = s.hostQueue.first, running.request.isCancellable, !running.cancelled {
        cmds.append(.cancelHost)
        s.hostQueue[0].cancelled = true
        superseded = running.line
    }
    cmds.append(.host(request))
    s.hostQueue.append(PendingHostRequest(request: request, line: line, superseded: superseded))
    s.message = ":" + line + " …"
    s.messageIsError = false
}
