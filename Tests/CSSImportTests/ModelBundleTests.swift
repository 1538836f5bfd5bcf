import CSSCore
import Foundation
import XCTest
@testable import CSSImport

final class ModelBundleTests: XCTestCase {
    func testResolveBundleDirectory() throws {
        let dir = Paths.samples.appendingPathComponent("digits-mlp").path
        let b = try ModelBundle.resolve(path: dir, data: nil, labels: nil, calib: nil, theta: nil)
        XCTAssertEqual(b.modelURL.lastPathComponent, "model.onnx")
        XCTAssertEqual(b.dataURL?.lastPathComponent, "data.npy")
        XCTAssertEqual(b.labelsURL?.lastPathComponent, "labels.npy")
        XCTAssertEqual(b.calibURL?.lastPathComponent, "calib.npy")
        XCTAssertNil(b.thetaURL)
        let g = try b.loadModel()
        let ds = try XCTUnwrap(try b.loadData(for: g))
        XCTAssertEqual(ds.sampleShape, g.inputShape)
        XCTAssertEqual(try ds.allInputs().count, ds.count * ds.sampleSize)
        XCTAssertEqual(ds.labels?.count, ds.count)

        let coupling = try ModelBundle.resolve(path: Paths.samples.appendingPathComponent("coupling").path,
                                               data: nil, labels: nil, calib: nil, theta: nil)
        XCTAssertEqual(coupling.thetaURL?.lastPathComponent, "theta.json")
        XCTAssertNil(coupling.labelsURL)
    }

    func testExplicitOverridesAndBareFile() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("mine.npy").path
        try NumPyFile.write(path: data, shape: [2, 12], values: [Float](repeating: 0.5, count: 24))
        let labels = dir.appendingPathComponent("l.npy").path
        try NumPyFile.write(path: labels, shape: [2], values: [1, 4])

        let model = Paths.fixture("mlp-torchscript.onnx")
        let b = try ModelBundle.resolve(path: model, data: data, labels: labels, calib: nil, theta: nil)
        XCTAssertEqual(b.modelURL.path, model)
        XCTAssertEqual(b.dataURL?.path, data)
        XCTAssertNil(b.calibURL)
        let g = try b.loadModel()
        let ds = try XCTUnwrap(try b.loadData(for: g))
        XCTAssertEqual(ds.count, 2); XCTAssertEqual(ds.labels, [1, 4])

        let sampleDir = Paths.samples.appendingPathComponent("digits-mlp").path
        let o = try ModelBundle.resolve(path: sampleDir, data: data, labels: nil, calib: data, theta: nil)
        XCTAssertEqual(o.dataURL?.path, data)
        XCTAssertEqual(o.calibURL?.path, data)
        XCTAssertEqual(o.labelsURL?.lastPathComponent, "labels.npy")

        XCTAssertThrowsError(try ModelBundle.resolve(path: model, data: "/nonexistent.npy", labels: nil, calib: nil, theta: nil)) {
            XCTAssertEqual("\($0)", "/nonexistent.npy: no such file; given as the data file")
        }
        XCTAssertThrowsError(try ModelBundle.resolve(path: dir.path, data: nil, labels: nil, calib: nil, theta: nil)) {
            XCTAssertTrue("\($0)".contains("directory has no model.onnx"))
        }
        XCTAssertThrowsError(try ModelBundle.resolve(path: "/nonexistent", data: nil, labels: nil, calib: nil, theta: nil)) {
            XCTAssertTrue("\($0)".hasPrefix("/nonexistent: no such file or directory"))
        }
    }

    func testDatasetShapeChecks() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ shape: [Int]) throws -> String {
            let p = dir.appendingPathComponent(name).path
            try NumPyFile.write(path: p, shape: shape, values: [Float](repeating: 1, count: shape.reduce(1, *)))
            return p
        }
        let ok = try write("ok.npy", [3, 1, 4, 4])
        XCTAssertEqual(try DatasetLoader.load(data: ok, labels: nil, inputShape: [1, 4, 4]).count, 3)
        // A channel-less [N, H, W] array for a 1-channel model is the same memory layout.
        let squeezed = try write("sq.npy", [3, 4, 4])
        XCTAssertEqual(try DatasetLoader.load(data: squeezed, labels: nil, inputShape: [1, 4, 4]).sampleShape, [1, 4, 4])
        let wrong = try write("wrong.npy", [3, 4, 4, 3])
        XCTAssertThrowsError(try DatasetLoader.load(data: wrong, labels: nil, inputShape: [3, 4, 4])) {
            XCTAssertTrue("\($0)".hasSuffix("wrong.npy: has shape [3, 4, 4, 3] but the model expects [N, 3, 4, 4]; save the inputs as an array of shape (N, 3, 4, 4)"), "\($0)")
        }
        let labels = try write("labels.npy", [2])
        XCTAssertThrowsError(try DatasetLoader.load(data: ok, labels: labels, inputShape: [1, 4, 4])) {
            XCTAssertTrue("\($0)".contains("labels.npy: has shape [2] but the data has 3 samples"), "\($0)")
        }
        let p = dir.appendingPathComponent("big.npy").path
        try NumPyFile.write(path: p, shape: [3], values: [0, 1, 7])
        XCTAssertThrowsError(try DatasetLoader.load(data: ok, labels: p, inputShape: [1, 4, 4], classes: 5)) {
            XCTAssertTrue("\($0)".contains("label 7 at index 2 is not a class index of the model's 5 outputs"), "\($0)")
        }
        let empty = try write("empty.npy", [0, 1, 4, 4])
        XCTAssertThrowsError(try DatasetLoader.load(data: empty, labels: nil, inputShape: [1, 4, 4])) {
            XCTAssertTrue("\($0)".contains("holds no samples"))
        }
    }
}
