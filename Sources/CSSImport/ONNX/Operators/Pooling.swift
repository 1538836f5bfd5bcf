import CSSCore

/// Average pooling is a fixed linear map; max pooling and the other reductions are not.
extension ONNXOperator {
    static let poolingOperators: [ONNXOperator] = [
        ONNXOperator(["AveragePool"], listed: true,
                     doc: "2-D on `[N,C,H,W]`: strides, pads, `auto_pad`, `count_include_pad`; `ceil_mode` only where it changes nothing",
                     lower: { l, c in try l.averagePool(c) }),
        ONNXOperator(["GlobalAveragePool"], listed: true, doc: "on `[N,C,H,W]`",
                     lower: { l, c in
                         guard case .act(let x, let s) = try c.input(0), s.count == 3 else {
                             throw c.refuse("uses GlobalAveragePool on a tensor that is not [N,C,H,W]")
                         }
                         return try l.emit(c, .globalAveragePool(keepSpatial: true), [(x, s)])
                     }),
        ONNXOperator(["ReduceMean"], listed: true, doc: "over the spatial axes {2,3} of `[N,C,H,W]`, as GlobalAveragePool",
                     lower: { l, c in c.allConst ? nil : try l.reduceMean(c) }),
        ONNXOperator(["MaxPool"], doc: "refused: cannot be converted exactly; use AveragePool",
                     constants: .notEvaluated,
                     refusal: Refusal("uses MaxPool, which cannot be converted exactly", hint: "use AveragePool")),
        ONNXOperator(["GlobalMaxPool"], doc: "refused: cannot be converted exactly; use GlobalAveragePool",
                     refusal: Refusal("uses GlobalMaxPool, which cannot be converted exactly", hint: "use GlobalAveragePool")),
        ONNXOperator(["ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL2", "ReduceL1", "ReduceLogSumExp"],
                     doc: "refused; use ReduceMean over the spatial axes or GlobalAveragePool",
                     refusal: Refusal({ op in "uses \(op), which cannot be converted" },
                                      hint: { _ in "use ReduceMean over the spatial axes or GlobalAveragePool" })),
    ]
}

extension Lowerer {
    mutating func averagePool(_ c: NodeContext) throws -> Val {
        let refuse = c.refuse, at = c.at
        guard case .act(let x, let s) = try c.input(0), s.count == 3 else {
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
        return try emit(c, .averagePool(pool), [(x, s)])
    }

    mutating func reduceMean(_ c: NodeContext) throws -> Val {
        let refuse = c.refuse, at = c.at
        guard case .act(let x, let s) = try c.input(0) else { throw refuse("has no activation input") }
        let axes = try c.axes()
        let r = s.count + 1
        let norm = Set((axes ?? []).compactMap { normAxis($0, rank: r) })
        guard s.count == 3, norm == [2, 3], (axes ?? []).count == 2 else {
            throw refuse("uses ReduceMean over axes \(axes.map { "\($0)" } ?? "all") of a rank-\(r) tensor; only the spatial axes {2,3} of [N,C,H,W] convert",
                         "use GlobalAveragePool or mean over dims (2, 3)")
        }
        let keep = at.int("keepdims", 1) != 0
        return try emit(c, .globalAveragePool(keepSpatial: keep), [(x, s)])
    }
}
