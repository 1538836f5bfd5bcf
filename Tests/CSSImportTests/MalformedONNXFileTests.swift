import CSSCore
import Foundation
import TestSupport
import XCTest
@testable import CSSImport

/// Malformed ONNX files (see MalformedFileTests): truncation, foreign bytes, tensors that lie
/// about their size, absurd dims, non-finite weights, broken graph structure.
extension MalformedFileTests {
    // MARK: ONNX base models

    /// Conv → Relu → Flatten → Gemm → Relu on [N,1,4,4], float32 weights as raw_data.
    static func convModel() -> Onnx_ModelProto {
        var b = ModelBuilder(opset: 13, inputDims: [nil, 1, 4, 4])
        b.initializer("conv.w", [2, 1, 3, 3], (0..<18).map { Float($0 % 5) * 0.1 - 0.2 })
        b.initializer("conv.b", [2], [0.1, -0.1])
        b.initializer("fc.w", [3, 32], (0..<96).map { Float($0 % 7) * 0.05 - 0.1 })
        b.initializer("fc.b", [3], [0, 0.5, -0.5])
        b.node("Conv", ["x", "conv.w", "conv.b"], ["c"], attrs: [ModelBuilder.attr("pads", ints: [1, 1, 1, 1])])
        b.node("Relu", ["c"], ["r"])
        b.node("Flatten", ["r"], ["f"], attrs: [ModelBuilder.attr("axis", int: 1)])
        b.node("Gemm", ["f", "fc.w", "fc.b"], ["g"], attrs: [ModelBuilder.attr("transB", int: 1)])
        b.node("Relu", ["g"], ["y"])
        return b.model
    }

    /// MatMul → Add → Relu on [N,4], weights as float_data (not raw) to cover the other encoding.
    static func mlpModel() -> Onnx_ModelProto {
        var b = ModelBuilder(opset: 17, inputDims: [nil, 4])
        var w = Onnx_TensorProto()
        w.name = "w"; w.dims = [4, 3]; w.dataType = 1
        w.floatData = (0..<12).map { Float($0) * 0.1 - 0.5 }
        b.model.graph.initializer.append(w)
        b.initializer("bias", [3], [0.25, 0, -0.25])
        b.node("MatMul", ["x", "w"], ["m"])
        b.node("Add", ["m", "bias"], ["a"])
        b.node("Relu", ["a"], ["y"])
        return b.model
    }

    static var bases: [(String, Onnx_ModelProto)] { [("conv", convModel()), ("mlp", mlpModel())] }

    func testBaseModelsLoad() throws {
        // The mutations below are only meaningful if the unmutated models are valid.
        for (name, m) in Self.bases {
            let path = write(name, try m.serializedData(), ext: "onnx")
            XCTAssertNoThrow(try Network(ONNXModelLoader.load(path: path)), name)
        }
    }

    // MARK: ONNX: truncation and foreign bytes

    func testONNXTruncatedAtEveryOffset() throws {
        var cases = 0
        for (name, m) in Self.bases {
            let bytes = try m.serializedData()
            for cut in 0..<bytes.count {
                expectONNXRefused("\(name)-cut\(cut)", bytes.prefix(cut))
                cases += 1
            }
        }
        // Real exporter output too: every offset in the first 128 bytes, then 200 spread over the
        // rest (the big samples are 100 KB; every offset would write gigabytes).
        for sample in ["coupling", "digits-mlp", "digits-cnn", "digits-resnet"] {
            let path = Paths.samples.appendingPathComponent("\(sample)/model.onnx")
            guard let bytes = try? Data(contentsOf: path) else { continue }
            let spread = stride(from: 128, to: bytes.count, by: max(1, bytes.count / 200))
            for cut in Array(0..<min(128, bytes.count)) + Array(spread) {
                expectONNXRefused("\(sample)-cut\(cut)", bytes.prefix(cut))
                cases += 1
            }
        }
        XCTAssertGreaterThan(cases, 1000)
    }

    func testONNXWrongMagicAndRandomBytes() throws {
        let valid = try Self.convModel().serializedData()
        let heads: [(String, [UInt8])] = [
            ("npy", [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]), ("zip", [0x50, 0x4B, 3, 4]),
            ("hdf5", [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]), ("text", Array("ir_version: 8\n".utf8)),
            ("json", Array("{\"graph\": {}}".utf8)), ("nul", [0, 0, 0, 0]), ("ff", [0xFF, 0xFF, 0xFF, 0xFF]),
            ("bom", [0xEF, 0xBB, 0xBF]),
        ]
        for (name, head) in heads {
            expectONNXRefused("\(name)-alone", Data(head))
            // The magic replacing the start of a valid model, and put in front of one.
            expectONNXRefused("\(name)-over", Data(head) + valid.dropFirst(head.count))
            if name != "nul" { expectONNXRefused("\(name)-before", Data(head) + valid) }
        }
        expectONNXRefused("empty", Data())
        var rng = SplitMix(seed: 2024)
        for len in [1, 2, 3, 5, 8, 13, 64, 512, 4096] {
            for k in 0..<6 {
                let bytes = Data((0..<len).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
                expectONNXRefused("random\(len)-\(k)", bytes)
            }
        }
    }

    // MARK: ONNX: tensors

    /// Float initializers of the base models, by index.
    func floatInitializers(_ m: Onnx_ModelProto) -> [Int] {
        m.graph.initializer.indices.filter { m.graph.initializer[$0].dataType == 1 }
    }

    func testONNXDeclaredDimsDisagreeWithData() {
        for (name, base) in Self.bases {
            for i in floatInitializers(base) {
                let t = base.graph.initializer[i]
                var variants: [(String, Onnx_TensorProto)] = []
                for d in t.dims.indices {
                    var grow = t; grow.dims[d] += 1; variants.append(("dim\(d)+1", grow))
                    if t.dims[d] > 1 { var shrink = t; shrink.dims[d] -= 1; variants.append(("dim\(d)-1", shrink)) }
                }
                var extra = t; extra.dims.append(2); variants.append(("extra-dim", extra))
                var scalar = t; scalar.dims = []; variants.append(("scalar", scalar))
                if t.hasRawData {
                    var short = t; short.rawData = t.rawData.dropLast(1); variants.append(("raw-1", short))
                    var long = t; long.rawData = t.rawData + Data([0, 0, 0, 0]); variants.append(("raw+4", long))
                    var none = t; none.rawData = Data(); variants.append(("raw-empty", none))
                    var asDouble = t; asDouble.dataType = 11; variants.append(("raw-as-double", asDouble))
                    var asHalf = t; asHalf.dataType = 10; variants.append(("raw-as-half", asHalf))
                } else {
                    var short = t; short.floatData.removeLast(); variants.append(("float_data-1", short))
                    var long = t; long.floatData.append(0); variants.append(("float_data+1", long))
                    var wrongField = t; wrongField.doubleData = t.floatData.map(Double.init); wrongField.floatData = []
                    variants.append(("double_data-for-float", wrongField))
                }
                for (what, v) in variants {
                    var m = base
                    m.graph.initializer[i] = v
                    expectONNXRefused("\(name)-\(t.name)-\(what)", m)
                }
            }
        }
    }

    func testONNXAbsurdDims() {
        let absurd: [Int64] = [(1 << 31) + 1, 1 << 40, 1 << 62, .max]
        for (name, base) in Self.bases {
            for i in base.graph.initializer.indices {
                for d in base.graph.initializer[i].dims.indices {
                    for v in absurd {
                        var m = base
                        m.graph.initializer[i].dims[d] = v
                        expectONNXRefused("\(name)-init\(i)-dim\(d)=\(v)", m)
                    }
                }
                // Many moderate dims whose product overflows Int64.
                var m = base
                m.graph.initializer[i].dims = [Int64](repeating: 1 << 20, count: 4)
                expectONNXRefused("\(name)-init\(i)-product-overflow", m)
            }
            // The graph input's sample dims.
            for d in 1..<base.graph.input[0].type.tensorType.shape.dim.count {
                for v in absurd {
                    var m = base
                    m.graph.input[0].type.tensorType.shape.dim[d].dimValue = v
                    expectONNXRefused("\(name)-input-dim\(d)=\(v)", m)
                }
            }
        }
    }

    func testONNXZeroAndNegativeDims() {
        let bad: [Int64] = [0, -1, -2, -(1 << 40), .min]
        for (name, base) in Self.bases {
            for i in floatInitializers(base) {
                for d in base.graph.initializer[i].dims.indices {
                    for v in bad {
                        var m = base
                        m.graph.initializer[i].dims[d] = v
                        expectONNXRefused("\(name)-init\(i)-dim\(d)=\(v)", m)
                    }
                }
            }
            for d in 0..<base.graph.input[0].type.tensorType.shape.dim.count {
                for v in bad {
                    var m = base
                    m.graph.input[0].type.tensorType.shape.dim[d].dimValue = v
                    expectONNXRefused("\(name)-input-dim\(d)=\(v)", m)
                }
            }
        }
    }

    /// A float tensor in every encoding the decoder reads, with one value replaced by `bad`.
    static func encodings(of t: Onnx_TensorProto, values: [Float]) -> [(String, Onnx_TensorProto)] {
        func le<T: FixedWidthInteger>(_ v: [T]) -> Data {
            var d = Data()
            for x in v { withUnsafeBytes(of: x.littleEndian) { d.append(contentsOf: $0) } }
            return d
        }
        func half(_ f: Float) -> UInt16 {
            if f.isNaN { return 0x7E00 }
            if f.isInfinite { return f < 0 ? 0xFC00 : 0x7C00 }
            return 0x3C00  // 1.0; only non-finite values matter here
        }
        func base(_ type: Int32) -> Onnx_TensorProto {
            var n = Onnx_TensorProto(); n.name = t.name; n.dims = t.dims; n.dataType = type; return n
        }
        var raw32 = base(1); raw32.rawData = le(values.map(\.bitPattern))
        var list32 = base(1); list32.floatData = values
        var raw64 = base(11); raw64.rawData = le(values.map { Double($0).bitPattern })
        var list64 = base(11); list64.doubleData = values.map(Double.init)
        var raw16 = base(10); raw16.rawData = le(values.map(half))
        var list16 = base(10); list16.int32Data = values.map { Int32(half($0)) }
        var rawBF = base(16); rawBF.rawData = le(values.map { UInt16($0.bitPattern >> 16) })
        return [("f32-raw", raw32), ("f32-list", list32), ("f64-raw", raw64), ("f64-list", list64),
                ("f16-raw", raw16), ("f16-list", list16), ("bf16-raw", rawBF)]
    }

    func testONNXNonFiniteWeights() {
        let bads: [(String, Float)] = [("nan", .nan), ("snan", .signalingNaN), ("inf", .infinity), ("-inf", -.infinity)]
        for (name, base) in Self.bases {
            for i in floatInitializers(base) {
                let t = base.graph.initializer[i]
                let n = Int(t.dims.reduce(1, *))
                for position in Set([0, n / 2, n - 1]).sorted() {
                    for (what, bad) in bads {
                        var values = [Float](repeating: 0.5, count: n)
                        values[position] = bad
                        for (enc, v) in Self.encodings(of: t, values: values) {
                            var m = base
                            m.graph.initializer[i] = v
                            expectONNXRefused("\(name)-\(t.name)[\(position)]=\(what)-\(enc)", m)
                        }
                    }
                }
            }
        }
        // A float64 value beyond float32's range is refused too (it would become infinity).
        var m = Self.mlpModel()
        m.graph.initializer[1].dataType = 11
        m.graph.initializer[1].rawData = Data()
        m.graph.initializer[1].doubleData = [1e300, 0, 0]
        expectONNXRefused("double-out-of-float-range", m)
    }

    // MARK: ONNX: graph structure

    func testONNXDanglingNames() {
        for (name, base) in Self.bases {
            for i in base.graph.node.indices {
                for k in base.graph.node[i].input.indices {
                    var m = base
                    m.graph.node[i].input[k] = "no-such-tensor-\(i)-\(k)"
                    expectONNXRefused("\(name)-node\(i)-input\(k)-dangling", m)
                }
                // An initializer that a node needs, removed.
                for k in base.graph.node[i].input.indices {
                    let needed = base.graph.node[i].input[k]
                    guard let j = base.graph.initializer.firstIndex(where: { $0.name == needed }) else { continue }
                    var m = base
                    m.graph.initializer.remove(at: j)
                    expectONNXRefused("\(name)-missing-initializer-\(needed)", m)
                }
            }
            var noOutput = base
            noOutput.graph.output[0].name = "never-computed"
            expectONNXRefused("\(name)-output-dangling", noOutput)
            var noInput = base
            noInput.graph.input[0].name = "renamed-input"
            expectONNXRefused("\(name)-input-renamed", noInput)
        }
    }

    func testONNXCyclesAndDuplicateDefinitions() {
        for (name, base) in Self.bases {
            let nodes = base.graph.node
            // Feeding any node's activation input from itself or a later node closes a cycle
            // (the base models are chains).
            for i in nodes.indices {
                for j in i..<nodes.count {
                    var m = base
                    m.graph.node[i].input[0] = nodes[j].output[0]
                    expectONNXRefused("\(name)-cycle-\(i)<-\(j)", m)
                }
            }
            // Two producers of the same name, and a node redefining an initializer or the input.
            for i in nodes.indices {
                for j in nodes.indices where j != i {
                    var m = base
                    m.graph.node[j].output[0] = nodes[i].output[0]
                    expectONNXRefused("\(name)-dup-\(i)-\(j)", m)
                }
                var shadowInput = base
                shadowInput.graph.node[i].output[0] = "x"
                expectONNXRefused("\(name)-node\(i)-defines-input", shadowInput)
                if let initName = base.graph.initializer.first?.name {
                    var shadowInit = base
                    shadowInit.graph.node[i].output[0] = initName
                    expectONNXRefused("\(name)-node\(i)-defines-initializer", shadowInit)
                }
            }
        }
    }
}
