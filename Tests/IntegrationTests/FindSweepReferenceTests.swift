import CSSCore
import CSSImport
import Foundation
import XCTest

/// `cssdbg find` and `cssdbg sweep` against the Float64 reference (tools/reference/reference_find.py,
/// fixtures from `tools/reference/make_reference.sh find`): hits exactly equal, run with the θ the
/// reference found them with; sweep points within the tolerances of docs/numerics.md §9.
final class FindSweepReferenceTests: XCTestCase {
    typealias R = ReferenceAgreementTests

    struct Hit: Equatable, CustomStringConvertible {
        var breakpoint, sample, step: Int
        var tensor: String
        var neuron: Int
        var description: String { "break \(breakpoint) sample \(sample) g \(step) \(tensor) neuron \(neuron)" }
    }

    func checkFind(_ name: String) async throws {
        let ref = try R.reference(name)
        let model = ref["model"] as! String, config = ref["config"] as! [String: Any]
        let m = try LoadedModel.load(path: R.root.appendingPathComponent("samples/\(model)").path,
                                     limit: ref["samples"] as? Int)
        XCTAssertEqual(m.data.count, ref["samples"] as? Int)
        let c = ConversionConfig(T: config["T"] as! Int, beta: config["beta"] as! Double, silent: config["silent"] as! Int,
                                 negative: config["negative"] as! Bool)
        let theta = ref["theta"] as! [String: Double]
        let amplitudes = Amplitudes(input: theta["input"]!, layers: m.network.layerTensors.map { theta[$0]! })
        let layout = m.network.layout(c)
        let refHits = (ref["hits"] as! [[String: Any]])
        // Numbered in the order given, as `cssdbg find` numbers its --break options.
        let conditions = try (ref["conditions"] as! [String]).enumerated().map { i, t in
            Breakpoint(number: i + 1, condition: try BreakCondition.parse(t, layout: layout))
        }
        let expected = refHits.map { h in
            Hit(breakpoint: h["break"] as! Int, sample: h["sample"] as! Int, step: h["step"] as! Int,
                tensor: h["tensor"] as! String, neuron: h["neuron"] as! Int)
        }
        let evaluator = Evaluator(network: m.network)
        func ours(_ hits: [BreakHit]) -> [Hit] {
            hits.map { h in
                Hit(breakpoint: h.breakpoint, sample: h.sample, step: h.step,
                    tensor: h.layer.map { layout.layers[$0].tensor } ?? m.network.graph.output, neuron: h.neuron ?? -1)
            }
        }
        let search = BreakpointSearch(evaluator: evaluator, data: m.data, amplitudes: amplitudes, config: c)
        let found = ours(try search.hits(conditions))
        XCTAssertEqual(found.count, expected.count, name)
        for (a, b) in zip(found, expected) where a != b {
            XCTFail("\(name): first difference: ours \(a), reference \(b)")
            break
        }
        // With the data-set report at hand (violations, wrong and disagree answered from it): the same hits.
        let report = try evaluator.evaluate(m.data, amplitudes: amplitudes, config: c)
        let withReport = BreakpointSearch(evaluator: evaluator, data: m.data, amplitudes: amplitudes, config: c, report: report)
        let reused = ours(try withReport.hits(conditions))
        XCTAssertEqual(reused, expected, name)
        // The first stop forward from the start is the first hit.
        let first = try search.next(.forward, from: SearchPosition(sample: 0, step: -1), breakpoints: conditions)
        XCTAssertEqual(first.map { ours([$0.hits[0]]) }, expected.first.map { [$0] }, name)
    }

    func testFindDigitsMLP() async throws { try await checkFind("find-digits-mlp") }
    func testFindDigitsCNN() async throws { try await checkFind("find-digits-cnn") }
    func testFindDigitsResNet() async throws { try await checkFind("find-digits-resnet") }
    func testFindCouplingExample() async throws { try await checkFind("find-coupling") }

    func checkSweep(_ name: String, T: [Int], beta: [Double], silent: [Int], negative: [Bool], rounds: Int,
                    limit: Int?) async throws {
        let ref = try R.reference(name)
        let model = ref["model"] as! String
        let m = try LoadedModel.load(path: R.root.appendingPathComponent("samples/\(model)").path, limit: limit)
        XCTAssertEqual(m.data.count, ref["samples"] as? Int)
        let evaluator = Evaluator(network: m.network)
        let p = try evaluator.calibrationPercentiles(m.calib, percentile: 99.99)
        let configs = ConversionSweep.configurations(T: T, beta: beta, silent: silent, negative: negative, base: .default)
        let points = try ConversionSweep.run(evaluator, data: m.data, calib: m.calib, percentiles: p,
                                                   configs: configs, rounds: rounds)
        let refPoints = ref["points"] as! [[String: Any]]
        XCTAssertEqual(points.count, refPoints.count)
        var sameScores = true
        for (ours, r) in zip(points, refPoints) {
            let at = "\(name) T \(ours.config.T) β \(ours.config.beta) L \(ours.config.silent) negative \(ours.config.negative)"
            XCTAssertEqual(ours.config.T, r["T"] as? Int, at)
            XCTAssertEqual(ours.config.beta, r["beta"] as? Double, at)
            XCTAssertEqual(ours.config.silent, r["silent"] as? Int, at)
            XCTAssertEqual(ours.config.negative, r["negative"] as? Bool, at)
            XCTAssertEqual(ours.rounds, r["rounds"] as? Int, at)
            XCTAssertEqual(ours.latency, r["latency"] as? Int, at)
            // docs/numerics.md §9: accuracy and agreement within half a point, residuals 3 % (≥ 0.01),
            // counts 2 % or 5.
            for (o, key) in [(ours.annAccuracy, "ann_accuracy"), (ours.snnAccuracy, "snn_accuracy"), (ours.agreement, "agreement")] {
                let rv = r[key] as? Double
                XCTAssertEqual(o == nil, rv == nil, "\(at) \(key)")
                if let o, let rv {
                    XCTAssertLessThanOrEqual(abs(o - rv), 0.005, "\(at) \(key) \(o) vs \(rv)")
                    if key != "ann_accuracy" && o != rv { sameScores = false }
                }
            }
            let rr = r["residual_p999_max"] as! Double
            XCTAssertLessThanOrEqual(abs(ours.residualP999Max - rr), max(0.01, 0.03 * abs(rr)), "\(at) residual p99.9 \(ours.residualP999Max) vs \(rr)")
            for (o, key) in [(ours.overflow, "overflow"), (ours.coupling, "coupling")] {
                let rv = r[key] as! Int
                XCTAssertLessThanOrEqual(Double(abs(o - rv)), max(5, 0.02 * Double(rv)), "\(at) \(key) \(o) vs \(rv)")
            }
        }
        // The front is a function of the scores and latencies: equal scores, equal front.
        if sameScores { XCTAssertEqual(points.map(\.pareto), refPoints.map { $0["pareto"] as! Bool }, name) }
        XCTAssertTrue(points.contains(where: \.pareto))
    }

    func testSweepDigitsMLP() async throws {
        try await checkSweep("sweep-digits-mlp", T: [4, 6, 8], beta: [1.5], silent: [0, 1], negative: [true, false],
                             rounds: 0, limit: nil)
    }

    func testSweepDigitsCNNWithRounds() async throws {
        try await checkSweep("sweep-digits-cnn", T: [6], beta: [1.5, 2], silent: [1], negative: [true, false],
                             rounds: 1, limit: 100)
    }
}
