/// Immutable values the simulation backend hands to scripts and to the view. Nothing here
/// simulates; everything is `Sendable` so it can cross from the backend's worker to the UI.

/// A spiking layer of the converted network (a Relu of the ANN), with its place in global time.
public struct SpikingLayerInfo: Sendable, Equatable {
    /// Position among spiking layers, in graph order.
    public var index: Int
    /// Display name derived from the ONNX node name.
    public var name: String
    /// Output tensor name of the Relu (the key in θ files).
    public var tensor: String
    /// Per-sample shape, `[C, H, W]` or `[N]`.
    public var shape: [Int]
    public var neurons: Int
    /// Global step `d_l` at which the layer's window starts (docs/numerics.md §2).
    public var windowStart: Int
    /// Number of spiking layers on the longest path up to and including this one.
    public var depth: Int

    public init(index: Int, name: String, tensor: String, shape: [Int], neurons: Int, windowStart: Int, depth: Int) {
        self.index = index
        self.name = name
        self.tensor = tensor
        self.shape = shape
        self.neurons = neurons
        self.windowStart = windowStart
        self.depth = depth
    }
}

/// Where every window sits in global time, for one conversion config.
public struct NetworkLayout: Sendable, Equatable {
    public var modelName: String
    public var config: ConversionConfig
    public var inputShape: [Int]
    public var layers: [SpikingLayerInfo]
    /// Global step at which the output integrator receives slot 0.
    public var outputStart: Int
    /// `T + (depth + 1)·L`.
    public var latency: Int
    public var outputCount: Int

    public init(modelName: String, config: ConversionConfig, inputShape: [Int], layers: [SpikingLayerInfo],
                outputStart: Int, latency: Int, outputCount: Int) {
        self.modelName = modelName
        self.config = config
        self.inputShape = inputShape
        self.layers = layers
        self.outputStart = outputStart
        self.latency = latency
        self.outputCount = outputCount
    }
}

/// Spike amplitudes: θ_0 of the encoder and θ_l of each spiking layer (ANN units per spike).
public struct Amplitudes: Sendable, Equatable, Codable {
    public var input: Double
    public var layers: [Double]

    public init(input: Double, layers: [Double]) {
        self.input = input
        self.layers = layers
    }
}

/// A layer's phase at a global step (docs/numerics.md §2).
public enum LayerPhase: String, Sendable {
    /// The window has not started.
    case waiting
    /// Integrating input during the silent period; cannot fire yet.
    case silent
    /// Inside the window and allowed to fire.
    case firing
    /// The window is over.
    case done
}

/// Overflow: θ too small for the target; coupling: information arrived after the slots that could carry it.
public enum ViolationKind: String, Sendable, Codable {
    case overflow
    case coupling
}

/// Histogram of |u[T]| or signed u[T] in θ units over a fixed range; values outside land in the edge counters.
public struct Histogram: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public var bins: [Int]
    public var below: Int
    public var above: Int

    public init(lower: Double, upper: Double, binCount: Int) {
        self.lower = lower
        self.upper = upper
        self.bins = Array(repeating: 0, count: binCount)
        self.below = 0
        self.above = 0
    }

    public var binWidth: Double { (upper - lower) / Double(bins.count) }

    public mutating func add(_ x: Double) {
        if x < lower { below += 1; return }
        if x >= upper { above += 1; return }
        let i = min(bins.count - 1, Int((x - lower) / binWidth))
        bins[i] += 1
    }

    public mutating func merge(_ other: Histogram) {
        precondition(other.bins.count == bins.count)
        for i in bins.indices { bins[i] += other.bins[i] }
        below += other.below
        above += other.above
    }

    public var total: Int { bins.reduce(below + above, +) }
}

/// One neuron of one sample that violates the decoupling condition.
public struct Hotspot: Sendable, Equatable {
    public var layer: Int
    public var neuron: Int
    public var sample: Int
    public var kind: ViolationKind
    /// Smallest k0 with margin ≤ 0.
    public var firstViolationStep: Int
    /// Smallest margin over all k0 (most negative is worst).
    public var worstMargin: Double
    /// |u[T]| in θ units.
    public var residual: Double

    public init(layer: Int, neuron: Int, sample: Int, kind: ViolationKind, firstViolationStep: Int,
                worstMargin: Double, residual: Double) {
        self.layer = layer
        self.neuron = neuron
        self.sample = sample
        self.kind = kind
        self.firstViolationStep = firstViolationStep
        self.worstMargin = worstMargin
        self.residual = residual
    }

    /// The `perKind` most severe overflow cases and the `perKind` most severe coupling cases,
    /// sorted by `bySeverity`. Capping each kind on its own keeps the coupling cases when
    /// overflows are plentiful (and the reverse), so each filter of the list has its worst cases.
    public static func mostSevere(_ list: [Hotspot], perKind: Int) -> [Hotspot] {
        var sorted = list.sorted(by: bySeverity)
        var overflow = 0, coupling = 0
        sorted.removeAll { h in
            if h.kind == .overflow { overflow += 1; return overflow > perKind }
            coupling += 1
            return coupling > perKind
        }
        return sorted
    }

    /// Sort order: overflow before coupling, then worst margin first, then position.
    public static func bySeverity(_ a: Hotspot, _ b: Hotspot) -> Bool {
        if a.kind != b.kind { return a.kind == .overflow }
        if a.worstMargin != b.worstMargin { return a.worstMargin < b.worstMargin }
        if a.layer != b.layer { return a.layer < b.layer }
        if a.sample != b.sample { return a.sample < b.sample }
        return a.neuron < b.neuron
    }
}

/// Per spiking layer diagnostics over a data set (the `layers[]` entries of `eval --json`).
public struct LayerReport: Sendable, Equatable {
    public var info: SpikingLayerInfo
    public var theta: Double
    /// 99.9th percentile of |u[T]| (θ units).
    public var residualP999: Double
    public var residualMax: Double
    /// Pairs (neuron, sample) with |u[T]| ≥ 1.
    public var overOne: Int
    public var overflow: Int
    public var coupling: Int
    /// Violations (margin ≤ 0) at each k0 = 0..T+L.
    public var violationsByStep: [Int]
    /// Neurons whose first violation is at each k0.
    public var firstViolationByStep: [Int]
    public var spikesPositive: Int
    public var spikesNegative: Int
    /// RMSE of θ·Σ w_i S_i against the ANN's activation (ANN units).
    public var activationRMSE: Double
    /// Signed u[T] (θ units) over [-2, 2).
    public var residualHistogram: Histogram

    public init(info: SpikingLayerInfo, theta: Double, residualP999: Double, residualMax: Double, overOne: Int,
                overflow: Int, coupling: Int, violationsByStep: [Int], firstViolationByStep: [Int],
                spikesPositive: Int, spikesNegative: Int, activationRMSE: Double, residualHistogram: Histogram) {
        self.info = info
        self.theta = theta
        self.residualP999 = residualP999
        self.residualMax = residualMax
        self.overOne = overOne
        self.overflow = overflow
        self.coupling = coupling
        self.violationsByStep = violationsByStep
        self.firstViolationByStep = firstViolationByStep
        self.spikesPositive = spikesPositive
        self.spikesNegative = spikesNegative
        self.activationRMSE = activationRMSE
        self.residualHistogram = residualHistogram
    }
}

/// Everything `eval` reports about one data set under one conversion.
public struct DatasetReport: Sendable, Equatable {
    public var layout: NetworkLayout
    public var amplitudes: Amplitudes
    public var samples: Int
    public var annAccuracy: Double?
    public var snnAccuracy: Double?
    /// Fraction of samples whose SNN prediction equals the ANN's.
    public var agreement: Double
    public var layers: [LayerReport]
    /// The most severe violations over the data set, sorted by `Hotspot.bySeverity`: up to
    /// `DatasetReport.hotspotsPerKind` of each kind.
    public var hotspots: [Hotspot]
    public static let hotspotsPerKind = 500
    public var annPredictions: [Int]
    public var snnPredictions: [Int]
    /// ANN MACs and SNN synaptic operations per node and layer (docs/numerics.md §13).
    public var operations: OperationReport?
    /// Accuracy by output slot (§14).
    public var anytime: AnytimeReport?
    /// Which layer costs the accuracy (§12): computed only on request (2n+1 simulations).
    public var attribution: AttributionReport?

    public init(layout: NetworkLayout, amplitudes: Amplitudes, samples: Int, annAccuracy: Double?,
                snnAccuracy: Double?, agreement: Double, layers: [LayerReport], hotspots: [Hotspot],
                annPredictions: [Int], snnPredictions: [Int], operations: OperationReport? = nil,
                anytime: AnytimeReport? = nil, attribution: AttributionReport? = nil) {
        self.operations = operations
        self.anytime = anytime
        self.attribution = attribution
        self.layout = layout
        self.amplitudes = amplitudes
        self.samples = samples
        self.annAccuracy = annAccuracy
        self.snnAccuracy = snnAccuracy
        self.agreement = agreement
        self.layers = layers
        self.hotspots = hotspots
        self.annPredictions = annPredictions
        self.snnPredictions = snnPredictions
    }
}
