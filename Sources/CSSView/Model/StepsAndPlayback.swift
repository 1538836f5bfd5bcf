import CSSSnapshots

// Time: the global step, play and its speed.

func formatSpeed(_ v: Double) -> String {
    v == v.rounded() ? String(Int(v)) : String(v)
}

func setStep(_ s: inout ViewState, _ g: Int) {
    s.step = max(0, min(s.maxStep, g))
    s.inspectorScroll = nil  // the neuron pane's table follows the step again
}

/// Space: play from here (from the start when at the end), or pause.
func togglePlay(_ s: inout ViewState) {
    if s.playing {
        s.playing = false
    } else {
        if s.step >= s.maxStep { s.step = 0 }
        s.playing = s.maxStep > 0
    }
}

/// `+`/`-`: the next faster / slower play speed.
func changeSpeed(_ s: inout ViewState, _ d: Int) {
    s.speedIndex = max(0, min(ViewState.speeds.count - 1, s.speedIndex + d))
    s.message = "play speed \(formatSpeed(s.playSpeed)) steps/s"
    s.messageIsError = false
}

/// `:speed N`: the nearest of the speeds `+`/`-` step through.
func setSpeed(_ s: inout ViewState, _ v: Double) {
    s.speedIndex = ViewState.speeds.indices.min { ratioDistance(ViewState.speeds[$0], v) < ratioDistance(ViewState.speeds[$1], v) }!
    s.message = "play speed \(formatSpeed(s.playSpeed)) steps/s"
    s.messageIsError = false
}

/// How far apart two positive speeds are as a ratio (2 and 4 are as far as 4 and 8).
func ratioDistance(_ a: Double, _ b: Double) -> Double { max(a, b) / min(a, b) }
