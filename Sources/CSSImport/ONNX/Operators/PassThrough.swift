import CSSCore

/// Operators that pass a value on unchanged or only relabel it: Identity, Dropout (eval mode),
/// Constant and Cast.
extension ONNXOperator {
    static let passThroughOperators: [ONNXOperator] = [
        ONNXOperator(["Identity", "Dropout"], listed: true, doc: "passed through (Dropout as in eval mode)",
                     lower: { _, c in try c.input(0) }),
        ONNXOperator(["Constant"], doc: "tensors and `value_float(s)`/`value_int(s)`",
                     lower: { l, c in .const(try l.constantAttribute(c.node, c.at, c.refuse.who)) }),
        ONNXOperator(["Cast"], doc: "activations to a float type; constants to any number type",
                     lower: { _, c in try cast(c) }),
    ]

    static func cast(_ c: NodeContext) throws -> Val {
        let refuse = c.refuse
        let to = Int32(truncatingIfNeeded: c.at.int("to", 1))
        let isFloat = [1, 10, 11, 16].contains(to)
        switch try c.input(0) {
        case .const(let t):
            if isFloat {
                guard let f = t.floats else { throw refuse("casts the symbolic batch size to a float") }
                return .const(ConstTensor(shape: t.shape, floats: f))
            }
            switch t.storage {
            case .int: return .const(t)
            case .float(let f):
                guard f.allSatisfy({ abs($0) < 9.0e18 }) else { throw refuse("casts a huge value to an integer") }
                return .const(ConstTensor(shape: t.shape, known: f.map { Int64($0.rounded(.towardZero)) }))
            }
        case .act:
            guard isFloat else { throw refuse("casts an activation to a non-float type, which cannot be converted") }
            return try c.input(0)
        }
    }
}
