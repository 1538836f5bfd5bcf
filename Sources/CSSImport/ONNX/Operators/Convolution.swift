import CSSCore

/// Conv, Gemm and MatMul: the weighted layers, each an affine map with constant weights.
extension ONNXOperator {
    static let convolutionOperators: [ONNXOperator] = [
        ONNXOperator(["Conv"], listed: true,
                     doc: "2-D on `[N,C,H,W]`, constant weights and bias: strides, pads, `auto_pad`, dilations, groups (depthwise)",
                     lower: { l, c in try l.conv(c.node, c.index, c.ins, c.at, c.out, c.refuse) }),
        ONNXOperator(["Gemm"], listed: true,
                     doc: "activation × constant matrix (`transB`, `alpha`, `beta`, constant bias), as `nn.Linear` exports",
                     lower: { l, c in try l.gemm(c.node, c.index, c.ins, c.at, c.out, c.refuse) }),
        ONNXOperator(["MatMul"], listed: true,
                     doc: "`[N, features]` × a constant 2-D matrix",
                     lower: { l, c in try l.matmul(c.node, c.index, c.ins, c.out, c.refuse) }),
    ]
}

extension Lowerer {
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
}
