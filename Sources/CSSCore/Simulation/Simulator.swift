import CSSSnapshots
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a data set's values live when they are not in memory: a file read on demand, so a
/// session holds a batch of samples at a time whatever the data set's size (issue 10 §5).
public protocol SampleSource: Sendable {
    /// Writes samples `range` in NumPy order (`range.count × sampleSize` floats) into `out`.
    /// Throws a one-line error naming the file when it cannot (truncated, changed, unreadable).
    func read(_ range: Range<Int>, sampleSize: Int, into out: UnsafeMutableBufferPointer<Float>) throws
    /// What the source itself keeps in memory (descriptors, headers, small caches).
    var residentBytes: Int { get }
}

/// Samples in NumPy's order (`[count][sampleSize]`, row-major) with optional labels: held in
/// memory (built by tests, the torch round trip, `bench`), or read from a `SampleSource` batch by
/// batch. The simulator only sees the batches, so both give the same results bit for bit.
public struct SampleSet: Sendable {
    enum Storage: Sendable {
        case memory([Float])
        case source(any SampleSource)
    }

    var storage: Storage
    public var count: Int
    public var sampleShape: [Int]
    public var labels: [Int]?

    public init(inputs: [Float], count: Int, sampleShape: [Int], labels: [Int]? = nil) {
        precondition(inputs.count == count * sampleShape.reduce(1, *))
        self.storage = .memory(inputs)
        self.count = count
        self.sampleShape = sampleShape
        self.labels = labels
    }

    /// `count` samples read on demand from `source`.
    public init(source: any SampleSource, count: Int, sampleShape: [Int], labels: [Int]? = nil) {
        precondition(labels.map { $0.count == count } ?? true)
        self.storage = .source(source)
        self.count = count
        self.sampleShape = sampleShape
        self.labels = labels
    }

    public var sampleSize: Int { sampleShape.reduce(1, *) }

    /// Whether the values are read on demand.
    public var isOnDemand: Bool {
        if case .source = storage { return true }
        return false
    }

    /// Bytes the set keeps in memory between batches: all values when held, the source's own
    /// buffers when read on demand; labels either way.
    public var residentBytes: Int {
        let labelBytes = 8 * (labels?.count ?? 0)
        switch storage {
        case .memory(let v): return 4 * v.count + labelBytes
        case .source(let s): return s.residentBytes + labelBytes
        }
    }

    /// The first `n` samples.
    public func prefix(_ n: Int) -> SampleSet {
        let m = min(n, count)
        let l = labels.map { Array($0.prefix(m)) }
        switch storage {
        case .memory(let v):
            return SampleSet(inputs: Array(v[0..<(m * sampleSize)]), count: m, sampleShape: sampleShape, labels: l)
        case .source(let s):
            return SampleSet(source: s, count: m, sampleShape: sampleShape, labels: l)
        }
    }

    /// Samples `range` in NumPy order: a slice of the held values, or a fresh read of the file
    /// (a batch's worth of memory, released with the slice).
    public func samples(_ range: Range<Int>) throws -> ArraySlice<Float> {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "samples \(range) of \(count)")
        let size = sampleSize
        switch storage {
        case .memory(let v):
            return v[(range.lowerBound * size)..<(range.upperBound * size)]
        case .source(let s):
            var out = [Float](repeating: 0, count: range.count * size)
            try out.withUnsafeMutableBufferPointer { try s.read(range, sampleSize: size, into: $0) }
            return out[...]
        }
    }

    public func sample(_ i: Int) throws -> ArraySlice<Float> { try samples(i..<(i + 1)) }

    /// Every value at once (tests and small sets only: this is the whole data set in memory).
    public func allInputs() throws -> [Float] { Array(try samples(0..<count)) }
}

/// The ANN's answer for a batch: outputs `[B][classes]` and each spiking layer's ReLU output.
public struct ANNBatch: Sendable {
    public var outputs: [Float]
    public var activations: [Activation]
}

/// The converted network's answer for a batch.
public struct SNNBatch: Sendable {
    /// Decoded outputs `[B][classes]` after the full latency.
    public var outputs: [Float]
    public var statistics: [LayerStatistics]
    /// With tracing (batch of one): the focused sample's record.
    public var encoder: EncoderTrace?
    public var layers: [LayerTrace]?
    public var outputSlots: [Float]?
    /// `[B][T]`: the prediction from output slots 0..k (docs/numerics.md §14).
    public var slotPredictions: [Int] = []
    /// Nonzero input values of each `Network.synapticNodes` entry over the batch and its T slots
    /// (empty unless counted).
    public var inputEvents: [Int] = []
    /// Spiking layers whose recurrence actually ran (the rest came from the cache).
    public var layersSimulated: [Int] = []
    /// What the next run may reuse, when asked for.
    public var cache: SimulationCache?
}

/// Every tensor of a previous run of one batch, so that a θ change at layer l recomputes only
/// layer l and what it feeds (docs/numerics.md §7: earlier layers do not change).
public struct SimulationCache: Sendable {
    let config: ConversionConfig
    let amplitudes: Amplitudes
    let traced: Bool
    let values: [String: Activation]
    let statistics: [LayerStatistics]
    let traces: [LayerTrace]
    let encoderSpikes: [Int8]

    /// The first layer whose θ differs, or nil when nothing can be reused (config or θ_0 changed).
    func firstDirtyLayer(for a: Amplitudes, config c: ConversionConfig, trace: Bool) -> Int? {
        guard c == config, a.input == amplitudes.input, trace == traced,
              a.layers.count == amplitudes.layers.count else { return nil }
        return zip(a.layers, amplitudes.layers).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? a.layers.count
    }

    /// Floats held, for memory budgets.
    public var floatCount: Int { values.values.reduce(0) { $0 + $1.data.count } }

    /// Bytes held: tensors, encoder spikes and the focused sample's layer traces.
    public var heldBytes: Int {
        4 * floatCount + encoderSpikes.count + traces.reduce(0) { $0 + $1.heldBytes }
    }
}

/// Runs the ANN and the converted SNN over batches. Stateless apart from the network, so it can
/// be shared by the backend's workers.
public struct Simulator: Sendable {
    public let network: Network
    /// im2col buffers reused across layers and batches (owned here, not process-wide).
    let scratch = ScratchPool()
    /// When set, every node's wall time is added to it.
    let profile: OpProfile?

    public init(network: Network, profile: OpProfile? = nil) {
        self.network = network
        self.profile = profile
    }

    var graph: Graph { network.graph }

    /// Walks the graph once; `spiking` replaces each Relu (layer index, input) → output.
    /// With `reuse`, every tensor that depends only on spiking layers before `reuse.firstDirtyLayer`
    /// is taken from the previous run instead of being computed; with `keep`, all tensors are returned
    /// so the next run can reuse them.
    /// Cancelling the calling task ends the walk before the next node with `CancellationError`: a
    /// superseded report or trace, or a quit, frees the cores within one layer instead of one batch
    /// (2–10 s of an ImageNet-size batch).
    /// `synapticInput` sees the input of every node the operation counts cover (by position in
    /// `Network.synapticNodes`), computed or reused.
    func execute(input: Activation, constantScale: Float, reuse: (values: [String: Activation], firstDirtyLayer: Int)? = nil,
                 keep: Bool = false, synapticInput: ((Int, Activation) -> Void)? = nil,
                 spiking: (Int, Activation) -> Activation) throws -> (Activation, [String: Activation]) {
        var values: [String: Activation] = [graph.input: input]
        var layer = 0
        for (i, node) in graph.nodes.enumerated() {
            try Checkpoint.pass()
            let isRelu: Bool
            if case .relu = node.op { isRelu = true } else { isRelu = false }
            if let synapticInput, let position = network.synapticIndex[i] { synapticInput(position, values[node.inputs[0]]!) }
            if let reuse, network.highestLayer[node.output]! < reuse.firstDirtyLayer, let v = reuse.values[node.output] {
                values[node.output] = v
                if isRelu { layer += 1 }
                continue
            }
            let ins = node.inputs.map { values[$0]! }
            if let profile {
                switch node.op {
                case .conv, .dense: profile.recordDensity(node: i, of: ins[0])
                default: break
                }
            }
            let start = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            defer { profile?.record(node: i, since: start) }
            let y: Activation
            if isRelu {
                y = spiking(layer, ins[0])
                layer += 1
            } else {
                y = AffineOps.apply(node.op, ins, outShape: network.shapes[node.output]!, constantScale: constantScale,
                                    scratch: scratch, winograd: network.winograd[i])
            }
            if !keep {
                for name in node.inputs where network.lastUse[name] == i && name != graph.output { values[name] = nil }
            }
            values[node.output] = y
        }
        return (values[graph.output]!, keep ? values : [:])
    }

    /// ANN forward in Float32 for `count` samples given in NumPy order; throws only when the
    /// calling task is cancelled.
    public func annForward(_ x: ArraySlice<Float>, count: Int) throws -> ANNBatch {
        let input = x.withUnsafeBufferPointer {
            Activation(sampleMajor: $0, shape: network.inputShape, columns: count)
        }
        var acts: [Activation] = []
        let (y, _) = try execute(input: input, constantScale: 1) { _, z in
            let r = AffineOps.apply(.relu, [z], outShape: z.shape, constantScale: 1, scratch: scratch)
            acts.append(r)
            return r
        }
        var outputs = [Float](repeating: 0, count: count * network.outputCount)
        for b in 0..<count {
            let s = y.sample(b)
            for e in s.indices { outputs[b * network.outputCount + e] = s[e] }
        }
        return ANNBatch(outputs: outputs, activations: acts)
    }

    /// How close to ±1 the encoder's `u` must come to fire (docs/numerics.md §4: ties fire).
    public static let encoderTieTolerance = 1e-6

    /// Signed Theorem-2 encoder (docs/numerics.md §4) for a batch: θ_0·S_0, T·B columns slot-major.
    /// Computed in Float64 with the tie rule, so that x = ±θ_0·Σw — the calibration maximum of
    /// quantised inputs, which occurs many times — encodes as T spikes of its sign for every T and β
    /// instead of depending on Float32 rounding at the last slot.
    func encode(_ x: ArraySlice<Float>, count B: Int, theta0: Double, config: ConversionConfig)
        -> (Activation, [Int8])
    {
        let T = config.T, size = network.inputShape.reduce(1, *)
        let C = network.inputShape.first ?? 1, hw = size / C
        // Every spike and every column of every input value is written below.
        var spikes = [Int8](unsafeUninitializedCapacity: B * size * T) { _, n in n = B * size * T }
        var act = Activation(uninitialized: network.inputShape, columns: T * B)
        x.withUnsafeBufferPointer { xp in
            spikes.withUnsafeMutableBufferPointer { sp in
                act.data.withUnsafeMutableBufferPointer { ap in
                    let ptrs = UncheckedSendable((xp.baseAddress!, sp.baseAddress!, ap.baseAddress!))
                    // Blocks of one sample's one channel, in parallel: as one thread's scalar
                    // loop the encoder took 191 ms of an ImageNet-size batch of 16.
                    let blocksPerPlane = (hw + Self.encoderBlock - 1) / Self.encoderBlock
                    parallelBlocks(B * C * blocksPerPlane, blockSize: 1) { blocks in
                        let (xb, sb, ab) = ptrs.value
                        for block in blocks {
                            let plane = block / blocksPerPlane, b = plane / C, c = plane % C
                            let p0 = (block % blocksPerPlane) * Self.encoderBlock
                            Self.encodeRun(x: xb + b * size + c * hw, count: min(hw, p0 + Self.encoderBlock) - p0,
                                           from: p0, theta0: theta0, beta: config.beta, T: T,
                                           spikes: sb + (b * size + c * hw) * T, spikeStride: T,
                                           columns: ab + (c * T * B + b) * hw, columnStride: B * hw)
                        }
                    }
                }
            }
        }
        return (act, spikes)
    }

    /// Input values per block of the batch encoder (one sample's one channel at most).
    static let encoderBlock = 4096

    /// `encodeValue` for the values `x[p0 ..< p0 + count]` of one sample's channel, four at a time
    /// (the same Float64 operations per lane, so the same spikes): spike t of value p goes to
    /// `spikes[p · spikeStride + t]`, θ_0 · spike to `columns[t · columnStride + p]`.
    @inline(__always)
    static func encodeRun(x: UnsafePointer<Float>, count: Int, from p0: Int, theta0: Double, beta: Double, T: Int,
                          spikes: UnsafeMutablePointer<Int8>, spikeStride: Int,
                          columns: UnsafeMutablePointer<Float>, columnStride: Int) {
        let fire = 1 - encoderTieTolerance, scale = pow(beta, Double(T)), th = Float(theta0)
        let end = p0 + count
        var p = p0
        while p + 4 <= end {
            var u = SIMD4<Double>(Double(x[p]), Double(x[p + 1]), Double(x[p + 2]), Double(x[p + 3])) / theta0 / scale
            for t in 0..<T {
                u *= beta
                var s = SIMD4<Double>(repeating: 0)
                s.replace(with: -1, where: u .<= -fire)
                s.replace(with: 1, where: u .>= fire)
                u -= s
                for lane in 0..<4 { spikes[(p + lane) * spikeStride + t] = Int8(s[lane]) }
                UnsafeMutableRawPointer(columns + t * columnStride + p)
                    .storeBytes(of: th * SIMD4<Float>(s), as: SIMD4<Float>.self)
            }
            p += 4
        }
        while p < end {
            encodeValue(x[p], theta0: theta0, beta: beta, T: T) { t, s in
                spikes[p * spikeStride + t] = s
                columns[t * columnStride + p] = th * Float(s)
            }
            p += 1
        }
    }

    /// One input value through the encoder: `emit(t, S_0[t])` for t = 0..<T, docs/numerics.md §4
    /// as written. `encodeRun` (batches and the focused sample) does the same operations four
    /// values at a time and comes here for the last few; a test holds the two equal bit for bit.
    @inline(__always)
    public static func encodeValue(_ x: Float, theta0: Double, beta: Double, T: Int, _ emit: (Int, Int8) -> Void) {
        let fire = 1 - encoderTieTolerance
        var u = Double(x) / theta0 / pow(beta, Double(T))
        for t in 0..<T {
            u *= beta
            let s: Int8 = u >= fire ? 1 : (u <= -fire ? -1 : 0)
            u -= Double(s)
            emit(t, s)
        }
    }

    /// The converted network over a batch of `count` samples. With `trace` (count must be 1)
    /// every layer's membrane, input, spikes and margins are recorded. Throws only when the calling
    /// task is cancelled (checked before every node).
    /// - Parameters:
    ///   - substitution: layers whose input schedule is replaced (docs/numerics.md §12); exact
    ///     layers need `ann`. Runs with a substitution neither reuse nor keep a cache.
    ///   - countEvents: count the nonzero inputs of every Conv/Gemm/MatMul node (§13).
    public func simulate(_ x: ArraySlice<Float>, count B: Int, amplitudes: Amplitudes, config: ConversionConfig,
                         ann: ANNBatch?, sampleOffset: Int, trace: Bool = false,
                         reuse: SimulationCache? = nil, keepCache: Bool = false,
                         substitution: LayerSubstitution = .none, countEvents: Bool = false,
                         observer: SimulationObserver? = nil) throws -> SNNBatch {
        precondition(!trace || B == 1)
        precondition(substitution.isEmpty || (reuse == nil && !keepCache))
        precondition(!substitution.needsANN || ann != nil)
        let params = TSAParameters(config)
        let layout = network.layout(config)
        let reusable = reuse.flatMap { $0.firstDirtyLayer(for: amplitudes, config: config, trace: trace) }
        let encodeStart = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
        let (input, encoderSpikes) = reusable != nil ? (reuse!.values[graph.input]!, reuse!.encoderSpikes)
            : encode(x, count: B, theta0: amplitudes.input, config: config)
        if reusable == nil { profile?.record(node: OpProfile.encoderNode, since: encodeStart) }
        var stats = reuse?.statistics ?? []
        var traces = reuse?.traces ?? []
        var simulated: [Int] = []
        let sumW = config.sumWeights
        var events = [Int](repeating: 0, count: countEvents ? network.synapticNodes.count : 0)
        let (y, values) = try execute(input: input, constantScale: Float(1 / sumW),
                                  reuse: reusable.map { (reuse!.values, $0) }, keep: keepCache,
                                  synapticInput: countEvents ? { events[$0] += $1.nonzeroCount } : nil) { l, zIn in
            simulated.append(l)
            let z = substitution.input(of: l, zIn, ann: ann?.activations[l], batch: B, config: config)
            func run(_ recorder: TraceRecorder?) -> (Activation, LayerStatistics) {
                TSALayer.run(z: z, theta: amplitudes.layers[l], params: params, batch: B, layer: l,
                             ann: ann?.activations[l], sampleOffset: sampleOffset, recorder: recorder,
                             observer: observer?.layer(l))
            }
            guard trace else {
                let (out, s) = run(nil)
                if l < stats.count { stats[l] = s } else { stats.append(s) }
                return out
            }
            var result: (Activation, LayerStatistics)? = nil
            let rows = TraceRecorder.recording(neurons: z.sampleSize, T: config.T, window: config.window) { r in
                result = run(r)
            }
            let (out, s) = result!
            if l < stats.count { stats[l] = s } else { stats.append(s) }
            do {
                let n = z.sampleSize
                let hw = z.spatial, T = config.T
                // Spikes per neuron (row of T) from the layer output's slot-major planes, which hold
                // s·θ with s ∈ {−1, 0, 1} and θ > 0: the sign is the spike (no division, no
                // rounding, no trapping conversion: this ran 23 M times per trace at 224×224).
                let spikes = [Int8](unsafeUninitializedCapacity: n * T) { sp, count in
                    out.data.withUnsafeBufferPointer { o in
                        for c in 0..<z.channels {
                            for k in 0..<T {
                                let plane = o.baseAddress! + (c * T + k) * hw
                                let row = sp.baseAddress! + c * hw * T + k
                                for p in 0..<hw { row[p * T] = plane[p] > 0 ? 1 : (plane[p] < 0 ? -1 : 0) }
                            }
                        }
                    }
                    count = n * T
                }
                let t = LayerTrace(
                    info: layout.layers[l], theta: amplitudes.layers[l], T: config.T, silent: config.silent,
                    threshold: config.threshold, membrane: rows.membrane, input: rows.input, spikes: spikes,
                    target: rows.target, encoded: rows.encoded,
                    annActivation: ann.map { $0.activations[l].sample(0) } ?? [Float](repeating: 0, count: n),
                    margins: rows.margins)
                if l < traces.count { traces[l] = t } else { traces.append(t) }
            }
            return out
        }
        observer?.output(y, batch: B)
        // Output integrator: Σ_k w_k · A_out(values at k), slot by slot, with the prediction from
        // the slots so far after each (docs/numerics.md §14). Every sum adds its slots in order k,
        // so the last slot's prediction is the final one bit for bit.
        let classes = network.outputCount, T = config.T
        let w = config.slotWeights.map(Float.init)
        var outputs = [Float](repeating: 0, count: B * classes)
        var slots = trace ? [Float](repeating: 0, count: T * classes) : nil
        var slotPredictions = [Int](repeating: 0, count: B * T)
        let hw = y.spatial
        for k in 0..<T {
            for e in 0..<classes {
                let c = e / hw, p = e % hw
                for b in 0..<B {
                    let v = w[k] * y.data[(c * T * B + k * B + b) * hw + p]
                    outputs[b * classes + e] += v
                    if b == 0 { slots?[k * classes + e] = v }
                }
            }
            for b in 0..<B { slotPredictions[b * T + k] = argmax(outputs[(b * classes)..<((b + 1) * classes)]) }
        }
        var encoderTrace: EncoderTrace? = nil
        if trace {
            encoderTrace = EncoderTrace(theta: amplitudes.input, T: config.T, spikes: encoderSpikes, inputs: Array(x))
        }
        let cache = keepCache ? SimulationCache(config: config, amplitudes: amplitudes, traced: trace, values: values,
                                                statistics: stats, traces: traces, encoderSpikes: encoderSpikes) : nil
        return SNNBatch(outputs: outputs, statistics: stats, encoder: encoderTrace,
                        layers: trace ? traces : nil, outputSlots: slots, slotPredictions: slotPredictions,
                        inputEvents: events, layersSimulated: simulated, cache: cache)
    }
}
