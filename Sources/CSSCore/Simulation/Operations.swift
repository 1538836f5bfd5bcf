import CSSSnapshots

/// A Conv, Gemm or MatMul node of the ANN with what it costs per sample (docs/numerics.md §13):
/// the ANN's multiply-accumulates, and the mean fan-out of one input event in the SNN.
public struct SynapticNode: Sendable, Equatable {
    /// Index in `Graph.nodes`.
    public var node: Int
    public var name: String
    /// Output elements × the weights each output reads.
    public var macs: Int
    /// Elements of the node's input per sample: `macs / inputElements` is the mean fan-out.
    public var inputElements: Int
    /// The spiking layer that consumes the node's output (the first Relu reached through its
    /// consumers), nil for the graph output.
    public var layer: Int?
}

extension Network {
    /// The nodes the operation counts cover, in graph order: Conv and Gemm/MatMul (lowered to
    /// dense), not the depthwise identity convolution a Pad becomes.
    static func synapticNodes(_ graph: Graph, shapes: [String: [Int]], spiking: [Int]) -> [SynapticNode] {
        var consumers: [String: [Int]] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for name in node.inputs { consumers[name, default: []].append(i) }
        }
        let layerOfNode = Dictionary(uniqueKeysWithValues: spiking.enumerated().map { ($1, $0) })
        /// The lowest-indexed Relu reachable from `tensor` without passing through another Relu.
        func consumingLayer(_ tensor: String) -> Int? {
            var best: Int? = nil
            var seen: Set<String> = [tensor]
            var stack = [tensor]
            while let t = stack.popLast() {
                for c in consumers[t] ?? [] {
                    if let l = layerOfNode[c] { best = min(best ?? l, l); continue }
                    let out = graph.nodes[c].output
                    if seen.insert(out).inserted { stack.append(out) }
                }
            }
            return best
        }
        var result: [SynapticNode] = []
        for (i, node) in graph.nodes.enumerated() {
            if let origin = node.origin, !["Conv", "Gemm", "MatMul"].contains(origin) { continue }
            let perOutput: Int
            switch node.op {
            case .conv(let c): perOutput = c.inChannels / max(1, c.groups) * c.kernel.h * c.kernel.w
            case .dense(_, _, _, let inFeatures): perOutput = inFeatures
            default: continue
            }
            let outputs = shapes[node.output]!.reduce(1, *)
            let inputs = shapes[node.inputs[0]]!.reduce(1, *)
            result.append(SynapticNode(node: i, name: node.name, macs: outputs * perOutput, inputElements: inputs,
                                       layer: consumingLayer(node.output)))
        }
        return result
    }

    /// The operation report of a run: `events[i]` is the number of nonzero input values of
    /// `synapticNodes[i]` over all T slots and `samples` samples.
    public func operations(events: [Int], samples: Int, config: ConversionConfig) -> OperationReport {
        let perSample = Double(max(1, samples))
        let nodes = synapticNodes.enumerated().map { i, n in
            NodeOperations(name: n.name, layer: n.layer, macs: n.macs,
                           synapticOps: i < events.count
                               ? Double(events[i]) / perSample * (Double(n.macs) / Double(max(1, n.inputElements))) : 0)
        }
        let steps = config.T + config.silent
        return OperationReport(nodes: nodes,
                               neuronSteps: spikingNodes.map { shapes[graph.nodes[$0].output]!.reduce(1, *) * steps })
    }
}
