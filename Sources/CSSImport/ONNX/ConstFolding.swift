/// Small N-d helpers for folding the constant subgraphs exporters leave around Reshape/Flatten
/// (Shape → Gather → Unsqueeze → Concat …) and around weights (Transpose, Cast, arithmetic).

struct FoldError: Error { var message: String }

/// Row-major strides of `shape`.
func strides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        s[i] = acc
        acc *= shape[i]
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

/// For every element of `outShape` (row-major), the flat index into an operand of shape `shape`
/// broadcast to it.
func broadcastIndices(from shape: [Int], to outShape: [Int]) -> [Int] {
    let r = outShape.count
    let padded = [Int](repeating: 1, count: r - shape.count) + shape
    let st = strides(padded)
    let n = outShape.reduce(1, *)
    var out = [Int](repeating: 0, count: n)
    var idx = [Int](repeating: 0, count: r)
    for flat in 0..<n {
        var src = 0
        for d in 0..<r where padded[d] != 1 { src += idx[d] * st[d] }
        out[flat] = src
        var d = r - 1
        while d >= 0 {
            idx[d] += 1
            if idx[d] < outShape[d] { break }
            idx[d] = 0
            d -= 1
        }
    }
    return out
}

/// Elements of `shape` picked by per-axis index lists (cartesian product, row-major).
func pick<T>(_ values: [T], shape: [Int], axes: [[Int]]) -> [T] {
    let st = strides(shape)
    var out: [T] = []
    out.reserveCapacity(axes.reduce(1) { $0 * $1.count })
    func rec(_ d: Int, _ base: Int) {
        if d == shape.count { out.append(values[base]); return }
        for i in axes[d] { rec(d + 1, base + i * st[d]) }
    }
    if axes.allSatisfy({ !$0.isEmpty }) { rec(0, 0) }
    return out
}

extension ConstTensor {
    /// Applies an index map to either storage.
    func remapped(shape newShape: [Int], _ indices: [Int]) -> ConstTensor {
        switch storage {
        case .float(let f): return ConstTensor(shape: newShape, floats: indices.map { f[$0] })
        case .int(let v): return ConstTensor(shape: newShape, ints: indices.map { v[$0] })
        }
    }

    func picked(shape newShape: [Int], axes: [[Int]]) -> ConstTensor {
        switch storage {
        case .float(let f): return ConstTensor(shape: newShape, floats: pick(f, shape: shape, axes: axes))
        case .int(let v): return ConstTensor(shape: newShape, ints: pick(v, shape: shape, axes: axes))
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
    let ia = broadcastIndices(from: a.shape, to: outShape)
    let ib = broadcastIndices(from: b.shape, to: outShape)
    if case .int(let x) = a.storage, case .int(let y) = b.storage {
        var out: [SymInt] = []
        out.reserveCapacity(ia.count)
        for k in 0..<ia.count {
            out.append(try symArith(op, x[ia[k]], y[ib[k]]))
        }
        return ConstTensor(shape: outShape, ints: out)
    }
    guard let x = a.floats, let y = b.floats else {
        throw FoldError(message: "cannot mix the batch size into float arithmetic")
    }
    var out = [Float](repeating: 0, count: ia.count)
    for k in 0..<ia.count {
        let u = x[ia[k]], v = y[ib[k]]
        switch op {
        case .add: out[k] = u + v
        case .sub: out[k] = u - v
        case .mul: out[k] = u * v
        case .div:
            guard v != 0 else { throw FoldError(message: "division by zero in a constant") }
            out[k] = u / v
        }
    }
    return ConstTensor(shape: outShape, floats: out)
}

func symArith(_ op: BinaryOp, _ a: SymInt, _ b: SymInt) throws -> SymInt {
    func ov(_ r: (Int64, Bool)) throws -> Int64 {
        guard !r.1 else { throw FoldError(message: "integer overflow in a shape computation") }
        return r.0
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
        return SymInt(coef: try ov(a.coef.multipliedReportingOverflow(by: b.coef)), batch: a.batch || b.batch)
    case .div:
        guard !b.batch else {
            if a.batch && b.batch { return .known(a.coef / b.coef) }
            throw FoldError(message: "cannot divide by the batch size")
        }
        guard b.coef != 0 else { throw FoldError(message: "division by zero in a shape computation") }
        if a.batch {
            guard a.coef % b.coef == 0 else { throw FoldError(message: "cannot divide the batch size") }
        }
        // ONNX integer Div truncates toward zero like Swift.
        return SymInt(coef: a.coef / b.coef, batch: a.batch)
    }
}

/// Normalises an axis against `rank`, or nil when out of range.
func normAxis(_ a: Int64, rank: Int) -> Int? {
    let v = a < 0 ? Int(a) + rank : Int(a)
    return (0..<rank).contains(v) ? v : nil
}
