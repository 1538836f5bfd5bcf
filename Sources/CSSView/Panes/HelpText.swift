/// The help overlay's text: every key and every `:` command from `Keymap` (the host's only when
/// it serves them), then every abbreviation the screen uses, so nothing on screen needs guessing.
extension HelpOverlay {
    static func lines(_ s: ViewState) -> [String] {
        let arrows = s.glyphs.unicode ? "↑↓" : "up/dn"
        let minus = s.glyphs.unicode ? "−" : "-"
        let theta = s.glyphs.unicode ? "θ" : "theta"
        var rows: [(String, String)] = [("KEYS", "")]
        for e in Keymap.keys where e.isActive(s) {
            rows += zip([e.label] + Array(repeating: "", count: max(0, e.help.count - 1)), e.help).map { ($0, $1) }
        }
        rows += [
            ("", ""),
            ("COMMANDS", ": opens the line, \(arrows) history, Tab completes"),
            ("", "(a second Tab cycles through the candidates)"),
        ]
        let live = Keymap.commands.filter { !$0.isHost || s.hasCommand($0.name) }
        for e in live {
            rows += zip([e.usage] + Array(repeating: "", count: max(0, e.help.count - 1)), e.help).map { ($0, $1) }
        }
        if live.contains(where: { [.spikingLayer, .spikingLayerOrAll].contains($0.argument) }) {
            rows.append(("", "LAYER: name, ONNX tensor or spiking index"))
        }
        rows = rows.map { (forScreen($0, s), forScreen($1, s)) }
        rows += [
            ("", ""),
            ("ON SCREEN", ""),
            ("now", "phase at g: wait, sil(ent), fire, done"),
            ("+spk / -spk", "this sample's +/\(minus) spikes up to step g"),
            ("p99.9 ovf cpl", "the data set: 99.9th percentile of |u[T]|,"),
            ("", "neurons×samples with overflow (margin ≤ 0"),
            ("", "at k0 = 0) and with temporal coupling"),
            ("", "(margin ≤ 0 later); until the report is in,"),
            ("", "the focused sample's (the title says so)"),
            ("Δ", "change against the report before the last"),
            ("", "change (green better, red worse; \(theta): %)"),
            ("9.7k 1.2M", "counts rounded to thousands / millions"),
            ("\(theta)", "spike amplitude of the layer"),
            ("(Δ / Δ)", "status line: change against the previous"),
            ("", "report / against the first (calibrated) one"),
            ("o/v", "membrane potential over the threshold v"),
            ("\(s.glyphs.plus) \(s.glyphs.minus)", "a spike of this step (heatmap, raster)"),
            ("±v", "the firing thresholds in the neuron's plot"),
            ("a e u", "target a, encoded e and residual u = a \(minus) e,"),
            ("", "in \(theta) units; ANN/\(theta): the ANN's value in \(theta)"),
            ("X  S  m", "input X[k], spikes S, margin at each k0"),
            ("k0", "local step where the decoupling margin is"),
            ("", "checked; T+L (end) is the window's end"),
            ("|u|≥1", "neurons×samples with a residual of 1 or more"),
            ("out B/A", "histogram: |u| below / above its range"),
            ("n s k0 m |u|", "hotspot: neuron, sample, first violation,"),
            ("", "worst margin, residual"),
        ]
        // A long left column (a command with its arguments) gets a line of its own.
        return rows.flatMap { left, right -> [String] in
            if DisplayWidth.of(left) <= 14 { return [DisplayWidth.pad(left, to: 14) + " " + right] }
            return right.isEmpty ? [left] : [left, String(repeating: " ", count: 15) + right]
        }
    }
}

extension HelpOverlay {
    /// Table text (written with Unicode) as this screen draws it: ASCII spells out θ, −, the
    /// arrows and the focus marker.
    static func forScreen(_ text: String, _ s: ViewState) -> String {
        var out = ""
        var rest = Substring(text)
        let swaps: [(String, String)] = [("▶", String(s.glyphs.focusMarker))]
            + (s.glyphs.unicode ? [] : [("θ", "theta"), ("−", "-"), ("↑↓", "up/dn"), ("←→", "lt/rt")])
        while !rest.isEmpty {
            if let (from, to) = swaps.first(where: { rest.hasPrefix($0.0) }) {
                out += to
                rest = rest.dropFirst(from.count)
            } else {
                out.append(rest.removeFirst())
            }
        }
        return out
    }
}
