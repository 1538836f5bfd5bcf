import CSSCore
import CSSImport
import Foundation
import XCTest

/// `eval --json` on the bundled samples against the independent Float64 NumPy implementation
/// of css-spec (`scripts/reference_sim.py`, outputs committed under Tests/Fixtures/reference).
final class ReferenceAgreementTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func evalJSON(_ sample: String, config: ConversionConfig) throws -> [String: Any] {
        let m = try LoadedModel.load(path: Self.root.appendingPathComponent("samples/\(sample)").path)
        let ev = Evaluator(network: m.network)
        let theta = try m.thetaFile?.amplitudes ?? ev.calibrate(m.calib, config: config)
        let report = try ev.evaluate(m.data, amplitudes: theta, config: config)
        let text = report.json().rendered()
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    func reference(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("Tests/Fixtures/reference/\(name).json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// css-spec §9: accuracy within half a point, residual percentiles within a few percent,
    /// counts within a small tolerance for threshold ties.
    func compare(_ ours: [String: Any], _ ref: [String: Any], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ours["samples"] as? Int, ref["samples"] as? Int, file: file, line: line)
        XCTAssertEqual(ours["latency"] as? Int, ref["latency"] as? Int, file: file, line: line)
        for key in ["ann_accuracy", "snn_accuracy", "agreement"] {
            if let r = ref[key] as? Double {
                XCTAssertEqual(ours[key] as? Double ?? -1, r, accuracy: 0.005, key, file: file, line: line)
            }
        }
        let ol = ours["layers"] as! [[String: Any]], rl = ref["layers"] as! [[String: Any]]
        XCTAssertEqual(ol.count, rl.count, file: file, line: line)
        for (o, r) in zip(ol, rl) {
            XCTAssertEqual(o["tensor"] as? String, r["tensor"] as? String, file: file, line: line)
            XCTAssertEqual(o["neurons"] as? Int, r["neurons"] as? Int, file: file, line: line)
            XCTAssertEqual(o["window_start"] as? Int, r["window_start"] as? Int, file: file, line: line)
            XCTAssertEqual(o["theta"] as! Double, r["theta"] as! Double, accuracy: (r["theta"] as! Double) * 1e-4, file: file, line: line)
            let rp = r["residual_p999"] as! Double
            XCTAssertEqual(o["residual_p999"] as! Double, rp, accuracy: max(0.01, rp * 0.03), file: file, line: line)
            for key in ["overflow", "coupling", "over_one", "spikes_positive", "spikes_negative"] {
                let rv = r[key] as! Int, ov = o[key] as! Int
                XCTAssertLessThanOrEqual(abs(ov - rv), max(2, rv / 100), "\(r["tensor"]!) \(key): \(ov) vs \(rv)", file: file, line: line)
            }
            let rv = r["violations_by_step"] as! [Int], ov = o["violations_by_step"] as! [Int]
            XCTAssertEqual(ov.count, rv.count, file: file, line: line)
        }
    }

    func testSamplesAtDefaults() throws {
        for s in ["digits-mlp", "digits-cnn", "digits-resnet"] {
            compare(try evalJSON(s, config: .default), try reference("\(s)-default"))
        }
    }

    func testSamplesWithoutSilentPeriodOrNegativeSpikesShowCoupling() throws {
        let config = ConversionConfig(silent: 0, negative: false)
        for s in ["digits-mlp", "digits-cnn", "digits-resnet"] {
            let ours = try evalJSON(s, config: config)
            compare(ours, try reference("\(s)-L0-noneg"))
            let coupling = (ours["layers"] as! [[String: Any]]).map { $0["coupling"] as! Int }.reduce(0, +)
            XCTAssertGreaterThan(coupling, 100, "\(s) shows coupling without the silent period")
        }
    }

    /// Issue 2's bar: SNN accuracy within 0.5 points of the ANN at the defaults.
    func testSNNAccuracyCloseToANNAtDefaults() throws {
        for s in ["digits-mlp", "digits-cnn", "digits-resnet"] {
            let j = try evalJSON(s, config: .default)
            XCTAssertEqual(j["snn_accuracy"] as! Double, j["ann_accuracy"] as! Double, accuracy: 0.005, s)
        }
    }

    func testCouplingExampleBothSilentPeriods() throws {
        compare(try evalJSON("coupling", config: ConversionConfig(T: 2, beta: 2, silent: 0)), try reference("coupling-L0"))
        compare(try evalJSON("coupling", config: ConversionConfig(T: 2, beta: 2, silent: 1)), try reference("coupling-L1"))
    }

    /// ANN forward against onnxruntime outputs saved as fixtures.
    func testANNForwardMatchesOnnxRuntimeOnSamples() throws {
        for s in ["digits-mlp", "digits-cnn", "digits-resnet", "coupling"] {
            let m = try LoadedModel.load(path: Self.root.appendingPathComponent("samples/\(s)").path)
            let (shape, expected) = try NumPyFile.readFloats(path: Self.root.appendingPathComponent("Tests/Fixtures/ort/\(s).ort.npy").path)
            let n = shape[0]
            let out = Simulator(network: m.network).annForward(m.data.prefix(n).inputs[...], count: n).outputs
            XCTAssertEqual(out.count, expected.count)
            let worst = zip(out, expected).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-4, "\(s): max |ours − onnxruntime| = \(worst)")
        }
    }

    /// Byte-identical JSON across runs and thread counts.
    func testEvalJSONIsDeterministic() throws {
        let m = try LoadedModel.load(path: Self.root.appendingPathComponent("samples/digits-cnn").path, limit: 64)
        func run(threads: Int) throws -> String {
            ComputeThreads.set(threads)
            let ev = Evaluator(network: m.network)
            let theta = try ev.calibrate(m.calib, config: .default)
            return try ev.evaluate(m.data, amplitudes: theta, config: .default).json().rendered()
        }
        let a = try run(threads: 1), b = try run(threads: 2), c = try run(threads: 2)
        ComputeThreads.set(ProcessInfo.processInfo.activeProcessorCount)
        XCTAssertEqual(a, b)
        XCTAssertEqual(b, c)
    }
}
