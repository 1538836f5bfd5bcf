import CSSCore
import Foundation

/// Lowering of individual ONNX operators.
extension Lowerer {
    static let supportedList = "Conv, Gemm, MatMul, Add, Sub, Mul, Div, BatchNormalization, AveragePool, "
        + "GlobalAveragePool, ReduceMean, Flatten, Reshape, Squeeze, Unsqueeze, Relu, Identity, Dropout"

    static let nonReLUActivations: Set<String> = [
        "Sigmoid", "Tanh", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Gelu", "HardSigmoid", "HardSwish",
        "Softplus", "Softsign", "Mish", "ThresholdedRelu", "Clip", "Erf", "Exp", "Log", "Abs", "Sign",
        "Sin", "Cos", "Pow", "Swish", "Shrink", "Round", "Floor", "Ceil", "Max", "Min",
    ]

    mutating func lower(_ n: Onnx_NodeProto, index: Int) throws {
        let refuse = Refuser(file: file, who: label(n, index))
        guard n.domain.isEmpty || n.domain == "ai.onnx" else {
            throw refuse("uses \(n.opType) from domain '\(n.domain)', which cssdbg cannot convert",
                         "export with standard ONNX operators only (torch.onnx.export(..., optimize=True))")
        }
        guard let out = n.output.first, !out.isEmpty else { throw refuse("has no output") }
        let ins: [Val?] = try n.input.map { name in
            if name.isEmpty { return nil }
            guard let v = values[name] else {
                throw refuse("uses '\(name)', an output cssdbg does not compute (only the first output of a node is supported)")
            }
            return v
        }
        func input(_ i: Int) throws -> Val {
            guard i < ins.count, let v = ins[i] else { throw refuse("(\(n.opType)) is missing input \(i)") }
            return v
        }
        let at = Attrs(n)
        let allConst = ins.allSatisfy { v in if case .act? = v { false } else { true } }

        func wrap<T>(_ body: () throws -> T) throws -> T {
            do { return try body() } catch let e as FoldError {
                throw refuse("(\(n.opType)): \(e.message)", e.hint)
            }
        }

        switch n.opType {
        case "Constant":
            values[out] = (.const(try constantAttribute(n, at, refuse.who)))

        case "Identity", "Dropout":
            values[out] = (try input(0))

        case "Cast":
            let to = Int32(truncatingIfNeeded: at.int("to", 1))
            let isFloat = [1, 10, 11, 16].contains(to)
            switch try input(0) {
            case .const(let c):
                if isFloat {
                    guard let f = c.floats else { throw refuse("casts the symbolic batch size to a float") }
                    values[out] = (.const(ConstTensor(shape: c.shape, floats: f)))
                } else {
                    switch c.storage {
                    case .int: values[out] = (.const(c))
                    case .float(let f):
                        guard f.allSatisfy({ abs($0) < 9.0e18 }) else { throw refuse("casts a huge value to an integer") }
                        values[out] = (.const(ConstTensor(shape: c.shape, known: f.map { Int64($0.rounded(.towardZero)) })))
                    }
                }
            case .act:
                guard isFloat else { throw refuse("casts an activation to a non-float type, which cannot be converted") }
                values[out] = (try input(0))
            }

        case "Shape":
            let full: [SymInt]
            switch try input(0) {
            case .const(let c): full = c.shape.map { .known(Int64($0)) }
            case .act(_, let s): full = [.batchSize] + s.map { .known(Int64($0)) }
            }
            let r = Int64(full.count)
            func clampAxis(_ a: Int64) -> Int { Int(max(0, min(r, a < 0 ? a + r : a))) }
            let start = clampAxis(at.int("start", 0))
            let end = clampAxis(at.int("end", r))
            let sl = start < end ? Array(full[start..<end]) : []
            values[out] = (.const(ConstTensor(shape: [sl.count], ints: sl)))

        case "Size":
            switch try input(0) {
            case .const(let c): values[out] = (.const(ConstTensor(shape: [], known: [Int64(c.count)])))
            case .act(_, let s):
                guard let size = checkedProduct(s) else { throw refuse("takes the Size of an absurdly large activation \(s)") }
                values[out] = (.const(ConstTensor(shape: [], ints: [SymInt(coef: Int64(size), batch: true)])))
            }

        case "Relu":
            switch try input(0) {
            case .const(let c):
                guard let f = c.floats else { throw refuse("applies Relu to a shape") }
                values[out] = (.const(ConstTensor(shape: c.shape, floats: f.map { max($0, 0) })))
            case .act(let x, let s):
                values[out] = (try emit(n, index, .relu, [(x, s)], output: out))
            }

        case "Clip" where !allConst:
            // Clip(min=0, no max) is exactly a ReLU.
            var lo: Float? = at.has("min") ? at.float("min", 0) : nil
            var hi: Float? = at.has("max") ? at.float("max", 0) : nil
            if ins.count > 1, case .const(let c)? = ins[1] { lo = c.floats?.first }
            if ins.count > 2, case .const(let c)? = ins[2] { hi = c.floats?.first }
            guard lo == 0, hi == nil || hi == .infinity || hi == Float.greatestFiniteMagnitude,
                  case .act(let x, let s) = try input(0) else {
                throw refuse("uses Clip, which cannot be converted; only ReLU activations convert to TSA neurons",
                             "replace ReLU6/Hardtanh with ReLU and retrain")
            }
            values[out] = (try emit(n, index, .relu, [(x, s)], output: out))

        case "LeakyRelu" where at.float("alpha", 0.01) == 0 && !allConst:
            guard case .act(let x, let s) = try input(0) else { throw refuse("has a constant input") }
            values[out] = (try emit(n, index, .relu, [(x, s)], output: out))

        case "Add", "Sub", "Mul", "Div":
            let op = BinaryOp(rawValue: n.opType)!
            values[out] = (try binary(n, index, op, try input(0), try input(1), out, refuse))

        case "Sum" where ins.count == 2:
            values[out] = (try binary(n, index, .add, try input(0), try input(1), out, refuse))

        case "BatchNormalization":
            guard case .act(let x, let s) = try input(0) else {
                throw refuse("normalises a constant; only activations are supported")
            }
            guard at.int("training_mode", 0) == 0 else {
                throw refuse("uses BatchNormalization in training mode", "export the model in eval() mode")
            }
            let eps = Double(at.float("epsilon", 1e-5))
            var p: [[Float]] = []
            for i in 1...4 {
                guard case .const(let c) = try input(i), let f = c.floats else {
                    throw refuse("uses BatchNormalization with non-constant parameters")
                }
                guard f.count == s[0] else {
                    throw refuse("has BatchNormalization parameters of \(f.count) values for \(s[0]) channels")
                }
                p.append(f)
            }
            var scale = [Float](), shift = [Float]()
            for c in 0..<s[0] {
                let v = Double(p[3][c]) + eps
                guard v > 0 else { throw refuse("has a non-positive BatchNormalization variance in channel \(c)") }
                let k = Double(p[0][c]) / v.squareRoot()
                scale.append(Float(k))
                shift.append(Float(Double(p[1][c]) - Double(p[2][c]) * k))
            }
            values[out] = (try emit(n, index, .affine(scale: scale, scaleBroadcast: .perChannel, shift: shift, shiftBroadcast: .perChannel),
                         [(x, s)], output: out))

        case "Conv":
            values[out] = (try conv(n, index, ins, at, out, refuse))

        case "Gemm":
            values[out] = (try gemm(n, index, ins, at, out, refuse))

        case "MatMul":
            values[out] = (try matmul(n, index, ins, out, refuse))

        case "AveragePool":
            guard case .act(let x, let s) = try input(0), s.count == 3 else {
                throw refuse("uses AveragePool on a tensor that is not [N,C,H,W]; only 2-D pooling converts")
            }
            guard let k = at.ints("kernel_shape"), k.count == 2, k.allSatisfy({ $0 > 0 && $0 <= 1 << 20 }) else {
                throw refuse("uses AveragePool without a valid 2-D kernel_shape")
            }
            if let d = at.ints("dilations"), d.contains(where: { $0 != 1 }) {
                throw refuse("uses a dilated AveragePool, which cssdbg does not support")
            }
            let st = try pair(at.ints("strides"), default: 1, what: "strides", refuse)
            let kernel = (h: Int(k[0]), w: Int(k[1]))
            let pads = try resolvePads(at, input: (s[1], s[2]), kernel: kernel, stride: st, dilation: (1, 1), refuse)
            if at.int("ceil_mode", 0) != 0 {
                func sizes(_ ceil: Bool) -> (Int, Int) {
                    func o(_ i: Int, _ p: Int, _ k: Int, _ st: Int) -> Int {
                        let num = i + p - k
                        return (ceil ? (num + st - 1) / st : num / st) + 1
                    }
                    return (o(s[1], pads.top + pads.bottom, kernel.h, st.h), o(s[2], pads.left + pads.right, kernel.w, st.w))
                }
                guard sizes(true) == sizes(false) else {
                    throw refuse("uses AveragePool with ceil_mode=1, which averages partial windows",
                                 "use ceil_mode=False")
                }
            }
            let pool = Pool2D(kernel: kernel, stride: st, pads: pads, countIncludePad: at.int("count_include_pad", 0) != 0)
            values[out] = (try emit(n, index, .averagePool(pool), [(x, s)], output: out))

        case "GlobalAveragePool":
            guard case .act(let x, let s) = try input(0), s.count == 3 else {
                throw refuse("uses GlobalAveragePool on a tensor that is not [N,C,H,W]")
            }
            values[out] = (try emit(n, index, .globalAveragePool(keepSpatial: true), [(x, s)], output: out))

        case "ReduceMean" where !allConst:
            guard case .act(let x, let s) = try input(0) else { throw refuse("has no activation input") }
            var axes: [Int64]? = at.ints("axes")
            if ins.count > 1, let a = ins[1] {
                guard case .const(let c) = a, let v = c.knownInts else { throw refuse("has non-constant axes") }
                axes = v
            }
            let r = s.count + 1
            let norm = Set((axes ?? []).compactMap { normAxis($0, rank: r) })
            guard s.count == 3, norm == [2, 3], (axes ?? []).count == 2 else {
                throw refuse("uses ReduceMean over axes \(axes.map { "\($0)" } ?? "all") of a rank-\(r) tensor; only the spatial axes {2,3} of [N,C,H,W] convert",
                             "use GlobalAveragePool or mean over dims (2, 3)")
            }
            let keep = at.int("keepdims", 1) != 0
            values[out] = (try emit(n, index, .globalAveragePool(keepSpatial: keep), [(x, s)], output: out))

        case "Flatten" where !allConst:
            guard case .act(let x, let s) = try input(0) else { throw refuse("has no activation input") }
            let axis = at.int("axis", 1)
            guard normAxis(axis, rank: s.count + 1) == 1 else {
                throw refuse("uses Flatten with axis \(axis), which mixes the batch dimension into a sample",
                             "flatten from dimension 1 (torch.flatten(x, 1))")
            }
            values[out] = (try reshapeAct(n, index, x, s, [s.reduce(1, *)], out))

        case "Reshape" where !allConst:
            guard case .act(let x, let s) = try input(0) else { throw refuse("reshapes a constant by a computed shape") }
            guard case .const(let c) = try input(1), let target = c.syms else {
                throw refuse("reshapes to a shape that is not a constant", "reshape with x.flatten(1) or x.view(x.size(0), -1)")
            }
            let perSample = try reshapeTarget(target, input: s, allowZero: at.int("allowzero", 0) != 0, refuse)
            values[out] = (try reshapeAct(n, index, x, s, perSample, out))

        case "Squeeze" where !allConst, "Unsqueeze" where !allConst:
            guard case .act(let x, let s) = try input(0) else { throw refuse("has no activation input") }
            var axes: [Int64]? = at.ints("axes")
            if ins.count > 1, let a = ins[1] {
                guard case .const(let c) = a, let v = c.knownInts else { throw refuse("has non-constant axes") }
                axes = v
            }
            var full = [-1] + s  // -1 marks the batch dimension
            if n.opType == "Squeeze" {
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
            values[out] = (try reshapeAct(n, index, x, s, Array(full.dropFirst()), out))

        case _ where allConst:
            values[out] = (.const(try wrap {
                let t = try fold(n, ins, at, refuse)
                // Ops that only relabel dims (Reshape, Squeeze, …) keep their input's values and may
                // exceed the folding limit, but no constant may exceed the decoder's.
                try checkFoldedShape(t.shape, limit: TensorDecoder.maxElements)
                return t
            }))

        // Everything below refuses.
        case "MaxPool":
            throw refuse("uses MaxPool, which cannot be converted exactly", "use AveragePool")
        case "GlobalMaxPool":
            throw refuse("uses GlobalMaxPool, which cannot be converted exactly", "use GlobalAveragePool")
        case "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL2", "ReduceL1", "ReduceLogSumExp":
            throw refuse("uses \(n.opType), which cannot be converted", "use ReduceMean over the spatial axes or GlobalAveragePool")
        case "Softmax", "LogSoftmax":
            throw refuse("uses \(n.opType), which cannot be converted; only ReLU activations convert to TSA neurons",
                         "export the logits without \(n.opType) (the prediction is their argmax)")
        case _ where Self.nonReLUActivations.contains(n.opType):
            throw refuse("uses \(n.opType), which cannot be converted; only ReLU activations convert to TSA neurons",
                         "retrain with ReLU")
        case "Concat":
            throw refuse("concatenates activations, which cssdbg cannot represent", "avoid channel concatenation")
        case "Transpose":
            throw refuse("transposes an activation, which cssdbg cannot represent", "keep activations in NCHW order")
        case "Pad":
            throw refuse("pads an activation with a separate Pad node", "use the padding of Conv/AveragePool instead")
        case "LayerNormalization", "InstanceNormalization", "GroupNormalization", "LpNormalization":
            throw refuse("uses \(n.opType), which is not an affine map (it depends on the input's statistics)",
                         "use BatchNormalization")
        case "Gather", "Slice", "Split", "Expand", "Tile":
            throw refuse("uses \(n.opType) on an activation, which cssdbg cannot represent")
        default:
            throw refuse("uses \(n.opType), which cssdbg cannot convert", "supported operators: \(Self.supportedList)")
        }
    }

    // MARK: Constants

    func constantAttribute(_ n: Onnx_NodeProto, _ at: Attrs, _ who: String) throws -> ConstTensor {
        var d = decoder
        if let a = at.map["value"] { return try d.decode(a.t, what: n.output.first ?? "Constant") }
        if let a = at.map["value_float"] { return ConstTensor(shape: [], floats: [a.f]) }
        if let a = at.map["value_floats"] { return ConstTensor(shape: [a.floats.count], floats: a.floats) }
        if let a = at.map["value_int"] { return ConstTensor(shape: [], known: [a.i]) }
        if let a = at.map["value_ints"] { return ConstTensor(shape: [a.ints.count], known: a.ints) }
        throw fail("\(who) is a Constant of a kind cssdbg does not read (sparse or string)")
    }

    func fold(_ n: Onnx_NodeProto, _ ins: [Val?], _ at: Attrs, _ refuse: Refuser) throws -> ConstTensor {
        let cs: [ConstTensor?] = ins.map { v in if case .const(let c)? = v { c } else { nil } }
        func c(_ i: Int) throws -> ConstTensor {
            guard i < cs.count, let t = cs[i] else { throw FoldError(message: "missing input \(i)") }
            return t
        }
        func ints(_ i: Int) throws -> [Int64] {
            guard let v = try c(i).knownInts else { throw FoldError(message: "input \(i) must be known integers") }
            return v
        }
        func axesInput(_ i: Int) throws -> [Int64]? {
            if i < cs.count, cs[i] != nil { return try ints(i) }
            return at.ints("axes")
        }
        switch n.opType {
        case "Neg":
            let t = try c(0)
            switch t.storage {
            case .float(let f): return ConstTensor(shape: t.shape, floats: f.map { -$0 })
            case .int(let v):
                guard !v.contains(where: { $0.coef == .min }) else { throw FoldError(message: "integer overflow") }
                return ConstTensor(shape: t.shape, ints: v.map { SymInt(coef: -$0.coef, batch: $0.batch) })
            }
        case "Sqrt", "Reciprocal":
            let t = try c(0)
            guard let f = t.floats else { throw FoldError(message: "needs numbers") }
            let r = f.map { n.opType == "Sqrt" ? $0.squareRoot() : 1 / $0 }
            guard r.allSatisfy(\.isFinite) else { throw FoldError(message: "produces NaN or infinity") }
            return ConstTensor(shape: t.shape, floats: r)
        case "Unsqueeze":
            let t = try c(0)
            guard let axes = try axesInput(1) else { throw FoldError(message: "has no axes") }
            let r = t.shape.count + axes.count
            guard r <= ConstTensor.maxRank else { throw FoldError(message: "unsqueezes to rank \(r)") }
            let norm = axes.compactMap { normAxis($0, rank: r) }.sorted()
            guard norm.count == axes.count else { throw FoldError(message: "axes \(axes) out of range") }
            // As on activations: a repeated axis would insert past the end of the shape.
            guard Set(norm).count == norm.count else { throw FoldError(message: "repeats an axis in \(axes)") }
            var s = t.shape
            for a in norm { s.insert(1, at: a) }
            return t.reshaped(s)
        case "Squeeze":
            let t = try c(0)
            let axes = try axesInput(1)
            let r = t.shape.count
            let set = axes.map { Set($0.compactMap { normAxis($0, rank: r) }) } ?? Set((0..<r).filter { t.shape[$0] == 1 })
            if let axes, axes.contains(where: { normAxis($0, rank: r) == nil }) {
                throw FoldError(message: "axes \(axes) out of range")
            }
            guard set.allSatisfy({ t.shape[$0] == 1 }) else { throw FoldError(message: "squeezes a dimension that is not 1") }
            return t.reshaped(t.shape.enumerated().filter { !set.contains($0.offset) }.map(\.element))
        case "Flatten":
            let t = try c(0)
            guard let a = normAxis(at.int("axis", 1), rank: t.shape.count + 1) else { throw FoldError(message: "bad axis") }
            guard let outer = checkedProduct(t.shape[..<a]), let inner = checkedProduct(t.shape[a...]) else {
                throw FoldError(message: "flattens an absurd shape \(t.shape)")
            }
            return t.reshaped([outer, inner])
        case "Reshape":
            let t = try c(0)
            let target = try ints(1)
            var s: [Int] = []
            var infer: Int?
            for (i, d) in target.enumerated() {
                if d == -1 { guard infer == nil else { throw FoldError(message: "two -1 in shape") }; infer = i; s.append(1) }
                else if d == 0 && at.int("allowzero", 0) == 0 {
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
        case "Gather":
            let t = try c(0)
            let idx = try c(1)
            guard let axis = normAxis(at.int("axis", 0), rank: t.shape.count) else { throw FoldError(message: "bad axis") }
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
        case "Concat":
            let parts = try (0..<cs.count).filter { cs[$0] != nil }.map(c)
            guard let first = parts.first else { throw FoldError(message: "no inputs") }
            guard let axis = normAxis(at.int("axis", 0), rank: first.shape.count) else { throw FoldError(message: "bad axis") }
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
        case "Slice":
            let t = try c(0)
            let starts: [Int64], ends: [Int64], axes: [Int64], steps: [Int64]
            if cs.count > 1 {
                starts = try ints(1)
                ends = try ints(2)
                axes = cs.count > 3 && cs[3] != nil ? try ints(3) : (0..<Int64(starts.count)).map { $0 }
                steps = cs.count > 4 && cs[4] != nil ? try ints(4) : [Int64](repeating: 1, count: starts.count)
            } else {
                starts = at.ints("starts") ?? []
                ends = at.ints("ends") ?? []
                axes = at.ints("axes") ?? (0..<Int64(starts.count)).map { $0 }
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
        case "Transpose":
            let t = try c(0)
            let r = t.shape.count
            let perm = (at.ints("perm") ?? (0..<Int64(r)).reversed().map { $0 }).map { Int(truncatingIfNeeded: $0) }
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
        case "ConstantOfShape":
            let s = try ints(0)
            guard s.allSatisfy({ $0 >= 0 }) else { throw FoldError(message: "negative shape \(s)") }
            // Every dim bounded, not just the count: [2^62, 2^62, 0] holds no values but would
            // overflow the count of anything folded from it.
            guard s.allSatisfy({ $0 <= Int64(ConstTensor.maxFoldedElements) }) else {
                throw FoldError(message: "would fold a constant of shape \(s), more than 2^24 values",
                                hint: "cssdbg only evaluates shape computations and small constants")
            }
            let shape = s.map { Int($0) }
            try checkFoldedShape(shape)
            let count = checkedProduct(shape) ?? 0
            var value = ConstTensor(shape: [1], floats: [0])
            if let a = at.map["value"] {
                var d = decoder
                value = try d.decode(a.t, what: "ConstantOfShape value")
            }
            switch value.storage {
            case .float(let f): return ConstTensor(shape: shape, floats: [Float](repeating: f.first ?? 0, count: count))
            case .int(let v): return ConstTensor(shape: shape, ints: [SymInt](repeating: v.first ?? .known(0), count: count))
            }
        case "Expand":
            let t = try c(0)
            let raw = try ints(1)
            guard raw.allSatisfy({ $0 >= 0 && $0 <= Int64(ConstTensor.maxFoldedElements) }), raw.count <= ConstTensor.maxRank,
                  let outShape = broadcastShapes(t.shape, raw.map { Int($0) }) else {
                throw FoldError(message: "cannot expand \(t.shape) to \(raw)")
            }
            return try t.broadcasted(to: outShape)
        case "Add", "Sub", "Mul", "Div":
            return try foldBinary(BinaryOp(rawValue: n.opType)!, try c(0), try c(1))
        case "Identity", "Dropout":
            return try c(0)
        case "Range":
            guard let s = try c(0).knownInts?.first, let l = try c(1).knownInts?.first, let d = try c(2).knownInts?.first,
                  d != 0, try c(0).isFloat == false else { throw FoldError(message: "only integer ranges fold") }
            // Length computed exactly without overflow (start/limit may be Int64.min/max): the
            // distance fits UInt64 and every value produced lies between start and limit.
            var len: UInt64 = 0
            if d > 0 && l > s { len = (UInt64(bitPattern: l &- s) - 1) / d.magnitude + 1 }
            if d < 0 && l < s { len = (UInt64(bitPattern: s &- l) - 1) / d.magnitude + 1 }
            guard len <= 1 << 20 else { throw FoldError(message: "range of \(len) values is too long") }
            let v = (0..<Int64(len)).map { s &+ $0 &* d }
            return ConstTensor(shape: [v.count], known: v)
        default:
            if n.opType == "MaxPool" || n.opType == "Softmax" || Self.nonReLUActivations.contains(n.opType) {
                throw refuse("uses \(n.opType) on a constant, which cssdbg does not evaluate", nil)
            }
            throw refuse("uses \(n.opType), which cssdbg cannot convert", "supported operators: \(Self.supportedList)")
        }
    }

    // MARK: Elementwise arithmetic with activations

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

    // MARK: Conv / Gemm / MatMul

    func pair(_ v: [Int64]?, default d: Int, what: String, _ refuse: Refuser) throws -> (h: Int, w: Int) {
        guard let v else { return (d, d) }
        guard v.count == 2, v.allSatisfy({ $0 > 0 && $0 <= 1 << 20 }) else {
            throw refuse("has invalid \(what) \(v)", nil)
        }
        return (Int(v[0]), Int(v[1]))
    }

    func resolvePads(_ at: Attrs, input: (Int, Int), kernel: (h: Int, w: Int), stride: (h: Int, w: Int),
                     dilation: (h: Int, w: Int), _ refuse: Refuser) throws
        -> (top: Int, left: Int, bottom: Int, right: Int) {
        let autoPad = at.string("auto_pad") ?? "NOTSET"
        switch autoPad {
        case "NOTSET", "":
            guard let p = at.ints("pads") else { return (0, 0, 0, 0) }
            guard p.count == 4, p.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else {
                throw refuse("has invalid pads \(p); only four non-negative 2-D pads convert", nil)
            }
            return (Int(p[0]), Int(p[1]), Int(p[2]), Int(p[3]))
        case "VALID":
            return (0, 0, 0, 0)
        case "SAME_UPPER", "SAME_LOWER":
            func axis(_ i: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
                let o = (i + s - 1) / s
                let total = max(0, (o - 1) * s + (k - 1) * d + 1 - i)
                return autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
            }
            let (t, b) = axis(input.0, kernel.h, stride.h, dilation.h)
            let (l, r) = axis(input.1, kernel.w, stride.w, dilation.w)
            return (t, l, b, r)
        default:
            throw refuse("has unknown auto_pad '\(autoPad)'", nil)
        }
    }

    mutating func conv(_ n: Onnx_NodeProto, _ index: Int, _ ins: [Val?], _ at: Attrs, _ out: String,
                       _ refuse: Refuser) throws -> Val {
        guard ins.count >= 2, case .act(let x, let s)? = ins[0] else { throw refuse("convolves a constant", nil) }
        guard case .const(let w)? = ins[1], let wf = w.floats else {
            throw refuse("uses Conv with weights that are not constant, which cannot be converted", nil)
        }
        guard s.count == 3, w.shape.count == 4 else {
            throw refuse("uses a \(max(s.count - 1, 0))-D Conv; only 2-D convolutions on [N,C,H,W] convert", nil)
        }
        let groups = Int(clamping: at.int("group", 1))
        let m = w.shape[0]
        guard groups >= 1, groups <= s[0], s[0] % groups == 0, m % groups == 0, w.shape[1] * groups == s[0] else {
            throw refuse("has Conv weights \(w.shape) that do not fit \(s[0]) input channels in \(groups) groups", nil)
        }
        if let k = at.ints("kernel_shape"), k != [Int64(w.shape[2]), Int64(w.shape[3])] {
            throw refuse("declares kernel_shape \(k) but its weights are \(w.shape)", nil)
        }
        let st = try pair(at.ints("strides"), default: 1, what: "strides", refuse)
        let dil = try pair(at.ints("dilations"), default: 1, what: "dilations", refuse)
        let kernel = (h: w.shape[2], w: w.shape[3])
        let pads = try resolvePads(at, input: (s[1], s[2]), kernel: kernel, stride: st, dilation: dil, refuse)
        var bias: [Float]?
        if ins.count > 2, let b = ins[2] {
            guard case .const(let bc) = b, let bf = bc.floats, bf.count == m else {
                throw refuse("has a Conv bias that is not a constant of \(m) values", nil)
            }
            bias = bf
        }
        let c = Conv2D(weight: wf, bias: bias, outChannels: m, inChannels: s[0], kernel: kernel, stride: st,
                       pads: pads, dilation: dil, groups: groups)
        return try emit(n, index, .conv(c), [(x, s)], output: out)
    }

    mutating func gemm(_ n: Onnx_NodeProto, _ index: Int, _ ins: [Val?], _ at: Attrs, _ out: String,
                       _ refuse: Refuser) throws -> Val {
        guard ins.count >= 2, case .act(let x, let s)? = ins[0] else {
            throw refuse("uses Gemm whose first operand is not the activation; cssdbg needs activation × constant weights", nil)
        }
        guard case .const(let b)? = ins[1], let bf = b.floats, b.shape.count == 2 else {
            throw refuse("uses Gemm with weights that are not a constant matrix, which cannot be converted", nil)
        }
        guard at.int("transA", 0) == 0 else {
            throw refuse("uses Gemm with transA=1, which transposes the batch", "export Linear layers normally")
        }
        guard s.count == 1 else {
            throw refuse("applies Gemm to an activation of sample shape \(s); flatten it first", nil)
        }
        let transB = at.int("transB", 0) != 0
        let (outF, inF) = transB ? (b.shape[0], b.shape[1]) : (b.shape[1], b.shape[0])
        guard inF == s[0] else {
            throw refuse("has Gemm weights \(b.shape) that do not fit \(s[0]) input features", nil)
        }
        let alpha = at.float("alpha", 1), beta = at.float("beta", 1)
        var weight = [Float](repeating: 0, count: outF * inF)
        for o in 0..<outF {
            for i in 0..<inF {
                weight[o * inF + i] = alpha * (transB ? bf[o * inF + i] : bf[i * outF + o])
            }
        }
        var bias: [Float]?
        if ins.count > 2, let cv = ins[2] {
            guard case .const(let c) = cv, let cf = c.floats else {
                throw refuse("has a Gemm bias that is not constant", nil)
            }
            let vals: [Float]
            if c.count == 1 { vals = [Float](repeating: cf[0], count: outF) }
            else if c.count == outF && (c.shape.count == 1 || (c.shape.count == 2 && c.shape[0] == 1)) { vals = cf }
            else { throw refuse("has a Gemm bias of shape \(c.shape) that varies over the batch", nil) }
            bias = vals.map { beta * $0 }
        }
        return try emit(n, index, .dense(weight: weight, bias: bias, outFeatures: outF, inFeatures: inF), [(x, s)], output: out)
    }

    mutating func matmul(_ n: Onnx_NodeProto, _ index: Int, _ ins: [Val?], _ out: String,
                         _ refuse: Refuser) throws -> Val {
        guard ins.count == 2, let a = ins[0], let b = ins[1] else { throw refuse("is missing an input", nil) }
        guard case .act(let x, let s) = a else {
            throw refuse("multiplies a constant by an activation; cssdbg needs activation × constant weights", nil)
        }
        guard case .const(let w) = b, let wf = w.floats else {
            throw refuse("multiplies two activations, which is not an affine map and cannot be converted", nil)
        }
        guard w.shape.count == 2 else {
            throw refuse("uses MatMul with weights of shape \(w.shape); only a 2-D weight matrix converts", nil)
        }
        let (inF, outF) = (w.shape[0], w.shape[1])
        guard let last = s.last, last == inF, s.dropLast().allSatisfy({ $0 == 1 }) else {
            throw refuse("uses MatMul on an activation of sample shape \(s) with weights \(w.shape); only [N, features] × [features, out] converts", nil)
        }
        var weight = [Float](repeating: 0, count: outF * inF)
        for o in 0..<outF { for i in 0..<inF { weight[o * inF + i] = wf[i * outF + o] } }
        var cur = (x, s)
        if s.count > 1 {
            guard case .act(let r, let rs) = try emit(n, index, .reshape([inF]), [cur], output: out, suffix: "/flat") else { fatalError() }
            cur = (r, rs)
        }
        let dense = Op.dense(weight: weight, bias: nil, outFeatures: outF, inFeatures: inF)
        if s.count > 1 {
            guard case .act(let d, let ds) = try emit(n, index, dense, [cur], output: out, suffix: "/dense") else { fatalError() }
            return try emit(n, index, .reshape(Array(s.dropLast()) + [outF]), [(d, ds)], output: out)
        }
        return try emit(n, index, dense, [cur], output: out)
    }

    // MARK: Reshape

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

/// Builds the one-line refusal for a node: `FILE: node 'NAME' WHAT; HINT`.
struct Refuser {
    let file: String
    let who: String
    func callAsFunction(_ what: String, _ hint: String? = nil) -> ImportError {
        // An unnamed node is already labelled `node #3 (Add)`; don't repeat the `(Add)` that
        // messages put after the label (`node #3 (Add): …`, not `node #3 (Add) (Add): …`).
        if let open = who.lastIndex(of: "("), who.hasSuffix(")"), what.hasPrefix(who[open...]) {
            let rest = what.dropFirst(who.distance(from: open, to: who.endIndex))
            return ImportError(file: file, problem: "\(who)\(rest)", hint: hint)
        }
        return ImportError(file: file, problem: "\(who) \(what)", hint: hint)
    }
}
