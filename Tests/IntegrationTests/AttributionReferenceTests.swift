import CSSCore
import CSSImport
import Foundation
import XCTest
import TestSupport

/// Attribution, anytime accuracy and operation counts (docs/numerics.md §12–§14) of `eval --json
/// --attribution` on every sample model, against the Float64 reference
/// (`tools/reference/reference_sim.py --attribution`, Tests/Fixtures/reference/attr-*.json), with
/// the tolerances of §9; MACs and neuron steps exactly. And the doctor's recommendation (§15)
/// against the reference's search (Tests/Fixtures/reference/doctor-*.json).
final class AttributionReferenceTests: XCTestCase {
    static let samples = ["coupling", "digits-mlp", "digits-cnn", "digits-resnet"]
    static let configs: [(T: Int, L: Int, negative: Bool)] = [(10, 0, false), (8, 0, true), (8, 1, true), (6, 1, false)]

    /// The new fields outside §9: fractions within half a point, synaptic operations within 2 %,
    /// counts within 2 % or 5, MACs and neuron steps exactly.
    static func disagreements(_ ours: [String: Any], _ ref: [String: Any]) -> [String] {
        var bad: [String] = []
        func countOK(_ o: Int, _ r: Int) -> Bool { Double(abs(o - r)) <= max(5, 0.02 * Double(abs(r))) }
        func fractions(_ key: String, _ o: Any?, _ r: Any?) {
            if r is NSNull || r == nil { if !(o is NSNull || o == nil) { bad.append("\(key): \(o!) vs null") }; return }
            guard let ov = o as? [Double], let rv = r as? [Double], ov.count == rv.count else {
                bad.append("\(key): \(o ?? "nil") vs \(r ?? "nil")"); return
            }
            for (i, (a, b)) in zip(ov, rv).enumerated() where abs(a - b) > 0.005 { bad.append("\(key)[\(i)]: \(a) vs \(b)") }
        }
        func close(_ key: String, _ o: Double?, _ r: Double?, rel: Double) {
            guard let o, let r else { if (o == nil) != (r == nil) { bad.append("\(key): \(o.map { "\($0)" } ?? "nil") vs \(r.map { "\($0)" } ?? "nil")") }; return }
            if abs(o - r) > max(1e-9, rel * abs(r)) { bad.append("\(key): \(o) vs \(r)") }
        }
        for key in ["anytime_accuracy", "anytime_agreement", "exact_prefix_accuracy", "exact_prefix_agreement"] {
            fractions(key, ours[key], ref[key])
        }
        let os = ours["settled_by_slot"] as? [Int] ?? [], rs = ref["settled_by_slot"] as? [Int] ?? []
        if os.count != rs.count { bad.append("settled_by_slot: \(os) vs \(rs)") }
        for (k, (a, b)) in zip(os, rs).enumerated() where !countOK(a, b) { bad.append("settled_by_slot[\(k)]: \(a) vs \(b)") }
        for key in ["macs", "neuron_steps"] where ours[key] as? Int != ref[key] as? Int {
            bad.append("\(key): \(ours[key] ?? "nil") vs \(ref[key] ?? "nil")")
        }
        close("synaptic_ops", ours["synaptic_ops"] as? Double, ref["synaptic_ops"] as? Double, rel: 0.02)
        let oo = ours["output"] as? [String: Any], ro = ref["output"] as? [String: Any]
        if oo?["macs"] as? Int != ro?["macs"] as? Int { bad.append("output macs: \(oo?["macs"] ?? "nil") vs \(ro?["macs"] ?? "nil")") }
        close("output synaptic_ops", oo?["synaptic_ops"] as? Double, ro?["synaptic_ops"] as? Double, rel: 0.02)
        let oe = ours["energy_pj"] as? [String: Double], re = ref["energy_pj"] as? [String: Double]
        close("energy ann", oe?["ann"], re?["ann"], rel: 1e-12)
        close("energy snn", oe?["snn"], re?["snn"], rel: 0.02)
        if ours["culprit_basis"] as? String != ref["culprit_basis"] as? String { bad.append("culprit_basis") }
        if let a = ours["culprit_unresolved"] as? Int, let b = ref["culprit_unresolved"] as? Int, !countOK(a, b) {
            bad.append("culprit_unresolved: \(a) vs \(b)")
        }
        let ol = ours["layers"] as? [[String: Any]] ?? [], rl = ref["layers"] as? [[String: Any]] ?? []
        guard ol.count == rl.count else { return bad + ["layers: \(ol.count) vs \(rl.count)"] }
        for (o, r) in zip(ol, rl) {
            let name = r["tensor"] as? String ?? "?"
            for key in ["macs", "neuron_steps"] where o[key] as? Int != r[key] as? Int {
                bad.append("\(name) \(key): \(o[key] ?? "nil") vs \(r[key] ?? "nil")")
            }
            close("\(name) synaptic_ops", o["synaptic_ops"] as? Double, r["synaptic_ops"] as? Double, rel: 0.02)
            for key in ["decoupled_accuracy", "decoupled_agreement"] {
                let ov = o[key] as? Double, rv = r[key] as? Double
                if (ov == nil) != (rv == nil) || (ov != nil && abs(ov! - rv!) > 0.005) {
                    bad.append("\(name) \(key): \(ov.map { "\($0)" } ?? "nil") vs \(rv.map { "\($0)" } ?? "nil")")
                }
            }
            if let a = o["culprit_samples"] as? Int, let b = r["culprit_samples"] as? Int, !countOK(a, b) {
                bad.append("\(name) culprit_samples: \(a) vs \(b)")
            } else if o["culprit_samples"] == nil { bad.append("\(name) culprit_samples missing") }
        }
        return bad
    }

    func evalJSON(_ s: ReferenceAgreementTests.Sample, _ config: ConversionConfig) throws -> [String: Any] {
        let theta = s.amplitudes(config)
        var report = try s.evaluator.evaluate(s.model.data, amplitudes: theta, config: config)
        report.attribution = try s.evaluator.attribution(s.model.data, amplitudes: theta, config: config,
                                                         snnPredictions: report.snnPredictions)
        // The plain SNN simulated again gives the same attribution.
        XCTAssertEqual(try s.evaluator.attribution(s.model.data, amplitudes: theta, config: config), report.attribution)
        return try JSONSerialization.jsonObject(with: Data(report.json().rendered().utf8)) as! [String: Any]
    }

    func check(_ name: String) throws {
        let s = try ReferenceAgreementTests.sample(name)
        for (T, L, negative) in Self.configs {
            let config = ConversionConfig(T: T, beta: 1.5, silent: L, negative: negative)
            let label = "attr-\(ReferenceAgreementTests.referenceName(name, T: T, L: L, negative: negative))"
            let ours = try evalJSON(s, config), ref = try ReferenceAgreementTests.reference(label)
            let bad = ReferenceAgreementTests.disagreements(ours, ref) + Self.disagreements(ours, ref)
            XCTAssert(bad.isEmpty, "\(label): \(bad.count) field(s) outside §9: \(bad.prefix(8).joined(separator: "; "))")
        }
    }

    func testCouplingAttributionAgreesWithReference() throws { try check("coupling") }
    func testDigitsMLPAttributionAgreesWithReference() throws { try check("digits-mlp") }
    func testDigitsCNNAttributionAgreesWithReference() throws { try check("digits-cnn") }
    func testDigitsResNetAttributionAgreesWithReference() throws { try check("digits-resnet") }

    /// The comparison can fail: a culprit count, an anytime value or a MAC count off is caught.
    func testAttributionDisagreementsAreDetected() throws {
        let ref = try ReferenceAgreementTests.reference("attr-digits-cnn-T8-L0-neg")
        XCTAssertEqual(Self.disagreements(ref, ref), [])
        var broken = ref
        var layers = ref["layers"] as! [[String: Any]]
        layers[0]["culprit_samples"] = (layers[0]["culprit_samples"] as! Int) + 6
        layers[1]["macs"] = (layers[1]["macs"] as! Int) + 1
        broken["layers"] = layers
        var anytime = ref["anytime_accuracy"] as! [Double]
        anytime[0] += 0.01
        broken["anytime_accuracy"] = anytime
        XCTAssertEqual(Self.disagreements(broken, ref).count, 3)
    }

    /// §15: the doctor's recommendation on every sample model is lossless by the Float64
    /// reference, and has the reference's best latency (the reference's table covers every
    /// configuration up to it, so the two searches cover the same space).
    func testDoctorRecommendationIsTheReferenceOptimum() throws {
        for name in Self.samples {
            let ref = try ReferenceAgreementTests.reference("doctor-\(name)")
            let s = try ReferenceAgreementTests.sample(name)
            let outcome = try LosslessSearch.run(s.evaluator, data: s.model.data, calib: s.model.calib,
                                                 space: LosslessSearch.Space(), tolerance: 0.5)
            let best = try XCTUnwrap(outcome.best, name)
            let refBest = ref["best"] as! [String: Any]
            XCTAssertEqual(best.latency, refBest["latency"] as? Int, "\(name): latency")
            let tried = ref["tried"] as! [[String: Any]]
            let same = tried.first {
                $0["T"] as? Int == best.config.T && $0["silent"] as? Int == best.config.silent
                    && $0["negative"] as? Bool == best.config.negative && $0["rounds"] as? Int == best.rounds
            }
            XCTAssertEqual(try XCTUnwrap(same, "\(name): the reference evaluated the recommendation")["lossless"] as? Bool, true,
                           "\(name): lossless by the Float64 reference")
            // Where the two agree on every accuracy (no ties flipped), they pick the same configuration.
            if best.config.T == refBest["T"] as? Int {
                XCTAssertEqual(best.config.negative, refBest["negative"] as? Bool, name)
            }
            // Nothing of lower latency is lossless by either.
            XCTAssertFalse(tried.contains { ($0["latency"] as! Int) < best.latency && $0["lossless"] as? Bool == true }, name)
            XCTAssertFalse(outcome.trials.contains { $0.latency < best.latency && $0.lossless }, name)
        }
    }
}
