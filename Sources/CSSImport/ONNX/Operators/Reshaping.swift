import CSSCore

/// Flatten, Reshape, Squeeze and Unsqueeze: on an activation they change only the per-sample
/// shape (the batch dimension stays first); on constants they fold.
extension ONNXOperator {
    static let reshapingOperators: [ONNXOperator] = [
        ONNXOperator(["Flatten"], listed: true, doc: "from axis 1 (`torch.flatten(x, 1)`); folded on constants",
                     lower: { l, c in c.allConst ? nil : try l.flatten(c) },
                     constants: .fold { _, f in
                         let t = try f.c(0)
                         guard let a = normAxis(f.at.int("axis", 1), rank: t.shape.count + 1) else { throw FoldError(message: "bad axis") }
                         guard let outer = checkedProduct(t.shape[..<a]), let inner = checkedProduct(t.shape[a...]) else {
                             throw FoldError(message: "flattens an absurd shape \(t.shape)")
                         }
                         return t.reshaped([outer, inner])
                     }),
        ONNXOperator(["Reshape"], listed: true, doc: "to a constant shape with the batch first (`x.view(x.size(0), -1)`); folded on constants",
                     lower: { l, c in c.allConst ? nil : try l.reshape(c) },
                     constants: .fold { _, f in try foldReshape(f) }),
        ONNXOperator(["Squeeze", "Unsqueeze"], listed: true, doc: "of sample dimensions (never the batch); folded on constants",
                     lower: { l, c in c.allConst ? nil : try l.squeezeOrUnsqueeze(c) },
                     constants: .fold { _, f in try f.opType == "Squeeze" ? foldSqueeze(f) : foldUnsqueeze(f) }),
    ]

    static func foldReshape(_ f: FoldInputs) throws -> ConstTensor {
        let t = try f.c(0)
        let target = try f.ints(1)
        var s: [Int] = []
        var infer: Int?
        for (i, d) in target.enumerated() {
            if d == -1 { guard infer == nil else { throw FoldError(message: "two -1 in shape") }; infer = i; s.append(1) }
            else if d == 0 && f.at.int("allowzero", 0) == 0 {
                guard i < t.shape.count else { throw FoldError(message: "0 beyond the input rank") }
                s.append(t.shape[i])
            } else if d >= 0 && d <= Int64(TensorDecoder.maxElements) { s.append(Int(d)) }
            else { throw FoldError(message: "invalid dimension \(d)") }
        }
        // Extent, not product: [2^31, 2^31, 0] has no values but is no shape to fold with.
        guard s.count <= ConstTensor.maxRank, let e = checkedExtent(s), e <= TensorDecoder.maxElements,
              let product = checkedProduct(s) else {
            throw FoldError(message: "absurd shape \(target)")
        }
        let count = t.count
        if let i = infer {
            guard product > 0, count % product == 0 else { throw FoldError(message: "cannot infer -1") }
            s[i] = count / product
        }
        guard checkedProduct(s) == count else { throw FoldError(message: "cannot reshape \(t.shape) to \(target)") }
        return t.reshaped(s)
    }

    static func foldSqueeze(_ f: FoldInputs) throws -> ConstTensor {
        let t = try f.c(0)
        let axes = try f.axesInput(1)
        let r = t.shape.count
        let set = axes.map { Set($0.compactMap { normAxis($0, rank: r) }) } ?? Set((0..<r).filter { t.shape[$0] == 1 })
        if let axes, axes.contains(where: { normAxis($0, rank: r) == nil }) {
            throw FoldError(message: "axes \(axes) out of range")
        }
        guard set.allSatisfy({ t.shape[$0] == 1 }) else { throw FoldError(message: "squeezes a dimension that is not 1") }
        return t.reshaped(t.shape.enumerated().filter { !set.contains($0.offset) }.map(\.element))
    }

    static func foldUnsqueeze(_ f: FoldInputs) throws -> ConstTensor {
        let t = try f.c(0)
        guard let axes = try f.axesInput(1) else { throw FoldError(message: "has no axes") }
        let r = t.shape.count + axes.count
        guard r <= ConstTensor.maxRank else { throw FoldError(message: "unsqueezes to rank \(r)") }
        let norm = axes.compactMap { normAxis($0, rank: r) }.sorted()
        guard norm.count == axes.count else { throw FoldError(message: "axes \(axes) out of range") }
        // As on activations: a repeated axis would insert past the end of the shape.
        guard Set(norm).count == norm.count else { throw FoldError(message: "repeats an axis in \(axes)") }
        var s = t.shape
        for a in norm { s.insert(1, at: a) }
        return t.reshaped(s)
    }
}

extension Lowerer {
    mutating func flatten(_ c: NodeContext) throws -> Val {
        guard case .act(let x, let s) = try c.input(0) else { throw c.refuse("has no activation input") }
        let axis = c.at.int("axis", 1)
        guard normAxis(axis, rank: s.count + 1) == 1 else {
            throw c.refuse("uses Flatten with axis \(axis), which mixes the batch dimension into a sample",
                           "flatten from dimension 1 (torch.flatten(x, 1))")
        }
        return try reshapeAct(c.node, c.index, x, s, [s.reduce(1, *)], c.out)
    }

    mutating func reshape(_ c: NodeContext) throws -> Val {
        guard case .act(let x, let s) = try c.input(0) else { throw c.refuse("reshapes a constant by a computed shape") }
        guard case .const(let t) = try c.input(1), let target = t.syms else {
            throw c.refuse("reshapes to a shape that is not a constant", "reshape with x.flatten(1) or x.view(x.size(0), -1)")
        }
        let perSample = try reshapeTarget(target, input: s, allowZero: c.at.int("allowzero", 0) != 0, c.refuse)
        return try reshapeAct(c.node, c.index, x, s, perSample, c.out)
    }

    mutating func squeezeOrUnsqueeze(_ c: NodeContext) throws -> Val {
        let refuse = c.refuse
        guard case .act(let x, let s) = try c.input(0) else { throw refuse("has no activation input") }
        let axes = try c.axes()
        var full = [-1] + s  // -1 marks the batch dimension
        if c.opType == "Squeeze" {
            let r = full.count
            let set = axes.map { Set($0.compactMap { normAxis($0, rank: r) }) }
                ?? Set((1..<r).filter { full[$0] == 1 })
            guard !set.contains(0), set.allSatisfy({ full[$0] == 1 }), (axes?.count ?? set.count) == set.count else {
                throw refuse("squeezes axes \(axes ?? []) of a tensor of sample shape \(s), which cssdbg cannot do")
            }
            full = full.enumerated().filter { !set.contains($0.offset) }.map(\.element)
        } else {
            guard let axes else { throw refuse("has no axes") }
            let r = full.count + axes.count
            let norm = axes.compactMap { normAxis($0, rank: r) }.sorted()
            guard norm.count == axes.count, Set(norm).count == norm.count, !norm.contains(0) else {
                throw refuse("unsqueezes axes \(axes), which would touch the batch dimension")
            }
            for a in norm { full.insert(1, at: a) }
        }
        guard full.first == -1, !full.dropFirst().isEmpty else {
            throw refuse("would leave a sample without dimensions")
        }
        return try reshapeAct(c.node, c.index, x, s, Array(full.dropFirst()), c.out)
    }

    mutating func reshapeAct(_ n: Onnx_NodeProto, _ index: Int, _ x: String, _ s: [Int], _ target: [Int], _ out: String) throws -> Val {
        if target == s { return .act(x, s) }
        return try emit(n, index, .reshape(target), [(x, s)], output: out)
    }

    /// The per-sample shape a Reshape produces; its first target entry must be the batch.
    func reshapeTarget(_ target: [SymInt], input s: [Int], allowZero: Bool,
                       _ refuse: Refuser) throws -> [Int] {
        let total = s.reduce(1, *)
        let fullIn: [SymInt] = [.batchSize] + s.map { .known(Int64($0)) }
        var resolved: [SymInt] = []
        var inferAt: Int?
        for (i, t) in target.enumerated() {
            if t == .known(0) && !allowZero {
                guard i < fullIn.count else { throw refuse("reshapes with a 0 beyond the input's rank", nil) }
                resolved.append(fullIn[i])
            } else if t == .known(-1) {
                guard inferAt == nil else { throw refuse("reshapes with two -1 entries", nil) }
                inferAt = i
                resolved.append(t)
            } else if t.batch ? t.coef <= 0 : t.coef <= 0 {
                throw refuse("reshapes to \(target), which has an invalid dimension", nil)
            } else {
                resolved.append(t)
            }
        }
        guard let first = resolved.first else { throw refuse("reshapes to a scalar", nil) }
        let hint = "reshape with x.flatten(1) or x.view(x.size(0), -1)"
        let batchFirst = first == .batchSize || (first == .known(-1)) || (staticBatch != nil && first == .known(Int64(staticBatch!)))
        guard batchFirst else {
            throw refuse("reshapes to \(target), whose first entry is not the batch dimension", hint)
        }
        var rest = Array(resolved.dropFirst())
        guard rest.allSatisfy({ !$0.batch }), rest.allSatisfy({ $0.coef <= Int64(TensorDecoder.maxElements) }) else {
            throw refuse("reshapes to \(target), which mixes the batch dimension into a sample", hint)
        }
        guard rest.reduce(1.0, { $0 * abs(Double($1.coef)) }) <= Double(TensorDecoder.maxElements) else {
            throw refuse("reshapes to \(target), an absurd shape", nil)
        }
        if inferAt == 0 {
            let p = rest.reduce(Int64(1)) { $0 * $1.coef }
            guard p == Int64(total) else {
                throw refuse("reshapes a sample of \(total) values to \(target), which mixes the batch dimension", hint)
            }
        } else if let i = inferAt {
            let known = rest.enumerated().filter { $0.offset != i - 1 }.reduce(Int64(1)) { $0 * $1.element.coef }
            guard known > 0, Int64(total) % known == 0 else {
                throw refuse("reshapes a sample of \(total) values to \(target), which does not divide", nil)
            }
            rest[i - 1] = .known(Int64(total) / known)
        }
        let shape = rest.map { Int($0.coef) }
        guard !shape.isEmpty, shape.reduce(1, *) == total else {
            throw refuse("reshapes a sample of shape \(s) to \(target), which does not keep its \(total) values per sample", hint)
        }
        return shape
    }
}
