/// Constants of the TSA-ReLU recurrence for one config, computed once.
struct TSAParameters {
    let T: Int
    let L: Int
    let beta: Float
    let threshold: Float
    let reset: Float
    let negative: Bool
    /// β^L: the target is max(h_final, 0)/β^L.
    let targetDivisor: Float
    let slotWeights: [Float]
    /// capacity(k0) = 1 + Σ_{i ≥ max(0, k0-L), i < T} w_i, for k0 = 0...T+L.
    let capacity: [Float]

    init(_ c: ConversionConfig) {
        T = c.T
        L = c.silent
        beta = Float(c.beta)
        threshold = Float(c.threshold)
        reset = Float(c.reset)
        negative = c.negative
        targetDivisor = Float(c.reset)
        let w = c.slotWeights
        slotWeights = w.map(Float.init)
        capacity = (0...(c.T + c.silent)).map { k0 in
            let first = max(0, k0 - c.silent)
            return Float(1 + (first < c.T ? w[first...].reduce(0, +) : 0))
        }
    }
}

/// Per-neuron recording for the focused sample (batch of one). Raw buffers, because channel
/// blocks write disjoint parts of them from several threads.
final class TraceRecorder: @unchecked Sendable {
    let neurons: Int, T: Int, window: Int
    let membrane: UnsafeMutablePointer<Float>
    let input: UnsafeMutablePointer<Float>
    let target: UnsafeMutablePointer<Float>
    let encoded: UnsafeMutablePointer<Float>
    let margins: UnsafeMutablePointer<Float>

    init(neurons: Int, T: Int, window: Int) {
        self.neurons = neurons
        self.T = T
        self.window = window
        func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, n))
            p.initialize(repeating: 0, count: max(1, n))
            return p
        }
        membrane = alloc(neurons * window)
        input = alloc(neurons * T)
        target = alloc(neurons)
        encoded = alloc(neurons)
        margins = alloc(neurons * (window + 1))
    }

    deinit {
        for p in [membrane, input, target, encoded, margins] { p.deallocate() }
    }

    static func array(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: p, count: n))
    }
}

/// One spiking layer over its whole window for a batch: TSA-ReLU recurrence (css-spec §5),
/// fused per channel over contiguous runs, plus the decoupling diagnostics (§6).
enum TSALayer {
    /// - Parameters:
    ///   - z: the layer's input in ANN units, T·B columns ordered slot-major (column = k·B + b).
    ///   - ann: the ANN's ReLU output for the same batch (B columns), for the RMSE; optional.
    ///   - sampleOffset: index of the batch's first sample in the data set (for hotspots).
    /// - Returns: the output spikes scaled by θ (T·B columns) and the layer's statistics.
    static func run(z: Activation, theta: Double, params p: TSAParameters, batch B: Int, layer: Int,
                    ann: Activation?, sampleOffset: Int, recorder: TraceRecorder?)
        -> (Activation, LayerStatistics)
    {
        let C = z.channels, hw = z.spatial, T = p.T, L = p.L, window = T + L
        let run = B * hw
        precondition(z.columns == T * B)
        var out = Activation(zeros: z.shape, columns: z.columns)
        let thetaF = Float(theta), invTheta = 1 / Float(theta)
        // Blocks of channels sized by work, not by thread count (deterministic merges).
        let blockSize = max(1, (1 << 15) / max(1, run * window))
        let blocks = (C + blockSize - 1) / blockSize
        var partials = [LayerStatistics](repeating: LayerStatistics(window: window), count: blocks)
        z.data.withUnsafeBufferPointer { zp in
            out.data.withUnsafeMutableBufferPointer { op in
                partials.withUnsafeMutableBufferPointer { pp in
                    let zb = zp.baseAddress!, ob = op.baseAddress!, pb = pp.baseAddress!
                    parallelBlocks(C, blockSize: blockSize) { channels in
                        var stats = LayerStatistics(window: window)
                        var h = [Float](repeating: 0, count: run)
                        var g = [Float](repeating: 0, count: run)
                        for c in channels {
                            for i in 0..<run { h[i] = 0; g[i] = 0 }
                            let zc = zb + c * T * run, oc = ob + c * T * run
                            for k in 0..<window {
                                let xin: UnsafePointer<Float>? = k < T ? UnsafePointer(zc + k * run) : nil
                                let fires = k >= L
                                let spikeRow = oc + (k - L) * run
                                for i in 0..<run {
                                    let x = xin.map { $0[i] * invTheta } ?? 0
                                    let hi = p.beta * h[i] + x
                                    var gi = p.beta * g[i]
                                    let o = hi >= 0 ? hi - gi : -gi
                                    h[i] = hi
                                    if let r = recorder {
                                        let n = c * hw + i
                                        r.membrane[n * window + k] = o
                                        if k < T { r.input[n * T + k] = x }
                                    }
                                    if fires {
                                        var s: Float = 0
                                        if o >= p.threshold { s = 1 } else if p.negative && o <= -p.threshold { s = -1 }
                                        gi += p.reset * s
                                        spikeRow[i] = s
                                    }
                                    g[i] = gi
                                }
                            }
                            // Diagnostics per neuron, from the spikes just written (still ±1 here).
                            for i in 0..<run {
                                let b = i / hw, pos = i % hw
                                let a = max(h[i], 0) / p.targetDivisor
                                var e: Float = 0
                                for slot in 0..<T {
                                    let s = oc[slot * run + i]
                                    e = e * p.beta + s
                                    if s > 0 { stats.spikesPositive += 1 } else if s < 0 { stats.spikesNegative += 1 }
                                }
                                let u = a - e
                                stats.addPair(residual: u)
                                if let ann {
                                    let d = Double(thetaF * e - ann.data[(c * B + b) * hw + pos])
                                    stats.squaredError += d * d
                                }
                                // margin(k0) = capacity(k0) - |a - Σ_{L+i<k0} w_i S_i|
                                var pending = a
                                var first = -1
                                var worst = Float.infinity
                                for k0 in 0...window {
                                    let slot = k0 - 1 - L
                                    if slot >= 0 && slot < T { pending -= p.slotWeights[slot] * oc[slot * run + i] }
                                    let m = p.capacity[k0] - abs(pending)
                                    if let r = recorder { r.margins[(c * hw + i) * (window + 1) + k0] = m }
                                    worst = min(worst, m)
                                    if m <= 0 {
                                        stats.violationsByStep[k0] += 1
                                        if first < 0 { first = k0 }
                                    }
                                }
                                if first >= 0 {
                                    stats.firstViolationByStep[first] += 1
                                    let kind: ViolationKind = first == 0 ? .overflow : .coupling
                                    if kind == .overflow { stats.overflow += 1 } else { stats.coupling += 1 }
                                    stats.addHotspot(Hotspot(layer: layer, neuron: c * hw + pos, sample: sampleOffset + b,
                                                             kind: kind, firstViolationStep: first,
                                                             worstMargin: Double(worst), residual: Double(abs(u))))
                                }
                                if let r = recorder {
                                    r.target[c * hw + i] = a
                                    r.encoded[c * hw + i] = e
                                }
                            }
                            for j in 0..<(T * run) { oc[j] *= thetaF }
                        }
                        pb[channels.lowerBound / blockSize] = stats
                    }
                }
            }
        }
        var total = LayerStatistics(window: window)
        for s in partials { total.merge(s) }
        return (out, total)
    }
}
