import CSSCore

/// Shape, Size, ConstantOfShape and Range: the shape arithmetic exporters write around Reshape
/// (`x.view(x.size(0), -1)`), evaluated with the batch size kept symbolic.
extension ONNXOperator {
    static let shapeArithmeticOperators: [ONNXOperator] = [
        ONNXOperator(["Shape"], doc: "a constant with a symbolic batch size (`start`/`end` too)",
                     lower: { _, c in
                         let full: [SymInt]
                         switch try c.input(0) {
                         case .const(let t): full = t.shape.map { .known(Int64($0)) }
                         case .act(_, let s): full = [.batchSize] + s.map { .known(Int64($0)) }
                         }
                         let r = Int64(full.count)
                         func clampAxis(_ a: Int64) -> Int { Int(max(0, min(r, a < 0 ? a + r : a))) }
                         let start = clampAxis(c.at.int("start", 0))
                         let end = clampAxis(c.at.int("end", r))
                         let sl = start < end ? Array(full[start..<end]) : []
                         return .const(ConstTensor(shape: [sl.count], ints: sl))
                     }),
        ONNXOperator(["Size"], doc: "a constant (a multiple of the batch size for an activation)",
                     lower: { _, c in
                         switch try c.input(0) {
                         case .const(let t): return .const(ConstTensor(shape: [], known: [Int64(t.count)]))
                         case .act(_, let s):
                             guard let size = checkedProduct(s) else { throw c.refuse("takes the Size of an absurdly large activation \(s)") }
                             return .const(ConstTensor(shape: [], ints: [SymInt(coef: Int64(size), batch: true)]))
                         }
                     }),
        ONNXOperator(["ConstantOfShape"], doc: "folded on constants",
                     constants: .fold { l, f in try foldConstantOfShape(l, f) }),
        ONNXOperator(["Range"], doc: "integer ranges, folded on constants",
                     constants: .fold { _, f in try foldRange(f) }),
    ]

    static func foldConstantOfShape(_ l: Lowerer, _ f: FoldInputs) throws -> ConstTensor {
        let s = try f.ints(0)
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
        if let a = f.at.map["value"] {
            var d = l.decoder
            value = try d.decode(a.t, what: "ConstantOfShape value")
        }
        switch value.storage {
        case .float(let f): return ConstTensor(shape: shape, floats: [Float](repeating: f.first ?? 0, count: count))
        case .int(let v): return ConstTensor(shape: shape, ints: [SymInt](repeating: v.first ?? .known(0), count: count))
        }
    }

    static func foldRange(_ f: FoldInputs) throws -> ConstTensor {
        guard let s = try f.c(0).knownInts?.first, let l = try f.c(1).knownInts?.first, let d = try f.c(2).knownInts?.first,
              d != 0, try f.c(0).isFloat == false else { throw FoldError(message: "only integer ranges fold") }
        // Length computed exactly without overflow (start/limit may be Int64.min/max): the
        // distance fits UInt64 and every value produced lies between start and limit.
        var len: UInt64 = 0
        if d > 0 && l > s { len = (UInt64(bitPattern: l &- s) - 1) / d.magnitude + 1 }
        if d < 0 && l < s { len = (UInt64(bitPattern: s &- l) - 1) / d.magnitude + 1 }
        guard len <= 1 << 20 else { throw FoldError(message: "range of \(len) values is too long") }
        let v = (0..<Int64(len)).map { s &+ $0 &* d }
        return ConstTensor(shape: [v.count], known: v)
    }
}
