/// Seeing a batch's per-neuron results while the batched simulation runs, so breakpoints are
/// answered by the same whole-window passes as `eval` (no per-neuron trace is recorded).

/// Sees each channel of one spiking layer right after its window ran, on the worker that ran
/// it. Pointers are valid only during the call; runs are `B·H·W` long (`i = b·H·W + position`).
public protocol LayerObserver: AnyObject, Sendable {
    /// - Parameters:
    ///   - target: a (θ units) per element of the run.
    ///   - absResidual: |u[T]| per element.
    ///   - firstViolation: smallest k0 with margin ≤ 0, `Int32.max` when none.
    ///   - spikes: the output rows `[slot][run]`, spikes already scaled by θ (> 0 for +1).
    func channel(_ c: Int, target: UnsafePointer<Float>, absResidual: UnsafePointer<Float>,
                 firstViolation: UnsafePointer<Int32>, spikes: UnsafePointer<Float>)
}

/// Hooks of one batched simulation: which layers to watch and the output integrator's input.
public protocol SimulationObserver: AnyObject {
    func layer(_ l: Int) -> LayerObserver?
    /// The output tensor, T·B columns slot-major, before the integrator weighs the slots.
    func output(_ y: Activation, batch: Int)
}

/// Collects the hits of a set of breakpoints over one batch of samples.
final class BatchHitCollector: SimulationObserver {
    let layout: NetworkLayout
    let breakpoints: [Breakpoint]
    let sampleOffset: Int
    let batch: Int
    /// Label and ANN prediction of each sample of the batch, when `wrong`/`disagree` need them.
    let labels: [Int]?
    let annPredictions: [Int]?
    private var layers: [Int: LayerHitCollector] = [:]
    private(set) var outputHits: [BreakHit] = []

    init(layout: NetworkLayout, breakpoints: [Breakpoint], sampleOffset: Int, batch: Int, labels: [Int]?,
         annPredictions: [Int]?) {
        self.layout = layout
        self.breakpoints = breakpoints
        self.sampleOffset = sampleOffset
        self.batch = batch
        self.labels = labels
        self.annPredictions = annPredictions
    }

    func layer(_ l: Int) -> LayerObserver? {
        let watching = breakpoints.filter { $0.condition.watches(layer: l) }
        guard !watching.isEmpty else { return nil }
        let c = LayerHitCollector(info: layout.layers[l], config: layout.config, breakpoints: watching,
                                  sampleOffset: sampleOffset, batch: batch)
        layers[l] = c
        return c
    }

    func output(_ y: Activation, batch B: Int) {
        let output = breakpoints.filter { $0.condition.isOutputCondition }
        guard !output.isEmpty else { return }
        let T = layout.config.T, classes = layout.outputCount, hw = y.spatial
        let w = layout.config.slotWeights.map(Float.init)
        var sum = [Float](repeating: 0, count: classes)
        for b in 0..<B {
            let sample = sampleOffset + b
            for e in sum.indices { sum[e] = 0 }
            var previous = -1
            // Slot k arrives at g = outputStart + k; the sums run in the integrator's order, so the
            // last one is exactly the decoded output (docs/numerics.md §5).
            for k in 0..<T {
                for e in 0..<classes {
                    let c = e / hw, p = e % hw
                    sum[e] += w[k] * y.data[(c * T * B + k * B + b) * hw + p]
                }
                let now = argmax(sum)
                if k > 0 && now != previous {
                    for bp in output where bp.condition == .flip {
                        outputHits.append(BreakHit(breakpoint: bp.number, sample: sample, step: layout.outputStart + k,
                                                   layer: nil, neuron: nil))
                    }
                }
                previous = now
            }
            for bp in output {
                let differs: Bool
                switch bp.condition {
                case .wrong: differs = labels.map { previous != $0[b] } ?? false
                case .disagree: differs = annPredictions.map { previous != $0[b] } ?? false
                default: continue
                }
                if differs {
                    outputHits.append(BreakHit(breakpoint: bp.number, sample: sample, step: layout.latency,
                                               layer: nil, neuron: nil))
                }
            }
        }
    }

    /// Every hit of the batch, unsorted.
    var hits: [BreakHit] { layers.values.flatMap { $0.hits } + outputHits }
}

/// The hits of one spiking layer over one batch. Channels write disjoint slots of `perChannel`
/// from several workers.
final class LayerHitCollector: LayerObserver, @unchecked Sendable {
    let info: SpikingLayerInfo
    let params: TSAParameters
    let breakpoints: [Breakpoint]
    let sampleOffset: Int
    let batch: Int
    let spatial: Int
    private let perChannel: UnsafeMutableBufferPointer<[BreakHit]>

    init(info: SpikingLayerInfo, config: ConversionConfig, breakpoints: [Breakpoint], sampleOffset: Int, batch: Int) {
        self.info = info
        self.params = TSAParameters(config)
        self.breakpoints = breakpoints
        self.sampleOffset = sampleOffset
        self.batch = batch
        let channels = info.shape.first ?? 1
        self.spatial = info.neurons / max(1, channels)
        perChannel = .allocate(capacity: channels)
        perChannel.initialize(repeating: [])
    }

    deinit {
        perChannel.deinitialize()
        perChannel.deallocate()
    }

    var hits: [BreakHit] { perChannel.flatMap { $0 } }

    func channel(_ c: Int, target: UnsafePointer<Float>, absResidual: UnsafePointer<Float>,
                 firstViolation: UnsafePointer<Int32>, spikes: UnsafePointer<Float>) {
        let hw = spatial, run = batch * hw, T = params.T, L = params.L, ws = info.windowStart
        var found: [BreakHit] = []
        func hit(_ bp: Breakpoint, _ i: Int, _ step: Int) {
            found.append(BreakHit(breakpoint: bp.number, sample: sampleOffset + i / hw, step: step,
                                  layer: info.index, neuron: c * hw + i % hw))
        }
        for bp in breakpoints {
            switch bp.condition {
            case .violation(let filter, _):
                for i in 0..<run where firstViolation[i] != TSALayer.noViolation {
                    let k0 = Int(firstViolation[i])
                    if filter.matches(k0 == 0 ? .overflow : .coupling) { hit(bp, i, ws + k0) }
                }
            case .spike(_, let neuron, let sign):
                guard neuron / hw == c else { continue }
                for b in 0..<batch {
                    let i = b * hw + neuron % hw
                    for slot in 0..<T {
                        let v = spikes[slot * run + i]
                        let s: Int8 = v > 0 ? 1 : (v < 0 ? -1 : 0)
                        if s != 0 && (sign == nil || sign == s) { hit(bp, i, ws + L + slot) }
                    }
                }
            case .margin(_, let below):
                marginCrossings(below: below, run: run, target: target, spikes: spikes) { i, k0 in hit(bp, i, ws + k0) }
            case .residual(_, let above):
                for i in 0..<run where Double(absResidual[i]) > above { hit(bp, i, ws + T + L - 1) }
            case .flip, .wrong, .disagree:
                continue
            }
        }
        if !found.isEmpty { perChannel[c] = found }
    }

    /// margin(k0) recomputed from the target and the spikes with the Float32 operations of
    /// `TSALayer.runFast`, in its order (so the same values, bit for bit); `crossing(i, k0)` for
    /// each k0 where it drops below `below`.
    func marginCrossings(below: Double, run: Int, target: UnsafePointer<Float>, spikes: UnsafePointer<Float>,
                         _ crossing: (Int, Int) -> Void) {
        let T = params.T, L = params.L, window = T + L
        for i in 0..<run {
            var pending = target[i]
            var wasBelow = false
            for k0 in 0...window {
                let slot = k0 - 1 - L
                if slot >= 0 && slot < T {
                    let v = spikes[slot * run + i]
                    let s: Float = v > 0 ? 1 : (v < 0 ? -1 : 0)
                    pending = pending - params.slotWeights[slot] * s
                }
                let m = params.capacity[k0] - abs(pending)
                let isBelow = Double(m) < below
                if isBelow && !wasBelow { crossing(i, k0) }
                wasBelow = isBelow
            }
        }
    }
}
