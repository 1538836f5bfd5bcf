import CSSSnapshots
import Foundation

/// The lowest-latency lossless conversion of a model (docs/numerics.md §15), found without a
/// blind grid: latency orders the space, so configurations are visited latency by latency and
/// the first latency with a lossless configuration ends the search. Only pruning that is exact
/// is used — accuracy is not monotone in T, L or the rounds, so nothing assumes it:
/// - within a latency, once a lossless T is found, larger T at that latency cannot be better;
/// - an A.3 round whose factors are all 1 leaves θ as it was, so it and the later rounds give
///   the same network as fewer rounds (which win the tie);
/// - every latency above the first lossless one is worse by definition.
public enum LosslessSearch {
    /// What is searched: at least T 1…(the largest exact T of β), L 0…3, both spike signs and
    /// 0…3 A.3 rounds at β 1.5.
    public struct Space: Sendable, Equatable {
        public var betas: [Double]
        public var silent: [Int]
        public var negative: [Bool]
        public var maxRounds: Int
        /// Largest T per β (default: the precision limit, `ConversionConfig.maxT`).
        public var maxT: Int?
        public var percentile: Double

        public init(betas: [Double] = [1.5], silent: [Int] = Array(0...3), negative: [Bool] = [true, false],
                    maxRounds: Int = 3, maxT: Int? = nil, percentile: Double = ConversionConfig.default.percentile) {
            self.betas = betas
            self.silent = silent
            self.negative = negative
            self.maxRounds = maxRounds
            self.maxT = maxT
            self.percentile = percentile
        }

        /// Every (config, rounds) of the space, in the order they are visited: latency, then T,
        /// then β, negative spikes on before off, then rounds.
        public func candidates(_ network: Network) -> [(config: ConversionConfig, rounds: Int, latency: Int)] {
            var all: [(config: ConversionConfig, rounds: Int, latency: Int)] = []
            for beta in betas {
                let top = min(maxT ?? Int.max, ConversionConfig.maxT(beta: beta))
                guard top >= 1 else { continue }
                for T in 1...top {
                    for L in silent {
                        for neg in negative {
                            let c = ConversionConfig(T: T, beta: beta, silent: L, negative: neg, percentile: percentile)
                            let latency = network.layout(c).latency
                            for r in 0...maxRounds { all.append((c, r, latency)) }
                        }
                    }
                }
            }
            return all.enumerated().sorted { a, b in
                let x = a.element, y = b.element
                if x.latency != y.latency { return x.latency < y.latency }
                if x.config.T != y.config.T { return x.config.T < y.config.T }
                return a.offset < b.offset
            }.map(\.element)
        }
    }

    /// One configuration on the way.
    public struct Trial: Sendable, Equatable {
        public var config: ConversionConfig
        public var rounds: Int
        public var latency: Int
        /// Nil when the trial was pruned (not evaluated).
        public var report: Summary?
        public var lossless: Bool
        /// Why it was not evaluated, in words.
        public var prunedBy: String?
        /// What changed against the trial before it and why it was tried.
        public var note: String
    }

    /// The numbers of an evaluated trial.
    public struct Summary: Sendable, Equatable {
        public var snnAccuracy: Double?
        public var annAccuracy: Double?
        public var agreement: Double
        public var synapticOps: Double
        public var macs: Int
        public var overflow: Int
        public var coupling: Int
        public var amplitudes: Amplitudes
        /// Per layer A.3 factors of the rounds that made θ (product over the rounds).
        public var factors: [Double]

        public var score: Double { snnAccuracy ?? agreement }

        public init(snnAccuracy: Double?, annAccuracy: Double?, agreement: Double, synapticOps: Double, macs: Int,
                    overflow: Int, coupling: Int, amplitudes: Amplitudes, factors: [Double]) {
            self.snnAccuracy = snnAccuracy
            self.annAccuracy = annAccuracy
            self.agreement = agreement
            self.synapticOps = synapticOps
            self.macs = macs
            self.overflow = overflow
            self.coupling = coupling
            self.amplitudes = amplitudes
            self.factors = factors
        }
    }

    public enum Stop: Sendable, Equatable {
        /// The first lossless latency was searched in full.
        case found
        /// The space holds no lossless configuration.
        case exhausted
        case interrupted
        case budget
    }

    public struct Outcome: Sendable {
        public var annAccuracy: Double?
        public var tolerance: Double
        public var trials: [Trial]
        public var best: Trial?
        public var stop: Stop
        /// Configurations never visited because a lower latency was lossless (or the search stopped).
        public var notVisited: Int
        /// The lowest latency not searched in full, when the search stopped early.
        public var stoppedAtLatency: Int?

        /// Evaluated trials on the Pareto front of score (accuracy, agreement without labels)
        /// against latency: no other has a latency as low and a score as high, one strictly.
        public var pareto: [Trial] { pareto(.latency) }

        /// The front against latency, synaptic operations (energy) or both.
        public func pareto(_ criteria: ConversionSweep.Criteria) -> [Trial] {
            let done = trials.filter { $0.report != nil }
            func key(_ t: Trial) -> (score: Double, latency: Int, synapticOps: Double) {
                (t.report!.score, t.latency, t.report!.synapticOps)
            }
            return done.filter { p in !done.contains { criteria.dominates(key($0), key(p)) } }
        }
    }

    /// Lossless: SNN accuracy ≥ ANN accuracy − tolerance (percentage points), or agreement ≥
    /// 1 − tolerance without labels. The 1e-12 keeps a configuration exactly at the boundary
    /// lossless despite rounding in the fractions.
    public static func isLossless(snn: Double?, ann: Double?, agreement: Double, tolerance: Double) -> Bool {
        if let snn, let ann { return snn >= ann - tolerance / 100 - 1e-12 }
        return agreement >= 1 - tolerance / 100 - 1e-12
    }

    /// The better of two lossless trials of one latency: lower T, fewer synaptic operations,
    /// fewer rounds, positive spikes only before ternary, lower β.
    public static func better(_ a: Trial, than b: Trial) -> Bool {
        if a.latency != b.latency { return a.latency < b.latency }
        if a.config.T != b.config.T { return a.config.T < b.config.T }
        let sa = a.report?.synapticOps ?? .infinity, sb = b.report?.synapticOps ?? .infinity
        if sa != sb { return sa < sb }
        if a.rounds != b.rounds { return a.rounds < b.rounds }
        if a.config.negative != b.config.negative { return !a.config.negative }
        return a.config.beta < b.config.beta
    }

    /// What one trial gave: its numbers, or the reason it needs no evaluation (same network as
    /// a trial already made).
    public enum TrialResult: Sendable {
        case evaluated(Summary)
        case same(String)
    }

    /// Searches `space` on real simulations: θ from the calibration percentiles, then A.3 rounds
    /// on `calib` (each config's chain of rounds computed once), evaluated on `data`. `stop` is
    /// asked between trials (nil: go on); cancelling the calling task ends the current
    /// evaluation and returns what was found, marked `.interrupted`. `progress` gets (trials
    /// done, trials of the current latency done, its trial count, that latency).
    public static func run(_ evaluator: Evaluator, data: SampleSet, calib: SampleSet, space: Space, tolerance: Double,
                           stop: @Sendable () -> Stop? = { nil },
                           progress: (@Sendable (_ done: Int, _ latencyDone: Int, _ latencyTotal: Int, _ latency: Int) -> Void)? = nil)
        throws -> Outcome
    {
        let network = evaluator.network
        var percentiles: CalibrationPercentiles? = nil
        var chains: [ConversionConfig: [(Amplitudes, [Double])]] = [:]
        var annAccuracy: Double? = nil
        var outcome = try search(space.candidates(network), tolerance: tolerance, stop: stop, progress: progress) { config, rounds in
            if percentiles == nil { percentiles = try evaluator.calibrationPercentiles(calib, percentile: space.percentile) }
            var chain = chains[config] ?? [(percentiles!.amplitudes(config), [Double](repeating: 1, count: network.layerCount))]
            while chain.count <= rounds {
                let (theta, factors) = chain.last!
                let (next, steps) = try AmplitudeAdjustment.adjust(evaluator, calib: calib, amplitudes: theta, config: config,
                                                                  rounds: 1)
                var product = factors
                for s in steps { product[s.layer] *= s.factor }
                chain.append((next, product))
            }
            chains[config] = chain
            if rounds > 0, chain[rounds].0 == chain[rounds - 1].0 {
                return .same("A.3 round \(rounds) leaves θ as \(rounds - 1) round\(rounds - 1 == 1 ? "" : "s") left it (every layer's p99.9 |u| ≤ 1 on the calibration set)")
            }
            let r = try evaluator.evaluate(data, amplitudes: chain[rounds].0, config: config)
            annAccuracy = r.annAccuracy
            let total = r.operations?.total ?? OperationCounts()
            return .evaluated(Summary(snnAccuracy: r.snnAccuracy, annAccuracy: r.annAccuracy, agreement: r.agreement,
                                      synapticOps: total.synapticOps, macs: total.macs,
                                      overflow: r.layers.reduce(0) { $0 + $1.overflow },
                                      coupling: r.layers.reduce(0) { $0 + $1.coupling },
                                      amplitudes: chain[rounds].0, factors: chain[rounds].1))
        }
        outcome.annAccuracy = annAccuracy
        return outcome
    }

    /// The search itself over `candidates` (in `Space.candidates` order), with `trial` giving each
    /// visited candidate's result: the search logic alone, so that it can be checked against an
    /// exhaustive search on any table of results.
    public static func search(_ candidates: [(config: ConversionConfig, rounds: Int, latency: Int)], tolerance: Double,
                              stop: () -> Stop? = { nil },
                              progress: ((_ done: Int, _ latencyDone: Int, _ latencyTotal: Int, _ latency: Int) -> Void)? = nil,
                              trial evaluate: (ConversionConfig, Int) throws -> TrialResult) throws -> Outcome
    {
        var trials: [Trial] = []
        var best: Trial? = nil
        var annAccuracy: Double? = nil
        var outcomeStop = Stop.exhausted
        var index = 0
        var stoppedAt: Int? = nil
        searching: while index < candidates.count {
            let latency = candidates[index].latency
            var end = index
            while end < candidates.count, candidates[end].latency == latency { end += 1 }
            var bestT: Int? = nil
            for i in index..<end {
                let (config, rounds, _) = candidates[i]
                if let reason = stop() {
                    outcomeStop = reason
                    stoppedAt = latency
                    index = i
                    break searching
                }
                progress?(trials.count, i - index, end - index, latency)
                var trial = Trial(config: config, rounds: rounds, latency: latency, report: nil, lossless: false,
                                  prunedBy: nil, note: note(config, rounds, latency: latency, after: trials.last))
                if let t = bestT, config.T > t {
                    trial.prunedBy = "a lossless configuration with T \(t) has the same latency"
                    trials.append(trial)
                    continue
                }
                do {
                    switch try evaluate(config, rounds) {
                    case .same(let why):
                        trial.prunedBy = why
                    case .evaluated(let r):
                        annAccuracy = r.annAccuracy
                        trial.report = r
                        trial.lossless = isLossless(snn: r.snnAccuracy, ann: r.annAccuracy, agreement: r.agreement,
                                                    tolerance: tolerance)
                    }
                } catch is CancellationError {
                    outcomeStop = .interrupted
                    stoppedAt = latency
                    index = i
                    break searching
                }
                trials.append(trial)
                if trial.lossless {
                    bestT = min(bestT ?? config.T, config.T)
                    if best.map({ better(trial, than: $0) }) ?? true { best = trial }
                }
            }
            index = end
            if best != nil {
                outcomeStop = .found
                break
            }
        }
        return Outcome(annAccuracy: annAccuracy, tolerance: tolerance, trials: trials, best: best, stop: outcomeStop,
                       notVisited: candidates.count - index, stoppedAtLatency: stoppedAt)
    }

    /// What changed against the previous trial, in words.
    static func note(_ c: ConversionConfig, _ rounds: Int, latency: Int, after previous: Trial?) -> String {
        guard let p = previous else { return "the lowest latency of the space" }
        var changes: [String] = []
        if p.latency != latency { changes.append("latency \(p.latency)→\(latency) (none lossless at \(p.latency))") }
        if p.config.T != c.T { changes.append("T \(p.config.T)→\(c.T)") }
        if p.config.silent != c.silent { changes.append("L \(p.config.silent)→\(c.silent)") }
        if p.config.negative != c.negative { changes.append(c.negative ? "negative spikes on" : "positive spikes only") }
        if p.config.beta != c.beta { changes.append("β \(p.config.beta)→\(c.beta)") }
        if p.rounds != rounds { changes.append(rounds > p.rounds ? "\(rounds - p.rounds) more A.3 round\(rounds - p.rounds == 1 ? "" : "s") (raises θ where |u| ≥ 1)" : "A.3 rounds \(rounds)") }
        return changes.isEmpty ? "same" : changes.joined(separator: ", ")
    }
}
