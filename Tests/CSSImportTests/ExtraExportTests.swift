import CSSCore
import Foundation
import XCTest
@testable import CSSImport

/// Optional: checks every `NAME.onnx` with `NAME.input.npy`/`NAME.ort.npy` in the directory named
/// by `CSSIMPORT_EXTRA_DIR` (e.g. models freshly exported with torch.onnx.export). Skipped without it.
final class ExtraExportTests: XCTestCase {
    func testExtraExportedModels() throws {
        guard let dir = ProcessInfo.processInfo.environment["CSSIMPORT_EXTRA_DIR"] else {
            throw XCTSkip("CSSIMPORT_EXTRA_DIR not set")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".onnx") }.sorted()
        XCTAssertFalse(names.isEmpty)
        for file in names {
            let base = (dir as NSString).appendingPathComponent(String(file.dropLast(5)))
            let g: CSSCore.Graph
            do { g = try ONNXModelLoader.load(path: base + ".onnx") } catch { XCTFail("\(error)"); continue }
            guard FileManager.default.fileExists(atPath: base + ".ort.npy") else { continue }
            let (xs, x) = try NumPyFile.readFloats(path: base + ".input.npy")
            let (rs, r) = try NumPyFile.readFloats(path: base + ".ort.npy")
            let inSize = x.count / xs[0], outSize = r.count / rs[0]
            var maxErr: Float = 0
            for i in 0..<xs[0] {
                let y = try NaiveForward.run(g, Array(x[(i * inSize)..<((i + 1) * inSize)]))
                for j in 0..<outSize { maxErr = max(maxErr, abs(y[j] - r[i * outSize + j]) / max(1, abs(r[i * outSize + j]))) }
            }
            XCTAssertLessThan(maxErr, 1e-4, "\(file): \(maxErr)")
            print("\(file): ok, \(g.nodes.map(\.op.kind).joined(separator: " ")) max err \(maxErr)")
        }
    }
}
