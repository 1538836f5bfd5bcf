import CSSSnapshots

// `:attribution`, `:doctor` and `:anytime` in the debugger: the host runs the backend's jobs and
// answers their results; the view shows them in overlays and turns Enter into a jump (a layer
// and its worst hotspot) or one undoable change (a doctor's proposal). The view never simulates.

/// What the analysis overlays show and which row is selected.
public struct AnalysisViews: Equatable, Sendable {
    /// The last `:attribution` (a data-set report with its attribution).
    public var attribution: DatasetReport?
    public var attributionRow = 0
    /// The last `:doctor`.
    public var doctor: DoctorResult?
    /// Rows: the findings, then the proposals.
    public var doctorRow = 0
    /// The layer list shows operation counts (MACs, synaptic operations) instead of the Δ columns.
    public var operations = false

    public init() {}
}

extension Keymap {
    static let attributionCommand = CommandEntry(
        "attribution", usage: ":attribution",
        help: ["which layer costs the accuracy: each layer", "decoupled, every exact prefix, culprits", "(2n+1 simulations; no words twice: reopen)"],
        readme: "which layer costs the accuracy (docs/numerics.md §10): the data set simulated with each spiking layer decoupled and with every prefix of layers exact, and the layer that breaks each wrong sample — 2n+1 simulations, a data-set job (progress on the message line, Esc cancels). The Attribution view lists per layer the coupling count, the decoupled accuracy and its gain, the exact-prefix accuracy and its step, and the culprit count, with the exact-prefix curve as a chart; Enter selects the layer and jumps to its worst hotspot. Run again after a change; `:attribution` with the result of this θ and config at hand reopens it",
        .view { s, words, cmds in
            guard s.hasCommand("attribution") else { throw CommandError("unknown command :attribution") }
            guard words.isEmpty else { throw CommandError("usage: :attribution") }
            if let last = s.analysis.attribution, last.layout.config == s.layout?.config,
               last.amplitudes == s.report?.amplitudes {
                s.overlay = .attribution
                return
            }
            requestHost(&s, .job(.attribution), line: "attribution", &cmds)
        })

    static let doctorCommand = CommandEntry(
        "doctor", usage: ":doctor [TOLERANCE]",
        help: ["diagnose this conversion and find the", "lowest-latency lossless one (tolerance in", "points, default 0.5); Enter adopts"],
        readme: "diagnose the current conversion and search the lowest-latency lossless one (docs/numerics.md §15; `TOLERANCE` in percentage points, default 0.5), as `cssdbg doctor` does — a data-set job, Esc cancels. The Doctor view lists the findings (Enter jumps to the finding's layer and its worst hotspot) and the proposals, the recommendation first and then the Pareto front (Enter adopts one: T, β, L, negative spikes and θ as one undoable change; `u` undoes it)",
        argument: .text, .view { s, words, cmds in
            guard s.hasCommand("doctor") else { throw CommandError("unknown command :doctor") }
            guard words.count <= 1 else { throw CommandError("usage: :doctor [TOLERANCE]") }
            var spec = DoctorSpec()
            if let w = words.first {
                guard let t = Double(w), t >= 0, t <= 100 else {
                    throw CommandError(":doctor: tolerance must be a number of percentage points from 0 to 100, got \(w)")
                }
                spec.tolerance = t
            }
            requestHost(&s, .job(.doctor(spec)), line: (["doctor"] + words).joined(separator: " "), &cmds)
        })

    static let anytimeCommand = CommandEntry(
        "anytime", usage: ":anytime",
        help: ["accuracy against the global step (anytime", "prediction over the data set; g marked)"],
        readme: "the anytime accuracy of the data-set report (docs/numerics.md §14) as a chart against the global step: where the curve reaches its final value is the inference latency the data set needs; the current `g` is marked. Esc closes it",
        .view { s, words, _ in
            guard words.isEmpty else { throw CommandError("usage: :anytime") }
            guard s.report?.anytime != nil else { throw CommandError(":anytime: no data-set report yet (r computes it)") }
            s.overlay = .anytime
        })

    /// The commands whose work is a data-set job of the host's.
    static let jobCommands = [sweepCommand, attributionCommand, doctorCommand]
}

/// A finished job's result: its overlay opens on it.
func openJobResult(_ s: inout ViewState, _ result: JobResult) {
    switch result {
    case .sweep(let r):
        openSweep(&s, r)
    case .attribution(let r):
        s.analysis.attribution = r
        s.analysis.attributionRow = 0
        s.overlay = .attribution
        s.playing = false
    case .doctor(let r):
        s.analysis.doctor = r
        // On the recommendation when there is one, else on the first finding.
        s.analysis.doctorRow = r.proposals.isEmpty ? 0 : r.findings.count
        s.overlay = .doctor
        s.playing = false
    }
}

/// Selects spiking layer `l` and jumps to its worst hotspot in the data-set report, if any.
func jumpToLayerHotspot(_ s: inout ViewState, _ l: Int, _ cmds: inout [Command]) {
    setLayerRow(&s, l + 1)
    s.hotspotLayer = l
    if s.visibleHotspots.isEmpty {
        s.message = "\(s.rowName(s.layerRow)): no hotspots in the data-set report"
        s.messageIsError = false
    } else {
        openHotspot(&s, 0, &cmds)
    }
}

/// The attribution view's keys: ↑/↓ (k/j) select a layer, Enter jumps to it, Esc/q close.
func handleAttributionKey(_ s: inout ViewState, _ key: Key, _ cmds: inout [Command]) {
    let n = s.analysis.attribution?.layers.count ?? 0
    switch key {
    case .escape, .char("q"): s.overlay = .none
    case .down, .char("j"): s.analysis.attributionRow = min(max(0, n - 1), s.analysis.attributionRow + 1)
    case .up, .char("k"): s.analysis.attributionRow = max(0, s.analysis.attributionRow - 1)
    case .home, .char("g"): s.analysis.attributionRow = 0
    case .end, .char("G"): s.analysis.attributionRow = max(0, n - 1)
    case .enter:
        guard n > 0 else { return }
        s.overlay = .none
        jumpToLayerHotspot(&s, s.analysis.attributionRow, &cmds)
    default: break
    }
}

/// The doctor view's keys: ↑/↓ select a finding or a proposal; Enter on a finding jumps to its
/// layer, on a proposal adopts it (one undoable change); Esc/q close.
func handleDoctorKey(_ s: inout ViewState, _ key: Key, _ cmds: inout [Command]) {
    guard let d = s.analysis.doctor else { s.overlay = .none; return }
    let n = d.findings.count + d.proposals.count
    switch key {
    case .escape, .char("q"): s.overlay = .none
    case .down, .char("j"): s.analysis.doctorRow = min(max(0, n - 1), s.analysis.doctorRow + 1)
    case .up, .char("k"): s.analysis.doctorRow = max(0, s.analysis.doctorRow - 1)
    case .home, .char("g"): s.analysis.doctorRow = 0
    case .end, .char("G"): s.analysis.doctorRow = max(0, n - 1)
    case .enter:
        let row = s.analysis.doctorRow
        if row < d.findings.count {
            guard let l = d.findings[row].layer else {
                s.message = "this finding is about the whole network"
                s.messageIsError = false
                return
            }
            s.overlay = .none
            jumpToLayerHotspot(&s, l, &cmds)
        } else if let p = d.proposals[safe: row - d.findings.count] {
            s.overlay = .none
            let c = p.config
            requestHost(&s, .adopt(TuningState(config: c, amplitudes: p.amplitudes),
                                   label: "doctor: T \(c.T) L \(c.silent) negative \(c.negative ? "on" : "off"), \(p.rounds) A.3 rounds"),
                        line: "doctor adopt T \(c.T) beta \(Fmt.short(c.beta)) silent \(c.silent) negative \(c.negative ? "on" : "off") rounds \(p.rounds)", &cmds)
        }
    default: break
    }
}
