import CSSCore

/// Elementwise arithmetic: Add/Sub/Mul/Div (residual adds and constant operands become affine
/// maps), Sum of two, and the unary arithmetic that only folds on constants.
extension ONNXOperator {
    static let elementwiseOperators: [ONNXOperator] = [
        ONNXOperator(["Add", "Sub", "Mul", "Div"], listed: true,
                     doc: "with a constant (bias, scale, input normalisation; Div only by one); Add and Sub also of two activations of one shape (residual)",
                     lower: { l, c in
                         let op = BinaryOp(rawValue: c.opType)!
                         return try l.binary(c.node, c.index, op, try c.input(0), try c.input(1), c.out, c.refuse)
                     }),
        ONNXOperator(["Sum"], doc: "of two inputs, as Add",
                     lower: { l, c in
                         guard c.ins.count == 2 else { return nil }
                         return try l.binary(c.node, c.index, .add, try c.input(0), try c.input(1), c.out, c.refuse)
                     }),
        ONNXOperator(["Neg"], doc: "folded on constants",
                     constants: .fold { _, f in
                         let t = try f.c(0)
                         switch t.storage {
                         case .float(let v): return ConstTensor(shape: t.shape, floats: v.map { -$0 })
                         case .int(let v):
                             guard !v.contains(where: { $0.coef == .min }) else { throw FoldError(message: "integer overflow") }
                             return ConstTensor(shape: t.shape, ints: v.map { SymInt(coef: -$0.coef, batch: $0.batch) })
                         }
                     }),
        ONNXOperator(["Sqrt", "Reciprocal"], doc: "folded on constants",
                     constants: .fold { _, f in
                         let t = try f.c(0)
                         guard let v = t.floats else { throw FoldError(message: "needs numbers") }
                         let r = v.map { f.opType == "Sqrt" ? $0.squareRoot() : 1 / $0 }
                         guard r.allSatisfy(\.isFinite) else { throw FoldError(message: "produces NaN or infinity") }
                         return ConstTensor(shape: t.shape, floats: r)
                     }),
    ]
}

/// Elementwise arithmetic with activations.
extension Lowerer {
    func constOperand(_ c: ConstTensor, for x: [Int], _ refuse: Refuser) throws -> ([Float], Broadcast) {
        guard let values = c.floats else { throw refuse("does arithmetic with the batch size on an activation", nil) }
        let r = x.count
        guard c.shape.count <= r + 1 else {
            throw refuse("combines an activation of sample shape \(x) with a constant of shape \(c.shape), which has more dimensions", nil)
        }
        let padded = [Int](repeating: 1, count: r + 1 - c.shape.count) + c.shape
        guard padded[0] == 1 else {
            throw refuse("uses a constant of shape \(c.shape) that varies over the batch dimension", nil)
        }
        let d = Array(padded.dropFirst())
        for i in 0..<r where d[i] != x[i] && d[i] != 1 {
            throw refuse("uses a constant of shape \(c.shape) that does not broadcast to the activation's sample shape \(x)", nil)
        }
        if d.allSatisfy({ $0 == 1 }) { return ([values[0]], .scalar) }
        if r >= 1, d[0] == x[0], d.dropFirst().allSatisfy({ $0 == 1 }) { return (values, .perChannel) }
        if d == x { return (values, .full) }
        // A partial broadcast is materialised to the full sample shape; check its size first
        // (the input may declare up to 2^28 values per sample) and build no index array.
        guard let total = checkedProduct(x), total <= ConstTensor.maxFoldedElements else {
            throw refuse("broadcasts a constant of shape \(c.shape) to the sample shape \(x), more than 2^24 values",
                         "give the constant a scalar, per-channel or the full sample shape")
        }
        do {
            return (try broadcast(values, from: d, to: x), .full)
        } catch let e as FoldError {
            throw refuse(e.message, e.hint)
        }
    }

    mutating func binary(_ n: Onnx_NodeProto, _ index: Int, _ op: BinaryOp, _ a: Val, _ b: Val, _ out: String,
                         _ refuse: Refuser) throws -> Val {
        switch (a, b) {
        case (.const(let x), .const(let y)):
            do { return .const(try foldBinary(op, x, y)) } catch let e as FoldError {
                throw refuse("(\(n.opType)): \(e.message)", e.hint)
            }
        case (.act(let x, let xs), .act(let y, let ys)):
            guard op == .add || op == .sub else {
                throw refuse("\(op == .mul ? "multiplies" : "divides") two activations, which is not an affine map and cannot be converted",
                             "only constant scales convert")
            }
            guard xs == ys else {
                throw refuse("adds activations of different sample shapes \(xs) and \(ys); only same-shape residual adds convert", nil)
            }
            var rhs = y
            if op == .sub {
                guard case .act(let neg, _) = try emit(n, index, .affine(scale: [-1], scaleBroadcast: .scalar, shift: nil, shiftBroadcast: .scalar),
                                                       [(y, ys)], output: out, suffix: "/negate") else { fatalError() }
                rhs = neg
            }
            return try emit(n, index, .add, [(x, xs), (rhs, ys)], output: out)
        case (.act(let x, let xs), .const(let c)):
            if op == .div, let f = c.floats, f.contains(0) {
                throw refuse("divides by a constant that contains zero", nil)
            }
            let (v, bc) = try constOperand(c, for: xs, refuse)
            let affine: Op
            switch op {
            case .add: affine = .affine(scale: nil, scaleBroadcast: .scalar, shift: v, shiftBroadcast: bc)
            case .sub: affine = .affine(scale: nil, scaleBroadcast: .scalar, shift: v.map { -$0 }, shiftBroadcast: bc)
            case .mul: affine = .affine(scale: v, scaleBroadcast: bc, shift: nil, shiftBroadcast: .scalar)
            case .div: affine = .affine(scale: v.map { 1 / $0 }, scaleBroadcast: bc, shift: nil, shiftBroadcast: .scalar)
            }
            return try emit(n, index, affine, [(x, xs)], output: out)
        case (.const(let c), .act(let x, let xs)):
            guard op != .div else {
                throw refuse("divides a constant by an activation, which is not an affine map and cannot be converted", nil)
            }
            let (v, bc) = try constOperand(c, for: xs, refuse)
            let affine: Op
            switch op {
            case .add: affine = .affine(scale: nil, scaleBroadcast: .scalar, shift: v, shiftBroadcast: bc)
            case .sub: affine = .affine(scale: [-1], scaleBroadcast: .scalar, shift: v, shiftBroadcast: bc)
            default: affine = .affine(scale: v, scaleBroadcast: bc, shift: nil, shiftBroadcast: .scalar)
            }
            return try emit(n, index, affine, [(x, xs)], output: out)
        }
    }
}
