/// What a key does to the state (and which effects it asks for).
public typealias KeyAction = @Sendable (inout ViewState, inout [Command]) -> Void

/// One row of the key table: the keys, what they do, and how help and docs/debugger.md describe them.
/// Help text is written with Unicode (θ, −, ↑↓); the ASCII screen spells those out.
public struct KeyEntry: Sendable {
    /// As the help overlay shows the keys: `n / b`.
    public let label: String
    /// As docs/debugger.md shows them: `` `n` / `b` ``.
    public let readmeKeys: String
    /// Help overlay lines beside / below the label.
    public let help: [String]
    /// The description in docs/debugger.md (Markdown).
    public let readme: String
    /// Only while this pane has focus (looked up before the global keys); nil: everywhere.
    public let pane: Pane?
    /// The host command the keys ask for: without it they do nothing and are not listed.
    public let host: String?
    public let bindings: [(key: Key, action: KeyAction)]

    init(_ label: String, readmeKeys: String? = nil, help: [String], readme: String? = nil, pane: Pane? = nil,
         host: String? = nil, _ bindings: [(key: Key, action: KeyAction)]) {
        self.label = label
        self.readmeKeys = readmeKeys ?? label.split(separator: " ").map { $0.count == 1 && $0 != "/" ? "`\($0)`" : String($0) }
            .joined(separator: " ")
        self.help = help
        self.readme = readme ?? help.joined(separator: " ")
        self.pane = pane
        self.host = host
        self.bindings = bindings
    }

    /// The keys are live in this state (their host command is served).
    func isActive(_ s: ViewState) -> Bool { host.map(s.hasCommand) ?? true }
}

/// The debugger's keys and `:` commands as data: key dispatch, the help overlay, `:` completion
/// and the tables in docs/debugger.md are all read from here. A new key or command is one entry.
public enum Keymap {
    /// The motions a count prefix repeats (`5n`, `10]`): steps, samples, layers, neurons, pages,
    /// search matches and the table's sideways scroll.
    static let repeatableKeys: Set<Key> = [
        .char("n"), .char("b"), .char("["), .char("]"), .char("j"), .char("k"), .char("h"), .char("l"),
        .up, .down, .left, .right, .pageUp, .pageDown, .char("f"), .char("F"), .char("{"), .char("}"),
    ]

    /// Every key of the main screen, in the order help and docs/debugger.md list them.
    public static let keys: [KeyEntry] = [
        KeyEntry("n / b", help: ["step forward / back one global step"], [
            (.char("n"), { s, _ in setStep(&s, s.step + 1) }), (.char("b"), { s, _ in setStep(&s, s.step - 1) }),
        ]),
        KeyEntry("g / G", help: ["first / last step"], readme: "jump to step 0 / to the end (latency)", [
            (.char("g"), { s, _ in setStep(&s, 0) }), (.char("G"), { s, _ in setStep(&s, s.maxStep) }),
        ]),
        KeyEntry("space", help: ["play / pause"], [(.char(" "), { s, _ in togglePlay(&s) })]),
        KeyEntry("+ / -", help: ["play speed up / down (0.5 to 32 steps/s)"], [
            (.char("+"), { s, _ in changeSpeed(&s, 1) }), (.char("="), { s, _ in changeSpeed(&s, 1) }),
            (.char("-"), { s, _ in changeSpeed(&s, -1) }), (.char("_"), { s, _ in changeSpeed(&s, -1) }),
        ]),
        KeyEntry("w", help: ["jump to the selected layer's window start"], [
            (.char("w"), { s, _ in setStep(&s, s.selectedWindowStart) }),
        ]),
        KeyEntry("[ / ]", help: ["previous / next sample"], [
            (.char("["), { s, c in selectSample(&s, s.sample - 1, &c) }),
            (.char("]"), { s, c in selectSample(&s, s.sample + 1, &c) }),
        ]),
        KeyEntry("↑↓  j / k", readmeKeys: "↑↓ `j` / `k`", help: ["select layer (membrane: move in grid,", "raster: neuron, coupling: hotspot)"],
                 readme: "select layer (membrane: move in the grid, raster: neuron, coupling pane: hotspot)", [
            (.up, { s, _ in moveVertical(&s, -1) }), (.char("k"), { s, _ in moveVertical(&s, -1) }),
            (.down, { s, _ in moveVertical(&s, 1) }), (.char("j"), { s, _ in moveVertical(&s, 1) }),
        ]),
        KeyEntry("←→  h / l", readmeKeys: "←→ `h` / `l`", help: ["select neuron (coupling pane: hotspot)"], [
            (.left, { s, _ in moveSideways(&s, -1) }), (.char("h"), { s, _ in moveSideways(&s, -1) }),
            (.right, { s, _ in moveSideways(&s, 1) }), (.char("l"), { s, _ in moveSideways(&s, 1) }),
        ]),
        KeyEntry("PgUp / PgDn", help: ["page (membrane, raster, hotspots, layers)"], [
            (.pageUp, { s, _ in page(&s, -1) }), (.pageDown, { s, _ in page(&s, 1) }),
        ]),
        KeyEntry("Home / End", help: ["first / last neuron"], [
            (.home, { s, _ in setNeuron(&s, 0) }), (.end, { s, _ in setNeuron(&s, s.neuronCount - 1) }),
        ]),
        KeyEntry("Tab / S-Tab", readmeKeys: "Tab / Shift-Tab", help: ["cycle pane focus (focused pane: lit frame, ▶)"],
                 readme: "cycle pane focus", [
            (.tab, { s, _ in cycleFocus(&s, forward: true) }), (.backTab, { s, _ in cycleFocus(&s, forward: false) }),
        ]),
        KeyEntry("Enter", help: ["coupling pane: jump to the selected hotspot"], readme: "jump to the selected hotspot", pane: .coupling, [
            (.enter, { s, c in openHotspot(&s, s.hotspot, &c) }),
        ]),
        KeyEntry("o / c / a", help: ["coupling pane: hotspots overflow/coupling/all"],
                 readme: "list the overflow / coupling / all hotspots", pane: .coupling, [
            (.char("o"), { s, _ in setHotspotFilter(&s, .overflow) }),
            (.char("c"), { s, _ in setHotspotFilter(&s, .coupling) }),
            (.char("a"), { s, _ in setHotspotFilter(&s, .all) }),
        ]),
        KeyEntry("H", help: ["the selected layer's worst hotspot"],
                 readme: "jump to the selected layer's worst hotspot in the data set (its sample, neuron and first violation; the list keeps that layer's, `o`/`c`/`a` still filter)", [
            (.char("H"), { s, c in
                guard let l = s.selectedLayer else {
                    s.message = "select a spiking layer first (j/k): H jumps to its worst hotspot"
                    s.messageIsError = true
                    return
                }
                s.hotspotLayer = l
                guard !s.visibleHotspots.isEmpty else {
                    let kind = s.hotspotFilter == .all ? "" : s.hotspotFilter.rawValue + " "
                    s.message = s.report == nil ? "no data-set report yet: H needs its hotspots (r computes it)"
                        : "no \(kind)hotspots in \(s.rowName(s.layerRow))"
                    s.messageIsError = s.report == nil
                    return
                }
                openHotspot(&s, 0, &c)  // the report lists each kind worst first
            }),
        ]),
        KeyEntry("s", help: ["layer list: cycle its order (:sort)"], readme: "cycle its order (`:sort`)", pane: .layers, [
            (.char("s"), { s, _ in
                let all = LayerSort.allCases
                setLayerSort(&s, all[((all.firstIndex(of: s.layerSort) ?? 0) + 1) % all.count])
            }),
        ]),
        KeyEntry("{ / }", help: ["neuron pane: scroll its table sideways"],
                 readme: "scroll the table sideways when the window is wider than the pane (a step key follows the step again)",
                 pane: .inspector, [
            (.char("{"), { s, _ in InspectorColumns.scroll(&s, -1) }), (.char("}"), { s, _ in InspectorColumns.scroll(&s, 1) }),
        ]),
        KeyEntry("/", readmeKeys: "`/`", help: ["find layer (Enter keeps, Esc goes back)"], readme: "find a layer by name (Enter keeps, Esc goes back)", [
            (.char("/"), { s, _ in s.prompt = Prompt(kind: .find, originRow: s.layerRow, originNeuron: s.neuron) }),
        ]),
        KeyEntry("E", help: ["layer list: operation columns on/off", "(ANN MACs, SNN synaptic ops, ratio)"],
                 readme: "show or hide the operation columns of the layer list: the ANN's MACs feeding each layer, the SNN's synaptic operations per sample (input events × fan-out over the T slots) and their ratio (docs/numerics.md §13); they take the place of the Δ columns while shown. The status line shows the energy per sample, SNN against ANN (45 nm: 0.9 pJ per synaptic operation, 4.6 pJ per MAC)", [
            (.char("E"), { s, _ in
                s.analysis.operations.toggle()
                if s.analysis.operations, s.report?.operations == nil {
                    s.message = "operation counts come with the data-set report (r computes it)"
                } else {
                    s.message = s.analysis.operations ? "layer list: MACs, synaptic ops per sample and their ratio (E hides them)"
                        : "layer list: operation columns hidden"
                }
                s.messageIsError = false
            }),
        ]),
        KeyEntry("f / F", help: ["next / previous layer matching the last /"],
                 readme: "go to the next / previous layer matching the last `/` search (wrapping around; `n` stays a time step)", [
            (.char("f"), { s, _ in repeatSearch(&s, forward: true) }), (.char("F"), { s, _ in repeatSearch(&s, forward: false) }),
        ]),
        KeyEntry("r", help: ["compute the data-set report"], readme: "recompute the data-set report", [
            (.char("r"), { s, c in startReport(&s, &c) }),
        ]),
        KeyEntry("> / <", help: ["θ of the selected layer +5% / −5%"], host: "scale", [
            (.char(">"), { s, c in scaleSelected(&s, 1.05, &c) }), (.char("<"), { s, c in scaleSelected(&s, 0.95, &c) }),
        ]),
        KeyEntry(". / ,", help: ["θ of the selected layer +1% / −1%"], host: "scale", [
            (.char("."), { s, c in scaleSelected(&s, 1.01, &c) }), (.char(","), { s, c in scaleSelected(&s, 0.99, &c) }),
        ]),
        KeyEntry("a / A", help: ["one A.3 round: selected layer / all layers", "(in the coupling pane a shows all hotspots)"],
                 readme: "one A.3 round on the selected layer / on all layers", host: "adjust", [
            (.char("a"), { s, c in
                if let i = tuningLayer(&s) { requestHost(&s, .adjust(layer: i, rounds: 1), line: "adjust \(i) 1", &c) }
            }),
            (.char("A"), { s, c in requestHost(&s, .adjust(layer: nil, rounds: 1), line: "adjust all 1", &c) }),
        ]),
        KeyEntry("u / U", help: ["undo / redo a tuning change"], host: "undo", [
            (.char("u"), { s, c in requestHost(&s, .undo, line: "undo", &c) }),
            (.char("U"), { s, c in if s.hasCommand("redo") { requestHost(&s, .redo, line: "redo", &c) } }),
        ]),
        KeyEntry("R", help: ["reset the selected layer's θ to calibration"], host: "reset", [
            (.char("R"), { s, c in
                if let i = tuningLayer(&s) { requestHost(&s, .reset(layer: i), line: "reset \(i)", &c) }
            }),
        ]),
        KeyEntry("c / C", help: ["continue to the next / previous breakpoint hit", "(with progress; Esc cancels)"],
                 readme: "continue forward / backward to the next hit of the enabled breakpoints (`:break`); selects its sample, step, layer and neuron; Esc cancels the search", host: "break", [
            (.char("c"), { s, c in requestHost(&s, .breakpoint(.next(forward: true)), line: "continue", &c) }),
            (.char("C"), { s, c in requestHost(&s, .breakpoint(.next(forward: false)), line: "reverse-continue", &c) }),
        ]),
        KeyEntry("mouse", readmeKeys: "mouse", help: ["click layers, neurons, hotspots, panes;", "the wheel scrolls the pane under it"],
                 readme: "click layers, neurons, hotspots, panes; the wheel scrolls the pane under the pointer (as ↑/↓ there)", []),
        KeyEntry("5n  10]", readmeKeys: "`5n`, `10]`", help: ["a count repeats a motion (n b [ ] j k h l", "arrows, PgUp/PgDn, f F { })"],
                 readme: "a count typed first repeats a motion, as in vim and less: steps, samples, layers, neurons, pages, search matches", []),
        KeyEntry(":", help: ["the command line (COMMANDS below)"], readme: "open the command line", [
            (.char(":"), { s, _ in s.prompt = Prompt(kind: .command) }),
        ]),
        KeyEntry("? / F1", readmeKeys: "`?`, F1", help: ["toggle this help"], readme: "help", [
            (.char("?"), { s, _ in openHelp(&s) }), (.function(1), { s, _ in openHelp(&s) }),
        ]),
        KeyEntry("Esc", help: ["close overlays; cancel a running :adjust"],
                 readme: "close overlays and the message; cancels a running `:adjust` (θ stays as it was)", [
            (.escape, { s, c in escape(&s, &c) }),
        ]),
        KeyEntry("q / F10 / Ctrl-C", readmeKeys: "`q`, F10, Ctrl-C", help: ["quit (:q! without asking about unsaved θ)"],
                 readme: "quit, exit status 0 (Ctrl-C and SIGINT exit 130, SIGTERM 143, SIGHUP 129; every way out restores the terminal, also while work is in flight); with `--no-session` and θ changes no `:w` wrote, `q` asks first (`:q!` does not)", [
            (.char("q"), { s, c in requestQuit(&s, &c) }), (.function(10), { s, c in requestQuit(&s, &c) }),
            (.ctrlC, { _, c in c.append(.quit) }),
        ]),
    ]

    /// The action `key` has in this state: the focused pane's keys first, then the global ones.
    static func action(for key: Key, in s: ViewState) -> KeyAction? {
        for wantPane in [true, false] {
            for e in keys where (wantPane ? e.pane == s.focus : e.pane == nil) && e.isActive(s) {
                if let b = e.bindings.first(where: { $0.key == key }) { return b.action }
            }
        }
        return nil
    }
}
