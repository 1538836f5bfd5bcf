import CSSSnapshots

/// Calibration (docs/numerics.md §3), data-set evaluation (§5–§6) and amplitude adjustment (§7).
public struct Evaluator: Sendable {
    public let simulator: Simulator
    /// Samples per simulated batch (the window GEMM has T × batch columns). 16 rather than 32:
    /// on VGG-16 a batch of 32 runs 20 % fewer samples/s (its first layers' tensors, 84 MB each,
    /// no longer stay in the last-level cache) and `eval` of 1000 samples peaks at 656 instead of
    /// 445 MiB. Results do not depend on it (tested).
    public var batchSize: Int

    public init(network: Network, batchSize: Int = 16) {
        self.simulator = Simulator(network: network)
        self.batchSize = batchSize
    }

    public var network: Network { simulator.network }

    /// Visits the data set in batches; `body` gets (offset, count). Throws on cancellation.
    func batches(_ count: Int, progress: (@Sendable (Double) -> Void)?, _ body: (Int, Int) throws -> Void) throws {
        var offset = 0
        while offset < count {
            try Checkpoint.pass()
            let n = min(batchSize, count - offset)
            try body(offset, n)
            offset += n
            progress?(Double(offset) / Double(count))
        }
    }

    /// Initial amplitudes θ = p / Σw from the calibration inputs, p the percentile of the
    /// non-zero ReLU outputs (and of the non-zero |input| for the encoder).
    public func calibrate(_ calib: SampleSet, config: ConversionConfig,
                          progress: (@Sendable (Double) -> Void)? = nil) throws -> Amplitudes {
        try calibrationPercentiles(calib, percentile: config.percentile, progress: progress).amplitudes(config)
    }

    /// The percentiles p_0, p_l themselves: they depend on the percentile setting only, so a
    /// change of T or β reconverts without running the ANN again.
    public func calibrationPercentiles(_ calib: SampleSet, percentile: Double,
                                       progress: (@Sendable (Double) -> Void)? = nil) throws -> CalibrationPercentiles {
        var input = QuantileAccumulator()
        var layers = [QuantileAccumulator](repeating: QuantileAccumulator(), count: network.layerCount)
        // Batch by batch: the inputs' values reach `input` in the same order as one pass over
        // the whole set would give them, so the percentile does not depend on the batching.
        try batches(calib.count, progress: progress) { offset, n in
            let x = try calib.samples(offset..<(offset + n))
            for v in x where v != 0 { input.add(abs(v)) }
            let ann = try simulator.annForward(x, count: n)
            for (l, a) in ann.activations.enumerated() {
                for v in a.data where v > 0 { layers[l].add(v) }
            }
        }
        return CalibrationPercentiles(percentile: percentile, input: input.percentile(percentile),
                                      layers: layers.map { $0.percentile(percentile) })
    }

    /// Simulates the data set and reports accuracy, agreement and per-layer diagnostics.
    public func evaluate(_ data: SampleSet, amplitudes: Amplitudes, config: ConversionConfig,
                         withANN: Bool = true, progress: (@Sendable (Double) -> Void)? = nil) throws -> DatasetReport {
        var cache: EvaluationCache? = nil
        return try evaluate(data, amplitudes: amplitudes, config: config, withANN: withANN, cache: &cache, progress: progress)
    }

    /// As above, reusing and refreshing `cache`: batches whose θ changed only from layer l on
    /// re-simulate layer l and what it feeds.
    public func evaluate(_ data: SampleSet, amplitudes: Amplitudes, config: ConversionConfig, withANN: Bool = true,
                         cache: inout EvaluationCache?, progress: (@Sendable (Double) -> Void)? = nil) throws -> DatasetReport {
        let layout = network.layout(config)
        var stats = [LayerStatistics](repeating: LayerStatistics(window: config.window), count: network.layerCount)
        var annPred: [Int] = [], snnPred: [Int] = []
        let classes = network.outputCount
        // Entries are per batch offset: a cache from another batch size is of no use.
        if cache != nil, cache!.batchSize != batchSize { cache!.batches = [:] }
        var next = cache.map { EvaluationCache(budgetBytes: $0.budgetBytes, batchSize: batchSize) }
        // Whether a batch's cache fits is decided before it runs: keeping every tensor is what
        // costs the memory, so deciding afterwards would already have overshot.
        let cachePerSample = next.map { $0.budgetBytes > 0 ? MemoryNeeds(network: network, config: config).cachePerSample : 0 } ?? 0
        var used = 0
        var events = [Int](repeating: 0, count: network.synapticNodes.count)
        var slotPredictions: [Int] = []
        slotPredictions.reserveCapacity(data.count * config.T)
        try batches(data.count, progress: progress) { offset, n in
            let x = try data.samples(offset..<(offset + n))
            var old = cache?.batches.removeValue(forKey: offset)  // released as soon as it is replaced
            let ann = withANN ? try (old?.ann ?? simulator.annForward(x, count: n)) : nil
            let keep = next != nil && next!.budgetBytes > 0 && used + n * cachePerSample <= next!.budgetBytes
            let snn = try simulator.simulate(x, count: n, amplitudes: amplitudes, config: config, ann: ann,
                                         sampleOffset: offset, reuse: old?.sim, keepCache: keep, countEvents: true)
            old = nil
            for i in events.indices { events[i] += snn.inputEvents[i] }
            slotPredictions.append(contentsOf: snn.slotPredictions)
            if next != nil {
                next!.layersSimulated.append(contentsOf: snn.layersSimulated)
                if keep {
                    used += n * cachePerSample
                    next!.batches[offset] = (ann, snn.cache)
                }
            }
            for l in stats.indices { stats[l].merge(snn.statistics[l]) }
            for b in 0..<n {
                if let ann { annPred.append(argmax(Array(ann.outputs[(b * classes)..<((b + 1) * classes)]))) }
                snnPred.append(argmax(Array(snn.outputs[(b * classes)..<((b + 1) * classes)])))
            }
        }
        if next != nil { cache = next }
        let layers = stats.enumerated().map { l, s in s.report(info: layout.layers[l], theta: amplitudes.layers[l]) }
        let hotspots = Hotspot.mostSevere(stats.flatMap(\.hotspots), perKind: DatasetReport.hotspotsPerKind)
        func accuracy(_ pred: [Int]) -> Double? {
            guard let labels = data.labels, !pred.isEmpty else { return nil }
            return Double(zip(pred, labels).filter { $0 == $1 }.count) / Double(pred.count)
        }
        let agreement = annPred.isEmpty ? 0 :
            Double(zip(annPred, snnPred).filter { $0 == $1 }.count) / Double(annPred.count)
        return DatasetReport(layout: layout, amplitudes: amplitudes, samples: data.count,
                             annAccuracy: accuracy(annPred), snnAccuracy: accuracy(snnPred), agreement: agreement,
                             layers: layers, hotspots: hotspots, annPredictions: annPred, snnPredictions: snnPred,
                             operations: network.operations(events: events, samples: data.count, config: config),
                             anytime: AnytimeReport(slotPredictions: slotPredictions, T: config.T,
                                                    labels: data.labels, ann: annPred))
    }

    /// The focused sample's full trace.
    public func trace(_ data: SampleSet, sample: Int, amplitudes: Amplitudes, config: ConversionConfig) throws -> SampleTrace {
        var cache: SimulationCache? = nil
        return try trace(data, sample: sample, amplitudes: amplitudes, config: config, cache: &cache).0
    }

    /// The focused sample's trace, reusing the previous run of the same sample where θ allows.
    /// Returns the layers whose recurrence ran.
    /// Without `keepCache` nothing is kept for the next run (less memory, every re-trace complete).
    public func trace(_ data: SampleSet, sample: Int, amplitudes: Amplitudes, config: ConversionConfig,
                      cache: inout SimulationCache?, keepCache: Bool = true) throws -> (SampleTrace, [Int]) {
        var ann: ANNBatch? = nil
        return try trace(data, sample: sample, amplitudes: amplitudes, config: config, cache: &cache, ann: &ann,
                         keepCache: keepCache)
    }

    /// As above, with the sample's ANN forward pass kept in `ann` (it depends on neither θ nor the
    /// config, so every re-trace of the same sample reuses it: one column of T + 1 saved, about
    /// 9 % of a first-layer re-trace at T = 10). `ann` must be this sample's or nil.
    public func trace(_ data: SampleSet, sample: Int, amplitudes: Amplitudes, config: ConversionConfig,
                      cache: inout SimulationCache?, ann annCache: inout ANNBatch?,
                      keepCache: Bool = true) throws -> (SampleTrace, [Int]) {
        let x = try data.sample(sample)
        let ann = try annCache ?? simulator.annForward(x, count: 1)
        annCache = ann
        let reuse = cache
        cache = nil  // the caller's copy goes now: only `reuse` holds the old tensors, until the run ends
        let snn = try simulator.simulate(x, count: 1, amplitudes: amplitudes, config: config, ann: ann,
                                     sampleOffset: sample, trace: true, reuse: reuse, keepCache: keepCache)
        cache = snn.cache
        return (SampleTrace(layout: network.layout(config), sample: sample, label: data.labels?[sample],
                           annOutput: ann.outputs, encoder: snn.encoder!, layers: snn.layers!,
                           outputSlots: snn.outputSlots!), snn.layersSimulated)
    }
}

/// Per-batch state of the last data-set run: whole batches, as many as fit in `budgetBytes`.
public struct EvaluationCache: Sendable {
    var batches: [Int: (ann: ANNBatch?, sim: SimulationCache?)] = [:]
    public var budgetBytes: Int
    /// The batch size the entries were made with (entries are keyed by batch offset).
    var batchSize: Int
    /// Spiking layers simulated by the run that produced this cache, one entry per batch and layer.
    public internal(set) var layersSimulated: [Int] = []

    public init(budgetBytes: Int = 256 << 20, batchSize: Int = 0) {
        self.budgetBytes = budgetBytes
        self.batchSize = batchSize
    }

    /// Batches held.
    public var batchCount: Int { batches.count }

    /// Bytes held by the kept tensors (for the memory tests; shared buffers count once per use).
    public var heldBytes: Int {
        batches.values.reduce(0) { total, b in
            total + 4 * (b.sim?.floatCount ?? 0) + 4 * (b.ann?.activations.reduce(0) { $0 + $1.data.count } ?? 0)
                + (b.sim?.encoderSpikes.count ?? 0)
        }
    }
}

public enum AmplitudeAdjustment {
    /// The scale factor s of docs/numerics.md §7 for residual percentile r.
    public static func factor(residualP999 r: Double, sumWeights sw: Double) -> Double {
        let d = r - 1
        if d <= 0 { return 1 }
        if d > 0.05 * sw { return 1 + d / sw }
        if d > 0.01 * sw { return 1 + (d - 0.01 * sw) / sw + 0.04 }
        return 1 + 4 * d / sw
    }

    /// Runs `rounds` rounds on the calibration set; `layers` restricts which layers may change
    /// (nil: all). Returns the new amplitudes and every step taken.
    public static func adjust(_ evaluator: Evaluator, calib: SampleSet, amplitudes: Amplitudes,
                              config: ConversionConfig, rounds: Int, layers: Set<Int>? = nil,
                              progress: (@Sendable (Double) -> Void)? = nil) throws -> (Amplitudes, [AdjustmentStep]) {
        var theta = amplitudes
        var steps: [AdjustmentStep] = []
        for round in 0..<rounds {
            var roundProgress: (@Sendable (Double) -> Void)? = nil
            if let progress {
                roundProgress = { @Sendable f in progress((Double(round) + f) / Double(rounds)) }
            }
            let report = try evaluator.evaluate(calib, amplitudes: theta, config: config, withANN: false,
                                                progress: roundProgress)
            for (l, lr) in report.layers.enumerated() where layers?.contains(l) ?? true {
                let s = factor(residualP999: lr.residualP999, sumWeights: config.sumWeights)
                theta.layers[l] *= s
                steps.append(AdjustmentStep(round: round + 1, layer: l, residualP999: lr.residualP999, factor: s,
                                            theta: theta.layers[l]))
            }
        }
        return (theta, steps)
    }
}

/// Calibration percentiles of the ANN (docs/numerics.md §3), before division by Σw.
public struct CalibrationPercentiles: Sendable, Equatable {
    public var percentile: Double
    public var input: Double
    public var layers: [Double]

    public init(percentile: Double, input: Double, layers: [Double]) {
        self.percentile = percentile
        self.input = input
        self.layers = layers
    }

    /// θ = p/Σw; a layer that never fires on the calibration set gets p = 1 so θ stays usable.
    public func amplitudes(_ config: ConversionConfig) -> Amplitudes {
        let sw = config.sumWeights
        return Amplitudes(input: (input > 0 ? input : 1) / sw, layers: layers.map { ($0 > 0 ? $0 : 1) / sw })
    }
}
