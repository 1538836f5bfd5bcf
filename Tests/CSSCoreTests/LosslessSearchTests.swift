import XCTest
import TestSupport
@testable import CSSCore

/// The doctor's search (docs/numerics.md §15) against an exhaustive search of the same space, on
/// tables of results where accuracy jumps up and down with T, L and the rounds (it is not monotone
/// on real models either), and random tolerances.
final class LosslessSearchTests: XCTestCase {
    typealias Candidate = (config: ConversionConfig, rounds: Int, latency: Int)

    /// A space like the doctor's for a network of `depth` spiking layers on its longest path.
    func candidates(depth: Int, maxT: Int) -> [Candidate] {
        var all: [Candidate] = []
        for T in 1...maxT {
            for L in 0...3 {
                for neg in [true, false] {
                    for r in 0...3 {
                        all.append((ConversionConfig(T: T, silent: L, negative: neg), r, T + (depth + 1) * L))
                    }
                }
            }
        }
        // The order `Space.candidates` visits: latency, then T, then as built.
        return all.enumerated().sorted { a, b in
            (a.element.latency, a.element.config.T, a.offset) < (b.element.latency, b.element.config.T, b.offset)
        }.map(\.element)
    }

    struct Key: Hashable { let config: ConversionConfig; let rounds: Int }

    func summary(_ acc: Double, ops: Double) -> LosslessSearch.Summary {
        LosslessSearch.Summary(snnAccuracy: acc, annAccuracy: 0.9, agreement: acc, synapticOps: ops, macs: 100,
                               overflow: 0, coupling: 0, amplitudes: Amplitudes(input: 1, layers: [1]), factors: [1])
    }

    func testSearchEqualsExhaustiveOnRandomTables() throws {
        var rng = SplitMix(seed: 29)
        for round in 0..<300 {
            let depth = Int.random(in: 1...8, using: &rng)
            let cands = candidates(depth: depth, maxT: Int.random(in: 3...12, using: &rng))
            // Accuracy around the ANN's 0.9, jumping with every setting; some rounds leave θ as it was.
            var table: [Key: LosslessSearch.TrialResult] = [:]
            var effective: [Key: LosslessSearch.Summary] = [:]
            for c in cands.sorted(by: { $0.rounds < $1.rounds }) {
                let key = Key(config: c.config, rounds: c.rounds)
                if c.rounds > 0, Int.random(in: 0..<4, using: &rng) == 0 {
                    table[key] = .same("θ unchanged")
                    effective[key] = effective[Key(config: c.config, rounds: c.rounds - 1)]
                } else {
                    let acc = Double(Int.random(in: 600...905, using: &rng)) / 1000
                    let s = summary(acc, ops: Double(Int.random(in: 1...5, using: &rng)) * 1000)
                    table[key] = .evaluated(s)
                    effective[key] = s
                }
            }
            let tolerance = Double(Int.random(in: 0...100, using: &rng)) / 10
            var visited = 0
            let outcome = try LosslessSearch.search(cands, tolerance: tolerance) { config, rounds in
                visited += 1
                return table[Key(config: config, rounds: rounds)]!
            }
            // Exhaustive: every candidate, the best by the §15 order.
            var best: LosslessSearch.Trial? = nil
            for c in cands {
                let s = effective[Key(config: c.config, rounds: c.rounds)]!
                guard LosslessSearch.isLossless(snn: s.snnAccuracy, ann: 0.9, agreement: s.agreement, tolerance: tolerance)
                else { continue }
                let t = LosslessSearch.Trial(config: c.config, rounds: c.rounds, latency: c.latency, report: s,
                                             lossless: true, prunedBy: nil, note: "")
                if best.map({ LosslessSearch.better(t, than: $0) }) ?? true { best = t }
            }
            let label = "round \(round) tolerance \(tolerance)"
            XCTAssertEqual(outcome.best?.latency, best?.latency, label)
            XCTAssertEqual(outcome.best?.config, best?.config, label)
            XCTAssertEqual(outcome.best?.rounds, best?.rounds, label)
            XCTAssertEqual(outcome.stop, best == nil ? LosslessSearch.Stop.exhausted : .found, label)
            // Nothing of lower latency than the answer went unvisited, and nothing pruned was lossless.
            if let b = best {
                XCTAssertFalse(cands.contains { c in c.latency < b.latency && !outcome.trials.contains(where: { t in
                    t.config == c.config && t.rounds == c.rounds }) }, label)
            }
            for t in outcome.trials where t.prunedBy != nil {
                let s = effective[Key(config: t.config, rounds: t.rounds)]!
                let lossless = LosslessSearch.isLossless(snn: s.snnAccuracy, ann: 0.9, agreement: s.agreement,
                                                         tolerance: tolerance)
                if lossless, let b = best { XCTAssertFalse(LosslessSearch.better(t.with(s), than: b), label) }
            }
            XCTAssertLessThanOrEqual(visited, cands.count)
        }
    }

    func testStopKeepsTheBestSoFarAndSaysWhy() throws {
        let cands = candidates(depth: 2, maxT: 6)
        var calls = 0
        let outcome = try LosslessSearch.search(cands, tolerance: 0, stop: { calls >= 5 ? .budget : nil }) { _, _ in
            calls += 1
            return .evaluated(self.summary(0.5, ops: 1))
        }
        XCTAssertEqual(outcome.stop, .budget)
        XCTAssertEqual(outcome.trials.count, 5)
        XCTAssertNil(outcome.best)
        XCTAssertEqual(outcome.notVisited, cands.count - 5)
        let cancelled = try LosslessSearch.search(cands, tolerance: 0) { _, rounds in
            if rounds == 2 { throw CancellationError() }
            return .evaluated(self.summary(0.95, ops: 1))
        }
        XCTAssertEqual(cancelled.stop, .interrupted)
        XCTAssertNotNil(cancelled.best, "what was found before Ctrl-C is kept")
    }

    func testLosslessBoundary() {
        XCTAssertTrue(LosslessSearch.isLossless(snn: 0.985, ann: 0.99, agreement: 0, tolerance: 0.5))
        XCTAssertFalse(LosslessSearch.isLossless(snn: 0.984, ann: 0.99, agreement: 1, tolerance: 0.5))
        XCTAssertTrue(LosslessSearch.isLossless(snn: nil, ann: nil, agreement: 0.995, tolerance: 0.5))
        XCTAssertFalse(LosslessSearch.isLossless(snn: nil, ann: nil, agreement: 0.99, tolerance: 0.5))
    }
}

extension LosslessSearch.Trial {
    func with(_ s: LosslessSearch.Summary) -> LosslessSearch.Trial {
        var t = self
        t.report = s
        t.lossless = true
        return t
    }
}
