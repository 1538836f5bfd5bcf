#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSSCore

/// The networks `cssdbg bench` builds in process (random weights, fixed seed), so no large
/// model file lives in git. Definitions match `bench/torch_reference.py`.
enum ReferenceNetworks {
    /// VGG-16 for 3×32×32 with AveragePool instead of MaxPool: 13 conv + 3 linear layers.
    static func vgg16(seed: UInt64 = 1) -> Graph {
        var b = Builder(seed: seed, input: [3, 32, 32])
        for block in [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]] {
            for c in block { b.convReLU(c) }
            b.pool()
        }
        b.flatten()
        b.dense(512, relu: true)
        b.dense(512, relu: true)
        b.dense(10, relu: false)
        return b.graph(name: "vgg16")
    }

    /// ResNet-18-style network for 3×32×32: 3×3 stem, BasicBlocks [2,2,2,2], 1×1 downsample skips.
    static func resnet18(seed: UInt64 = 1) -> Graph {
        var b = Builder(seed: seed, input: [3, 32, 32])
        b.convReLU(64)
        b.basicBlocks()
        b.globalPool()
        b.dense(10, relu: false)
        return b.graph(name: "resnet18")
    }

    /// torchvision's ResNet-18 for 3×224×224 with an AveragePool stem (MaxPool has no spiking
    /// equivalent): conv 7×7 s2 → ReLU → AvgPool 3×3 s2 p1 → BasicBlocks [2,2,2,2] → GAP → fc 1000.
    /// BatchNorm is folded into the convs (random weights, like the others).
    static func resnet18ImageNet(seed: UInt64 = 1) -> Graph {
        var b = Builder(seed: seed, input: [3, 224, 224])
        b.conv(64, stride: 2, kernel: 7)
        b.relu()
        // torch's AvgPool2d defaults to count_include_pad=True: always divide by 9.
        b.pool(Pool2D(kernel: (3, 3), stride: (2, 2), pads: (1, 1, 1, 1), countIncludePad: true))
        b.basicBlocks()
        b.globalPool()
        b.dense(1000, relu: false)
        return b.graph(name: "resnet18-imagenet")
    }

    /// The built-in networks by the name `cssdbg bench --model` takes.
    static let names = ["vgg16", "resnet18", "resnet18-imagenet"]

    static func named(_ name: String) -> Graph? {
        switch name {
        case "vgg16": vgg16()
        case "resnet18": resnet18()
        case "resnet18-imagenet": resnet18ImageNet()
        default: nil
        }
    }

    /// Multiply-adds ×2 of one ANN forward pass.
    static func flops(_ network: Network) -> Double {
        var total = 0.0
        for node in network.graph.nodes {
            let out = network.shapes[node.output]!
            switch node.op {
            case .conv(let c):
                total += 2 * Double(out.reduce(1, *)) * Double(c.inChannels / c.groups * c.kernel.h * c.kernel.w)
            case .dense(_, _, let o, let i):
                total += 2 * Double(o * i)
            default:
                break
            }
        }
        return total
    }

    struct Builder {
        var rng: UInt64
        var nodes: [Node] = []
        var current = "input"
        var shape: [Int]
        let inputShape: [Int]
        var counter = 0

        init(seed: UInt64, input: [Int]) {
            rng = seed &* 0x9E3779B97F4A7C15 | 1
            shape = input
            inputShape = input
        }

        mutating func uniform() -> Double {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return (Double(rng >> 11) + 0.5) / Double(1 << 53)
        }

        mutating func normal() -> Double {
            sqrt(-2 * log(uniform())) * cos(2 * .pi * uniform())
        }

        mutating func name(_ kind: String) -> String {
            counter += 1
            return "\(kind)\(counter)"
        }

        mutating func conv(_ cout: Int, stride: Int = 1, kernel: Int = 3) {
            let cin = shape[0], fanIn = Double(cin * kernel * kernel)
            let std = (2 / fanIn).squareRoot()
            var w = [Float](repeating: 0, count: cout * cin * kernel * kernel)
            for i in w.indices { w[i] = Float(normal() * std) }
            let bias = (0..<cout).map { _ in Float(normal() * 0.01) }
            let pad = kernel / 2
            let c = Conv2D(weight: w, bias: bias, outChannels: cout, inChannels: cin, kernel: (kernel, kernel),
                           stride: (stride, stride), pads: (pad, pad, pad, pad))
            let out = name("conv")
            nodes.append(Node(name: "/\(out)/Conv", op: .conv(c), inputs: [current], output: out))
            current = out
            shape = [cout, (shape[1] + 2 * pad - kernel) / stride + 1, (shape[2] + 2 * pad - kernel) / stride + 1]
        }

        /// ResNet-18's four stages of two BasicBlocks (3×3 convs, 1×1 projection skips).
        mutating func basicBlocks() {
            for (stage, c) in [64, 128, 256, 512].enumerated() {
                for block in 0..<2 {
                    let stride = (stage > 0 && block == 0) ? 2 : 1
                    let skipIn = current, inC = shape[0], inShape = shape
                    conv(c, stride: stride)
                    relu()
                    conv(c, stride: 1)
                    let main = current
                    var skip = skipIn
                    if stride != 1 || inC != c {
                        current = skipIn
                        shape = inShape
                        conv(c, stride: stride, kernel: 1)
                        skip = current
                    }
                    add(main, skip, shape: [c, (inShape[1] - 1) / stride + 1, (inShape[2] - 1) / stride + 1])
                    relu()
                }
            }
        }

        mutating func relu() {
            let out = name("relu")
            nodes.append(Node(name: "/\(out)/Relu", op: .relu, inputs: [current], output: out))
            current = out
        }

        mutating func convReLU(_ cout: Int) {
            conv(cout)
            relu()
        }

        mutating func pool(_ p: Pool2D = Pool2D(kernel: (2, 2), stride: (2, 2))) {
            let out = name("pool")
            nodes.append(Node(name: "/\(out)/AveragePool", op: .averagePool(p), inputs: [current], output: out))
            current = out
            shape = [shape[0], (shape[1] + p.pads.top + p.pads.bottom - p.kernel.h) / p.stride.h + 1,
                     (shape[2] + p.pads.left + p.pads.right - p.kernel.w) / p.stride.w + 1]
        }

        mutating func globalPool() {
            let out = name("gap")
            nodes.append(Node(name: "/\(out)/GlobalAveragePool", op: .globalAveragePool(keepSpatial: false),
                              inputs: [current], output: out))
            current = out
            shape = [shape[0]]
        }

        mutating func flatten() {
            let n = shape.reduce(1, *)
            let out = name("flatten")
            nodes.append(Node(name: "/\(out)/Flatten", op: .reshape([n]), inputs: [current], output: out))
            current = out
            shape = [n]
        }

        mutating func add(_ a: String, _ b: String, shape s: [Int]) {
            let out = name("add")
            nodes.append(Node(name: "/\(out)/Add", op: .add, inputs: [a, b], output: out))
            current = out
            shape = s
        }

        mutating func dense(_ outF: Int, relu withReLU: Bool) {
            let inF = shape.reduce(1, *)
            let std = (2 / Double(inF)).squareRoot()
            var w = [Float](repeating: 0, count: outF * inF)
            for i in w.indices { w[i] = Float(normal() * std) }
            let bias = (0..<outF).map { _ in Float(normal() * 0.01) }
            let out = name("fc")
            nodes.append(Node(name: "/\(out)/Gemm", op: .dense(weight: w, bias: bias, outFeatures: outF, inFeatures: inF),
                              inputs: [current], output: out))
            current = out
            shape = [outF]
            if withReLU { relu() }
        }

        func graph(name: String) -> Graph {
            Graph(name: name, input: "input", inputShape: inputShape, output: current, nodes: nodes)
        }
    }
}
