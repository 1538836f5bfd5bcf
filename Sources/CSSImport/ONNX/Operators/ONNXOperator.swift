/// One entry per ONNX operator: how it lowers onto the IR, how it folds when all its inputs are
/// constants, and why it is refused otherwise. `Lowerer.lower` looks the node's op type up in
/// `ONNXOperator.registry`; the refusal of unknown operators, the supported-operators hint and
/// the operator table in docs/models-and-data.md are all derived from the same entries, so adding an operator is
/// one entry (in the file of its family) plus its test and its conformance fixture
/// (scripts/make_conformance.py; ConformanceTests checks the manifest against this registry).
struct ONNXOperator: Sendable {
    /// Lowers a node. Runs first; returns nil to leave the node to `fold` (all inputs constant)
    /// or to `refusal` (e.g. Clip that is not a ReLU, Reshape of a constant).
    typealias Lowering = @Sendable (inout Lowerer, NodeContext) throws -> Val?
    /// Evaluates a node whose inputs are all constants; throws `FoldError` for bad values.
    typealias Folding = @Sendable (Lowerer, FoldInputs) throws -> ConstTensor

    /// What happens to a node whose inputs are all constants and that `lower` left alone.
    enum OnConstants: Sendable {
        case fold(Folding)
        /// Refused with "uses X on a constant, which cssdbg does not evaluate" (non-ReLU
        /// activations, MaxPool, Softmax): naming the operator is more helpful than the list.
        case notEvaluated
        /// Refused like an unknown operator (with the supported-operators hint).
        case unsupported
    }

    /// Why a node on activations is refused, and what to do instead.
    struct Refusal: Sendable {
        let what: @Sendable (String) -> String
        let hint: @Sendable (String) -> String?
        init(_ what: @escaping @Sendable (String) -> String, hint: @escaping @Sendable (String) -> String? = { _ in nil }) {
            self.what = what
            self.hint = hint
        }
        init(_ what: String, hint: String? = nil) {
            self.init({ _ in what }, hint: { _ in hint })
        }
    }

    /// Op types of the entry (one entry may cover operators that lower alike: Add/Sub/Mul/Div).
    let opTypes: [String]
    /// Named in "supported operators: …" (the operators a user writes in a model; shape
    /// arithmetic that only folds is not listed).
    let listed: Bool
    /// The operator table's description of what converts, or of the refusal (docs/models-and-data.md).
    let doc: String
    let lower: Lowering?
    let constants: OnConstants
    let refusal: Refusal?

    init(_ opTypes: [String], listed: Bool = false, doc: String, lower: Lowering? = nil,
         constants: OnConstants = .unsupported, refusal: Refusal? = nil) {
        self.opTypes = opTypes
        self.listed = listed
        self.doc = doc
        self.lower = lower
        self.constants = constants
        self.refusal = refusal
    }

    /// Every operator cssdbg knows, by family; the order is the order of the supported list.
    static let registry: [ONNXOperator] = convolutionOperators + elementwiseOperators + normalizationOperators
        + poolingOperators + reshapingOperators + activationOperators + passThroughOperators
        + shapeArithmeticOperators + indexingOperators

    /// The entry for each op type.
    static let byOpType: [String: ONNXOperator] = {
        var m: [String: ONNXOperator] = [:]
        for rule in registry {
            for op in rule.opTypes {
                precondition(m[op] == nil, "operator \(op) is registered twice")
                m[op] = rule
            }
        }
        return m
    }()

    /// The hint of every refusal of an unknown operator.
    static let supportedList = registry.filter(\.listed).flatMap(\.opTypes).joined(separator: ", ")
}

/// One node being lowered: its inputs as values, its attributes and its refusal builder.
struct NodeContext {
    let node: Onnx_NodeProto
    let index: Int
    let ins: [Val?]
    let at: Attrs
    /// The node's (first) output name.
    let out: String
    let refuse: Refuser
    /// No input is an activation (also true for a node without inputs).
    let allConst: Bool

    var opType: String { node.opType }

    func input(_ i: Int) throws -> Val {
        guard i < ins.count, let v = ins[i] else { throw refuse("(\(node.opType)) is missing input \(i)") }
        return v
    }

    /// ReduceMean/Squeeze/Unsqueeze axes: the second input (opset 13/18) or the attribute.
    func axes() throws -> [Int64]? {
        if ins.count > 1, let a = ins[1] {
            guard case .const(let t) = a, let v = t.knownInts else { throw refuse("has non-constant axes") }
            return v
        }
        return at.ints("axes")
    }
}

/// The constant inputs of a node that folds.
struct FoldInputs {
    let node: Onnx_NodeProto
    let cs: [ConstTensor?]
    let at: Attrs

    var opType: String { node.opType }

    func c(_ i: Int) throws -> ConstTensor {
        guard i < cs.count, let t = cs[i] else { throw FoldError(message: "missing input \(i)") }
        return t
    }

    func ints(_ i: Int) throws -> [Int64] {
        guard let v = try c(i).knownInts else { throw FoldError(message: "input \(i) must be known integers") }
        return v
    }

    /// Squeeze/Unsqueeze axes: the second input (opset 13) or the attribute (older opsets).
    func axesInput(_ i: Int) throws -> [Int64]? {
        if i < cs.count, cs[i] != nil { return try ints(i) }
        return at.ints("axes")
    }
}

extension ONNXOperator {
    static let readmeBegin = "<!-- onnx:operators (generated from ONNXOperator.registry; OperatorRegistryTests checks it) -->"
    static let readmeEnd = "<!-- /onnx:operators -->"

    /// The operator table of docs/models-and-data.md, between `readmeBegin` and `readmeEnd`: one row per entry.
    static var readmeSection: String {
        var lines = ["Supported operators (the list a refusal of an unknown operator gives): \(supportedList).", "",
                     "| operator | what cssdbg does with it |", "| --- | --- |"]
        for rule in registry {
            lines.append("| \(rule.opTypes.map { "`\($0)`" }.joined(separator: ", ")) | \(rule.doc) |")
        }
        return lines.joined(separator: "\n")
    }
}
