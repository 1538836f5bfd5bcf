/// Small N-d helpers for folding the constant subgraphs exporters leave around Reshape/Flatten
/// (Shape → Gather → Unsqueeze → Concat …) and around weights (Transpose, Cast, arithmetic).
///
/// Size discipline (every shape product here is overflow-checked):
/// * every constant, decoded or folded, has an *extent* (product of its dims with 0 counted as
///   1) of at most `TensorDecoder.maxElements` and at most `ConstTensor.maxRank` dims. The extent
///   bounds every stride, index and loop, also for tensors with no elements: `[2^62, 2^62, 0]`
///   holds nothing but would overflow strides and spin outer loops;
/// * a folded tensor whose values are computed has an extent of at most
///   `ConstTensor.maxFoldedElements`, checked before anything is allocated or looped over.

struct FoldError: Error {
    var message: String
    var hint: String?
    init(message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}

/// Product of `dims`, or nil when a dim is negative or the product overflows `Int`.
func checkedProduct<C: Collection>(_ dims: C) -> Int? where C.Element == Int {
    var p = 1
    for d in dims {
        guard d >= 0 else { return nil }
        let (q, o) = p.multipliedReportingOverflow(by: d)
        guard !o else { return nil }
        p = q
    }
    return p
}

/// Product of `dims` with zeros counted as 1, or nil (negative dim, overflow): the bound on
/// strides and loop trip counts, also when the tensor is empty.
func checkedExtent<C: Collection>(_ dims: C) -> Int? where C.Element == Int {
    var p = 1
    for d in dims {
        guard d >= 0 else { return nil }
        let (q, o) = p.multipliedReportingOverflow(by: max(d, 1))
        guard !o else { return nil }
        p = q
    }
    return p
}

/// Refuses a folded shape whose values would have to be computed one by one when it is larger
/// than `limit` (extent, so zero-size tensors with huge dims count too) or has too many dims.
func checkFoldedShape(_ shape: [Int], limit: Int = ConstTensor.maxFoldedElements) throws {
    guard shape.count <= ConstTensor.maxRank else {
        throw FoldError(message: "would fold a constant of rank \(shape.count) (at most \(ConstTensor.maxRank) dimensions are supported)")
    }
    guard let e = checkedExtent(shape), e <= limit else {
        let what = limit == ConstTensor.maxFoldedElements ? "2^24" : (limit == TensorDecoder.maxElements ? "2^31" : "\(limit)")
        let hint = "cssdbg only evaluates shape computations and small constants; fold large weights before exporting"
        if shape.contains(0) {
            throw FoldError(message: "would fold an empty constant of shape \(shape), whose other dimensions span more than \(what) values",
                            hint: hint)
        }
        throw FoldError(message: "would fold a constant of shape \(shape), more than \(what) values", hint: hint)
    }
}

/// Row-major strides of `shape` (callers hold the extent bound, so this cannot overflow; dims
/// of 0 are taken as 1, which does not matter as such a tensor has no element to address).
func strides(_ shape: [Int]) throws -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        s[i] = acc
        let (p, o) = acc.multipliedReportingOverflow(by: max(shape[i], 1))
        guard !o else { throw FoldError(message: "shape \(shape) is too large") }
        acc = p
    }
    return s
}

/// NumPy broadcast of two shapes, or nil.
func broadcastShapes(_ a: [Int], _ b: [Int]) -> [Int]? {
    let r = max(a.count, b.count)
    let pa = [Int](repeating: 1, count: r - a.count) + a
    let pb = [Int](repeating: 1, count: r - b.count) + b
    var out: [Int] = []
    for i in 0..<r {
        if pa[i] == pb[i] || pb[i] == 1 { out.append(pa[i]) }
        else if pa[i] == 1 { out.append(pb[i]) }
        else { return nil }
    }
    return out
}

/// Walks `outShape` row-major and calls `body` with, for every operand shape in `operands`, the
/// flat index of the element broadcast to the current position. No index arrays are built: the
/// offsets are kept up to date like an odometer. `outShape` must satisfy `checkFoldedShape`
/// (or another bound the caller checked) and every operand must broadcast to it.
func forEachBroadcast(_ outShape: [Int], _ operands: [[Int]], _ body: ([Int]) throws -> Void) throws {
    guard let n = checkedProduct(outShape) else { throw FoldError(message: "shape \(outShape) is too large") }
    if n == 0 { return }
    let r = outShape.count
    // Per operand and axis: how far the flat index moves for one step along the axis (0 on a
    // broadcast axis).
    var steps: [[Int]] = []
    for shape in operands {
        guard shape.count <= r else { throw FoldError(message: "shape \(shape) does not broadcast to \(outShape)") }
        let padded = [Int](repeating: 1, count: r - shape.count) + shape
        let st = try strides(padded)
        var s = [Int](repeating: 0, count: r)
        for d in 0..<r {
            if padded[d] == outShape[d] { s[d] = st[d] }
            else if padded[d] != 1 { throw FoldError(message: "shape \(shape) does not broadcast to \(outShape)") }
        }
        steps.append(s)
    }
    var offsets = [Int](repeating: 0, count: operands.count)
    var idx = [Int](repeating: 0, count: r)
    for _ in 0..<n {
        try body(offsets)
        var d = r - 1
        while d >= 0 {
            idx[d] += 1
            for k in 0..<offsets.count { offsets[k] += steps[k][d] }
            if idx[d] < outShape[d] { break }
            for k in 0..<offsets.count { offsets[k] -= steps[k][d] * outShape[d] }
            idx[d] = 0
            d -= 1
        }
    }
}

/// `values` (of `shape`) broadcast to `outShape`, which must be within the folding limit.
func broadcast<T>(_ values: [T], from shape: [Int], to outShape: [Int]) throws -> [T] {
    try checkFoldedShape(outShape)
    var out: [T] = []
    out.reserveCapacity(checkedProduct(outShape) ?? 0)
    try forEachBroadcast(outShape, [shape]) { o in out.append(values[o[0]]) }
    return out
}

/// Elements of `shape` picked by per-axis index lists (cartesian product, row-major). The
/// caller has checked the result's shape (`axes.map(\.count)`) against the folding limit.
func pick<T>(_ values: [T], shape: [Int], axes: [[Int]]) throws -> [T] {
    guard axes.allSatisfy({ !$0.isEmpty }) else { return [] }
    let st = try strides(shape)
    let outShape = axes.map(\.count)
    var out: [T] = []
    out.reserveCapacity(checkedProduct(outShape) ?? 0)
    // Odometer over the output positions (no recursion: the rank is only bounded by maxRank).
    var idx = [Int](repeating: 0, count: axes.count)
    var base = zip(axes, st).reduce(0) { $0 + $1.0[0] * $1.1 }
    while true {
        out.append(values[base])
        var d = axes.count - 1
        while d >= 0 {
            base -= axes[d][idx[d]] * st[d]
            idx[d] += 1
            if idx[d] < axes[d].count {
                base += axes[d][idx[d]] * st[d]
                break
            }
            idx[d] = 0
            base += axes[d][0] * st[d]
            d -= 1
        }
        if d < 0 { return out }
    }
}

extension ConstTensor {
    /// A tensor of `newShape` whose element k is this tensor's element `source(k)`; `source` is
    /// called for k = 0, 1, … in order, `count` times. No index array is built.
    func remapped(shape newShape: [Int], count: Int, _ source: () throws -> Int) rethrows -> ConstTensor {
        switch storage {
        case .float(let f):
            var out: [Float] = []
            out.reserveCapacity(count)
            for _ in 0..<count { out.append(f[try source()]) }
            return ConstTensor(shape: newShape, floats: out)
        case .int(let v):
            var out: [SymInt] = []
            out.reserveCapacity(count)
            for _ in 0..<count { out.append(v[try source()]) }
            return ConstTensor(shape: newShape, ints: out)
        }
    }

    func picked(shape newShape: [Int], axes: [[Int]]) throws -> ConstTensor {
        switch storage {
        case .float(let f): return ConstTensor(shape: newShape, floats: try pick(f, shape: shape, axes: axes))
        case .int(let v): return ConstTensor(shape: newShape, ints: try pick(v, shape: shape, axes: axes))
        }
    }

    /// This tensor broadcast to `outShape` (within the folding limit).
    func broadcasted(to outShape: [Int]) throws -> ConstTensor {
        switch storage {
        case .float(let f): return ConstTensor(shape: outShape, floats: try broadcast(f, from: shape, to: outShape))
        case .int(let v): return ConstTensor(shape: outShape, ints: try broadcast(v, from: shape, to: outShape))
        }
    }

    func reshaped(_ s: [Int]) -> ConstTensor {
        var t = self
        t.shape = s
        return t
    }
}

enum BinaryOp: String { case add = "Add", sub = "Sub", mul = "Mul", div = "Div" }

func foldBinary(_ op: BinaryOp, _ a: ConstTensor, _ b: ConstTensor) throws -> ConstTensor {
    guard let outShape = broadcastShapes(a.shape, b.shape) else {
        throw FoldError(message: "operands of shapes \(a.shape) and \(b.shape) do not broadcast")
    }
    // Both operands may be within the limit and their broadcast far beyond it ([65536,1] + [1,65536]).
    try checkFoldedShape(outShape)
    let n = checkedProduct(outShape) ?? 0
    if case .int(let x) = a.storage, case .int(let y) = b.storage {
        var out: [SymInt] = []
        out.reserveCapacity(n)
        try forEachBroadcast(outShape, [a.shape, b.shape]) { o in
            out.append(try symArith(op, x[o[0]], y[o[1]]))
        }
        return ConstTensor(shape: outShape, ints: out)
    }
    guard let x = a.floats, let y = b.floats else {
        throw FoldError(message: "cannot mix the batch size into float arithmetic")
    }
    var out: [Float] = []
    out.reserveCapacity(n)
    try forEachBroadcast(outShape, [a.shape, b.shape]) { o in
        let u = x[o[0]], v = y[o[1]]
        // Non-finite results (3e38 * 3e38) are left to the check of the finished graph's
        // weights (Lowerer.checkFiniteWeights), which names the node they end up in.
        switch op {
        case .add: out.append(u + v)
        case .sub: out.append(u - v)
        case .mul: out.append(u * v)
        case .div:
            guard v != 0 else { throw FoldError(message: "division by zero in a constant") }
            out.append(u / v)
        }
    }
    return ConstTensor(shape: outShape, floats: out)
}

func symArith(_ op: BinaryOp, _ a: SymInt, _ b: SymInt) throws -> SymInt {
    func ov(_ r: (partialValue: Int64, overflow: Bool)) throws -> Int64 {
        guard !r.overflow else { throw FoldError(message: "integer overflow in a shape computation") }
        return r.partialValue
    }
    switch op {
    case .add, .sub:
        if !a.batch && !b.batch {
            return .known(try ov(op == .add ? a.coef.addingReportingOverflow(b.coef) : a.coef.subtractingReportingOverflow(b.coef)))
        }
        if a.batch && b.knownValue == 0 { return a }
        if b.batch && a.knownValue == 0 && op == .add { return b }
        throw FoldError(message: "cannot add to the symbolic batch size")
    case .mul:
        guard !(a.batch && b.batch) else { throw FoldError(message: "cannot square the batch size") }
        return SymInt.normalized(coef: try ov(a.coef.multipliedReportingOverflow(by: b.coef)), batch: a.batch || b.batch)
    case .div:
        // Integer division traps on a zero divisor and on Int64.min / -1; refuse both.
        guard b.coef != 0 else { throw FoldError(message: "division by zero in a shape computation") }
        guard !b.batch else {
            // (a·N) / (b·N) = a / b for every N > 0.
            if a.batch { return .known(try ov(a.coef.dividedReportingOverflow(by: b.coef))) }
            throw FoldError(message: "cannot divide by the batch size")
        }
        if a.batch {
            guard try ov(a.coef.remainderReportingOverflow(dividingBy: b.coef)) == 0 else {
                throw FoldError(message: "cannot divide the batch size")
            }
        }
        // ONNX integer Div truncates toward zero like Swift.
        return SymInt.normalized(coef: try ov(a.coef.dividedReportingOverflow(by: b.coef)), batch: a.batch)
    }
}

/// Normalises an axis against `rank`, or nil when out of range.
func normAxis(_ a: Int64, rank: Int) -> Int? {
    guard a >= -Int64(rank), a < Int64(rank) else { return nil }
    return Int(a < 0 ? a + Int64(rank) : a)
}
