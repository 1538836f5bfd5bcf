import CSSSnapshots

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

/// Per-neuron recording for the focused sample (batch of one). Raw pointers, because channel
/// blocks write disjoint parts of them from several threads; they point into the arrays the
/// layer's trace keeps (`recording`), so a trace at 224×224 (about 320 MB of rows on ResNet-18)
/// is written once instead of into scratch buffers and then copied.
final class TraceRecorder: @unchecked Sendable {
    let neurons: Int, T: Int, window: Int
    let membrane: UnsafeMutablePointer<Float>
    let input: UnsafeMutablePointer<Float>
    let target: UnsafeMutablePointer<Float>
    let encoded: UnsafeMutablePointer<Float>
    let margins: UnsafeMutablePointer<Float>

    private init(neurons: Int, T: Int, window: Int, membrane: UnsafeMutablePointer<Float>,
                 input: UnsafeMutablePointer<Float>, target: UnsafeMutablePointer<Float>,
                 encoded: UnsafeMutablePointer<Float>, margins: UnsafeMutablePointer<Float>) {
        self.neurons = neurons
        self.T = T
        self.window = window
        self.membrane = membrane
        self.input = input
        self.target = target
        self.encoded = encoded
        self.margins = margins
    }

    /// The rows one layer's run records, in the arrays `body` fills through the recorder. Every
    /// row is written by `TSALayer.run` (each channel copies all of its neurons' rows), so the
    /// arrays are not cleared first: a whole pass over them saved, and the bit-identity tests
    /// against the per-neuron implementation would see a row left out.
    static func recording(neurons: Int, T: Int, window: Int, _ body: (TraceRecorder) throws -> Void) rethrows
        -> (membrane: [Float], input: [Float], target: [Float], encoded: [Float], margins: [Float])
    {
        func rows(_ n: Int, _ fill: (UnsafeMutablePointer<Float>) throws -> Void) rethrows -> [Float] {
            try [Float](unsafeUninitializedCapacity: n) { buffer, count in
                try fill(buffer.baseAddress ?? UnsafeMutablePointer<Float>(bitPattern: 16)!)
                count = n
            }
        }
        var result: (membrane: [Float], input: [Float], target: [Float], encoded: [Float], margins: [Float])
            = ([], [], [], [], [])
        result.membrane = try rows(neurons * window) { m in
            result.input = try rows(neurons * T) { i in
                result.target = try rows(neurons) { t in
                    result.encoded = try rows(neurons) { e in
                        result.margins = try rows(neurons * (window + 1)) { g in
                            try body(TraceRecorder(neurons: neurons, T: T, window: window, membrane: m, input: i,
                                                   target: t, encoded: e, margins: g))
                        }
                    }
                }
            }
        }
        return result
    }
}

/// One spiking layer over its whole window for a batch: TSA-ReLU recurrence (docs/numerics.md §5),
/// fused per channel over contiguous runs, plus the decoupling diagnostics (§6).
///
/// One implementation for batches and for the focused sample: raw pointers, silent and firing
/// steps split, margins for every k0 computed as vector passes over contiguous runs, residuals
/// added in bulk. For the focused sample (batch of one) the same passes also keep o, X and the
/// margins step-major, copied into the recorder's per-neuron rows after each channel. The tests
/// hold both uses to a plain per-neuron implementation of docs/numerics.md, bit for bit.
enum TSALayer {
    /// - Parameters:
    ///   - z: the layer's input in ANN units, T·B columns ordered slot-major (column = k·B + b).
    ///   - ann: the ANN's ReLU output for the same batch (B columns), for the RMSE; optional.
    ///   - sampleOffset: index of the batch's first sample in the data set (for hotspots).
    /// - Returns: the output spikes scaled by θ (T·B columns) and the layer's statistics.
    ///   - observer: sees each channel's per-neuron results as soon as they exist (breakpoints).
    static func run(z: Activation, theta: Double, params p: TSAParameters, batch B: Int, layer: Int,
                    ann: Activation?, sampleOffset: Int, recorder: TraceRecorder?, observer: LayerObserver? = nil)
        -> (Activation, LayerStatistics)
    {
        let C = z.channels, hw = z.spatial, T = p.T, L = p.L, window = T + L
        let run = B * hw
        precondition(z.columns == T * B)
        // Every output element is written below (slots 0..<T of every channel).
        let outData = [Float](unsafeUninitializedCapacity: z.data.count) { _, n in n = z.data.count }
        var out = Activation(shape: z.shape, columns: z.columns, data: outData)
        let thetaF = Float(theta), invTheta = 1 / Float(theta)
        // Blocks of channels sized by work, not by thread count (deterministic merges).
        let blockSize = max(1, (1 << 15) / max(1, run * window))
        let blocks = (C + blockSize - 1) / blockSize
        var partials = [LayerStatistics](repeating: LayerStatistics(window: window), count: blocks)
        let annBox = UncheckedSendable(ann)
        let folds = partials.first.map { C * run > $0.residuals.exactCapacity } ?? false
        z.data.withUnsafeBufferPointer { zp in
            out.data.withUnsafeMutableBufferPointer { op in
                partials.withUnsafeMutableBufferPointer { pp in
                    let zb = zp.baseAddress!, ob = op.baseAddress!, pb = pp.baseAddress!
                    parallelBlocks(C, blockSize: blockSize) { channels in
                        var stats = LayerStatistics(window: window)
                        let scratch = Scratch(run: run, window: window, recording: recorder != nil, T: T)
                        defer { scratch.deallocate() }
                        for c in channels {
                            runFast(zc: zb + c * T * run, oc: ob + c * T * run, channel: c, run: run, hw: hw, B: B,
                                    p: p, theta: thetaF, invTheta: invTheta, layer: layer, ann: annBox.value,
                                    sampleOffset: sampleOffset, scratch: scratch, stats: &stats)
                            if let recorder { scratch.copyRecording(to: recorder, channel: c, run: run, T: T, window: window) }
                            observer?.channel(c, target: scratch.target, absResidual: scratch.absResidual,
                                              firstViolation: scratch.first, spikes: ob + c * T * run)
                        }
                        // The layer's residuals will not stay exact (their merge would fold them
                        // on one thread): fold each block's share here, in parallel.
                        if folds { stats.residuals.foldNow() }
                        pb[channels.lowerBound / blockSize] = stats
                    }
                }
            }
        }
        var total = LayerStatistics(window: window)
        for s in partials { total.merge(s) }
        return (out, total)
    }

    /// Per-block work buffers of the fast path, one run long each.
    struct Scratch {
        let h, g, target, pending, encoded, worst, residual, absResidual: UnsafeMutablePointer<Float>
        /// The input of steps k ≥ T (nothing arrives), so every step runs the same loop.
        let silence: UnsafeMutablePointer<Float>
        let first: UnsafeMutablePointer<Int32>
        let violations: UnsafeMutablePointer<Int>
        /// For the focused sample: o per step `[window][run]`, X per input step `[T][run]` and
        /// margin(k0) `[window + 1][run]`, written by the passes as they go (nil otherwise).
        let membrane, input, margins: UnsafeMutablePointer<Float>?

        init(run: Int, window: Int, recording: Bool = false, T: Int = 0) {
            let n = max(1, run)
            h = .allocate(capacity: n); g = .allocate(capacity: n)
            target = .allocate(capacity: n); pending = .allocate(capacity: n)
            encoded = .allocate(capacity: n); worst = .allocate(capacity: n)
            residual = .allocate(capacity: n); absResidual = .allocate(capacity: n)
            silence = .allocate(capacity: n); silence.initialize(repeating: 0, count: n)
            first = .allocate(capacity: n)
            violations = .allocate(capacity: window + 1)
            membrane = recording ? .allocate(capacity: window * n) : nil
            input = recording ? .allocate(capacity: max(1, T) * n) : nil
            margins = recording ? .allocate(capacity: (window + 1) * n) : nil
        }

        func deallocate() {
            for p in [h, g, target, pending, encoded, worst, residual, absResidual, silence] { p.deallocate() }
            first.deallocate()
            violations.deallocate()
            for p in [membrane, input, margins] { p?.deallocate() }
        }

        /// Channel c's recording, step-major here, into the recorder's per-neuron rows
        /// (batch of one: neuron = c · run + i).
        func copyRecording(to r: TraceRecorder, channel c: Int, run: Int, T: Int, window: Int) {
            guard let membrane, let input, let margins else { return }
            for i in 0..<run {
                let n = c * run + i
                for k in 0..<window { r.membrane[n * window + k] = membrane[k * run + i] }
                for k in 0..<T { r.input[n * T + k] = input[k * run + i] }
                for k0 in 0...window { r.margins[n * (window + 1) + k0] = margins[k0 * run + i] }
                r.target[n] = target[i]
                r.encoded[n] = encoded[i]
            }
        }
    }

    static let noViolation = Int32.max

    /// Neurons per chunk of `runFast`: its ten or so buffers of this many floats stay in L2.
    static let chunkSize = 2048
    /// Runs up to this long go through in one piece, as before chunking: their buffers fit in
    /// L2 already, and smaller layers measured slower in chunks (28×28 at batch 16: 1.2–1.4×).
    static let chunkedAbove = 16384

    /// Neurons `offset ..< offset + count` of one channel (`zc`, `oc` already offset; rows of
    /// the window are `run` apart): the recurrence over the window, then target, encoded value,
    /// spike counts and margin(k0) for every k0, counting violations into `s.violations`.
    @inline(__always)
    static func runChunk(zc: UnsafePointer<Float>, oc: UnsafeMutablePointer<Float>, offset i0: Int, count n: Int,
                         run: Int, p: TSAParameters, theta thetaF: Float, invTheta: Float, scratch s: Scratch,
                         positive: inout Int, negative: inout Int) {
        let T = p.T, L = p.L, window = T + L
        let beta = p.beta, threshold = p.threshold, negThreshold = -p.threshold, reset = p.reset
        let lowSpike: Float = p.negative ? -1 : 0
        let h = s.h + i0, g = s.g + i0
        h.update(repeating: 0, count: n)
        g.update(repeating: 0, count: n)
        // Forward recurrence. Silent steps (k < L) cannot fire, and G stays 0 until the first
        // firing step (β·0 = 0), so they only integrate h.
        for k in 0..<window {
            let x: UnsafePointer<Float> = k < T ? zc + k * run : UnsafePointer(s.silence)
            if let input = s.input, k < T {
                let xin = input + k * run + i0
                for i in 0..<n { xin[i] = x[i] * invTheta }
            }
            if k < L {
                for i in 0..<n { h[i] = beta * h[i] + x[i] * invTheta }
                if let membrane = s.membrane {
                    // o while silent: G is still 0 (β·0), so o = h or −0, as the firing steps compute it.
                    let o = membrane + k * run + i0
                    for i in 0..<n {
                        let gi = beta * g[i]
                        o[i] = h[i] >= 0 ? h[i] - gi : -gi
                    }
                }
                continue
            }
            let row = oc + (k - L) * run
            // Inlined twice: with nil the store of o (kept only when recording) folds away.
            @inline(__always) func fire(keeping o: UnsafeMutablePointer<Float>?) {
                for i in 0..<n {
                    let hi = beta * h[i] + x[i] * invTheta
                    var gi = beta * g[i]
                    let oi = hi >= 0 ? hi - gi : -gi
                    h[i] = hi
                    let spike: Float = oi >= threshold ? 1 : (oi <= negThreshold ? lowSpike : 0)
                    gi += reset * spike
                    row[i] = spike
                    g[i] = gi
                    o?[i] = oi
                }
            }
            if let membrane = s.membrane { fire(keeping: membrane + k * run + i0) } else { fire(keeping: nil) }
        }
        // Diagnostics: target, encoded value (Horner), spike counts and margin(k0) for every k0,
        // as passes over contiguous runs; spikes are scaled to θ on the way.
        let a = s.target + i0, pending = s.pending + i0, e = s.encoded + i0, worst = s.worst + i0, first = s.first + i0
        let divisor = p.targetDivisor
        for i in 0..<n {
            let ai = max(h[i], 0) / divisor
            a[i] = ai
            pending[i] = ai
            e[i] = 0
            worst[i] = .infinity
            first[i] = noViolation
        }
        // Few pointers per loop and 32-bit lanes throughout, so each loop vectorises.
        p.capacity.withUnsafeBufferPointer { capacity in
            p.slotWeights.withUnsafeBufferPointer { w in
                for k0 in 0...window {
                    let slot = k0 - 1 - L
                    if slot >= 0 && slot < T {
                        let row = oc + slot * run
                        let wi = w[slot]
                        var pos: Int32 = 0, neg: Int32 = 0
                        for i in 0..<n {
                            let spike = row[i]
                            e[i] = e[i] * beta + spike
                            pos &+= spike > 0 ? 1 : 0
                            neg &+= spike < 0 ? 1 : 0
                            pending[i] = pending[i] - wi * spike
                            row[i] = spike * thetaF
                        }
                        positive += Int(pos)
                        negative += Int(neg)
                    }
                    let cap = capacity[k0]
                    var count: Int32 = 0
                    let step = Int32(k0)
                    // k0 only grows, so the first violation step is a running minimum (branch-free).
                    // Inlined twice, as `fire`: margins are kept only when recording.
                    @inline(__always) func check(keeping margin: UnsafeMutablePointer<Float>?) {
                        for i in 0..<n {
                            let m = cap - abs(pending[i])
                            margin?[i] = m
                            worst[i] = min(worst[i], m)
                            let violated = m <= 0
                            count &+= violated ? 1 : 0
                            first[i] = min(first[i], violated ? step : noViolation)
                        }
                    }
                    if let margins = s.margins { check(keeping: margins + k0 * run + i0) } else { check(keeping: nil) }
                    s.violations[k0] += Int(count)
                }
            }
        }
    }

    /// One channel: the recurrence, then the diagnostics, recording what the scratch asks for.
    @inline(__always)
    static func runFast(zc: UnsafePointer<Float>, oc: UnsafeMutablePointer<Float>, channel c: Int, run: Int,
                        hw: Int, B: Int, p: TSAParameters, theta thetaF: Float, invTheta: Float, layer: Int,
                        ann: Activation?, sampleOffset: Int, scratch s: Scratch, stats: inout LayerStatistics) {
        let window = p.T + p.L
        for k0 in 0...window { s.violations[k0] = 0 }
        var positive = 0, negative = 0
        // Chunks of neurons go through the whole window and all diagnostics before the next:
        // a 224×224 channel's run (B·H·W floats per buffer) is far larger than the cache, and
        // every neuron's arithmetic is the same whatever the chunk, so the bits are too.
        let chunk = run > chunkedAbove ? chunkSize : run
        var i0 = 0
        while i0 < run {
            let n = min(chunk, run - i0)
            runChunk(zc: zc + i0, oc: oc + i0, offset: i0, count: n, run: run, p: p, theta: thetaF,
                     invTheta: invTheta, scratch: s, positive: &positive, negative: &negative)
            i0 += n
        }
        stats.spikesPositive += positive
        stats.spikesNegative += negative
        let a = s.target, e = s.encoded, worst = s.worst, first = s.first
        for k0 in 0...window { stats.violationsByStep[k0] += s.violations[k0] }
        let u = s.residual, absU = s.absResidual
        for i in 0..<run {
            let ui = a[i] - e[i]
            u[i] = ui
            absU[i] = abs(ui)
        }
        stats.addPairs(residuals: UnsafeBufferPointer(start: u, count: run),
                       absolute: UnsafeBufferPointer(start: absU, count: run))
        if let ann {
            // Neuron i = b·hw + pos in order, without a division per neuron (those were most of
            // a 224×224 layer's time).
            ann.data.withUnsafeBufferPointer { ap in
                var sum = stats.squaredError
                for b in 0..<B {
                    let annRow = ap.baseAddress! + (c * B + b) * hw, eRow = e + b * hw
                    for pos in 0..<hw {
                        let d = Double(thetaF * eRow[pos] - annRow[pos])
                        sum += d * d
                    }
                }
                stats.squaredError = sum
            }
        }
        for i in 0..<run where first[i] != noViolation {
            let firstStep = Int(first[i])
            let b = i / hw, pos = i % hw
            stats.firstViolationByStep[firstStep] += 1
            let kind: ViolationKind = firstStep == 0 ? .overflow : .coupling
            if kind == .overflow { stats.overflow += 1 } else { stats.coupling += 1 }
            stats.addHotspot(Hotspot(layer: layer, neuron: c * hw + pos, sample: sampleOffset + b,
                                     kind: kind, firstViolationStep: firstStep,
                                     worstMargin: Double(worst[i]), residual: Double(abs(u[i]))))
        }
    }
}
