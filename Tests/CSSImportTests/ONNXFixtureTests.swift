import CSSCore
import Foundation
import XCTest
@testable import CSSImport

final class ONNXFixtureTests: XCTestCase {
    static let refusals: [String: String] = [
        "refuse-maxpool": #"^.*refuse-maxpool\.onnx: node '[^']+' uses MaxPool, which cannot be converted exactly; use AveragePool$"#,
        "refuse-sigmoid": #"^.*refuse-sigmoid\.onnx: node '[^']+' uses Sigmoid, which cannot be converted; only ReLU activations convert to TSA neurons; retrain with ReLU$"#,
        "external-absolute": #"^.*external-absolute\.onnx: tensor '[^']+' refers to external data by an absolute path '/etc/passwd', which is refused; .*$"#,
        "external-escape": #"^.*external-escape\.onnx: tensor '[^']+' refers to external data '\.\./outside\.bin' outside the model's directory, which is refused; .*$"#,
    ]

    func testFixturesExist() {
        XCTAssertGreaterThan(Paths.fixtureNames().count, 20, "fixtures missing at \(Paths.fixtures.path)")
    }

    /// Every non-refusal fixture imports and reproduces onnxruntime's outputs.
    func testEveryFixtureImportsAndMatchesOnnxruntime() throws {
        var checked = 0
        for name in Paths.fixtureNames() where Self.refusals[name] == nil {
            let g: Graph
            do { g = try ONNXModelLoader.load(path: Paths.fixture(name + ".onnx")) } catch {
                XCTFail("\(name): \(error)"); continue
            }
            XCTAssertNoThrow(try g.inferShapes(), name)
            let inPath = Paths.fixture(name + ".input.npy"), refPath = Paths.fixture(name + ".ort.npy")
            guard FileManager.default.fileExists(atPath: refPath) else { continue }
            let (xs, x) = try NumPyFile.readFloats(path: inPath)
            let (rs, r) = try NumPyFile.readFloats(path: refPath)
            XCTAssertEqual(Array(xs.dropFirst()), g.inputShape, name)
            let n = xs[0], inSize = x.count / n, outSize = r.count / rs[0]
            var maxErr: Float = 0
            for i in 0..<n {
                let y = try NaiveForward.run(g, Array(x[(i * inSize)..<((i + 1) * inSize)]))
                XCTAssertEqual(y.count, outSize, name)
                guard y.count == outSize else { break }
                for j in 0..<outSize { maxErr = max(maxErr, abs(y[j] - r[i * outSize + j]) / max(1, abs(r[i * outSize + j]))) }
            }
            XCTAssertLessThan(maxErr, 1e-4, "\(name): max error \(maxErr)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 20)
    }

    func testRefusalFixturesGiveOneClearLine() {
        for (name, pattern) in Self.refusals {
            let path = Paths.fixture(name + ".onnx")
            guard FileManager.default.fileExists(atPath: path) else { XCTFail("missing \(name)"); continue }
            do {
                _ = try ONNXModelLoader.load(path: path)
                XCTFail("\(name) should be refused")
            } catch let e as ImportError {
                let d = e.description
                XCTAssertFalse(d.contains("\n"), d)
                XCTAssertNotNil(d.range(of: pattern, options: .regularExpression), "\(name): \(d)")
            } catch {
                XCTFail("\(name): not an ImportError: \(error)")
            }
        }
    }

    func testSamplesImportAndMatchOnnxruntime() throws {
        for sample in ["digits-mlp", "digits-cnn", "digits-resnet", "coupling"] {
            let dir = Paths.samples.appendingPathComponent(sample).path
            let bundle = try ModelBundle.resolve(path: dir, data: nil, labels: nil, calib: nil, theta: nil)
            let g = try bundle.loadModel()
            let data = try XCTUnwrap(try bundle.loadData(for: g), sample)
            if sample != "coupling" { XCTAssertEqual(data.labels?.count, data.count, sample) }
            if let calib = try bundle.loadCalibration(for: g) { XCTAssertEqual(calib.sampleShape, g.inputShape) }
            let refPath = Paths.ortRefs.appendingPathComponent(sample + ".ort.npy").path
            guard FileManager.default.fileExists(atPath: refPath) else { continue }
            let (rs, r) = try NumPyFile.readFloats(path: refPath)
            let outSize = r.count / rs[0]
            var maxErr: Float = 0
            for i in 0..<rs[0] {
                let y = try NaiveForward.run(g, Array(data.sample(i)))
                for j in 0..<outSize { maxErr = max(maxErr, abs(y[j] - r[i * outSize + j]) / max(1, abs(r[i * outSize + j]))) }
            }
            XCTAssertLessThan(maxErr, 1e-4, "\(sample): max error \(maxErr)")
        }
    }
}
