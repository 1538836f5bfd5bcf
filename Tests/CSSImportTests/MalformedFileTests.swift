import CSSCore
import Foundation
import XCTest
@testable import CSSImport
import TestSupport

/// Generated malformed files, written to disk and read through the same path-based entry points
/// the CLI uses. Every one must be refused with an `ImportError` whose description is a single
/// line naming the file; nothing may crash. (MalformedModelTests and NumPyFileTests mutate bytes
/// in memory and only check the error type; this suite covers the on-disk readers, the θ file and
/// the one-line/file-name contract, with cases generated from a few valid models by family.)
final class MalformedFileTests: XCTestCase {
    var dir: URL!
    var serial = 0

    override func setUp() {
        super.setUp()
        dir = Paths.tempDir("malformed")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: dir)
        super.tearDown()
    }

    // MARK: Harness

    /// Writes `bytes` to a new file (name derived from `label`) and returns its path.
    func write(_ label: String, _ bytes: Data, ext: String) -> String {
        serial += 1
        let safe = String(label.map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(60))
        let path = dir.appendingPathComponent("\(serial)-\(safe).\(ext)").path
        // Plain create-and-write: FileManager.createFile writes atomically (temp file + rename),
        // which on ext4 forces a flush per file and made this suite ~10x slower.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0, path)
        let written = bytes.withUnsafeBytes { writeAll(fd, $0) }
        XCTAssertEqual(written, bytes.count, path)
        close(fd)
        return path
    }

    /// `body` must throw an ImportError that is one line and names `path`.
    func expectRefusal(_ path: String, _ label: String, file: StaticString = #filePath, line: UInt = #line,
                       _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("\(label): accepted \(path)", file: file, line: line)
        } catch let e as ImportError {
            let d = e.description
            XCTAssertTrue(d.contains(path), "\(label): message does not name the file: \(d)", file: file, line: line)
            XCTAssertFalse(d.unicodeScalars.contains { $0 == "\n" || $0 == "\r" },
                           "\(label): message is not one line: \(d.debugDescription)", file: file, line: line)
        } catch {
            XCTFail("\(label): not an ImportError: \(type(of: error)) \(error)", file: file, line: line)
        }
    }

    func expectONNXRefused(_ label: String, _ bytes: Data, file: StaticString = #filePath, line: UInt = #line) {
        let path = write(label, bytes, ext: "onnx")
        expectRefusal(path, label, file: file, line: line) { _ = try ONNXModelLoader.load(path: path) }
    }

    func expectONNXRefused(_ label: String, _ model: Onnx_ModelProto, file: StaticString = #filePath, line: UInt = #line) {
        guard let bytes = try? model.serializedData() else { return XCTFail("\(label): cannot serialize") }
        expectONNXRefused(label, bytes, file: file, line: line)
    }

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

    // MARK: .npy

    /// A version-`version` .npy file with any header dict text and payload.
    static func npy(_ dict: String, payload: [UInt8], version: UInt8 = 1) -> Data {
        let prefix = version == 1 ? 10 : 12
        var header = dict
        header += String(repeating: " ", count: (64 - (prefix + header.utf8.count + 1) % 64) % 64) + "\n"
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
        let n = header.utf8.count
        out += version == 1 ? [UInt8(n & 0xff), UInt8(n >> 8)] : [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), 0, 0]
        return Data(out + Array(header.utf8) + payload)
    }

    static func dict(_ descr: String, _ shape: String, fortran: Bool = false) -> String {
        "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
    }

    static let npyTypes: [(descr: String, size: Int)] = [("<f4", 4), ("<f8", 8), ("<i8", 8), ("<i4", 4), ("|u1", 1)]

    func expectNPYRefused(_ label: String, _ bytes: Data, ints: Bool = false,
                          file: StaticString = #filePath, line: UInt = #line) {
        let path = write(label, bytes, ext: "npy")
        expectRefusal(path, label, file: file, line: line) {
            if ints { _ = try NumPyFile.readInts(path: path) } else { _ = try NumPyFile.readFloats(path: path) }
        }
    }

    func testNPYTruncatedAtEveryOffset() {
        var cases = 0
        for version: UInt8 in [1, 2, 3] {
            for (descr, size) in Self.npyTypes {
                let good = Self.npy(Self.dict(descr, "(2, 3)"), payload: [UInt8](repeating: 1, count: 6 * size), version: version)
                let path = write("good-v\(version)\(descr)", good, ext: "npy")
                XCTAssertNoThrow(try NumPyFile.readFloats(path: path))
                for cut in 0..<good.count {
                    expectNPYRefused("v\(version)\(descr)-cut\(cut)", good.prefix(cut))
                    cases += 1
                }
            }
        }
        XCTAssertGreaterThan(cases, 1000)
    }

    func testNPYBadMagicAndVersion() {
        let good = Self.npy(Self.dict("<f4", "(2,)"), payload: [UInt8](repeating: 0, count: 8))
        for i in 0..<6 {
            for x: UInt8 in [0x01, 0x20, 0xFF] {
                var b = good
                b[i] ^= x
                expectNPYRefused("magic\(i)^\(x)", b)
            }
        }
        for v: UInt8 in [0, 4, 9, 255] {
            var b = good
            b[6] = v
            expectNPYRefused("version\(v)", b)
        }
        // A header length pointing past the end of the file, in each version's length field.
        for version: UInt8 in [1, 2] {
            var b = Self.npy(Self.dict("<f4", "(2,)"), payload: [UInt8](repeating: 0, count: 8), version: version)
            b[8] = 0xFF; b[9] = 0xFF
            expectNPYRefused("header-length-v\(version)", b)
        }
        expectNPYRefused("onnx-bytes", (try? Self.mlpModel().serializedData()) ?? Data([8, 1]))
        expectNPYRefused("text", Data("1.0, 2.0, 3.0\n".utf8))
    }

    func testNPYHeaderLiesAboutShape() {
        let shapes: [(String, Int)] = [("(4,)", 4), ("(2, 3)", 6), ("(1, 1, 5)", 5), ("()", 1)]
        for (descr, size) in Self.npyTypes {
            for (shape, n) in shapes {
                for actual in Set([0, n - 1, n + 1, 2 * n]).sorted() where actual >= 0 && actual != n {
                    let b = Self.npy(Self.dict(descr, shape), payload: [UInt8](repeating: 2, count: actual * size))
                    expectNPYRefused("\(descr)\(shape)-holds\(actual)", b)
                }
                // One stray byte too many or too few.
                for delta in [-1, 1] {
                    let b = Self.npy(Self.dict(descr, shape), payload: [UInt8](repeating: 2, count: max(0, n * size + delta)))
                    expectNPYRefused("\(descr)\(shape)-bytes\(delta)", b)
                }
            }
        }
    }

    func testNPYAbsurdAndNegativeShapes() {
        let shapes = ["(2147483649,)", "(1099511627776,)", "(1048576, 1048576)", "(4294967296, 4294967296)",
                      "(9223372036854775807,)", "(9223372036854775807, 2)", "(99999999999999999999,)",
                      "(-1,)", "(3, -1)", "(-1099511627776,)", "(-9223372036854775808,)", "(0, -1)",
                      "(2, 'a')", "(1.5,)", "(,)", "[2, 3]"]
        for (descr, _) in Self.npyTypes {
            for shape in shapes {
                expectNPYRefused("\(descr)\(shape)", Self.npy(Self.dict(descr, shape), payload: [0, 0, 0, 0]))
            }
        }
        // Other header lies: dtypes cssdbg cannot read, Fortran order, missing keys, not a dict.
        for descr in [">f4", ">f8", "<f2", "<c8", "|b1", "<U3", "|O", "<i2", "<u4", "", "f4"] {
            expectNPYRefused("dtype\(descr)", Self.npy(Self.dict(descr, "(1,)"), payload: [0, 0, 0, 0]))
        }
        expectNPYRefused("fortran", Self.npy(Self.dict("<f4", "(2, 2)", fortran: true), payload: [UInt8](repeating: 0, count: 16)))
        for dict in ["{}", "{'descr': '<f4'}", "{'shape': (1,), 'fortran_order': False}", "[]", "", "{'descr': '<f4',",
                     "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}"] {
            expectNPYRefused("dict-\(dict)", Self.npy(dict, payload: [0, 0, 0, 0]))
        }
    }

    func testNPYNonFiniteAndNonIntegralData() {
        func le<T: FixedWidthInteger>(_ v: [T]) -> [UInt8] { v.flatMap { x in withUnsafeBytes(of: x.littleEndian) { Array($0) } } }
        let bads: [(String, Double)] = [("nan", .nan), ("inf", .infinity), ("-inf", -.infinity)]
        for n in [1, 5] {
            for position in Set([0, n / 2, n - 1]).sorted() {
                for (what, bad) in bads {
                    var v = [Double](repeating: 1, count: n)
                    v[position] = bad
                    let f4 = Self.npy(Self.dict("<f4", "(\(n),)"), payload: le(v.map { Float($0).bitPattern }))
                    let f8 = Self.npy(Self.dict("<f8", "(\(n),)"), payload: le(v.map(\.bitPattern)))
                    for (enc, bytes) in [("f4", f4), ("f8", f8)] {
                        expectNPYRefused("\(enc)[\(position)of\(n)]=\(what)", bytes)
                        expectNPYRefused("labels-\(enc)[\(position)of\(n)]=\(what)", bytes, ints: true)
                    }
                }
                // Too large for float32, and non-integral labels.
                var big = [Double](repeating: 1, count: n); big[position] = 1e300
                expectNPYRefused("f8-too-big[\(position)of\(n)]", Self.npy(Self.dict("<f8", "(\(n),)"), payload: le(big.map(\.bitPattern))))
                var frac = [Float](repeating: 1, count: n); frac[position] = 0.5
                expectNPYRefused("labels-fraction[\(position)of\(n)]", Self.npy(Self.dict("<f4", "(\(n),)"), payload: le(frac.map(\.bitPattern))), ints: true)
            }
        }
    }

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

    func testUnreadablePaths() {
        let missing = dir.appendingPathComponent("does-not-exist").path
        expectRefusal(missing, "onnx-missing") { _ = try ONNXModelLoader.load(path: missing + ".onnx") }
        expectRefusal(missing, "npy-missing") { _ = try NumPyFile.read(path: missing + ".npy") }
        expectRefusal(missing, "theta-missing") { _ = try ThetaFile.read(path: missing + ".json", tensors: Self.layers) }
        let sub = dir.appendingPathComponent("a-directory.onnx")
        try? FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        expectRefusal(sub.path, "onnx-dir") { _ = try ONNXModelLoader.load(path: sub.path) }
        expectRefusal(sub.path, "npy-dir") { _ = try NumPyFile.read(path: sub.path) }
        expectRefusal(sub.path, "theta-dir") { _ = try ThetaFile.read(path: sub.path, tensors: Self.layers) }
    }
}

/// POSIX write (a free function, so the name does not resolve to the test case's `write`).
private func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
    return write(fd, base, buffer.count)
}

/// Regression tests for what fuzzing found (Fuzz/README.md, F1–F11): each saved input must be
/// refused the way LoadedModel refuses (an ImportError, or a GraphError when building the
/// network), with a one-line message naming the file. Before the fixes they crashed, exhausted
/// memory, hung or were accepted.
final class FuzzFindingTests: XCTestCase {
    func findings(_ sub: String) -> [String] {
        let d = Paths.repoRoot.appendingPathComponent("Fuzz/findings/\(sub)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? []
        return names.filter { !$0.hasSuffix(".md") }.sorted().map { d.appendingPathComponent($0).path }
    }

    func expectRefusal(_ path: String, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("\(path): accepted")
        } catch let e as ImportError {
            XCTAssertTrue(e.description.contains(path), e.description)
            XCTAssertFalse(e.description.unicodeScalars.contains { $0 == "\n" || $0 == "\r" }, e.description.debugDescription)
        } catch is GraphError {
            // Network's refusal (e.g. a model without Relu); LoadedModel wraps it in an ImportError.
        } catch {
            XCTFail("\(path): \(error)")
        }
    }

    func testSavedFindingsAreRefusedCleanly() throws {
        for p in findings("onnx") { expectRefusal(p) { _ = try Network(ONNXModelLoader.load(path: p)) } }
        for p in findings("npy") { expectRefusal(p) { _ = try NumPyFile.readFloats(path: p) } }
        for p in findings("theta") { expectRefusal(p) { _ = try ThetaFile.read(path: p, tensors: ["hidden"]) } }
    }
}
