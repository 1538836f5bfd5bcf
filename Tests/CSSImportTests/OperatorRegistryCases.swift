import CSSCore
import Foundation
import XCTest
@testable import CSSImport

/// One case per registered lowering, folding and refusal (see OperatorRegistryTests). The
/// fixtures, ONNXLoweringTests and ConstFoldingTests test the same operators in depth; these
/// make sure no entry is left without any test.
extension OperatorRegistryTests {
    typealias Check = (OperatorRegistryTests) -> Void
    typealias A = ModelBuilder

    static var lowerings: [String: Check] {
        let x: (String, Val) = ("x", .act("x", [2, 3, 3]))
        let v4: (String, Val) = ("x", .act("x", [4]))
        let perChannel = floats("c", [2, 1, 1], [0.5, 2])
        return [
            "Conv": { t in t.expectLowered("Conv", [x, floats("w", [4, 2, 1, 1], [Float](repeating: 1, count: 8))],
                                           kinds: ["Conv"], shape: [4, 3, 3]) },
            "Gemm": { t in t.expectLowered("Gemm", [v4, floats("w", [3, 4], [Float](repeating: 1, count: 12))],
                                           [A.attr("transB", int: 1)], kinds: ["Dense"], shape: [3]) },
            "MatMul": { t in t.expectLowered("MatMul", [v4, floats("w", [4, 3], [Float](repeating: 1, count: 12))],
                                             kinds: ["Dense"], shape: [3]) },
            "Add": { t in t.expectLowered("Add", [x, perChannel], kinds: ["Affine"], shape: [2, 3, 3]) },
            "Sub": { t in t.expectLowered("Sub", [x, ("x2", .act("x2", [2, 3, 3]))], kinds: ["Affine", "Add"], shape: [2, 3, 3]) },
            "Mul": { t in t.expectLowered("Mul", [perChannel, x], kinds: ["Affine"], shape: [2, 3, 3]) },
            "Div": { t in t.expectLowered("Div", [x, perChannel], kinds: ["Affine"], shape: [2, 3, 3]) },
            "Sum": { t in t.expectLowered("Sum", [x, ("x2", .act("x2", [2, 3, 3]))], kinds: ["Add"], shape: [2, 3, 3]) },
            "BatchNormalization": { t in
                t.expectLowered("BatchNormalization", [x, floats("s", [2], [1, 2]), floats("b", [2], [0, 1]),
                                                       floats("m", [2], [0, 0]), floats("v", [2], [1, 4])],
                                kinds: ["Affine"], shape: [2, 3, 3])
            },
            "AveragePool": { t in t.expectLowered("AveragePool", [x], [A.attr("kernel_shape", ints: [3, 3])],
                                                  kinds: ["AveragePool"], shape: [2, 1, 1]) },
            "GlobalAveragePool": { t in t.expectLowered("GlobalAveragePool", [x], kinds: ["GlobalAveragePool"], shape: [2, 1, 1]) },
            "ReduceMean": { t in t.expectLowered("ReduceMean", [x], [A.attr("axes", ints: [2, 3]), A.attr("keepdims", int: 0)],
                                                 kinds: ["GlobalAveragePool"], shape: [2]) },
            "Flatten": { t in t.expectLowered("Flatten", [x], kinds: ["Reshape"], shape: [18]) },
            "Reshape": { t in t.expectLowered("Reshape", [x, ints("s", [3], [0, 6, 3])], kinds: ["Reshape"], shape: [6, 3]) },
            "Squeeze": { t in t.expectLowered("Squeeze", [("x", .act("x", [2, 1, 3])), ints("a", [1], [2])],
                                              kinds: ["Reshape"], shape: [2, 3]) },
            "Unsqueeze": { t in t.expectLowered("Unsqueeze", [x, ints("a", [1], [-1])], kinds: ["Reshape"], shape: [2, 3, 3, 1]) },
            "Relu": { t in t.expectLowered("Relu", [x], kinds: ["Relu"], shape: [2, 3, 3]) },
            "Clip": { t in t.expectLowered("Clip", [x, floats("lo", [], [0])], kinds: ["Relu"], shape: [2, 3, 3]) },
            "LeakyRelu": { t in t.expectLowered("LeakyRelu", [x], [A.attr("alpha", float: 0)], kinds: ["Relu"], shape: [2, 3, 3]) },
            "Identity": { t in t.expectLowered("Identity", [x], kinds: [], shape: [2, 3, 3]) },
            "Dropout": { t in t.expectLowered("Dropout", [x, floats("ratio", [], [0.5])], kinds: [], shape: [2, 3, 3]) },
            "Cast": { t in t.expectLowered("Cast", [x], [A.attr("to", int: 1)], kinds: [], shape: [2, 3, 3]) },
            "Constant": { t in
                var i = Onnx_AttributeProto()
                i.name = "value_ints"; i.type = .ints; i.ints = [1, -1]
                t.expectConstant("Constant", [], [i], shape: [2], values: [1, -1])
            },
            "Shape": { t in
                guard case (.const(let s), [])? = try? t.run("Shape", [x], [A.attr("start", int: 1)]) else {
                    return XCTFail("Shape did not give a constant")
                }
                XCTAssertEqual(s.knownInts, [2, 3, 3])
                guard case (.const(let full), [])? = try? t.run("Shape", [x]) else { return XCTFail("Shape") }
                XCTAssertEqual(full.syms, [.batchSize, .known(2), .known(3), .known(3)])
            },
            "Pad": { t in t.expectLowered("Pad", [x, ints("p", [8], [0, 0, 1, 0, 0, 0, 2, 1])], kinds: ["Conv"], shape: [2, 6, 4]) },
            "Size": { t in
                guard case (.const(let s), [])? = try? t.run("Size", [x]) else { return XCTFail("Size did not give a constant") }
                XCTAssertEqual(s.syms, [SymInt(coef: 18, batch: true)])
            },
        ]
    }

    static var foldings: [String: Check] {
        [
            "Neg": { t in t.expectConstant("Neg", [floats("a", [2], [1, -2])], shape: [2], values: [-1, 2]) },
            "Sqrt": { t in t.expectConstant("Sqrt", [floats("a", [2], [4, 9])], shape: [2], values: [2, 3]) },
            "Reciprocal": { t in t.expectConstant("Reciprocal", [floats("a", [2], [2, 4])], shape: [2], values: [0.5, 0.25]) },
            "Flatten": { t in t.expectConstant("Flatten", [floats("a", [2, 3, 1], [1, 2, 3, 4, 5, 6])],
                                               shape: [2, 3], values: [1, 2, 3, 4, 5, 6]) },
            "Reshape": { t in t.expectConstant("Reshape", [floats("a", [2, 3], [1, 2, 3, 4, 5, 6]), ints("s", [2], [3, -1])],
                                               shape: [3, 2], values: [1, 2, 3, 4, 5, 6]) },
            "Squeeze": { t in t.expectConstant("Squeeze", [ints("a", [1, 3], [7, 8, 9])], shape: [3], values: [7, 8, 9]) },
            "Unsqueeze": { t in t.expectConstant("Unsqueeze", [ints("a", [3], [7, 8, 9]), ints("axes", [1], [0])],
                                                 shape: [1, 3], values: [7, 8, 9]) },
            "ConstantOfShape": { t in t.expectConstant("ConstantOfShape", [ints("s", [2], [2, 2])], shape: [2, 2], values: [0, 0, 0, 0]) },
            "Range": { t in t.expectConstant("Range", [ints("a", [], [0]), ints("b", [], [5]), ints("d", [], [2])],
                                             shape: [3], values: [0, 2, 4]) },
            "Gather": { t in t.expectConstant("Gather", [ints("a", [3], [10, 20, 30]), ints("i", [2], [2, -3])],
                                              shape: [2], values: [30, 10]) },
            "Concat": { t in t.expectConstant("Concat", [ints("a", [2], [1, 2]), ints("b", [1], [3])], [A.attr("axis", int: 0)],
                                              shape: [3], values: [1, 2, 3]) },
            "Slice": { t in t.expectConstant("Slice", [ints("a", [5], [0, 1, 2, 3, 4]), ints("s", [1], [1]), ints("e", [1], [4])],
                                             shape: [3], values: [1, 2, 3]) },
            "Transpose": { t in t.expectConstant("Transpose", [floats("a", [2, 2], [1, 2, 3, 4])], shape: [2, 2], values: [1, 3, 2, 4]) },
            "Expand": { t in t.expectConstant("Expand", [floats("a", [2], [1, 2]), ints("s", [2], [2, 1])],
                                              shape: [2, 2], values: [1, 2, 1, 2]) },
        ]
    }

    /// The refusal of `op` applied to one activation, after the node's label; nil: no case.
    static func refusals(_ op: String) -> String? {
        let nonReLU: Set<String> = [
            "LeakyRelu", "Sigmoid", "Tanh", "PRelu", "Elu", "Selu", "Celu", "Gelu", "HardSigmoid", "HardSwish",
            "Softplus", "Softsign", "Mish", "ThresholdedRelu", "Erf", "Exp", "Log", "Abs", "Sign",
            "Sin", "Cos", "Pow", "Swish", "Shrink", "Round", "Floor", "Ceil", "Max", "Min",
        ]
        switch op {
        case "MaxPool": return "uses MaxPool, which cannot be converted exactly; use AveragePool"
        case "GlobalMaxPool": return "uses GlobalMaxPool, which cannot be converted exactly; use GlobalAveragePool"
        case "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL2", "ReduceL1", "ReduceLogSumExp":
            return "uses \(op), which cannot be converted; use ReduceMean over the spatial axes or GlobalAveragePool"
        case "LayerNormalization", "InstanceNormalization", "GroupNormalization", "LpNormalization":
            return "uses \(op), which is not an affine map (it depends on the input's statistics); use BatchNormalization"
        case "Softmax", "LogSoftmax":
            return "uses \(op), which cannot be converted; only ReLU activations convert to TSA neurons; "
                + "export the logits without \(op) (the prediction is their argmax)"
        case "Clip":
            return "uses Clip, which cannot be converted; only ReLU activations convert to TSA neurons; "
                + "replace ReLU6/Hardtanh with ReLU and retrain"
        case _ where nonReLU.contains(op):
            return "uses \(op), which cannot be converted; only ReLU activations convert to TSA neurons; retrain with ReLU"
        case "Gather", "Slice", "Split", "Expand", "Tile": return "uses \(op) on an activation, which cssdbg cannot represent"
        case "Concat": return "concatenates activations, which cssdbg cannot represent; avoid channel concatenation"
        case "Transpose": return "transposes an activation, which cssdbg cannot represent; keep activations in NCHW order"
        default: return nil
        }
    }
}
