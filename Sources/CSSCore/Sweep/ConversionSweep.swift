/// Which T, β, L and spike sign a model needs: every combination converted, optionally tuned
/// with A.3 rounds, and evaluated (`cssdbg sweep`, later the debugger's `:sweep`).

/// One evaluated configuration.
public struct SweepPoint: Sendable, Equatable {
    public var config: ConversionConfig
    /// A.3 rounds run on the calibration set before the evaluation.
    public var rounds: Int
    /// The θ evaluated (calibrated, then adjusted), so a point can be reconverted to.
    public var amplitudes: Amplitudes
    public var latency: Int
    public var annAccuracy: Double?
    public var snnAccuracy: Double?
    public var agreement: Double
    /// The worst layer's 99.9th percentile of |u[T]|.
    public var residualP999Max: Double
    public var overflow: Int
    public var coupling: Int
    /// On the Pareto front of SNN accuracy (agreement without labels) against latency.
    public var pareto: Bool
    /// SNN synaptic operations per sample (docs/numerics.md §13) and the ANN's MACs.
    public var synapticOps: Double
    public var macs: Int

    public init(config: ConversionConfig, rounds: Int, amplitudes: Amplitudes, latency: Int, annAccuracy: Double?,
                snnAccuracy: Double?, agreement: Double, residualP999Max: Double, overflow: Int, coupling: Int,
                pareto: Bool, synapticOps: Double = 0, macs: Int = 0) {
        self.config = config
        self.rounds = rounds
        self.amplitudes = amplitudes
        self.latency = latency
        self.annAccuracy = annAccuracy
        self.snnAccuracy = snnAccuracy
        self.agreement = agreement
        self.residualP999Max = residualP999Max
        self.overflow = overflow
        self.coupling = coupling
        self.pareto = pareto
        self.synapticOps = synapticOps
        self.macs = macs
    }

    /// The point as the debugger's sweep pane shows it (no θ: the view never simulates).
    public var row: SweepRow {
        SweepRow(config: config, latency: latency, annAccuracy: annAccuracy, snnAccuracy: snnAccuracy, agreement: agreement,
                 residualP999Max: residualP999Max, overflow: overflow, coupling: coupling, pareto: pareto,
                 synapticOps: synapticOps)
    }

    /// What the front is drawn on: SNN accuracy, or agreement with the ANN when there are no labels.
    public var score: Double { snnAccuracy ?? agreement }
}

public enum ConversionSweep {
    /// Every combination, T outermost, then β, L and the sign; other settings from `base`.
    public static func configurations(T: [Int], beta: [Double], silent: [Int], negative: [Bool],
                                      base: ConversionConfig) -> [ConversionConfig] {
        ConversionConfig.combinations(T: T, beta: beta, silent: silent, negative: negative, base: base)
    }

    /// Evaluates every config on `data`: θ = p/Σw from the calibration percentiles (recomputed
    /// when a config's percentile differs), then `rounds` A.3 rounds on `calib`. `progress` gets
    /// (fraction, points done); cancelling the task throws `CancellationError` before the next graph node.
    public static func run(_ evaluator: Evaluator, data: SampleSet, calib: SampleSet,
                           percentiles: CalibrationPercentiles, configs: [ConversionConfig], rounds: Int,
                           progress: (@Sendable (Double) -> Void)? = nil) throws -> [SweepPoint] {
        var points: [SweepPoint] = []
        // Work per point: one evaluation plus the rounds, each a pass over its set.
        let perPoint = Double(data.count + rounds * calib.count)
        for (i, config) in configs.enumerated() {
            try Checkpoint.pass()
            let base = Double(i) * perPoint, total = perPoint * Double(configs.count)
            let p = config.percentile == percentiles.percentile ? percentiles
                : try evaluator.calibrationPercentiles(calib, percentile: config.percentile)
            var theta = p.amplitudes(config)
            if rounds > 0 {
                let share = Double(rounds * calib.count)
                (theta, _) = try AmplitudeAdjustment.adjust(evaluator, calib: calib, amplitudes: theta, config: config,
                                                            rounds: rounds, progress: progress.map { report in
                    { @Sendable f in report((base + f * share) / total) }
                })
            }
            let done = base + Double(rounds * calib.count)
            let r = try evaluator.evaluate(data, amplitudes: theta, config: config, progress: progress.map { report in
                { @Sendable f in report((done + f * Double(data.count)) / total) }
            })
            points.append(SweepPoint(config: config, rounds: rounds, amplitudes: theta, latency: r.layout.latency,
                                     annAccuracy: r.annAccuracy, snnAccuracy: r.snnAccuracy, agreement: r.agreement,
                                     residualP999Max: r.layers.map(\.residualP999).max() ?? 0,
                                     overflow: r.layers.reduce(0) { $0 + $1.overflow },
                                     coupling: r.layers.reduce(0) { $0 + $1.coupling }, pareto: false,
                                     synapticOps: r.operations?.total.synapticOps ?? 0, macs: r.operations?.total.macs ?? 0))
        }
        markParetoFront(&points)
        return points
    }

    /// What the Pareto front weighs against the score (accuracy, agreement without labels).
    public enum Criteria: String, Sendable, CaseIterable {
        /// Latency (the default).
        case latency
        /// Synaptic operations (the SNN's energy).
        case energy
        /// Latency and synaptic operations: a third criterion.
        case both = "latency,energy"
    }

    /// A point is on the front when no other point is as good in every criterion and better in
    /// one (equal points are both on it).
    public static func markParetoFront(_ points: inout [SweepPoint], criteria: Criteria = .latency) {
        let all = points.map { (score: $0.score, latency: $0.latency, synapticOps: $0.synapticOps) }
        for i in points.indices {
            points[i].pareto = !all.contains { criteria.dominates($0, all[i]) }
        }
    }
}

extension ConversionSweep.Criteria {
    /// Whether `q` is as good as `p` in every criterion (score, and latency and/or synaptic
    /// operations) and better in one.
    public func dominates(_ q: (score: Double, latency: Int, synapticOps: Double),
                          _ p: (score: Double, latency: Int, synapticOps: Double)) -> Bool {
        let useLatency = self != .energy, useEnergy = self != .latency
        let asGood = q.score >= p.score && (!useLatency || q.latency <= p.latency)
            && (!useEnergy || q.synapticOps <= p.synapticOps)
        let better = q.score > p.score || (useLatency && q.latency < p.latency)
            || (useEnergy && q.synapticOps < p.synapticOps)
        return asGood && better
    }
}
