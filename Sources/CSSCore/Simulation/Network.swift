import CSSSnapshots

/// A graph checked and annotated for simulation: shapes, which nodes are spiking layers, how
/// deep each sits, and when every intermediate tensor can be released.
public struct Network: Sendable {
    public let graph: Graph
    public let shapes: [String: [Int]]
    /// Node indices of the Relus, in graph order; spiking layer `l` is `nodes[spikingNodes[l]]`.
    public let spikingNodes: [Int]
    /// Spiking-layer depth (longest path, counting spiking layers) of every tensor.
    let depth: [String: Int]
    /// Highest spiking-layer index each tensor depends on (−1: only on the encoder). A θ change
    /// at layer l leaves every tensor with a lower value untouched.
    let highestLayer: [String: Int]
    /// Display names of the spiking layers, unique (`LayerNames`).
    public let layerNames: [String]
    /// Index of the last node reading each tensor (tensors never read again can be freed).
    let lastUse: [String: Int]
    /// Transformed filters of the convolutions computed by Winograd F(2×2, 3×3) or F(4×4, 3×3)
    /// (`WinogradFilter.tile`), by node index (computed once here, not per call).
    public let winograd: [Int: WinogradFilter]
    /// The Conv/Gemm/MatMul nodes the operation counts cover (docs/numerics.md §13).
    public let synapticNodes: [SynapticNode]
    /// Position in `synapticNodes` by node index.
    let synapticIndex: [Int: Int]

    /// - Parameters:
    ///   - winograd: false keeps every convolution on the plain im2col + GEMM path
    ///     (for comparisons; the results differ by float rounding only).
    ///   - winogradTiles: which Winograd tile each eligible convolution takes (default
    ///     `WinogradTiles.standard`, F(2×2) everywhere; `.auto`, F(4×4) on maps of 4×4 and more, is
    ///     outside docs/numerics.md §9 on one sample model, see `standard`, and its speed-up was
    ///     measured only on a loaded machine: docs/performance.md, "Winograd F(4×4, 3×3)").
    public init(_ graph: Graph, winograd useWinograd: Bool = true, winogradTiles: WinogradTiles = .standard) throws {
        self.graph = graph
        self.shapes = try graph.inferShapes()
        var spiking: [Int] = []
        var depth: [String: Int] = [graph.input: 0]
        var lastUse: [String: Int] = [:]
        var highest: [String: Int] = [graph.input: -1]
        for (i, node) in graph.nodes.enumerated() {
            let h = node.inputs.map { highest[$0] ?? -1 }.max() ?? -1
            if case .relu = node.op { highest[node.output] = spiking.count } else { highest[node.output] = h }
            let d = node.inputs.map { depth[$0] ?? 0 }.max() ?? 0
            if case .relu = node.op {
                spiking.append(i)
                depth[node.output] = d + 1
            } else {
                depth[node.output] = d
            }
            for name in node.inputs { lastUse[name] = i }
        }
        guard !spiking.isEmpty else {
            throw GraphError("the model has no Relu, so there is no spiking layer to convert")
        }
        self.spikingNodes = spiking
        self.layerNames = LayerNames.unique(spiking.map { graph.nodes[$0].scope ?? LayerScope(nodeName: graph.nodes[$0].name) },
                                            tensors: spiking.map { graph.nodes[$0].output })
        self.depth = depth
        self.lastUse = lastUse
        self.highestLayer = highest
        var filters: [Int: WinogradFilter] = [:]
        if useWinograd {
            for (i, node) in graph.nodes.enumerated() {
                if case .conv(let c) = node.op,
                   let f = WinogradFilter(c, choice: winogradTiles, outputShape: shapes[node.output] ?? []) {
                    filters[i] = f
                }
            }
        }
        self.winograd = filters
        self.synapticNodes = Self.synapticNodes(graph, shapes: shapes, spiking: spiking)
        self.synapticIndex = Dictionary(uniqueKeysWithValues: synapticNodes.enumerated().map { ($1.node, $0) })
    }

    /// Whether any convolution runs on the Winograd path.
    public var usesWinograd: Bool { !winograd.isEmpty }

    public var name: String { graph.name }
    public var inputShape: [Int] { graph.inputShape }
    public var outputCount: Int { shapes[graph.output]!.reduce(1, *) }
    public var layerCount: Int { spikingNodes.count }

    public func node(ofLayer l: Int) -> Node { graph.nodes[spikingNodes[l]] }

    /// Tensor names of the spiking layers (the keys of θ files).
    public var layerTensors: [String] { spikingNodes.map { graph.nodes[$0].output } }

    /// Windows in global time for a config (docs/numerics.md §2): a layer at depth d starts at (d-1)·L.
    public func layout(_ config: ConversionConfig) -> NetworkLayout {
        let L = config.silent
        let infos = spikingNodes.enumerated().map { (l, i) -> SpikingLayerInfo in
            let node = graph.nodes[i]
            let shape = shapes[node.output]!
            let d = depth[node.output]!
            return SpikingLayerInfo(index: l, name: layerNames[l], tensor: node.output, shape: shape,
                                    neurons: shape.reduce(1, *), windowStart: (d - 1) * L, depth: d)
        }
        let outDepth = depth[graph.output] ?? 0
        return NetworkLayout(modelName: graph.name, config: config, inputShape: graph.inputShape, layers: infos,
                             outputStart: outDepth * L, latency: config.T + (outDepth + 1) * L,
                             outputCount: outputCount)
    }
}
