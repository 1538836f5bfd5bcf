import CSSCore

/// Gather, Concat, Slice, Transpose, Expand, Split and Tile: index arithmetic that folds on the
/// constants exporters compute shapes with, but that no layer of cssdbg represents on
/// activations; and Pad, whose zero padding of H and W is a convolution.
extension ONNXOperator {
    static let indexingOperators: [ONNXOperator] = [
        ONNXOperator(["Gather"], doc: "folded on constants (the shape arithmetic around Reshape); refused on activations",
                     constants: .fold { _, f in try foldGather(f) }, refusal: onActivationRefusal),
        ONNXOperator(["Concat"], doc: "folded on constants; refused on activations (avoid channel concatenation)",
                     constants: .fold { _, f in try foldConcat(f) },
                     refusal: Refusal("concatenates activations, which cssdbg cannot represent", hint: "avoid channel concatenation")),
        ONNXOperator(["Slice"], doc: "folded on constants; refused on activations",
                     constants: .fold { _, f in try foldSlice(f) }, refusal: onActivationRefusal),
        ONNXOperator(["Transpose"], doc: "folded on constants (weights); refused on activations (keep them in NCHW order)",
                     constants: .fold { _, f in try foldTranspose(f) },
                     refusal: Refusal("transposes an activation, which cssdbg cannot represent", hint: "keep activations in NCHW order")),
        ONNXOperator(["Expand"], doc: "folded on constants; refused on activations",
                     constants: .fold { _, f in
                         let t = try f.c(0)
                         let raw = try f.ints(1)
                         guard raw.allSatisfy({ $0 >= 0 && $0 <= Int64(ConstTensor.maxFoldedElements) }), raw.count <= ConstTensor.maxRank,
                               let outShape = broadcastShapes(t.shape, raw.map { Int($0) }) else {
                             throw FoldError(message: "cannot expand \(t.shape) to \(raw)")
                         }
                         return try t.broadcasted(to: outShape)
                     },
                     refusal: onActivationRefusal),
        ONNXOperator(["Split", "Tile"], doc: "refused on activations", refusal: onActivationRefusal),
        ONNXOperator(["Pad"], listed: true,
                     doc: "zero padding of H and W on `[N,C,H,W]` (`nn.ZeroPad2d`, `F.pad`): a 1×1 identity depthwise Conv with those pads",
                     lower: { l, c in c.allConst ? nil : try l.zeroPad(c) }),
    ]

    static let onActivationRefusal = Refusal({ op in "uses \(op) on an activation, which cssdbg cannot represent" })

    static func foldGather(_ f: FoldInputs) throws -> ConstTensor {
        let t = try f.c(0)
        let idx = try f.c(1)
        guard let axis = normAxis(f.at.int("axis", 0), rank: t.shape.count) else { throw FoldError(message: "bad axis") }
        let dim = t.shape[axis]
        let shape = Array(t.shape[..<axis]) + idx.shape + Array(t.shape[(axis + 1)...])
        // The extent bounds the loops below also when the result is empty ([2^31, 0] gathered
        // along axis 1 by []: 2^31 outer iterations that produce nothing).
        try checkFoldedShape(shape)
        guard let inner = checkedProduct(t.shape[(axis + 1)...]), let outer = checkedProduct(t.shape[..<axis]),
              let total = checkedProduct(shape) else { throw FoldError(message: "gathers an absurd shape") }
        guard let iv = idx.knownInts else { throw FoldError(message: "indices must be known integers") }
        var ks: [Int] = []
        for raw in iv {
            guard raw >= -Int64(dim), raw < Int64(dim) else { throw FoldError(message: "index \(raw) out of range") }
            ks.append(Int(raw < 0 ? raw + Int64(dim) : raw))
        }
        guard outer * ks.count * inner == total else { throw FoldError(message: "inconsistent gather") }
        var (o, q, j) = (0, 0, 0)
        return t.remapped(shape: shape, count: total) {
            let src = (o * dim + ks[q]) * inner + j
            j += 1
            if j == inner { j = 0; q += 1; if q == ks.count { q = 0; o += 1 } }
            return src
        }
    }

    static func foldConcat(_ f: FoldInputs) throws -> ConstTensor {
        let parts = try (0..<f.cs.count).filter { f.cs[$0] != nil }.map(f.c)
        guard let first = parts.first else { throw FoldError(message: "no inputs") }
        guard let axis = normAxis(f.at.int("axis", 0), rank: first.shape.count) else { throw FoldError(message: "bad axis") }
        var shape = first.shape
        shape[axis] = 0
        for p in parts {
            guard p.shape.count == first.shape.count,
                  p.shape.enumerated().allSatisfy({ $0.offset == axis || $0.element == first.shape[$0.offset] }) else {
                throw FoldError(message: "inputs of shapes \(parts.map(\.shape)) do not concatenate")
            }
            let (sum, o) = shape[axis].addingReportingOverflow(p.shape[axis])
            guard !o else { throw FoldError(message: "concatenates an absurd shape") }
            shape[axis] = sum
        }
        // Before looping over the outer dims: [2^31, 0] ++ [2^31, 0] along axis 1 is empty
        // but would run 2^31 outer iterations.
        try checkFoldedShape(shape)
        guard let outer = checkedProduct(first.shape[..<axis]) else { throw FoldError(message: "concatenates an absurd shape") }
        let chunks = try parts.map { p -> Int in
            guard let k = checkedProduct(p.shape[axis...]) else { throw FoldError(message: "concatenates an absurd shape") }
            return k
        }
        let anyFloat = parts.contains { $0.isFloat }
        if anyFloat {
            let fs = try parts.map { p -> [Float] in
                guard let f = p.floats else { throw FoldError(message: "mixes the batch size with floats") }
                return f
            }
            var out: [Float] = []
            out.reserveCapacity(checkedProduct(shape) ?? 0)
            for o in 0..<outer {
                for (f, chunk) in zip(fs, chunks) where chunk > 0 { out += f[(o * chunk)..<((o + 1) * chunk)] }
            }
            return ConstTensor(shape: shape, floats: out)
        }
        let vs = try parts.map { p -> [SymInt] in
            guard let v = p.syms else { throw FoldError(message: "mixes the batch size with floats") }
            return v
        }
        var out: [SymInt] = []
        out.reserveCapacity(checkedProduct(shape) ?? 0)
        for o in 0..<outer {
            for (v, chunk) in zip(vs, chunks) where chunk > 0 { out += v[(o * chunk)..<((o + 1) * chunk)] }
        }
        return ConstTensor(shape: shape, ints: out)
    }

    static func foldSlice(_ f: FoldInputs) throws -> ConstTensor {
        let t = try f.c(0)
        let starts: [Int64], ends: [Int64], axes: [Int64], steps: [Int64]
        if f.cs.count > 1 {
            starts = try f.ints(1)
            ends = try f.ints(2)
            axes = f.cs.count > 3 && f.cs[3] != nil ? try f.ints(3) : (0..<Int64(starts.count)).map { $0 }
            steps = f.cs.count > 4 && f.cs[4] != nil ? try f.ints(4) : [Int64](repeating: 1, count: starts.count)
        } else {
            starts = f.at.ints("starts") ?? []
            ends = f.at.ints("ends") ?? []
            axes = f.at.ints("axes") ?? (0..<Int64(starts.count)).map { $0 }
            steps = [Int64](repeating: 1, count: starts.count)
        }
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw FoldError(message: "starts/ends/axes/steps differ in length")
        }
        // Per axis: first index, step and length; the output shape is checked before any
        // index list is built ([2^31, 0] sliced is empty, but its first axis has 2^31 indices).
        var sel: [(start: Int64, step: Int64, len: Int64)] = t.shape.map { (0, 1, Int64($0)) }
        for k in 0..<starts.count {
            guard let a = normAxis(axes[k], rank: t.shape.count) else { throw FoldError(message: "bad axis \(axes[k])") }
            let dim = Int64(t.shape[a])
            let step = steps[k]
            guard step != 0 else { throw FoldError(message: "step 0") }
            var s = starts[k] < 0 ? starts[k] &+ dim : starts[k]
            var e = ends[k] < 0 ? ends[k] &+ dim : ends[k]
            // |s - e| <= dim + 1 after clamping, so len never overflows (also with step = Int64.min).
            if step > 0 {
                s = max(0, min(dim, s)); e = max(0, min(dim, e))
                sel[a] = (s, step, s < e ? (e - s - 1) / step + 1 : 0)
            } else {
                s = max(-1, min(dim - 1, s)); e = max(-1, min(dim - 1, e))
                sel[a] = (s, step, s > e ? (s - e - 1) / Int64(clamping: step.magnitude) + 1 : 0)
            }
        }
        let outShape = sel.map { Int($0.len) }
        try checkFoldedShape(outShape)
        let ranges = sel.map { r in (0..<r.len).map { Int(r.start + $0 * r.step) } }
        return try t.picked(shape: outShape, axes: ranges)
    }

    static func foldTranspose(_ f: FoldInputs) throws -> ConstTensor {
        let t = try f.c(0)
        let r = t.shape.count
        let perm = (f.at.ints("perm") ?? (0..<Int64(r)).reversed().map { $0 }).map { Int(truncatingIfNeeded: $0) }
        guard perm.sorted() == Array(0..<r) else { throw FoldError(message: "bad perm \(perm)") }
        let outShape = perm.map { t.shape[$0] }
        try checkFoldedShape(outShape)
        let inStrides = try strides(t.shape)
        // Walking the output row-major is walking the input with permuted strides.
        var src = [Int](repeating: 0, count: r)
        for d in 0..<r { src[d] = inStrides[perm[d]] }
        let n = checkedProduct(outShape) ?? 0
        var idx = [Int](repeating: 0, count: r)
        var offset = 0
        return t.remapped(shape: outShape, count: n) {
            let here = offset
            var d = r - 1
            while d >= 0 {
                idx[d] += 1
                offset += src[d]
                if idx[d] < outShape[d] { break }
                offset -= src[d] * outShape[d]
                idx[d] = 0
                d -= 1
            }
            return here
        }
    }
}

extension Lowerer {
    /// Zero padding of H and W is exactly a depthwise 1×1 convolution with weight 1 and those
    /// pads (x·1 + 0 is x in Float32), so it needs no IR op of its own.
    mutating func zeroPad(_ c: NodeContext) throws -> Val {
        let refuse = c.refuse, at = c.at, ins = c.ins
        guard case .act(let x, let s) = try c.input(0) else { throw refuse("pads a constant by amounts that are not constant") }
        let mode = at.string("mode") ?? "constant"
        guard mode == "constant" else {
            throw refuse("uses Pad with mode '\(mode)', which cssdbg cannot represent; only zero padding converts",
                         "pad with zeros (F.pad(x, p) or the padding of Conv/AveragePool)")
        }
        // Opset 11 moved the pads and the value from attributes to inputs; opset 18 added axes.
        var pads: [Int64]
        var value: Float = 0
        if opset < 11 {
            guard let p = at.ints("pads") else { throw refuse("has no pads") }
            pads = p
            value = at.float("value", 0)
        } else {
            guard ins.count > 1, case .const(let t)? = ins[1], let p = t.knownInts else {
                throw refuse("pads by amounts that are not constant")
            }
            pads = p
            if ins.count > 2, let v = ins[2] {
                guard case .const(let t) = v, let f = t.floats, f.count == 1 else {
                    throw refuse("has a padding value that is not one constant")
                }
                value = f[0]
            }
        }
        let rank = s.count + 1
        var axes = Array(0..<rank)
        if ins.count > 3, let a = ins[3] {
            guard case .const(let t) = a, let v = t.knownInts else { throw refuse("has non-constant axes") }
            let norm = v.compactMap { normAxis($0, rank: rank) }
            guard norm.count == v.count, Set(norm).count == norm.count else { throw refuse("has invalid axes \(v)") }
            axes = norm
        }
        guard pads.count == 2 * axes.count else {
            throw refuse("has \(pads.count) pads for \(axes.count) dimensions; Pad needs a begin and an end for each")
        }
        guard value == 0 else { throw refuse("pads with the value \(value); only zero padding converts", "pad with zeros") }
        guard pads.allSatisfy({ $0 >= 0 }) else {
            throw refuse("has negative pads \(pads) (cropping), which cssdbg does not support")
        }
        guard pads.allSatisfy({ $0 <= 1 << 20 }) else { throw refuse("has absurd pads \(pads)") }
        var begin = [Int](repeating: 0, count: rank), end = begin
        for (k, a) in axes.enumerated() {
            begin[a] = Int(pads[k])
            end[a] = Int(pads[axes.count + k])
        }
        if (begin + end).allSatisfy({ $0 == 0 }) { return .act(x, s) }
        guard s.count == 3, begin[0] == 0, end[0] == 0, begin[1] == 0, end[1] == 0 else {
            throw refuse("pads dimensions other than H and W of a tensor of sample shape \(s); only spatial zero padding of [N,C,H,W] converts")
        }
        let padded = [s[0], s[1] + begin[2] + end[2], s[2] + begin[3] + end[3]]
        guard let count = checkedProduct(padded), count <= Lowerer.maxInputElements else {
            throw refuse("pads a sample of shape \(s) to \(padded), more than 2^28 values")
        }
        let identity = Conv2D(weight: [Float](repeating: 1, count: s[0]), bias: nil, outChannels: s[0], inChannels: s[0],
                              kernel: (1, 1), pads: (top: begin[2], left: begin[3], bottom: end[2], right: end[3]),
                              groups: s[0])
        return try emit(c, .conv(identity), [(x, s)])
    }
}
