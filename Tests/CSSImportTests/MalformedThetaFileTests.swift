import CSSCore
import Foundation
import TestSupport
import XCTest
@testable import CSSImport

/// Malformed θ files (see MalformedFileTests).
extension MalformedFileTests {
    // MARK: θ files

    static let layers = ["hidden", "/layer2/Relu_output_0"]

    /// The JSON text of a θ file built from `fields` (values already JSON).
    static func thetaJSON(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }

    static let validTheta: [(String, String)] = [
        ("format", "\"cssdbg-theta/1\""), ("model", "\"m\""),
        ("config", "{\"T\": 4, \"beta\": 2, \"silent\": 1, \"negative\": false, \"percentile\": 99.9}"),
        ("theta", "{\"input\": 1.5, \"hidden\": 0.25, \"/layer2/Relu_output_0\": 3}"),
    ]

    func expectThetaRefused(_ label: String, _ text: Data, tensors: [String] = layers,
                            file: StaticString = #filePath, line: UInt = #line) {
        let path = write(label, text, ext: "json")
        expectRefusal(path, label, file: file, line: line) { _ = try ThetaFile.read(path: path, tensors: tensors) }
    }

    func expectThetaRefused(_ label: String, _ fields: [(String, String)], file: StaticString = #filePath, line: UInt = #line) {
        expectThetaRefused(label, Data(Self.thetaJSON(fields).utf8), file: file, line: line)
    }

    func replacing(_ key: String, with value: String?) -> [(String, String)] {
        Self.validTheta.compactMap { k, v in k == key ? value.map { (k, $0) } : (k, v) }
    }

    func testThetaValidBaseLoads() throws {
        let path = write("theta-valid", Data(Self.thetaJSON(Self.validTheta).utf8), ext: "json")
        let t = try ThetaFile.read(path: path, tensors: Self.layers)
        XCTAssertEqual(t.amplitudes.layers, [0.25, 3])
    }

    func testThetaWrongFormatAndNotJSON() {
        for format in ["\"cssdbg-theta/2\"", "\"\"", "\"CSSDBG-THETA/1\"", "\"cssdbg-session/1\"", "1", "null", "true", "[]", "{}"] {
            expectThetaRefused("format=\(format)", replacing("format", with: format))
        }
        expectThetaRefused("format-missing", replacing("format", with: nil))
        expectThetaRefused("theta-missing", replacing("theta", with: nil))
        let valid = Data(Self.thetaJSON(Self.validTheta).utf8)
        for cut in 0..<valid.count {
            expectThetaRefused("cut\(cut)", valid.prefix(cut))
        }
        let garbage: [(String, Data)] = [
            ("empty", Data()), ("npy", (try? Data(contentsOf: Paths.samples.appendingPathComponent("coupling/calib.npy"))) ?? Data([0x93])),
            ("onnx", (try? Self.mlpModel().serializedData()) ?? Data([8])), ("array", Data("[1, 2]".utf8)),
            ("string", Data("\"theta\"".utf8)), ("number", Data("1".utf8)), ("yaml", Data("format: cssdbg-theta/1\n".utf8)),
            ("nul", Data([0, 0, 0])),
            ("trailing-garbage", valid + Data("}".utf8)), ("single-quotes", Data(Self.thetaJSON(Self.validTheta).replacingOccurrences(of: "\"", with: "'").utf8)),
        ]
        for (name, bytes) in garbage { expectThetaRefused("garbage-\(name)", bytes) }
        var rng = SplitMix(seed: 31)
        for len in [1, 7, 100] {
            for k in 0..<5 {
                expectThetaRefused("random\(len)-\(k)", Data((0..<len).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
            }
        }
    }

    /// Valid JSON of the wrong shape names what was expected, in one line with no empty field name.
    func testThetaWrongShapeSaysWhatWasExpected() {
        for (name, text) in [("array", "[1, 2]"), ("string", "\"theta\""), ("number", "1")] {
            let path = write("shape-\(name)", Data(text.utf8), ext: "json")
            XCTAssertThrowsError(try ThetaFile.read(path: path, tensors: Self.layers)) { e in
                let m = "\(e)"
                XCTAssertTrue(m.contains("expected a JSON object with \"format\""), m)
                XCTAssertFalse(m.contains("  has"), m)
                XCTAssertFalse(m.contains("\n"), m)
            }
        }
    }

    func testThetaMissingAndExtraLayers() {
        let keys = ["input"] + Self.layers
        for drop in keys {
            let theta = keys.filter { $0 != drop }.map { "\"\($0)\": 1" }.joined(separator: ", ")
            expectThetaRefused("missing-\(drop)", replacing("theta", with: "{\(theta)}"))
        }
        expectThetaRefused("empty-theta", replacing("theta", with: "{}"))
        let all = keys.map { "\"\($0)\": 1" }.joined(separator: ", ")
        for extra in ["relu_9", "", "HIDDEN", "hidden ", "output"] {
            expectThetaRefused("extra-\(extra)", replacing("theta", with: "{\(all), \"\(extra)\": 1}"))
        }
        // The right file for another model: this model has one more / one fewer layer.
        let path = write("other-model", Data(Self.thetaJSON(Self.validTheta).utf8), ext: "json")
        for tensors in [Self.layers + ["relu_3"], [Self.layers[0]], ["other"]] {
            expectRefusal(path, "tensors=\(tensors)") { _ = try ThetaFile.read(path: path, tensors: tensors) }
        }
    }

    func testThetaBadValues() {
        let bad = ["0", "-0", "-0.0", "-1", "-1e-300", "-1e308", "1e309", "-1e309", "1e999", "\"1\"", "\"inf\"", "\"NaN\"",
                   "NaN", "Infinity", "true", "null", "[]", "[1]", "{}", "0x10"]
        for key in ["input"] + Self.layers {
            for v in bad {
                let theta = (["input"] + Self.layers).map { "\"\($0)\": \($0 == key ? v : "1")" }.joined(separator: ", ")
                expectThetaRefused("\(key)=\(v)", replacing("theta", with: "{\(theta)}"))
            }
        }
        for v in ["[]", "\"theta\"", "1", "null", "true"] {
            expectThetaRefused("theta=\(v)", replacing("theta", with: v))
        }
    }

    func testThetaBadConfig() {
        let settings: [(String, [String])] = [
            ("T", ["0", "65", "-1", "1.5", "1e30", "\"4\"", "true", "9223372036854775808"]),
            ("beta", ["0", "0.5", "4.5", "-2", "1e309", "\"2\"", "false"]),
            ("silent", ["-1", "17", "0.5", "\"1\"", "[]"]),
            ("negative", ["1", "\"true\"", "[]"]),
            ("percentile", ["0", "-1", "100.5", "1e309", "\"99\""]),
        ]
        for (key, values) in settings {
            for v in values {
                expectThetaRefused("config.\(key)=\(v)", replacing("config", with: "{\"\(key)\": \(v)}"))
            }
        }
        for v in ["[]", "\"T=4\"", "1", "true"] {
            expectThetaRefused("config=\(v)", replacing("config", with: v))
        }
        for v in ["1", "[]", "{}", "true"] {
            expectThetaRefused("model=\(v)", replacing("model", with: v))
        }
    }
}
