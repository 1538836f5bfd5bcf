import CSSCore

/// Every ReLU becomes a spiking layer (TSA-ReLU, docs/numerics.md §1); no other activation
/// converts, so the rest are refused with what to do instead.
extension ONNXOperator {
    static let activationOperators: [ONNXOperator] = [
        ONNXOperator(["Relu"], listed: true, doc: "a spiking layer (TSA-ReLU); folded on constants",
                     lower: { l, c in
                         switch try c.input(0) {
                         case .const(let t):
                             guard let f = t.floats else { throw c.refuse("applies Relu to a shape") }
                             return .const(ConstTensor(shape: t.shape, floats: f.map { max($0, 0) }))
                         case .act(let x, let s):
                             return try l.emit(c, .relu, [(x, s)])
                         }
                     }),
        ONNXOperator(["Clip"], doc: "with min 0 and no max: a ReLU; any other Clip (ReLU6, Hardtanh) is refused",
                     lower: { l, c in c.allConst ? nil : try l.clipAsReLU(c) },
                     constants: .notEvaluated, refusal: nonReLURefusal),
        ONNXOperator(["LeakyRelu"], doc: "with alpha 0: a ReLU; otherwise refused",
                     lower: { l, c in
                         guard c.at.float("alpha", 0.01) == 0 && !c.allConst else { return nil }
                         guard case .act(let x, let s) = try c.input(0) else { throw c.refuse("has a constant input") }
                         return try l.emit(c, .relu, [(x, s)])
                     },
                     constants: .notEvaluated, refusal: nonReLURefusal),
        ONNXOperator(["Softmax"], doc: "refused; export the logits (the prediction is their argmax)",
                     constants: .notEvaluated, refusal: softmaxRefusal),
        ONNXOperator(["LogSoftmax"], doc: "refused; export the logits (the prediction is their argmax)",
                     refusal: softmaxRefusal),
        ONNXOperator(["Sigmoid", "Tanh", "PRelu", "Elu", "Selu", "Celu", "Gelu", "HardSigmoid", "HardSwish",
                      "Softplus", "Softsign", "Mish", "ThresholdedRelu", "Erf", "Exp", "Log", "Abs", "Sign",
                      "Sin", "Cos", "Pow", "Swish", "Shrink", "Round", "Floor", "Ceil", "Max", "Min"],
                     doc: "refused: only ReLU activations convert to TSA neurons; retrain with ReLU",
                     constants: .notEvaluated, refusal: nonReLURefusal),
    ]

    static let nonReLURefusal = Refusal({ op in "uses \(op), which cannot be converted; only ReLU activations convert to TSA neurons" },
                                        hint: { _ in "retrain with ReLU" })
    static let softmaxRefusal = Refusal({ op in "uses \(op), which cannot be converted; only ReLU activations convert to TSA neurons" },
                                        hint: { op in "export the logits without \(op) (the prediction is their argmax)" })
}

extension Lowerer {
    /// Clip(min=0, no max) is exactly a ReLU.
    mutating func clipAsReLU(_ c: NodeContext) throws -> Val {
        let at = c.at, ins = c.ins
        var lo: Float? = at.has("min") ? at.float("min", 0) : nil
        var hi: Float? = at.has("max") ? at.float("max", 0) : nil
        if ins.count > 1, case .const(let t)? = ins[1] { lo = t.floats?.first }
        if ins.count > 2, case .const(let t)? = ins[2] { hi = t.floats?.first }
        guard lo == 0, hi == nil || hi == .infinity || hi == Float.greatestFiniteMagnitude,
              case .act(let x, let s) = try c.input(0) else {
            throw c.refuse("uses Clip, which cannot be converted; only ReLU activations convert to TSA neurons",
                           "replace ReLU6/Hardtanh with ReLU and retrain")
        }
        return try emit(c, .relu, [(x, s)])
    }
}
