import CSSCore
import Foundation
import XCTest
@testable import CSSImport

final class ONNXLoweringTests: XCTestCase {
    /// Asserts that `body` throws an ImportError whose one-line description contains every part.
    func assertRefused(_ parts: [String], file: StaticString = #filePath, line: UInt = #line,
                       _ body: () throws -> Any) {
        do {
            _ = try body()
            XCTFail("expected a refusal containing \(parts)", file: file, line: line)
        } catch let e as ImportError {
            let d = e.description
            XCTAssertFalse(d.contains("\n"), d, file: file, line: line)
            for p in parts { XCTAssertTrue(d.contains(p), "'\(d)' lacks '\(p)'", file: file, line: line) }
        } catch {
            XCTFail("not an ImportError: \(error)", file: file, line: line)
        }
    }

    func kinds(_ g: CSSCore.Graph) -> [String] { g.nodes.map(\.op.kind) }

    /// Conv → Relu → view(x.size(0), -1) as the TorchScript exporter writes it → Gemm.
    func convViewModel(unsqueezeAxesAsInput: Bool) -> ModelBuilder {
        var b = ModelBuilder(opset: unsqueezeAxesAsInput ? 13 : 11, inputDims: [nil, 1, 4, 4])
        b.initializer("w", [2, 1, 3, 3], (0..<18).map { Float($0 % 5) * 0.1 - 0.2 })
        b.initializer("cb", [2], [0.1, -0.1])
        b.initializer("lw", [3, 8], (0..<24).map { Float($0 % 7) * 0.05 - 0.1 })
        b.initializer("lb", [3], [0.5, 0, -0.5])
        b.node("Conv", ["x", "w", "cb"], ["c"], name: "/c/Conv", attrs: [ModelBuilder.attr("kernel_shape", ints: [3, 3])])
        b.node("Relu", ["c"], ["r"], name: "/Relu")
        b.node("Shape", ["r"], ["s"])
        b.node("Constant", [], ["zero"], attrs: [ModelBuilder.attr("value", tensor: ModelBuilder.intTensor("", [], [0]))])
        b.node("Gather", ["s", "zero"], ["g"], attrs: [ModelBuilder.attr("axis", int: 0)])
        if unsqueezeAxesAsInput {
            b.node("Constant", [], ["ax"], attrs: [ModelBuilder.attr("value", tensor: ModelBuilder.intTensor("", [1], [0]))])
            b.node("Unsqueeze", ["g", "ax"], ["u"])
        } else {
            b.node("Unsqueeze", ["g"], ["u"], attrs: [ModelBuilder.attr("axes", ints: [0])])
        }
        b.node("Constant", [], ["m1"], attrs: [ModelBuilder.attr("value", tensor: ModelBuilder.intTensor("", [1], [-1]))])
        b.node("Concat", ["u", "m1"], ["shape"], attrs: [ModelBuilder.attr("axis", int: 0)])
        b.node("Reshape", ["r", "shape"], ["flat"], name: "/Reshape")
        b.node("Gemm", ["flat", "lw", "lb"], ["y"], name: "/l/Gemm", attrs: [ModelBuilder.attr("transB", int: 1)])
        return b
    }

    func testTorchScriptShapeSubgraphFolds() throws {
        for asInput in [true, false] {
            let g = try convViewModel(unsqueezeAxesAsInput: asInput).load()
            XCTAssertEqual(kinds(g), ["Conv", "Relu", "Reshape", "Dense"])
            XCTAssertEqual(g.inputShape, [1, 4, 4])
            if case .reshape(let s) = g.nodes[2].op { XCTAssertEqual(s, [8]) } else { XCTFail() }
            XCTAssertEqual(try g.inferShapes()[g.output], [3])
        }
    }

    func testShapeWithStartEndAndSliceFold() throws {
        // Reshape(x, Concat(Shape(x, end=1), [-1])) with Shape's opset-15 start/end and a Slice.
        var b = ModelBuilder(opset: 18, inputDims: [nil, 2, 3, 4])
        b.node("Shape", ["x"], ["s"], attrs: [ModelBuilder.attr("end", int: 1)])
        b.node("Shape", ["x"], ["s2"])
        b.intInitializer("st", [1], [1]); b.intInitializer("en", [1], [2])
        b.node("Slice", ["s2", "st", "en"], ["c"])  // [2]
        b.intInitializer("m1", [1], [-1])
        b.node("Concat", ["s", "c", "m1"], ["shape"], attrs: [ModelBuilder.attr("axis", int: 0)])
        b.node("Reshape", ["x", "shape"], ["y"])
        let g = try b.load()
        XCTAssertEqual(try g.inferShapes()[g.output], [2, 12])
    }

    func testReshapeFirstEntryMustBeBatch() {
        var b = ModelBuilder(inputDims: [nil, 2, 3])
        b.intInitializer("shape", [1], [-1])
        b.node("Reshape", ["x", "shape"], ["y"], name: "/flatten_all")
        assertRefused(["test.onnx: node '/flatten_all'", "batch"]) { try b.load() }

        var b2 = ModelBuilder(inputDims: [nil, 2, 3])
        b2.intInitializer("shape", [2], [3, -1])
        b2.node("Reshape", ["x", "shape"], ["y"], name: "/r")
        assertRefused(["node '/r'", "first entry is not the batch"]) { try b2.load() }
    }

    func testStaticBatchLiteralReshape() throws {
        var b = ModelBuilder(inputDims: [1, 2, 3])
        b.intInitializer("shape", [2], [1, 6])
        b.node("Reshape", ["x", "shape"], ["y"])
        let g = try b.load()
        XCTAssertEqual(try g.inferShapes()[g.output], [6])
    }

    func testAffineLoweringAndSubOfActivations() throws {
        var b = ModelBuilder(inputDims: [nil, 2, 1, 2])
        b.initializer("c", [2, 1, 1], [1, 2])
        b.initializer("k", [], [3])
        b.node("Sub", ["c", "x"], ["a"])          // c - x
        b.node("Div", ["a", "k"], ["d"])          // / 3
        b.node("Relu", ["x"], ["r"])
        b.node("Sub", ["d", "r"], ["y"])          // activation - activation
        let g = try b.load()
        XCTAssertEqual(kinds(g), ["Affine", "Affine", "Relu", "Affine", "Add"])
        let x: [Float] = [1, -2, 3, 4]
        let y = try NaiveForward.run(g, x)
        let expect: [Float] = [(1 - 1) / 3 - 1, (1 + 2) / 3 - 0, (2 - 3) / 3 - 3, (2 - 4) / 3 - 4]
        for (u, v) in zip(y, expect) { XCTAssertEqual(u, v, accuracy: 1e-6) }
    }

    func testBroadcastKinds() throws {
        var b = ModelBuilder(inputDims: [nil, 2, 2, 3])
        b.initializer("row", [1, 1, 3], [1, 2, 3])     // varies along W only → materialised full
        b.initializer("pc", [1, 2, 1, 1], [5, 6])      // per channel
        b.initializer("full", [2, 2, 3], (0..<12).map(Float.init))
        b.node("Add", ["x", "row"], ["a"])
        b.node("Mul", ["pc", "a"], ["m"])
        b.node("Add", ["full", "m"], ["y"])
        let g = try b.load()
        guard case .affine(_, _, let s1?, let b1) = g.nodes[0].op,
              case .affine(let s2?, let b2, _, _) = g.nodes[1].op,
              case .affine(_, _, _, let b3) = g.nodes[2].op else { return XCTFail() }
        XCTAssertEqual(b1, .full); XCTAssertEqual(s1, [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3])
        XCTAssertEqual(b2, .perChannel); XCTAssertEqual(s2, [5, 6])
        XCTAssertEqual(b3, .full)

        var bad = ModelBuilder(inputDims: [nil, 2])
        bad.initializer("c", [3, 2], [Float](repeating: 1, count: 6))
        bad.node("Add", ["x", "c"], ["y"], name: "/bad")
        assertRefused(["node '/bad'", "varies over the batch"]) { try bad.load() }
    }

    func testMatMulAddFusesIntoDenseBias() throws {
        var b = ModelBuilder(inputDims: [nil, 3])
        b.initializer("w", [3, 2], [1, 2, 3, 4, 5, 6])
        b.initializer("bias", [2], [10, 20])
        b.node("MatMul", ["x", "w"], ["m"])
        b.node("Add", ["bias", "m"], ["a"])
        b.node("Relu", ["a"], ["y"])
        let g = try b.load()
        XCTAssertEqual(kinds(g), ["Dense", "Relu"])
        XCTAssertEqual(try NaiveForward.run(g, [1, 1, -1]), [9, 20] as [Float])
    }

    func testBatchNormUnfolded() throws {
        var b = ModelBuilder(inputDims: [nil, 2, 1, 1])
        b.initializer("g", [2], [2, 1]); b.initializer("be", [2], [1, 0])
        b.initializer("mu", [2], [0.5, -1]); b.initializer("var", [2], [4, 0.25])
        b.node("BatchNormalization", ["x", "g", "be", "mu", "var"], ["y"], attrs: [ModelBuilder.attr("epsilon", float: 0)])
        let g = try b.load()
        guard case .affine(let s?, .perChannel, let h?, .perChannel) = g.nodes[0].op else { return XCTFail() }
        XCTAssertEqual(s, [1, 2]); XCTAssertEqual(h, [0.5, 2])
    }

    func testReduceMeanVariants() throws {
        for keep in [Int64(0), 1] {
            var b = ModelBuilder(opset: 13, inputDims: [nil, 2, 3, 3])
            b.node("ReduceMean", ["x"], ["y"], attrs: [ModelBuilder.attr("axes", ints: [-1, -2]), ModelBuilder.attr("keepdims", int: keep)])
            let g = try b.load()
            XCTAssertEqual(try g.inferShapes()[g.output], keep == 1 ? [2, 1, 1] : [2])
        }
        var b = ModelBuilder(opset: 18, inputDims: [nil, 2, 3, 3])
        b.intInitializer("axes", [1], [1])
        b.node("ReduceMean", ["x", "axes"], ["y"], name: "/mean_c")
        assertRefused(["node '/mean_c' uses ReduceMean over axes [1]", "{2,3}"]) { try b.load() }
    }

    func testOperatorRefusals() {
        func single(_ op: String, inputs: [String] = ["x"], attrs: [Onnx_AttributeProto] = [], dims: [Int64?] = [nil, 4],
                    setup: (inout ModelBuilder) -> Void = { _ in }) -> ModelBuilder {
            var b = ModelBuilder(inputDims: dims)
            setup(&b)
            b.node(op, inputs, ["y"], name: "/n/\(op)", attrs: attrs)
            return b
        }
        assertRefused(["test.onnx: node '/n/MaxPool' uses MaxPool, which cannot be converted exactly; use AveragePool"]) {
            try single("MaxPool", attrs: [ModelBuilder.attr("kernel_shape", ints: [2, 2])], dims: [nil, 1, 4, 4]).load()
        }
        for act in ["Sigmoid", "Tanh", "Gelu", "LeakyRelu"] {
            assertRefused(["node '/n/\(act)' uses \(act)", "only ReLU activations convert to TSA neurons"]) { try single(act).load() }
        }
        assertRefused(["uses Clip", "only ReLU"]) {
            try single("Clip", inputs: ["x", "lo", "hi"]) { b in
                b.initializer("lo", [], [0]); b.initializer("hi", [], [6])
            }.load()
        }
        assertRefused(["uses Softmax", "export the logits"]) { try single("Softmax").load() }
        assertRefused(["divides a constant by an activation"]) {
            try single("Div", inputs: ["c", "x"]) { $0.initializer("c", [], [1]) }.load()
        }
        assertRefused(["multiplies two activations"]) { try single("Mul", inputs: ["x", "x"]).load() }
        assertRefused(["multiplies two activations"]) { try single("MatMul", inputs: ["x", "x"]).load() }
        assertRefused(["transposes an activation"]) { try single("Transpose", attrs: [ModelBuilder.attr("perm", ints: [1, 0])]).load() }
        assertRefused(["concatenates activations"]) { try single("Concat", inputs: ["x", "x"], attrs: [ModelBuilder.attr("axis", int: 1)]).load() }
        assertRefused(["Flatten with axis 2"]) { try single("Flatten", attrs: [ModelBuilder.attr("axis", int: 2)], dims: [nil, 2, 3]).load() }
        assertRefused(["transA=1"]) {
            try single("Gemm", inputs: ["x", "w"], attrs: [ModelBuilder.attr("transA", int: 1)]) { $0.initializer("w", [4, 2], [Float](repeating: 0, count: 8)) }.load()
        }
        assertRefused(["ceil_mode=1"]) {
            try single("AveragePool", attrs: [ModelBuilder.attr("kernel_shape", ints: [2, 2]), ModelBuilder.attr("strides", ints: [2, 2]),
                                              ModelBuilder.attr("ceil_mode", int: 1)], dims: [nil, 1, 5, 5]).load()
        }
        // ceil_mode=1 that changes nothing is exact and accepted.
        XCTAssertNoThrow(try single("AveragePool", attrs: [ModelBuilder.attr("kernel_shape", ints: [2, 2]), ModelBuilder.attr("strides", ints: [2, 2]),
                                                           ModelBuilder.attr("ceil_mode", int: 1)], dims: [nil, 1, 4, 4]).load())
        assertRefused(["from domain 'com.example'"]) {
            var b = single("Relu")
            b.model.graph.node[0].domain = "com.example"
            return try b.load()
        }
        assertRefused(["uses Foo, which cssdbg cannot convert", "supported operators"]) { try single("Foo").load() }
        // Clip(min=0) without max is a ReLU.
        XCTAssertEqual(kinds(try single("Clip", inputs: ["x", "lo"]) { $0.initializer("lo", [], [0]) }.load()), ["Relu"])
    }

    func testGraphLevelRefusals() {
        var two = ModelBuilder(outputs: ["y", "z"])
        two.node("Relu", ["x"], ["y"]); two.node("Relu", ["x"], ["z"])
        assertRefused(["has 2 graph outputs ('y', 'z'); cssdbg needs exactly one"]) { try two.load() }

        var ins = ModelBuilder()
        ins.model.graph.input.append(ModelBuilder.valueInfo("x2", [nil, 4]))
        ins.node("Add", ["x", "x2"], ["y"])
        assertRefused(["has 2 graph inputs ('x', 'x2'); cssdbg needs exactly one"]) { try ins.load() }

        var dyn = ModelBuilder(inputDims: [nil, nil])
        dyn.node("Relu", ["x"], ["y"])
        assertRefused(["dynamic dimension 1", "only the batch dimension may be dynamic"]) { try dyn.load() }

        var intIn = ModelBuilder()
        intIn.model.graph.input[0] = ModelBuilder.valueInfo("x", [nil, 4], elem: 7)
        intIn.node("Relu", ["x"], ["y"])
        assertRefused(["element type INT64"]) { try intIn.load() }

        var cycle = ModelBuilder()
        cycle.node("Add", ["x", "b"], ["a"], name: "/a")
        cycle.node("Relu", ["a"], ["b"], name: "/b")
        cycle.node("Relu", ["b"], ["y"], name: "/c")
        assertRefused(["cycle"]) { try cycle.load() }

        var dangling = ModelBuilder()
        dangling.node("Gemm", ["x", "missing.weight"], ["y"], name: "/fc")
        assertRefused(["node '/fc' uses 'missing.weight', which no node, initializer or input defines"]) { try dangling.load() }

        var dup = ModelBuilder()
        dup.node("Relu", ["x"], ["y"]); dup.node("Relu", ["x"], ["y"])
        assertRefused(["tensor 'y' is defined more than once"]) { try dup.load() }

        var noOpset = ModelBuilder()
        noOpset.model.opsetImport = []
        noOpset.node("Relu", ["x"], ["y"])
        assertRefused(["no opset"]) { try noOpset.load() }

        var constOut = ModelBuilder()
        constOut.initializer("c", [1], [1])
        constOut.node("Identity", ["c"], ["y"])
        assertRefused(["does not depend on the input"]) { try constOut.load() }
    }

    func testTensorValidation() {
        func gemm(_ w: Onnx_TensorProto) -> ModelBuilder {
            var b = ModelBuilder()
            b.model.graph.initializer.append(w)
            b.node("Gemm", ["x", w.name], ["y"], attrs: [ModelBuilder.attr("transB", int: 1)])
            return b
        }
        var short = ModelBuilder.floatTensor("fc.weight", [2, 4], [Float](repeating: 1, count: 8))
        short.rawData = short.rawData.prefix(20)
        assertRefused(["tensor 'fc.weight' declares shape [2, 4] of FLOAT (32 bytes) but holds 20 bytes"]) { try gemm(short).load() }

        var typed = Onnx_TensorProto(); typed.name = "w"; typed.dims = [2, 4]; typed.dataType = 1; typed.floatData = [1, 2, 3]
        assertRefused(["tensor 'w' declares shape [2, 4] (8 values) but holds 3 values"]) { try gemm(typed).load() }

        var huge = ModelBuilder.floatTensor("big", [1 << 20, 1 << 20], [1, 2])
        huge.dataType = 1
        assertRefused(["tensor 'big' declares an absurd shape"]) { try gemm(huge).load() }

        var big2 = Onnx_TensorProto(); big2.name = "big2"; big2.dims = [1 << 30, 2]; big2.dataType = 11
        assertRefused(["'big2'"]) { try gemm(big2).load() }

        let neg = ModelBuilder.floatTensor("neg", [-2, 4], [])
        assertRefused(["tensor 'neg' declares a negative dimension"]) { try gemm(neg).load() }
        let zero = ModelBuilder.floatTensor("zero", [0, 4], [])
        assertRefused(["tensor 'zero' declares a zero dimension"]) { try gemm(zero).load() }

        var nan = [Float](repeating: 1, count: 8); nan[5] = .nan
        assertRefused(["tensor 'fc.nan' contains NaN or infinite values"]) { try gemm(ModelBuilder.floatTensor("fc.nan", [2, 4], nan)).load() }
        var inf = Onnx_TensorProto(); inf.name = "fc.inf"; inf.dims = [2, 4]; inf.dataType = 11
        inf.doubleData = [1, 2, 3, 4, 5, 6, 7, .infinity]
        assertRefused(["tensor 'fc.inf' contains NaN or infinite values"]) { try gemm(inf).load() }
    }

    func testFloat16AndDoubleWeights() throws {
        XCTAssertEqual(halfToFloat(0x3C00), 1)
        XCTAssertEqual(halfToFloat(0xC000), -2)
        XCTAssertEqual(halfToFloat(0x3555), 0.333251953125)
        XCTAssertEqual(halfToFloat(0x0001), Float(5.9604645e-08))
        XCTAssertEqual(halfToFloat(0x7BFF), 65504)
        XCTAssertTrue(halfToFloat(0x7C00).isInfinite)

        var w = Onnx_TensorProto(); w.name = "w"; w.dims = [1, 2]; w.dataType = 10
        w.int32Data = [0x3C00, 0xC000]  // 1, -2 in the typed field
        var b = ModelBuilder(inputDims: [nil, 2])
        b.model.graph.initializer.append(w)
        b.node("Gemm", ["x", "w"], ["y"], attrs: [ModelBuilder.attr("transB", int: 1)])
        XCTAssertEqual(try NaiveForward.run(try b.load(), [3, 1]), [1])
    }

    // MARK: External data

    func externalModel(location: String, offset: Int = 0, length: Int? = nil) -> ModelBuilder {
        var w = Onnx_TensorProto(); w.name = "w"; w.dims = [2, 4]; w.dataType = 1
        w.dataLocation = .external
        var kv: [(String, String)] = [("location", location), ("offset", "\(offset)")]
        if let length { kv.append(("length", "\(length)")) }
        w.externalData = kv.map { var e = Onnx_StringStringEntryProto(); e.key = $0.0; e.value = $0.1; return e }
        var b = ModelBuilder()
        b.model.graph.initializer.append(w)
        b.node("Gemm", ["x", "w"], ["y"], attrs: [ModelBuilder.attr("transB", int: 1)])
        return b
    }

    func weightBytes(prefix: Int = 0) -> Data {
        var d = Data(repeating: 0xAB, count: prefix)
        for i in 0..<8 { withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    func testExternalData() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try weightBytes(prefix: 16).write(to: dir.appendingPathComponent("weights.bin"))
        let g = try externalModel(location: "weights.bin", offset: 16, length: 32).loadFromDisk(dir)
        guard case .dense(let w, _, _, _) = g.nodes[0].op else { return XCTFail() }
        XCTAssertEqual(w, (0..<8).map(Float.init))

        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try weightBytes().write(to: dir.appendingPathComponent("sub/w.bin"))
        XCTAssertNoThrow(try externalModel(location: "sub/w.bin").loadFromDisk(dir))

        assertRefused(["model.onnx: tensor 'w' refers to external data by an absolute path '/etc/passwd', which is refused"]) {
            try self.externalModel(location: "/etc/passwd").loadFromDisk(dir)
        }
        assertRefused(["outside the model's directory"]) { try self.externalModel(location: "../weights.bin").loadFromDisk(dir) }
        assertRefused(["outside the model's directory"]) { try self.externalModel(location: "sub/../../x.bin").loadFromDisk(dir) }

        // A symlink inside the directory that points outside it.
        let outside = Paths.tempDir("outside")
        defer { try? FileManager.default.removeItem(at: outside) }
        try weightBytes().write(to: outside.appendingPathComponent("w.bin"))
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("link.bin"),
                                                   withDestinationURL: outside.appendingPathComponent("w.bin"))
        assertRefused(["resolves outside the model's directory (symlink)"]) { try self.externalModel(location: "link.bin").loadFromDisk(dir) }

        assertRefused(["external data 'weights.bin' is truncated"]) { try self.externalModel(location: "weights.bin", offset: 40).loadFromDisk(dir) }
        assertRefused(["needs 32 bytes but its external data length is 12"]) {
            try self.externalModel(location: "weights.bin", length: 12).loadFromDisk(dir)
        }
        assertRefused(["external data file 'nope.bin' of tensor 'w' is missing"]) { try self.externalModel(location: "nope.bin").loadFromDisk(dir) }
        assertRefused(["invalid external-data offset"]) {
            var b = self.externalModel(location: "weights.bin")
            b.model.graph.initializer[0].externalData[1].value = "-5"
            return try b.loadFromDisk(dir)
        }
    }

    func testDirectoryAndMissingFile() {
        assertRefused(["/nonexistent/model.onnx: no such file"]) { try ONNXModelLoader.load(path: "/nonexistent/model.onnx") }
        assertRefused(["is a directory"]) { try ONNXModelLoader.load(path: Paths.fixtures.path) }
    }
}
