import CSSCore
import Foundation
import XCTest
@testable import CSSImport

/// The imported graphs run through CSSCore's own ANN forward pass reproduce onnxruntime.
final class CoreForwardTests: XCTestCase {
    func maxRelativeError(_ g: CSSCore.Graph, _ x: [Float], count: Int, _ ref: [Float]) throws -> Float {
        let sim = Simulator(network: try Network(g))
        let y = try sim.annForward(x[...], count: count).outputs
        XCTAssertEqual(y.count, ref.count)
        guard y.count == ref.count else { return .infinity }
        return zip(y, ref).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
    }

    func testFixturesThroughCoreForward() throws {
        var checked = 0
        for name in Paths.fixtureNames() {
            let refPath = Paths.fixture(name + ".ort.npy")
            guard FileManager.default.fileExists(atPath: refPath) else { continue }
            let g = try ONNXModelLoader.load(path: Paths.fixture(name + ".onnx"))
            let (xs, x) = try NumPyFile.readFloats(path: Paths.fixture(name + ".input.npy"))
            let (_, r) = try NumPyFile.readFloats(path: refPath)
            do {
                let err = try maxRelativeError(g, x, count: xs[0], r)
                XCTAssertLessThan(err, 1e-4, "\(name): max error \(err)")
                checked += 1
            } catch {
                XCTFail("\(name): CSSCore refused the imported graph: \(error)")
            }
        }
        XCTAssertGreaterThan(checked, 20)
    }

    func testSamplesThroughCoreForward() throws {
        for sample in ["digits-mlp", "digits-cnn", "digits-resnet", "coupling"] {
            let refPath = Paths.ortRefs.appendingPathComponent(sample + ".ort.npy").path
            guard FileManager.default.fileExists(atPath: refPath) else { continue }
            let b = try ModelBundle.resolve(path: Paths.samples.appendingPathComponent(sample).path,
                                            data: nil, labels: nil, calib: nil, theta: nil)
            let g = try b.loadModel()
            let ds = try XCTUnwrap(try b.loadData(for: g))
            let (rs, r) = try NumPyFile.readFloats(path: refPath)
            let x = Array(try ds.allInputs().prefix(rs[0] * ds.sampleSize))
            let err = try maxRelativeError(g, x, count: rs[0], r)
            XCTAssertLessThan(err, 1e-4, "\(sample): max error \(err)")
        }
    }
}
