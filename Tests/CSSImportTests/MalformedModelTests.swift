import CSSCore
import Foundation
import XCTest
@testable import CSSImport
import TestSupport

/// Damaged models must never crash the importer: every outcome is a graph that passes shape
/// inference or an ImportError.
final class MalformedModelTests: XCTestCase {
    /// `CSSIMPORT_FUZZ_SCALE=50` runs fifty times as many mutations (for occasional deep runs).
    let scale = Int(ProcessInfo.processInfo.environment["CSSIMPORT_FUZZ_SCALE"] ?? "") ?? 1

    func outcome(_ data: Data, file: String) -> Bool? {
        do {
            let g = try ONNXModelLoader.load(data: data, file: file)
            XCTAssertNoThrow(try g.inferShapes())
            return true
        } catch is ImportError {
            return false
        } catch {
            XCTFail("\(file): not an ImportError: \(error)")
            return nil
        }
    }

    func testTruncatedModelsGiveImportError() throws {
        for name in ["mlp-torchscript", "cnn-opset20", "residual-add", "float-data", "constant-nodes", "mlp-dynamo"] {
            let path = Paths.fixture(name + ".onnx")
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let step = max(1, data.count / 300)
            var errors = 0, total = 0
            for cut in stride(from: 0, to: data.count, by: step) {
                total += 1
                if outcome(data.prefix(cut), file: path) == false { errors += 1 }
            }
            // Cuts inside the graph (almost all of the file) must be refused.
            XCTAssertGreaterThan(Double(errors), 0.9 * Double(total), name)
        }
        XCTAssertThrowsError(try ONNXModelLoader.load(data: Data(), file: "e.onnx")) {
            XCTAssertEqual("\($0)", "e.onnx: is empty, not an ONNX model")
        }
    }

    func testFlippedBytesNeverCrash() throws {
        var rng = SplitMix(seed: 42)
        for name in ["mlp-torchscript", "cnn-opset20", "residual-add", "gemm-alpha-beta", "reshape-opset13", "weights-fp16"] {
            let path = Paths.fixture(name + ".onnx")
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            for _ in 0..<(400 * scale) {
                var d = data
                for _ in 0..<(1 + Int(rng.next() % 3)) {
                    let i = Int(rng.next() % UInt64(d.count))
                    d[i] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                }
                _ = outcome(d, file: path)
            }
        }
    }

    func testGarbageAndOtherFormats() {
        var rng = SplitMix(seed: 1)
        for len in [1, 7, 64, 1000] {
            for _ in 0..<(50 * scale) {
                let d = Data((0..<len).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
                _ = outcome(d, file: "g.onnx")
            }
        }
        XCTAssertThrowsError(try ONNXModelLoader.load(data: Data(NumPyFile.encode(shape: [1], values: [1])), file: "x.onnx")) {
            XCTAssertEqual("\($0)", "x.onnx: is a NumPy .npy file, not an ONNX model")
        }
        XCTAssertThrowsError(try ONNXModelLoader.load(data: Data("PK\u{3}\u{4}zzzz".utf8), file: "m.pt")) {
            XCTAssertTrue("\($0)".contains("zip archive"))
        }
        XCTAssertThrowsError(try ONNXModelLoader.load(data: Data("hello, this is text\n".utf8), file: "t.onnx")) {
            XCTAssertTrue("\($0)".hasPrefix("t.onnx: is not "), "\($0)")
        }
    }

    /// Mutations of valid protobuf structure (not just bytes): dims, types, attributes.
    func testStructuredMutationsNeverCrash() throws {
        let path = Paths.fixture("cnn-opset20.onnx")
        let base = try Onnx_ModelProto(serializedBytes: Data(contentsOf: URL(fileURLWithPath: path)))
        var rng = SplitMix(seed: 9)
        let weird: [Int64] = [0, -1, 1, 2, 3, 7, 1 << 31, 1 << 40, .max, .min]
        for _ in 0..<(600 * scale) {
            var m = base
            switch rng.next() % 5 {
            case 0:
                let i = Int(rng.next() % UInt64(m.graph.initializer.count))
                if !m.graph.initializer[i].dims.isEmpty {
                    let j = Int(rng.next() % UInt64(m.graph.initializer[i].dims.count))
                    m.graph.initializer[i].dims[j] = weird[Int(rng.next() % UInt64(weird.count))]
                }
            case 1:
                let i = Int(rng.next() % UInt64(m.graph.initializer.count))
                m.graph.initializer[i].dataType = Int32(rng.next() % 18)
            case 2:
                let i = Int(rng.next() % UInt64(m.graph.node.count))
                for k in m.graph.node[i].attribute.indices {
                    if !m.graph.node[i].attribute[k].ints.isEmpty {
                        let j = Int(rng.next() % UInt64(m.graph.node[i].attribute[k].ints.count))
                        m.graph.node[i].attribute[k].ints[j] = weird[Int(rng.next() % UInt64(weird.count))]
                    } else {
                        m.graph.node[i].attribute[k].i = weird[Int(rng.next() % UInt64(weird.count))]
                    }
                }
            case 3:
                let i = Int(rng.next() % UInt64(m.graph.node.count))
                let j = Int(rng.next() % UInt64(m.graph.node.count))
                if !m.graph.node[i].input.isEmpty { m.graph.node[i].input[0] = m.graph.node[j].output[0] }
            default:
                let d = Int(rng.next() % UInt64(m.graph.input[0].type.tensorType.shape.dim.count))
                m.graph.input[0].type.tensorType.shape.dim[d].dimValue = weird[Int(rng.next() % UInt64(weird.count))]
            }
            _ = outcome(try m.serializedData(), file: path)
        }
    }
}
