/// The network as the simulator sees it: a topologically ordered list of nodes over named
/// tensors. Importers (ONNX) lower their formats to this; everything here is either an affine
/// map that acts on each time step separately or a `relu`, which the converter turns into a
/// spiking layer.
///
/// Shapes never include the batch dimension: a tensor is `[C, H, W]` (images) or `[N]` (vectors).
public struct Graph: Sendable {
    public var name: String
    public var input: String
    public var inputShape: [Int]
    public var output: String
    public var nodes: [Node]

    public init(name: String, input: String, inputShape: [Int], output: String, nodes: [Node]) {
        self.name = name
        self.input = input
        self.inputShape = inputShape
        self.output = output
        self.nodes = nodes
    }
}

/// One operation. `inputs` are tensor names (activations only; weights live in `op`).
public struct Node: Sendable {
    /// Display name, e.g. the ONNX node name.
    public var name: String
    public var op: Op
    public var inputs: [String]
    public var output: String
    /// For a relu: where it sits in the exported model, when the importer knows more than the
    /// name says (see `LayerNames`).
    public var scope: LayerScope?
    /// The operator the importer lowered this node from (ONNX `op_type`), when there was one: the
    /// operation counts (docs/numerics.md §13) count Conv, Gemm and MatMul nodes, not a Pad that
    /// became a depthwise identity convolution.
    public var origin: String?

    public init(name: String, op: Op, inputs: [String], output: String, scope: LayerScope? = nil, origin: String? = nil) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.output = output
        self.scope = scope
        self.origin = origin
    }
}

/// How a constant operand spreads over a sample of shape `[C, ...]`.
public enum Broadcast: Sendable, Equatable {
    /// One value for everything.
    case scalar
    /// One value per channel (first dimension).
    case perChannel
    /// One value per element of the sample.
    case full
}

public struct Conv2D: Sendable {
    /// `[outChannels, inChannels / groups, kernelH, kernelW]`, row-major.
    public var weight: [Float]
    public var bias: [Float]?
    public var outChannels: Int
    public var inChannels: Int
    public var kernel: (h: Int, w: Int)
    public var stride: (h: Int, w: Int)
    /// Explicit padding (ONNX order: top, left, bottom, right), `auto_pad` already resolved.
    public var pads: (top: Int, left: Int, bottom: Int, right: Int)
    public var dilation: (h: Int, w: Int)
    public var groups: Int

    public init(weight: [Float], bias: [Float]?, outChannels: Int, inChannels: Int,
                kernel: (h: Int, w: Int), stride: (h: Int, w: Int) = (1, 1),
                pads: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0),
                dilation: (h: Int, w: Int) = (1, 1), groups: Int = 1) {
        self.weight = weight
        self.bias = bias
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.kernel = kernel
        self.stride = stride
        self.pads = pads
        self.dilation = dilation
        self.groups = groups
    }
}

public struct Pool2D: Sendable {
    public var kernel: (h: Int, w: Int)
    public var stride: (h: Int, w: Int)
    public var pads: (top: Int, left: Int, bottom: Int, right: Int)
    /// ONNX `count_include_pad`: divide by the full kernel area even where it covers padding.
    public var countIncludePad: Bool

    public init(kernel: (h: Int, w: Int), stride: (h: Int, w: Int),
                pads: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0),
                countIncludePad: Bool = false) {
        self.kernel = kernel
        self.stride = stride
        self.pads = pads
        self.countIncludePad = countIncludePad
    }
}

public enum Op: Sendable {
    /// 2-D convolution on `[C, H, W]`.
    case conv(Conv2D)
    /// Fully connected: `y = W x + b`, weight `[out, in]` row-major. Gemm and MatMul lower to this.
    case dense(weight: [Float], bias: [Float]?, outFeatures: Int, inFeatures: Int)
    /// `y = x * scale + shift` elementwise with broadcasting. BatchNormalization and
    /// Add/Sub/Mul/Div by constants lower to this. `shift` is the constant term.
    case affine(scale: [Float]?, scaleBroadcast: Broadcast, shift: [Float]?, shiftBroadcast: Broadcast)
    /// Sum of two activation tensors of the same shape (residual connection).
    case add
    case averagePool(Pool2D)
    /// Mean over H and W; output `[C, 1, 1]` or `[C]` (`keepSpatial` false).
    case globalAveragePool(keepSpatial: Bool)
    /// Reinterpret the sample's elements (row-major) with a new shape; Flatten lowers to this.
    case reshape([Int])
    case identity
    /// Every Relu becomes a spiking layer (TSA-ReLU) in the converted network.
    case relu

    /// Short operator name for messages.
    public var kind: String {
        switch self {
        case .conv: "Conv"
        case .dense: "Dense"
        case .affine: "Affine"
        case .add: "Add"
        case .averagePool: "AveragePool"
        case .globalAveragePool: "GlobalAveragePool"
        case .reshape: "Reshape"
        case .identity: "Identity"
        case .relu: "Relu"
        }
    }
}
