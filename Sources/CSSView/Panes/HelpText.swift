/// The help overlay's text: every key, every `:` command with its arguments (`:set` keys
/// included), and every abbreviation the screen uses, so nothing on screen needs guessing.
extension HelpOverlay {
    /// Usage of the host commands the view knows about (others are listed by name).
    static let usage: [String: String] = [
        "theta": ":theta LAYER VALUE", "scale": ":scale LAYER FACTOR", "adjust": ":adjust [LAYER|all] [ROUNDS 1-100]",
        "reset": ":reset [LAYER|all]", "undo": ":undo", "redo": ":redo", "w": ":w [FILE]", "w!": ":w! [FILE]", "load": ":load FILE",
        "restore": ":restore", "discard": ":discard",
    ]

    static func lines(_ s: ViewState) -> [String] {
        let arrows = s.glyphs.unicode ? "↑↓" : "up/dn"
        let lr = s.glyphs.unicode ? "←→" : "lt/rt"
        let minus = s.glyphs.unicode ? "−" : "-"
        let theta = s.glyphs.unicode ? "θ" : "theta"
        var rows: [(String, String)] = [("KEYS", "")]
        rows += [
            ("n / b", "step forward / back one global step"),
            ("g / G", "first / last step"),
            ("space", "play / pause      + / -   play speed"),
            ("w", "jump to the selected layer's window start"),
            ("[ / ]", "previous / next sample"),
            ("\(arrows)  j / k", "select layer (membrane: move in grid,"),
            ("", "raster: neuron, coupling: hotspot)"),
            ("\(lr)  h / l", "select neuron"),
            ("PgUp / PgDn", "page (membrane, raster, hotspots, layers)"),
            ("Home / End", "first / last neuron"),
            ("Tab / S-Tab", "cycle pane focus (focused pane: lit frame, \(s.glyphs.focusMarker))"),
            ("Enter", "coupling pane: jump to the selected hotspot"),
            ("o / c / a", "coupling pane: hotspots overflow/coupling/all"),
            ("/", "find layer (Enter keeps, Esc goes back)"),
            ("r", "compute the data-set report"),
        ]
        // θ tuning keys, for the commands the host registered.
        if s.hasCommand("scale") {
            rows.append(("> / <", "\(theta) of the selected layer +5% / \(minus)5%"))
            rows.append((". / ,", "\(theta) of the selected layer +1% / \(minus)1%"))
        }
        if s.hasCommand("adjust") {
            rows.append(("a / A", "one A.3 round: selected layer / all layers"))
            rows.append(("", "(in the coupling pane a shows all hotspots)"))
        }
        if s.hasCommand("undo") || s.hasCommand("redo") { rows.append(("u / U", "undo / redo a tuning change")) }
        if s.hasCommand("reset") { rows.append(("R", "reset the selected layer's \(theta) to calibration")) }
        rows += [
            ("mouse", "click layers, neurons, hotspots, panes"),
            ("?", "toggle this help        Esc  close overlays"),
            ("q / Ctrl-C", "quit (:q! without asking about unsaved \(theta))"),
            ("", ""),
            ("COMMANDS", ": opens the line, \(arrows) history, Tab completes"),
            ("", "(a second Tab cycles through the candidates)"),
            (":sample N", "go to sample N (0 to samples-1)"),
            (":step G", "go to global step G (0 to latency)"),
            (":layer NAME", "select a layer (name, prefix or part)"),
            (":neuron I", "select neuron I of the layer"),
            (":report", "compute the data-set report again"),
            (":hotspots F", "F: all, overflow, coupling or a LAYER"),
            (":focus PANE", "layers membrane neuron raster histogram"),
            ("", "coupling"),
            (":speed N", "play speed in steps/s (0.5 to 32)"),
            (":sort KEY", "layer list order: graph, coupling, overflow,"),
            ("", "residual (worst first); s in the list cycles"),
            (":help  :q  :q!", "this help; quit; quit without asking"),
        ]
        for name in s.customCommands {
            let u = usage[name] ?? ":" + name
            switch name {
            case "theta": rows.append((u, "set \(theta) of a layer"))
            case "scale": rows.append((u, "multiply \(theta) of a layer"))
            case "adjust": rows.append((u, "A.3 rounds on the calibration set"))
            case "reset": rows.append((u, "back to the calibrated \(theta)"))
            case "undo", "redo": if name == "undo" { rows.append((":undo  :redo", "walk the tuning history")) }
            case "set":
                rows.append((":set KEY VALUE", "reconvert; KEY is one of"))
                rows.append(("", "T (time steps 1-64), beta (β 1-4),"))
                rows.append(("", "silent (L 0-16), negative on|off,"))
                rows.append(("", "rate on|off (β 1, L 0, no negative),"))
                rows.append(("", "percentile (calibration, e.g. 99.99)"))
            case "w": rows.append((u, "write \(theta) (cssdbg-theta/1)"))
            case "load": rows.append((u, "load \(theta) and config from a \(theta) file"))
            case "restore", "discard":
                if name == "restore" { rows.append((":restore :discard", "restore / discard the saved session")) }
            default: rows.append((u, ""))
            }
        }
        if s.customCommands.contains(where: { layerArgumentCommands.contains($0) }) {
            rows.append(("", "LAYER: name, ONNX tensor or spiking index"))
        }
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
