import CSSCore
import Foundation

/// Lowering of one ONNX node: looks its operator up in `ONNXOperator.registry` and runs the
/// entry's lowering, its folding (all inputs constant) or its refusal, in that order.
extension Lowerer {
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
        let allConst = ins.allSatisfy { v in if case .act? = v { false } else { true } }
        let node = NodeContext(node: n, index: index, ins: ins, at: Attrs(n), out: out, refuse: refuse, allConst: allConst)
        let rule = ONNXOperator.byOpType[n.opType]

        if let lowering = rule?.lower, let v = try lowering(&self, node) {
            values[out] = v
            return
        }
        if allConst {
            do {
                let t = try fold(node, rule)
                // Ops that only relabel dims (Reshape, Squeeze, …) keep their input's values and may
                // exceed the folding limit, but no constant may exceed the decoder's.
                try checkFoldedShape(t.shape, limit: TensorDecoder.maxElements)
                values[out] = .const(t)
            } catch let e as FoldError {
                throw refuse("(\(n.opType)): \(e.message)", e.hint)
            }
            return
        }
        if let r = rule?.refusal { throw refuse(r.what(n.opType), r.hint(n.opType)) }
        throw unsupported(node)
    }

    /// Evaluates a node whose inputs are all constants.
    func fold(_ node: NodeContext, _ rule: ONNXOperator?) throws -> ConstTensor {
        switch rule?.constants {
        case .fold(let folding)?:
            let cs: [ConstTensor?] = node.ins.map { v in if case .const(let c)? = v { c } else { nil } }
            return try folding(self, FoldInputs(node: node.node, cs: cs, at: node.at))
        case .notEvaluated?:
            throw node.refuse("uses \(node.opType) on a constant, which cssdbg does not evaluate", nil)
        case .unsupported?, nil:
            throw unsupported(node)
        }
    }

    func unsupported(_ node: NodeContext) -> ImportError {
        node.refuse("uses \(node.opType), which cssdbg cannot convert", "supported operators: \(ONNXOperator.supportedList)")
    }

    /// Appends the IR node for `node` (see `emit(_:_:_:_:output:suffix:)`).
    mutating func emit(_ node: NodeContext, _ op: Op, _ inputs: [(String, [Int])], suffix: String = "") throws -> Val {
        try emit(node.node, node.index, op, inputs, output: node.out, suffix: suffix)
    }

    func constantAttribute(_ n: Onnx_NodeProto, _ at: Attrs, _ who: String) throws -> ConstTensor {
        var d = decoder
        if let a = at.map["value"] { return try d.decode(a.t, what: n.output.first ?? "Constant") }
        if let a = at.map["value_float"] { return ConstTensor(shape: [], floats: [a.f]) }
        if let a = at.map["value_floats"] { return ConstTensor(shape: [a.floats.count], floats: a.floats) }
        if let a = at.map["value_int"] { return ConstTensor(shape: [], known: [a.i]) }
        if let a = at.map["value_ints"] { return ConstTensor(shape: [a.ints.count], known: a.ints) }
        throw fail("\(who) is a Constant of a kind cssdbg does not read (sparse or string)")
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
