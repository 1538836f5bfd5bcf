import CSSCore

/// BatchNormalization in eval mode is a per-channel affine map; normalisations that depend on
/// the input's own statistics are not.
extension ONNXOperator {
    static let normalizationOperators: [ONNXOperator] = [
        ONNXOperator(["BatchNormalization"], listed: true,
                     doc: "eval mode, constant parameters: a per-channel scale and shift",
                     lower: { l, c in try l.batchNormalization(c) }),
        ONNXOperator(["LayerNormalization", "InstanceNormalization", "GroupNormalization", "LpNormalization"],
                     doc: "refused: not an affine map (depends on the input's statistics); use BatchNormalization",
                     refusal: Refusal({ op in "uses \(op), which is not an affine map (it depends on the input's statistics)" },
                                      hint: { _ in "use BatchNormalization" })),
    ]
}

extension Lowerer {
    mutating func batchNormalization(_ c: NodeContext) throws -> Val {
        let refuse = c.refuse, at = c.at
        guard case .act(let x, let s) = try c.input(0) else {
            throw refuse("normalises a constant; only activations are supported")
        }
        guard at.int("training_mode", 0) == 0 else {
            throw refuse("uses BatchNormalization in training mode", "export the model in eval() mode")
        }
        let eps = Double(at.float("epsilon", 1e-5))
        var p: [[Float]] = []
        for i in 1...4 {
            guard case .const(let t) = try c.input(i), let f = t.floats else {
                throw refuse("uses BatchNormalization with non-constant parameters")
            }
            guard f.count == s[0] else {
                throw refuse("has BatchNormalization parameters of \(f.count) values for \(s[0]) channels")
            }
            p.append(f)
        }
        var scale = [Float](), shift = [Float]()
        for ch in 0..<s[0] {
            let v = Double(p[3][ch]) + eps
            guard v > 0 else { throw refuse("has a non-positive BatchNormalization variance in channel \(ch)") }
            let k = Double(p[0][ch]) / v.squareRoot()
            scale.append(Float(k))
            shift.append(Float(Double(p[1][ch]) - Double(p[2][ch]) * k))
        }
        return try emit(c, .affine(scale: scale, scaleBroadcast: .perChannel, shift: shift, shiftBroadcast: .perChannel), [(x, s)])
    }
}
