import CSSSnapshots

/// Running diagnostics of one spiking layer over many samples (docs/numerics.md §5–§6). Partial
/// statistics from blocks of channels are merged in block order, so results do not depend on
/// how many threads produced them.
public struct LayerStatistics: Sendable {
    /// Hotspots kept per layer and kind: as many as the report lists of each kind, so the
    /// report's top cases are exactly the data set's.
    public static let hotspotCapacity = DatasetReport.hotspotsPerKind

    public let window: Int
    public private(set) var pairs = 0
    public var residuals = QuantileAccumulator()
    public var signedHistogram = Histogram(lower: -2, upper: 2, binCount: 80)
    public var overOne = 0
    public var overflow = 0
    public var coupling = 0
    public var violationsByStep: [Int]
    public var firstViolationByStep: [Int]
    public var spikesPositive = 0
    public var spikesNegative = 0
    public var squaredError = 0.0
    public var hotspots: [Hotspot] = []

    public init(window: Int) {
        self.window = window
        violationsByStep = Array(repeating: 0, count: window + 1)
        firstViolationByStep = Array(repeating: 0, count: window + 1)
    }

    mutating func addPair(residual u: Float) {
        pairs += 1
        let a = abs(u)
        residuals.add(a)
        signedHistogram.add(Double(u))
        if a >= 1 { overOne += 1 }
    }

    /// `addPair` for a run of residuals `u` (and their absolute values), in order: the same
    /// counts, histogram bins and quantile values, without a call per element.
    mutating func addPairs(residuals u: UnsafeBufferPointer<Float>, absolute a: UnsafeBufferPointer<Float>) {
        precondition(u.count == a.count)
        pairs += u.count
        residuals.add(contentsOf: a)
        var over = 0
        for x in a { over += x >= 1 ? 1 : 0 }
        overOne += over
        // Histogram.add(Double(u)) for each element, with the same arithmetic.
        let lower = signedHistogram.lower, upper = signedHistogram.upper
        let binWidth = signedHistogram.binWidth
        let last = signedHistogram.bins.count - 1
        var below = 0, above = 0
        signedHistogram.bins.withUnsafeMutableBufferPointer { bins in
            for x in u {
                let d = Double(x)
                if d < lower { below += 1; continue }
                if d >= upper { above += 1; continue }
                bins[min(last, Int((d - lower) / binWidth))] += 1
            }
        }
        signedHistogram.below += below
        signedHistogram.above += above
    }

    mutating func addHotspot(_ h: Hotspot) {
        hotspots.append(h)
        if hotspots.count >= 4 * Self.hotspotCapacity { trimHotspots() }
    }

    mutating func trimHotspots() {
        hotspots = Hotspot.mostSevere(hotspots, perKind: Self.hotspotCapacity)
    }

    public mutating func merge(_ o: LayerStatistics) {
        pairs += o.pairs
        residuals.merge(o.residuals)
        signedHistogram.merge(o.signedHistogram)
        overOne += o.overOne
        overflow += o.overflow
        coupling += o.coupling
        for i in violationsByStep.indices {
            violationsByStep[i] += o.violationsByStep[i]
            firstViolationByStep[i] += o.firstViolationByStep[i]
        }
        spikesPositive += o.spikesPositive
        spikesNegative += o.spikesNegative
        squaredError += o.squaredError
        for h in o.hotspots { addHotspot(h) }
    }

    public func report(info: SpikingLayerInfo, theta: Double) -> LayerReport {
        var s = self
        s.trimHotspots()
        return LayerReport(info: info, theta: theta, residualP999: residuals.percentile(99.9),
                           residualMax: Double(residuals.maximum), overOne: overOne, overflow: overflow,
                           coupling: coupling, violationsByStep: violationsByStep,
                           firstViolationByStep: firstViolationByStep, spikesPositive: spikesPositive,
                           spikesNegative: spikesNegative,
                           activationRMSE: pairs > 0 ? (squaredError / Double(pairs)).squareRoot() : 0,
                           residualHistogram: signedHistogram)
    }
}
