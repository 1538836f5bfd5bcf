import CSSCore
import Foundation
import XCTest
@testable import CSSImport

/// The constant folder after the fuzz fixes (Fuzz/README.md F3–F11): results of the rewritten
/// Gather/Concat/Slice/Transpose/Expand/Range/broadcast paths against naive references, and the
/// size, overflow and axis checks that replaced the traps.
final class ConstFoldingTests: XCTestCase {
    // MARK: Helpers

    /// The `.full` shift of the single affine node a model `Add(x, folded)` lowers to.
    func foldedShift(_ b: ModelBuilder, file: StaticString = #filePath, line: UInt = #line) throws -> [Float] {
        let g = try b.load()
        guard let n = g.nodes.first, case .affine(nil, _, let shift?, _) = n.op else {
            XCTFail("no affine node: \(g.nodes.map(\.op.kind))", file: file, line: line)
            return []
        }
        return shift
    }

    /// A model with input [N, sampleDims] whose output is `x + (graph of nodes producing "c")`.
    func addModel(_ sample: [Int64], _ build: (inout ModelBuilder) -> Void) -> ModelBuilder {
        var b = ModelBuilder(inputDims: [nil] + sample.map { $0 })
        build(&b)
        b.node("Add", ["x", "c"], ["y"])
        return b
    }

    func refusal(_ b: ModelBuilder, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try b.load(file: "m.onnx")
            XCTFail("accepted", file: file, line: line)
        } catch let e as ImportError {
            let d = e.description
            XCTAssertTrue(d.hasPrefix("m.onnx: "), d, file: file, line: line)
            XCTAssertFalse(d.unicodeScalars.contains { $0 == "\n" || $0 == "\r" }, d, file: file, line: line)
            return d
        } catch {
            XCTFail("not an ImportError: \(error)", file: file, line: line)
        }
        return ""
    }

    func assertRefused(_ b: ModelBuilder, _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        let d = refusal(b, file: file, line: line)
        for p in parts { XCTAssertTrue(d.contains(p), "'\(d)' lacks '\(p)'", file: file, line: line) }
    }

    // MARK: Values of the rewritten folds

    func testTransposeMatchesNaive() throws {
        // [2,3,4] with perm [2,0,1] → [4,2,3].
        let v = (0..<24).map(Float.init)
        let b = addModel([4, 2, 3]) { b in
            b.initializer("t", [2, 3, 4], v)
            b.node("Transpose", ["t"], ["c"], attrs: [ModelBuilder.attr("perm", ints: [2, 0, 1])])
        }
        var expect: [Float] = []
        for k in 0..<4 { for i in 0..<2 { for j in 0..<3 { expect.append(v[(i * 3 + j) * 4 + k]) } } }
        XCTAssertEqual(try foldedShift(b), expect)

        // Default perm reverses the axes.
        let r = addModel([3, 2]) { b in
            b.initializer("t", [2, 3], [1, 2, 3, 4, 5, 6])
            b.node("Transpose", ["t"], ["c"])
        }
        XCTAssertEqual(try foldedShift(r), [1, 4, 2, 5, 3, 6])
    }

    func testGatherMatchesNaive() throws {
        // t [2,3,2], gather axis 1 with indices [[-1, 0]] → [2,1,2,2].
        let v = (0..<12).map(Float.init)
        let b = addModel([1, 2, 2]) { b in
            b.initializer("t", [2, 3, 2], v)
            b.intInitializer("i", [1, 2], [-1, 0])
            b.node("Gather", ["t", "i"], ["g"], attrs: [ModelBuilder.attr("axis", int: 1)])
            // [2,1,2,2] → the batch dim would vary; take the first outer slice with another Gather.
            b.intInitializer("z", [], [0])
            b.node("Gather", ["g", "z"], ["c"], attrs: [ModelBuilder.attr("axis", int: 0)])
        }
        // First outer (o = 0): indices 2 then 0, each an inner pair.
        XCTAssertEqual(try foldedShift(b), [4, 5, 0, 1])

        let oob = addModel([2]) { b in
            b.initializer("t", [3], [1, 2, 3])
            b.intInitializer("i", [2], [0, 3])
            b.node("Gather", ["t", "i"], ["c"])
        }
        assertRefused(oob, ["index 3 out of range"])
    }

    func testConcatAlongInnerAxis() throws {
        let b = addModel([2, 3]) { b in
            b.initializer("a", [2, 1], [1, 2])
            b.initializer("b", [2, 2], [3, 4, 5, 6])
            b.node("Concat", ["a", "b"], ["c"], attrs: [ModelBuilder.attr("axis", int: 1)])
        }
        XCTAssertEqual(try foldedShift(b), [1, 3, 4, 2, 5, 6])
    }

    func testSliceStepsIncludingExtremes() throws {
        func slice(_ starts: [Int64], _ ends: [Int64], _ axes: [Int64], _ steps: [Int64], sample: [Int64]) -> ModelBuilder {
            addModel(sample) { b in
                b.initializer("t", [2, 5], (0..<10).map(Float.init))
                b.intInitializer("st", [Int64(starts.count)], starts)
                b.intInitializer("en", [Int64(ends.count)], ends)
                b.intInitializer("ax", [Int64(axes.count)], axes)
                b.intInitializer("sp", [Int64(steps.count)], steps)
                b.node("Slice", ["t", "st", "en", "ax", "sp"], ["c"])
            }
        }
        // Reverse the last axis of the second row, then every second element.
        XCTAssertEqual(try foldedShift(slice([1, -1], [2, .min], [0, 1], [1, -1], sample: [1, 5])), [9, 8, 7, 6, 5])
        XCTAssertEqual(try foldedShift(slice([0, 0], [1, .max], [0, 1], [1, 2], sample: [1, 3])), [0, 2, 4])
        // Steps of Int64.max / Int64.min take exactly one element instead of overflowing.
        XCTAssertEqual(try foldedShift(slice([0, 1], [1, .max], [0, 1], [1, .max], sample: [1, 1])), [1])
        XCTAssertEqual(try foldedShift(slice([1, -1], [2, .min], [0, 1], [1, .min], sample: [1, 1])), [9])
    }

    func testExpandAndBinaryBroadcast() throws {
        let e = addModel([2, 3]) { b in
            b.initializer("t", [3], [1, 2, 3])
            b.intInitializer("s", [2], [2, 1])
            b.node("Expand", ["t", "s"], ["c"])
        }
        XCTAssertEqual(try foldedShift(e), [1, 2, 3, 1, 2, 3])

        let m = addModel([2, 3]) { b in
            b.initializer("p", [2, 1], [10, 20])
            b.initializer("q", [1, 3], [1, 2, 3])
            b.node("Add", ["p", "q"], ["c"])
        }
        XCTAssertEqual(try foldedShift(m), [11, 12, 13, 21, 22, 23])
    }

    func testRangeWithExtremeBounds() throws {
        func range(_ s: Int64, _ l: Int64, _ d: Int64, sample: [Int64]) -> ModelBuilder {
            addModel(sample) { b in
                b.intInitializer("s", [], [s]); b.intInitializer("l", [], [l]); b.intInitializer("d", [], [d])
                b.node("Range", ["s", "l", "d"], ["r"])
                b.node("Cast", ["r"], ["c"], attrs: [ModelBuilder.attr("to", int: 1)])
            }
        }
        XCTAssertEqual(try foldedShift(range(0, 7, 3, sample: [3])), [0, 3, 6])
        XCTAssertEqual(try foldedShift(range(5, -1, -2, sample: [3])), [5, 3, 1])
        XCTAssertEqual(try foldedShift(range(.max - 1, .max, 1, sample: [1])), [Float(Int64.max - 1)])
        XCTAssertEqual(try foldedShift(range(.min, .max, .max, sample: [3])).count, 3)
        XCTAssertEqual(try foldedShift(range(.max, .min, .min, sample: [2])).count, 2)
        assertRefused(range(.min, .max, 1, sample: [1]), ["too long"])
    }

    // MARK: Helpers against naive references

    func testForEachBroadcastMatchesNaive() throws {
        let cases: [([Int], [Int], [Int])] = [
            ([2, 3], [2, 1], [1, 3]), ([4, 1, 3], [1, 3], [4, 1, 1]), ([3], [], [3]), ([2, 0, 3], [2, 1, 3], [0, 1]),
            ([1, 1], [1], [1, 1]), ([2, 2, 2, 2], [2, 1, 2, 1], [1, 2, 1, 2]),
        ]
        for (out, a, b) in cases {
            var got: [[Int]] = []
            try forEachBroadcast(out, [a, b]) { got.append($0) }
            // Naive: decompose each flat output index.
            var expect: [[Int]] = []
            let n = out.reduce(1, *)
            for flat in 0..<n {
                var rem = flat
                var idx = [Int](repeating: 0, count: out.count)
                for d in stride(from: out.count - 1, through: 0, by: -1) { idx[d] = rem % out[d]; rem /= out[d] }
                expect.append([a, b].map { s in
                    let p = [Int](repeating: 1, count: out.count - s.count) + s
                    var off = 0
                    for d in 0..<out.count { off = off * p[d] + (p[d] == 1 ? 0 : idx[d]) }
                    return off
                })
            }
            XCTAssertEqual(got, expect, "\(out) \(a) \(b)")
        }
        XCTAssertThrowsError(try forEachBroadcast([2, 3], [[4]]) { _ in })
    }

    func testPickMatchesNaive() throws {
        let v = Array(0..<24)
        let axes = [[1, 0], [2], [3, 1, 0]]
        var expect: [Int] = []
        for i in axes[0] { for j in axes[1] { for k in axes[2] { expect.append((i * 3 + j) * 4 + k) } } }
        XCTAssertEqual(try pick(v, shape: [2, 3, 4], axes: axes), expect)
        XCTAssertEqual(try pick(v, shape: [2, 3, 4], axes: [[0], [], [1]]), [])
        XCTAssertEqual(try pick([7], shape: [], axes: []), [7])
    }

    func testCheckedProducts() {
        XCTAssertEqual(checkedProduct([2, 3, 4]), 24)
        XCTAssertEqual(checkedProduct([1 << 62, 1 << 62, 0]), nil)  // overflows before the 0
        XCTAssertEqual(checkedProduct([0, 1 << 62, 1 << 62]), 0)
        XCTAssertEqual(checkedExtent([1 << 31, 0]), 1 << 31)
        XCTAssertNil(checkedExtent([1 << 40, 1 << 40, 0]))
        XCTAssertNil(checkedProduct([-1]))
        XCTAssertEqual(ConstTensor(shape: [1 << 62, 1 << 62, 0], floats: []).count, 0)
        XCTAssertEqual(ConstTensor(shape: [1 << 62, 1 << 62], floats: []).count, Int.max)
        XCTAssertEqual(normAxis(.min, rank: 3), nil)
        XCTAssertEqual(normAxis(-3, rank: 3), 0)
        XCTAssertEqual(normAxis(.max, rank: 3), nil)
    }

    func testSymbolicArithmeticRefusesTraps() throws {
        let n = SymInt.batchSize
        XCTAssertThrowsError(try symArith(.div, .known(.min), .known(-1)))
        XCTAssertThrowsError(try symArith(.div, .known(1), .known(0)))
        XCTAssertThrowsError(try symArith(.div, SymInt(coef: .min, batch: true), .known(-1)))
        XCTAssertThrowsError(try symArith(.mul, .known(.max), .known(2)))
        XCTAssertThrowsError(try symArith(.add, .known(.max), .known(1)))
        // 0·N is the known 0, so dividing it by itself is a division by zero, not a trap.
        let zero = try symArith(.mul, n, .known(0))
        XCTAssertEqual(zero, .known(0))
        XCTAssertThrowsError(try symArith(.div, zero, zero))
        XCTAssertThrowsError(try symArith(.div, n, SymInt(coef: 0, batch: true)))
        XCTAssertEqual(try symArith(.div, SymInt(coef: 6, batch: true), SymInt(coef: 3, batch: true)), .known(2))
        XCTAssertEqual(try symArith(.div, SymInt(coef: 6, batch: true), .known(3)), SymInt(coef: 2, batch: true))
        XCTAssertThrowsError(try symArith(.div, SymInt(coef: 6, batch: true), .known(4)))
    }

    // MARK: Size limits (F3, F4, F8–F11)

    func testHugeAndEmptyFoldsAreRefusedBeforeAllocating() {
        // [2^31, 0] holds nothing; slicing a few rows is fine, looping over 2^31 rows is not.
        func empty(_ b: inout ModelBuilder) { b.intInitializer("E", [1 << 31, 0], []) }
        let concat = addModel([1]) { b in
            empty(&b)
            b.node("Concat", ["E", "E"], ["k"], attrs: [ModelBuilder.attr("axis", int: 1)])
            b.node("Size", ["k"], ["s"])
            b.node("Cast", ["s"], ["c"], attrs: [ModelBuilder.attr("to", int: 1)])
        }
        assertRefused(concat, ["(Concat)", "[2147483648, 0]", "2^24"])
        let transpose = addModel([1]) { b in
            empty(&b)
            b.node("Transpose", ["E"], ["k"])
            b.node("Size", ["k"], ["s"])
            b.node("Cast", ["s"], ["c"], attrs: [ModelBuilder.attr("to", int: 1)])
        }
        assertRefused(transpose, ["(Transpose)", "empty constant"])
        let cos = addModel([1]) { b in
            b.intInitializer("s", [3], [1 << 62, 1 << 62, 0])
            b.node("ConstantOfShape", ["s"], ["k"])
            b.node("Size", ["k"], ["z"])
            b.node("Cast", ["z"], ["c"], attrs: [ModelBuilder.attr("to", int: 1)])
        }
        assertRefused(cos, ["(ConstantOfShape)", "2^24"])
        let bomb = addModel([1]) { b in
            b.intInitializer("s1", [2], [65536, 1]); b.intInitializer("s2", [2], [1, 65536])
            b.node("ConstantOfShape", ["s1"], ["p"]); b.node("ConstantOfShape", ["s2"], ["q"])
            b.node("Add", ["p", "q"], ["k"])
            b.node("Size", ["k"], ["z"])
            b.node("Cast", ["z"], ["c"], attrs: [ModelBuilder.attr("to", int: 1)])
        }
        assertRefused(bomb, ["[65536, 65536]", "more than 2^24 values"])
        let reshape = addModel([1]) { b in
            empty(&b)
            b.intInitializer("t", [4], [1 << 31, 1 << 31, 1 << 31, 0])
            b.node("Reshape", ["E", "t"], ["k"], attrs: [ModelBuilder.attr("allowzero", int: 1)])
            b.node("Size", ["k"], ["z"])
            b.node("Cast", ["z"], ["c"], attrs: [ModelBuilder.attr("to", int: 1)])
        }
        assertRefused(reshape, ["(Reshape)", "absurd shape"])
        // An initializer whose zero dim hides a 2^62 extent is refused when decoded.
        var hidden = ModelBuilder(inputDims: [nil, 1])
        hidden.intInitializer("H", [0, 1 << 31, 1 << 31], [])
        hidden.node("Relu", ["x"], ["y"])
        assertRefused(hidden, ["tensor 'H' declares an absurd shape"])
    }

    func testUnsqueezeRepeatedAxisFolded() {
        let b = addModel([1, 1]) { b in
            b.initializer("s", [], [1])
            b.node("Unsqueeze", ["s"], ["c"], attrs: [ModelBuilder.attr("axes", ints: [1, 1])])
        }
        assertRefused(b, ["(Unsqueeze)", "repeats an axis"])
    }

    func testInputSizeCapAndBroadcastCap() {
        var huge = ModelBuilder(inputDims: [nil, 32768, 2, 32768])
        huge.initializer("k", [2, 1], [1, 2])
        huge.node("Add", ["x", "k"], ["y"])
        assertRefused(huge, ["input 'x'", "2147483648 values per sample", "at most 2^28"])

        // Within the input cap, but a partial broadcast of more than 2^24 values is refused
        // without materialising it (a full-shape or per-channel constant would be fine).
        var wide = ModelBuilder(inputDims: [nil, 1 << 23, 3])
        wide.initializer("k", [1, 3], [1, 2, 3])
        wide.node("Add", ["x", "k"], ["y"], name: "/wide")
        assertRefused(wide, ["node '/wide'", "broadcasts a constant of shape [1, 3]", "2^24"])
    }

    // MARK: Non-finite weights (F2)

    func testNonFiniteWeightsFromAttributesAndFoldingAreRefused() {
        var gemm = ModelBuilder(inputDims: [nil, 2])
        gemm.initializer("w", [2, 2], [1, 0, 0, 1])
        gemm.node("Gemm", ["x", "w"], ["g"], name: "/fc", attrs: [ModelBuilder.attr("alpha", float: .infinity)])
        gemm.node("Relu", ["g"], ["y"])
        assertRefused(gemm, ["node '/fc'", "NaN or infinite value in its weights"])

        var fold = ModelBuilder(inputDims: [nil, 2])
        fold.initializer("a", [2], [3e38, 1])
        fold.initializer("b", [2], [3e38, 1])
        fold.node("Mul", ["a", "b"], ["m"])
        fold.node("Mul", ["x", "m"], ["s"], name: "/scale")
        fold.node("Relu", ["s"], ["y"])
        assertRefused(fold, ["node '/scale'", "NaN or infinite value in its scale", "inf"])

        var bias = ModelBuilder(inputDims: [nil, 2])
        bias.initializer("w", [2, 2], [1, 0, 0, 1])
        bias.initializer("c", [2], [1, 1])
        bias.node("Gemm", ["x", "w", "c"], ["g"], name: "/fc", attrs: [ModelBuilder.attr("beta", float: .nan)])
        bias.node("Relu", ["g"], ["y"])
        assertRefused(bias, ["node '/fc'", "NaN or infinite value in its bias"])
    }

    func testUnnamedNodeLabelIsNotRepeated() {
        var b = ModelBuilder(inputDims: [nil, 1])
        b.intInitializer("a", [], [.min]); b.intInitializer("m", [], [-1])
        b.node("Div", ["a", "m"], ["q"])
        b.node("Cast", ["q"], ["c"], attrs: [ModelBuilder.attr("to", int: 1)])
        b.node("Add", ["x", "c"], ["y"])
        for i in b.model.graph.node.indices { b.model.graph.node[i].name = "" }
        XCTAssertEqual(refusal(b), "m.onnx: node #0 (Div): integer overflow in a shape computation")

        var c = ModelBuilder(inputDims: [nil, 1])
        c.node("Cast", [], ["y"])
        c.model.graph.node[0].name = ""
        XCTAssertEqual(refusal(c), "m.onnx: node #0 (Cast) is missing input 0")
    }

    // MARK: One-line messages (F1)

    func testImportErrorIsOneLineWhateverTheNamesHold() {
        let nasty = ["a\r\nb", "a\rb", "a\nb", "a\u{2028}b", "a\u{85}b", "a\u{0B}b\u{0C}", "\r\n\r\nx", "a\tb"]
        for s in nasty {
            let d = ImportError(file: "f.onnx", problem: "tensor '\(s)' is bad", hint: "rename '\(s)'").description
            XCTAssertFalse(d.unicodeScalars.contains { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{85}" },
                           d.debugDescription)
            XCTAssertEqual(d.split(whereSeparator: \.isNewline).count, 1, d.debugDescription)
            XCTAssertTrue(d.hasPrefix("f.onnx: tensor '"), d.debugDescription)
        }
        XCTAssertEqual(ImportError(file: "f", problem: "x\r\ny").description, "f: x y")
        XCTAssertEqual(ImportError(file: "f", problem: "x\n\n\ny\n", hint: "z").description, "f: x y ; z")
        // Escapes and bidirectional overrides are shown, not interpreted by the terminal.
        XCTAssertEqual(ImportError(file: "f", problem: "\u{1B}[31mred\u{7F}").description, "f: \\u{1B}[31mred\\u{7F}")
        XCTAssertEqual(ImportError(file: "f", problem: "a\u{202E}b\u{0}").description, "f: a\\u{202E}b\\u{0}")
        XCTAssertEqual(ImportError(file: "f", problem: "plain ünïcode 名前").description, "f: plain ünïcode 名前")
    }

    // MARK: The saved fuzz findings, each refused for its own reason

    func testSavedFindingsAreRefusedForTheirReason() throws {
        let dir = Paths.repoRoot.appendingPathComponent("Fuzz/findings")
        let expected: [(String, [String])] = [
            ("onnx/crlf-in-name.onnx", ["graph output 'y INJECTED' is never computed"]),
            ("onnx/gemm-alpha-inf.onnx", ["NaN or infinite value in its weights"]),
            ("onnx/folded-weights-inf.onnx", ["NaN or infinite"]),
            ("onnx/constantofshape-overflow.onnx", ["(ConstantOfShape)", "2^24"]),
            ("onnx/transpose-strides-overflow.onnx", ["2^24"]),
            ("onnx/unsqueeze-repeated-axis.onnx", ["repeats an axis"]),
            ("onnx/div-int64-min-by-minus-one.onnx", ["integer overflow"]),
            ("onnx/div-zero-batch-by-itself.onnx", ["division by zero"]),
            ("onnx/broadcast-constant-to-huge-input.onnx", ["at most 2^28"]),
            ("onnx/broadcast-bomb.onnx", ["[65536, 65536]", "2^24"]),
            ("onnx/concat-empty-huge-outer.onnx", ["(Concat)", "2^24"]),
            ("onnx/gather-empty-huge-outer.onnx", ["(Gather)", "2^24"]),
        ]
        for (rel, parts) in expected {
            let p = dir.appendingPathComponent(rel).path
            do {
                _ = try ONNXModelLoader.load(path: p)
                XCTFail("\(rel): accepted")
            } catch let e as ImportError {
                let d = e.description
                XCTAssertTrue(d.hasPrefix(p + ": "), d)
                for part in parts { XCTAssertTrue(d.contains(part), "\(rel): '\(d)' lacks '\(part)'") }
            }
        }
        // F10's slice of [2^31, 0] is legitimately tiny ([1, 0]); it must now fold instantly, and
        // the model is refused only for having no Relu.
        let slice = dir.appendingPathComponent("onnx/slice-empty-huge-dim.onnx").path
        XCTAssertThrowsError(try Network(ONNXModelLoader.load(path: slice))) { XCTAssertTrue($0 is GraphError, "\($0)") }
    }
}
