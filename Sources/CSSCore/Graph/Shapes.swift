import CSSSnapshots

extension Op {
    /// The per-sample output shape for the given per-sample input shapes, or an error that says
    /// what does not fit. Importers use this while lowering; the simulator relies on it.
    public func outputShape(_ inputs: [[Int]]) throws -> [Int] {
        guard let x = inputs.first else { throw GraphError("\(kind) has no input") }
        switch self {
        case .conv(let c):
            guard x.count == 3 else { throw GraphError("Conv expects a [C,H,W] input, got \(x)") }
            guard x[0] == c.inChannels else {
                throw GraphError("Conv expects \(c.inChannels) input channels, got \(x[0])")
            }
            let h = (x[1] + c.pads.top + c.pads.bottom - c.dilation.h * (c.kernel.h - 1) - 1) / c.stride.h + 1
            let w = (x[2] + c.pads.left + c.pads.right - c.dilation.w * (c.kernel.w - 1) - 1) / c.stride.w + 1
            guard h > 0, w > 0 else { throw GraphError("Conv output would be empty for input \(x)") }
            return [c.outChannels, h, w]
        case .dense(_, _, let out, let inF):
            guard x.reduce(1, *) == inF, x.count == 1 else {
                throw GraphError("Dense expects a vector of \(inF) features, got \(x)")
            }
            return [out]
        case .affine(let scale, let sb, let shift, let hb):
            try Op.checkBroadcast(scale, sb, x)
            try Op.checkBroadcast(shift, hb, x)
            return x
        case .add:
            guard inputs.count == 2, inputs[0] == inputs[1] else {
                throw GraphError("Add needs two inputs of the same shape, got \(inputs)")
            }
            return x
        case .averagePool(let p):
            guard x.count == 3 else { throw GraphError("AveragePool expects [C,H,W], got \(x)") }
            let h = (x[1] + p.pads.top + p.pads.bottom - p.kernel.h) / p.stride.h + 1
            let w = (x[2] + p.pads.left + p.pads.right - p.kernel.w) / p.stride.w + 1
            guard h > 0, w > 0 else { throw GraphError("AveragePool output would be empty for \(x)") }
            return [x[0], h, w]
        case .globalAveragePool(let keep):
            guard x.count == 3 else { throw GraphError("GlobalAveragePool expects [C,H,W], got \(x)") }
            return keep ? [x[0], 1, 1] : [x[0]]
        case .reshape(let shape):
            guard shape.allSatisfy({ $0 > 0 }), shape.reduce(1, *) == x.reduce(1, *) else {
                throw GraphError("cannot reshape \(x) to \(shape)")
            }
            return shape
        case .identity, .relu:
            return x
        }
    }

    static func checkBroadcast(_ values: [Float]?, _ b: Broadcast, _ x: [Int]) throws {
        guard let values else { return }
        let expected: Int
        switch b {
        case .scalar: expected = 1
        case .perChannel: expected = x.first ?? 1
        case .full: expected = x.reduce(1, *)
        }
        guard values.count == expected else {
            throw GraphError("constant of \(values.count) values does not broadcast to \(x) as \(b)")
        }
    }
}

extension Graph {
    /// Per-sample shape of every tensor; also checks that the graph is ordered, acyclic and that
    /// every name is defined before it is used.
    public func inferShapes() throws -> [String: [Int]] {
        guard inputShape.allSatisfy({ $0 > 0 }) else {
            throw GraphError("input '\(input)' has a non-positive dimension \(inputShape)")
        }
        var shapes: [String: [Int]] = [input: inputShape]
        for node in nodes {
            let ins = try node.inputs.map { name -> [Int] in
                guard let s = shapes[name] else {
                    throw GraphError("node '\(node.name)' uses '\(name)', which is not defined before it (dangling name or cycle)")
                }
                return s
            }
            guard shapes[node.output] == nil else {
                throw GraphError("tensor '\(node.output)' is defined twice")
            }
            do {
                shapes[node.output] = try node.op.outputShape(ins)
            } catch let e as GraphError {
                throw GraphError("node '\(node.name)' (\(node.op.kind)): \(e.description)")
            }
        }
        guard shapes[output] != nil else { throw GraphError("graph output '\(output)' is never computed") }
        return shapes
    }
}
