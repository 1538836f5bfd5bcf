/// The full trace of one spiking layer for one sample: every local step of every neuron.
/// Scrubbing through time in the debugger only reads this; it never simulates.
public struct LayerTrace: Sendable {
    public let info: SpikingLayerInfo
    public let theta: Double
    public let T: Int
    public let silent: Int
    /// Threshold v in membrane units (β^L/2, or β^L without negative spikes).
    public let threshold: Double
    /// Membrane potential o before firing, `[neuron][k]` for k in 0..<T+L.
    public let membrane: [Float]
    /// Input X[k] in θ units, `[neuron][k]` for k in 0..<T.
    public let input: [Float]
    /// Output spikes, `[neuron][slot]` for slot in 0..<T; slot i fires at local step L+i.
    public let spikes: [Int8]
    /// Target a = max(h_final, 0)/β^L (θ units).
    public let target: [Float]
    /// Encoded value e = Σ w_i S_i (θ units).
    public let encoded: [Float]
    /// ANN activation of this neuron for this sample (ANN units).
    public let annActivation: [Float]
    /// margin(k0), `[neuron][k0]` for k0 in 0...T+L.
    public let margins: [Float]

    public init(info: SpikingLayerInfo, theta: Double, T: Int, silent: Int, threshold: Double,
                membrane: [Float], input: [Float], spikes: [Int8], target: [Float], encoded: [Float],
                annActivation: [Float], margins: [Float]) {
        self.info = info
        self.theta = theta
        self.T = T
        self.silent = silent
        self.threshold = threshold
        self.membrane = membrane
        self.input = input
        self.spikes = spikes
        self.target = target
        self.encoded = encoded
        self.annActivation = annActivation
        self.margins = margins
    }

    public var window: Int { T + silent }
    public var neurons: Int { info.neurons }

    /// Bytes of the per-neuron arrays (memory budgets).
    public var heldBytes: Int {
        4 * (membrane.count + input.count + target.count + encoded.count + annActivation.count + margins.count)
            + spikes.count
    }

    /// Local step for a global step (may be outside 0..<window).
    public func localStep(atGlobal g: Int) -> Int { g - info.windowStart }

    public func phase(atGlobal g: Int) -> LayerPhase {
        let k = localStep(atGlobal: g)
        if k < 0 { return .waiting }
        if k >= window { return .done }
        return k < silent ? .silent : .firing
    }

    /// o at a local step, or nil outside the window.
    public func membrane(neuron n: Int, localStep k: Int) -> Float? {
        guard k >= 0, k < window else { return nil }
        return membrane[n * window + k]
    }

    /// o/v: ±1 is the firing threshold.
    public func normalizedMembrane(neuron n: Int, localStep k: Int) -> Float? {
        membrane(neuron: n, localStep: k).map { $0 / Float(threshold) }
    }

    public func spike(neuron n: Int, slot i: Int) -> Int8 { spikes[n * T + i] }

    /// The spike emitted at a global step (slot = k - L), 0 when none.
    public func spike(neuron n: Int, atGlobal g: Int) -> Int8 {
        let slot = localStep(atGlobal: g) - silent
        guard slot >= 0, slot < T else { return 0 }
        return spikes[n * T + slot]
    }

    /// Number of slots already emitted at global step g.
    public func slotsEmitted(atGlobal g: Int) -> Int {
        max(0, min(T, localStep(atGlobal: g) - silent + 1))
    }

    /// Positive and negative spikes emitted up to and including global step g.
    public func spikeCounts(throughGlobal g: Int) -> (positive: Int, negative: Int) {
        let upto = slotsEmitted(atGlobal: g)
        var p = 0, m = 0
        if upto == 0 { return (0, 0) }
        for n in 0..<neurons {
            let base = n * T
            for i in 0..<upto {
                let s = spikes[base + i]
                if s > 0 { p += 1 } else if s < 0 { m += 1 }
            }
        }
        return (p, m)
    }

    public func margin(neuron n: Int, k0: Int) -> Float { margins[n * (window + 1) + k0] }

    public func residual(neuron n: Int) -> Float { target[n] - encoded[n] }
}

/// Spikes of the input encoder for one sample.
public struct EncoderTrace: Sendable {
    public let theta: Double
    public let T: Int
    /// `[input element][slot]`.
    public let spikes: [Int8]
    public let inputs: [Float]

    public init(theta: Double, T: Int, spikes: [Int8], inputs: [Float]) {
        self.theta = theta
        self.T = T
        self.spikes = spikes
        self.inputs = inputs
    }
}

/// Everything about one focused sample, at every global step.
public struct SampleTrace: Sendable {
    public let layout: NetworkLayout
    public let sample: Int
    public let label: Int?
    public let annOutput: [Float]
    public let encoder: EncoderTrace
    public let layers: [LayerTrace]
    /// Weighted output contribution of each slot, `[slot][class]` = w_k · A_out(values at k).
    public let outputSlots: [Float]

    public init(layout: NetworkLayout, sample: Int, label: Int?, annOutput: [Float], encoder: EncoderTrace,
                layers: [LayerTrace], outputSlots: [Float]) {
        self.layout = layout
        self.sample = sample
        self.label = label
        self.annOutput = annOutput
        self.encoder = encoder
        self.layers = layers
        self.outputSlots = outputSlots
    }

    public var annPrediction: Int { argmax(annOutput) }

    /// Decoded output using the slots that have reached the integrator by global step g.
    public func decodedOutput(atGlobal g: Int) -> [Float] {
        let classes = layout.outputCount
        var sum = [Float](repeating: 0, count: classes)
        let arrived = min(layout.config.T, g - layout.outputStart + 1)
        guard arrived > 0 else { return sum }
        for k in 0..<arrived {
            for c in 0..<classes { sum[c] += outputSlots[k * classes + c] }
        }
        return sum
    }

    /// The anytime prediction at global step g; nil before any slot has arrived.
    public func anytimePrediction(atGlobal g: Int) -> Int? {
        guard g >= layout.outputStart else { return nil }
        return argmax(decodedOutput(atGlobal: g))
    }

    public var snnPrediction: Int { argmax(decodedOutput(atGlobal: layout.latency)) }
}

/// Index of the first maximum (counted from the collection's start).
public func argmax<C: Collection>(_ v: C) -> Int where C.Element == Float {
    var best = 0, bestValue = -Float.infinity, i = 0
    for x in v {
        if i == 0 || x > bestValue { best = i; bestValue = x }
        i += 1
    }
    return best
}
