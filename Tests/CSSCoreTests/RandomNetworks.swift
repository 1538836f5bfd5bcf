@testable import CSSCore

/// Deterministic random networks and inputs for tests (a small LCG, so runs repeat exactly).
enum RandomNetworks {
    struct LCG {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
    }

    static func values(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var g = LCG(state: seed)
        return (0..<n).map { _ in g.next() * scale }
    }

    static func mlp(inputs: Int, hidden: [Int], outputs: Int, seed: UInt64) throws -> Network {
        var nodes: [Node] = []
        var prev = "x", width = inputs
        for (i, h) in hidden.enumerated() {
            let w = values(h * width, seed: seed + UInt64(i), scale: 1 / Float(width).squareRoot())
            nodes.append(Node(name: "/fc\(i)/Gemm", op: .dense(weight: w, bias: values(h, seed: seed + 100 + UInt64(i), scale: 0.1),
                                                              outFeatures: h, inFeatures: width),
                              inputs: [prev], output: "fc\(i)"))
            nodes.append(Node(name: "/relu\(i)/Relu", op: .relu, inputs: ["fc\(i)"], output: "relu\(i)"))
            prev = "relu\(i)"
            width = h
        }
        nodes.append(Node(name: "/out/Gemm", op: .dense(weight: values(outputs * width, seed: seed + 999), bias: nil,
                                                       outFeatures: outputs, inFeatures: width),
                          inputs: [prev], output: "y"))
        return try Network(Graph(name: "mlp", input: "x", inputShape: [inputs], output: "y", nodes: nodes))
    }

    /// A small residual CNN: conv-relu, conv + skip, relu, pool, dense.
    static func resnet(seed: UInt64) throws -> Network {
        let c = 4
        func conv(_ cin: Int, _ cout: Int, _ s: UInt64) -> Op {
            .conv(Conv2D(weight: values(cout * cin * 9, seed: s, scale: 0.4), bias: values(cout, seed: s + 1, scale: 0.1),
                         outChannels: cout, inChannels: cin, kernel: (3, 3), pads: (1, 1, 1, 1)))
        }
        let nodes = [
            Node(name: "/stem/Conv", op: conv(1, c, seed), inputs: ["x"], output: "c0"),
            Node(name: "/stem/Relu", op: .relu, inputs: ["c0"], output: "r0"),
            Node(name: "/block/conv/Conv", op: conv(c, c, seed + 10), inputs: ["r0"], output: "c1"),
            Node(name: "/block/bn", op: .affine(scale: values(c, seed: 5, scale: 0.5).map { $0 + 1 }, scaleBroadcast: .perChannel,
                                                shift: values(c, seed: 6, scale: 0.1), shiftBroadcast: .perChannel),
                 inputs: ["c1"], output: "b1"),
            Node(name: "/block/Add", op: .add, inputs: ["b1", "r0"], output: "a1"),
            Node(name: "/block/Relu", op: .relu, inputs: ["a1"], output: "r1"),
            Node(name: "/pool", op: .averagePool(Pool2D(kernel: (2, 2), stride: (2, 2))), inputs: ["r1"], output: "p"),
            Node(name: "/flat", op: .reshape([c * 9]), inputs: ["p"], output: "f"),
            Node(name: "/fc", op: .dense(weight: values(3 * c * 9, seed: seed + 20, scale: 0.3), bias: [0.1, 0, -0.1],
                                         outFeatures: 3, inFeatures: c * 9), inputs: ["f"], output: "y"),
        ]
        return try Network(Graph(name: "resnet", input: "x", inputShape: [1, 6, 6], output: "y", nodes: nodes))
    }

    /// A CNN whose inner convolutions take the Winograd path (16 channels, 3×3, stride 1):
    /// conv 3→16, conv 16→16, pool, conv 16→16, flatten, dense 64, dense 10, on 3×8×8 inputs.
    static func winogradCNN(seed: UInt64, winograd: Bool = true, tiles: WinogradTiles = .auto) throws -> Network {
        let c = 16
        func conv(_ cin: Int, _ cout: Int, _ s: UInt64) -> Op {
            .conv(Conv2D(weight: values(cout * cin * 9, seed: s, scale: 1.2 / Float(cin * 9).squareRoot()),
                         bias: values(cout, seed: s + 1, scale: 0.05),
                         outChannels: cout, inChannels: cin, kernel: (3, 3), pads: (1, 1, 1, 1)))
        }
        let nodes = [
            Node(name: "/conv1/Conv", op: conv(3, c, seed), inputs: ["x"], output: "c1"),
            Node(name: "/relu1/Relu", op: .relu, inputs: ["c1"], output: "r1"),
            Node(name: "/conv2/Conv", op: conv(c, c, seed + 10), inputs: ["r1"], output: "c2"),
            Node(name: "/relu2/Relu", op: .relu, inputs: ["c2"], output: "r2"),
            Node(name: "/pool", op: .averagePool(Pool2D(kernel: (2, 2), stride: (2, 2))), inputs: ["r2"], output: "p"),
            Node(name: "/conv3/Conv", op: conv(c, c, seed + 20), inputs: ["p"], output: "c3"),
            Node(name: "/relu3/Relu", op: .relu, inputs: ["c3"], output: "r3"),
            Node(name: "/flat", op: .reshape([c * 16]), inputs: ["r3"], output: "f"),
            Node(name: "/fc1", op: .dense(weight: values(64 * c * 16, seed: seed + 30, scale: 0.1), bias: nil,
                                          outFeatures: 64, inFeatures: c * 16), inputs: ["f"], output: "d1"),
            Node(name: "/relu4/Relu", op: .relu, inputs: ["d1"], output: "r4"),
            Node(name: "/fc2", op: .dense(weight: values(10 * 64, seed: seed + 40, scale: 0.3), bias: nil,
                                          outFeatures: 10, inFeatures: 64), inputs: ["r4"], output: "y"),
        ]
        return try Network(Graph(name: "wcnn", input: "x", inputShape: [3, 8, 8], output: "y", nodes: nodes),
                           winograd: winograd, winogradTiles: tiles)
    }

    static func samples(count: Int, shape: [Int], seed: UInt64) -> SampleSet {
        SampleSet(inputs: values(count * shape.reduce(1, *), seed: seed, scale: 2), count: count, sampleShape: shape)
    }
}
