import CSSCore
import Foundation
import XCTest
@testable import CSSImport

/// The operator registry is the one list of what cssdbg converts: the table in docs/models-and-data.md and the
/// refusal of unknown operators come from it, and every lowering, folding and refusal it
/// registers runs here through `Lowerer.lower` (the importer's own dispatch). An operator added
/// to the registry without a case below fails `testEveryRegisteredOperatorIsExercised`.
final class OperatorRegistryTests: XCTestCase {
    // MARK: The registry and what users read

    func testDocsTableIsTheRegistry() throws {
        let page = try String(contentsOf: Paths.repoRoot.appendingPathComponent("docs/models-and-data.md"), encoding: .utf8)
        let begin = try XCTUnwrap(page.range(of: ONNXOperator.readmeBegin), "docs/models-and-data.md has no \(ONNXOperator.readmeBegin)")
        let end = try XCTUnwrap(page.range(of: ONNXOperator.readmeEnd, range: begin.upperBound..<page.endIndex),
                                "docs/models-and-data.md has no \(ONNXOperator.readmeEnd)")
        let section = page[begin.upperBound..<end.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        let expected = ONNXOperator.readmeSection
        XCTAssertEqual(section, expected,
                       "docs/models-and-data.md's operator section differs from the registry; between the markers it should read:\n\(expected)\n")
    }

    /// The supported list of refusals, pinned: it is part of every "unsupported operator" message.
    func testUnknownOperatorIsRefusedWithTheRegistrysList() throws {
        XCTAssertEqual(ONNXOperator.supportedList,
                       "Conv, Gemm, MatMul, Add, Sub, Mul, Div, BatchNormalization, AveragePool, GlobalAveragePool, "
                       + "ReduceMean, Flatten, Reshape, Squeeze, Unsqueeze, Relu, Identity, Dropout, Pad")
        let message = refusal("Frobnicate", [act])
        XCTAssertEqual(message, "t.onnx: node '/n' uses Frobnicate, which cssdbg cannot convert; supported operators: "
                       + ONNXOperator.supportedList)
    }

    func testNoOperatorIsRegisteredTwiceAndEveryEntryDoesSomething() {
        var seen = Set<String>()
        for rule in ONNXOperator.registry {
            for op in rule.opTypes { XCTAssertTrue(seen.insert(op).inserted, "\(op) registered twice") }
            var folds = false
            if case .fold = rule.constants { folds = true }
            XCTAssertTrue(rule.lower != nil || folds || rule.refusal != nil, "\(rule.opTypes) neither lowers, folds nor refuses")
            XCTAssertFalse(rule.doc.isEmpty || rule.doc.contains("|") || rule.doc.contains("\n"), "\(rule.opTypes): doc must fit a table cell")
        }
    }

    // MARK: Every entry exercised

    func testEveryRegisteredOperatorIsExercised() throws {
        for rule in ONNXOperator.registry {
            for op in rule.opTypes {
                if rule.lower != nil {
                    if let check = Self.lowerings[op] {
                        check(self)
                    } else {
                        XCTFail("\(op) lowers but has no case in OperatorRegistryTests.lowerings")
                    }
                }
                if case .fold = rule.constants {
                    if let check = Self.foldings[op] {
                        check(self)
                    } else {
                        XCTFail("\(op) folds but has no case in OperatorRegistryTests.foldings")
                    }
                }
                if rule.refusal != nil {
                    if let expected = Self.refusals(op) {
                        XCTAssertEqual(refusal(op, [act]), "t.onnx: node '/n' " + expected, op)
                    } else {
                        XCTFail("\(op) refuses but has no case in OperatorRegistryTests.refusals")
                    }
                }
            }
        }
    }

    // MARK: Harness: one node through `Lowerer.lower`

    /// An activation input `x` of sample shape [2, 3, 3].
    let act: (String, Val) = ("x", .act("x", [2, 3, 3]))

    static func floats(_ name: String, _ shape: [Int], _ v: [Float]) -> (String, Val) {
        (name, .const(ConstTensor(shape: shape, floats: v)))
    }
    static func ints(_ name: String, _ shape: [Int], _ v: [Int64]) -> (String, Val) {
        (name, .const(ConstTensor(shape: shape, known: v)))
    }

    /// Lowers one node `/n` with `inputs` (name and value); returns its output and the IR emitted.
    func run(_ op: String, _ inputs: [(String, Val)], _ attrs: [Onnx_AttributeProto] = []) throws -> (Val, [String]) {
        var l = try Lowerer(model: Onnx_ModelProto(), file: "t.onnx")
        l.opset = 13
        for (name, v) in inputs { l.values[name] = v }
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = "/n"
        n.input = inputs.map(\.0)
        n.output = ["y"]
        n.attribute = attrs
        try l.lower(n, index: 0)
        return (try XCTUnwrap(l.values["y"]), l.nodes.map(\.op.kind))
    }

    func refusal(_ op: String, _ inputs: [(String, Val)], _ attrs: [Onnx_AttributeProto] = []) -> String {
        do {
            _ = try run(op, inputs, attrs)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    /// `op` lowers to IR nodes of `kinds` with an activation of sample shape `shape`.
    func expectLowered(_ op: String, _ inputs: [(String, Val)], _ attrs: [Onnx_AttributeProto] = [],
                       kinds: [String], shape: [Int], line: UInt = #line) {
        do {
            let (v, emitted) = try run(op, inputs, attrs)
            XCTAssertEqual(emitted, kinds, op, line: line)
            guard case .act(_, let s) = v else { return XCTFail("\(op): result is a constant", line: line) }
            XCTAssertEqual(s, shape, op, line: line)
        } catch {
            XCTFail("\(op): \(error)", line: line)
        }
    }

    /// `op` on constants gives a constant of `shape` holding `values` (floats or known integers).
    func expectConstant(_ op: String, _ inputs: [(String, Val)], _ attrs: [Onnx_AttributeProto] = [],
                        shape: [Int], values: [Double], line: UInt = #line) {
        do {
            let (v, emitted) = try run(op, inputs, attrs)
            XCTAssertEqual(emitted, [], op, line: line)
            guard case .const(let t) = v else { return XCTFail("\(op): result is an activation", line: line) }
            XCTAssertEqual(t.shape, shape, op, line: line)
            let got = t.floats.map { $0.map(Double.init) } ?? t.knownInts?.map(Double.init)
            XCTAssertEqual(got, values, op, line: line)
        } catch {
            XCTFail("\(op): \(error)", line: line)
        }
    }
}
