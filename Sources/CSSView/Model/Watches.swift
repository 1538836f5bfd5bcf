import CSSSnapshots

/// A neuron pinned to the watch pane (`:watch LAYER NEURON`): a spiking layer index and a
/// neuron of it. Kept across samples, steps and θ changes; saved with the session.
public struct Watch: Equatable, Sendable {
    public var layer: Int
    public var neuron: Int
    public init(layer: Int, neuron: Int) {
        self.layer = layer
        self.neuron = neuron
    }
}

/// What the watch pane shows of one watched neuron at global step g, read from the focused
/// sample's trace (the view never simulates).
struct WatchValues: Equatable {
    /// Local step k = g − window start (outside 0..<T+L before and after the window).
    var k: Int
    var phase: LayerPhase
    /// o/v at k; nil outside the window.
    var normalizedMembrane: Float?
    /// The spike emitted at g (0: none).
    var spike: Int8
    /// Σ S_i over the slots emitted through g.
    var spikeSum: Int
    /// margin(k0) at k0 = k clamped to 0...T+L.
    var margin: Float
    /// The ANN's activation in θ units (nil when the trace has none).
    var target: Double?
    /// a = max(h, 0)/β^L, what the window has to encode (θ units).
    var a: Float
    /// e(g) = Σ_{slots emitted through g} w_i S_i (θ units), and the residual u(g) = a − e(g);
    /// at the end of the window they are the trace's encoded value and u[T].
    var encoded: Double
    var residual: Double

    init(_ lt: LayerTrace, neuron n: Int, atGlobal g: Int, beta: Double) {
        k = lt.localStep(atGlobal: g)
        phase = lt.phase(atGlobal: g)
        normalizedMembrane = lt.normalizedMembrane(neuron: n, localStep: k)
        spike = lt.spike(neuron: n, atGlobal: g)
        let emitted = lt.slotsEmitted(atGlobal: g)
        var sum = 0
        var e = 0.0
        for i in 0..<emitted {
            // w_i = β^(T-1-i), as `ConversionConfig.slotWeights`.
            var w = 1.0
            for _ in 0..<(lt.T - 1 - i) { w *= beta }
            let sp = lt.spike(neuron: n, slot: i)
            sum += Int(sp)
            e += w * Double(sp)
        }
        spikeSum = sum
        encoded = e
        margin = lt.margin(neuron: n, k0: max(0, min(lt.window, k)))
        a = lt.target[n]
        residual = Double(lt.target[n]) - e
        if n < lt.annActivation.count {
            target = lt.theta > 0 ? Double(lt.annActivation[n]) / lt.theta : Double(lt.annActivation[n])
        }
    }
}

extension ViewState {
    /// The most neurons the watch pane holds (a tall screen's worth of rows).
    public static let maxWatches = 16

    /// The values of watch `i` at the current step; nil until the sample's trace is in.
    func watchValues(_ i: Int) -> WatchValues? {
        guard i >= 0, i < watches.count, let t = trace, t.sample == sample else { return nil }
        let w = watches[i]
        guard w.layer >= 0, w.layer < t.layers.count, w.neuron >= 0, w.neuron < t.layers[w.layer].neurons else {
            return nil
        }
        return WatchValues(t.layers[w.layer], neuron: w.neuron, atGlobal: step, beta: config?.beta ?? 2)
    }
}

/// `:watch LAYER NEURON`: pins the neuron (the watch pane comes forward); again: says so.
func addWatch(_ s: inout ViewState, _ words: [String], _ cmds: inout [Command]) throws {
    guard words.count == 2 else { throw CommandError("usage: :watch LAYER NEURON") }
    let l = try resolveLayer(words[0], s.layout)
    guard let layout = s.layout, l >= 0 else { throw CommandError(":watch takes a spiking layer, not the encoder") }
    guard let n = Int(words[1]) else { throw CommandError(":watch: '\(words[1])' is not a neuron index") }
    let count = layout.layers[l].neurons
    guard n >= 0, n < count else {
        throw CommandError(":watch: neuron \(n) out of range 0 to \(count - 1) in \(layout.layers[l].name)")
    }
    let w = Watch(layer: l, neuron: n)
    focus(&s, .watch)
    if let i = s.watches.firstIndex(of: w) {
        s.watchSelection = i
        s.message = "already watching \(layout.layers[l].name) neuron \(n) (watch \(i + 1))"
        s.messageIsError = false
        return
    }
    guard s.watches.count < ViewState.maxWatches else {
        throw CommandError("the watch pane is full (\(ViewState.maxWatches) neurons): :unwatch N or :unwatch all first")
    }
    s.watches.append(w)
    s.watchSelection = s.watches.count - 1
    s.message = "watch \(s.watches.count): \(layout.layers[l].name) neuron \(n)"
    s.messageIsError = false
    saveWatches(&s, &cmds)
}

/// `:unwatch N|all`.
func removeWatch(_ s: inout ViewState, _ words: [String], _ cmds: inout [Command]) throws {
    guard words.count == 1 else { throw CommandError("usage: :unwatch N|all") }
    if words[0] == "all" {
        let n = s.watches.count
        s.watches = []
        s.message = n == 0 ? "no watches" : "removed \(n) watch\(n == 1 ? "" : "es")"
    } else {
        guard let i = Int(words[0]) else { throw CommandError(":unwatch takes a watch number or all") }
        guard i >= 1, i <= s.watches.count else {
            throw CommandError(s.watches.isEmpty ? ":unwatch: no watches" : ":unwatch: watch \(i) out of range 1 to \(s.watches.count)")
        }
        let w = s.watches.remove(at: i - 1)
        let name = w.layer < s.spikingLayerCount ? s.rowName(w.layer + 1) : "layer \(w.layer)"
        s.message = "removed watch \(i): \(name) neuron \(w.neuron)"
    }
    s.messageIsError = false
    s.watchSelection = max(0, min(s.watches.count - 1, s.watchSelection))
    if s.watches.isEmpty, s.focus == .watch { s.focus = .layers }
    saveWatches(&s, &cmds)
}

/// The session keeps the watches: when a host saves sessions, it writes the position now (a
/// watch is not a θ change, so nothing else would save it before the next one).
func saveWatches(_ s: inout ViewState, _ cmds: inout [Command]) {
    guard s.hostCommands.contains("theta") else { return }
    cmds.append(.host(.savePosition))
    s.hostQueue.append(PendingHostRequest(request: .savePosition, line: "watch"))
}

/// Up/down in the watch pane: select a watch and show its layer and neuron in the other panes.
func moveWatch(_ s: inout ViewState, _ d: Int) {
    guard !s.watches.isEmpty else { return }
    s.watchSelection = max(0, min(s.watches.count - 1, s.watchSelection + d))
    let w = s.watches[s.watchSelection]
    guard w.layer < s.spikingLayerCount else { return }
    setLayerRow(&s, w.layer + 1)
    s.neuron = w.neuron
}

/// Restores watches from a saved position, dropping those the model no longer has.
func restoreWatches(_ s: inout ViewState, _ watches: [Watch]) {
    guard let layout = s.layout else { return }
    s.watches = Array(watches.filter { $0.layer >= 0 && $0.layer < layout.layers.count && $0.neuron >= 0
            && $0.neuron < layout.layers[$0.layer].neurons }.prefix(ViewState.maxWatches))
    s.watchSelection = 0
}

extension Keymap {
    /// `:watch` / `:unwatch` (view commands: the values come from the focused trace).
    static let watchCommands: [CommandEntry] = [
        CommandEntry("watch", usage: ":watch LAYER NEURON", help: ["pin a neuron to the watch pane (o/v, S,", "margin, target, e and u at g)"],
                     readme: "pin a neuron to the watch pane (LAYER as for `:theta`): o/v and the spike, ΣS, margin, the ANN's target (θ units), the value encoded so far and the residual u at the current step, for up to \(ViewState.maxWatches) neurons; saved in the session",
                     argument: .spikingLayer, .view { s, w, c in try addWatch(&s, w, &c) }),
        CommandEntry("unwatch", usage: ":unwatch N|all", help: ["remove watch N (as numbered) or all"],
                     readme: "remove watch N (the number the watch pane shows) or `all`", .view { s, w, c in
            try removeWatch(&s, w, &c)
        }),
    ]
}
