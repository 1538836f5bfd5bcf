import XCTest
@testable import CSSCore

/// Attribution (docs/numerics.md §12), operation counts (§13) and anytime accuracy (§14) on
/// hand-computable cases.
final class AttributionTests: XCTestCase {
    /// §8's coupling example, X = [0, 2] at β 2, T 2, θ 1: decoupled, the neuron gets X' = [1, 0],
    /// keeps its target 2, fires at slot 0 and ends with residual 0 and no coupling.
    func testDecoupledCouplingExampleHasNoCoupling() throws {
        let config = ConversionConfig(T: 2, beta: 2, silent: 0, negative: true)
        let z = Activation(shape: [1], columns: 2, data: [0, 2])
        let plain = TSALayer.run(z: z, theta: 1, params: TSAParameters(config), batch: 1, layer: 0, ann: nil,
                                 sampleOffset: 0, recorder: nil)
        XCTAssertEqual(plain.0.data, [0, 1], "coupled: fires only at slot 1")
        XCTAssertEqual(plain.1.coupling, 1)
        let decoupled = LayerSubstitution.decoupled(0).input(of: 0, z, ann: nil, batch: 1, config: config)
        XCTAssertEqual(decoupled.data, [1, 0], "(w0·0 + w1·2)/w0 in the first step")
        let (out, stats) = TSALayer.run(z: decoupled, theta: 1, params: TSAParameters(config), batch: 1, layer: 0,
                                        ann: nil, sampleOffset: 0, recorder: nil)
        XCTAssertEqual(out.data, [1, 0], "fires at slot 0")
        XCTAssertEqual(stats.coupling, 0)
        XCTAssertEqual(stats.overflow, 0)
        XCTAssertEqual(stats.residuals.percentile(99.9), 0, accuracy: 1e-6)
    }

    /// An exact layer's target is the ANN's activation in θ units, whatever its input was.
    func testExactLayerTargetIsTheANN() throws {
        let config = ConversionConfig(T: 4, beta: 1.5, silent: 1, negative: true)
        let theta = 0.25
        // Two samples, two channels of two neurons: z is garbage, the ANN's activation decides.
        let z = Activation(shape: [2, 2], columns: 8, data: (0..<32).map { Float($0 % 5) - 2 })
        let ann = Activation(shape: [2, 2], columns: 2, data: [0, 0.5, 1.25, 2, 0.75, 0, 3, 0.1])
        let x = LayerSubstitution.exactPrefix(1).input(of: 0, z, ann: ann, batch: 2, config: config)
        // h_final = β^(T+L−1)·X'[0] and a = h_final / β^L = ANN/θ.
        let w0 = config.slotWeights[0]
        for c in 0..<2 {
            for e in 0..<4 {
                let slot0 = Double(x.data[c * 4 * 4 + e])
                let target = slot0 * w0 / theta
                XCTAssertEqual(target, Double(ann.data[c * 4 + e]) / theta, accuracy: 1e-5)
                for k in 1..<4 { XCTAssertEqual(x.data[c * 4 * 4 + k * 4 + e], 0) }
            }
        }
        XCTAssertEqual(LayerSubstitution.exactPrefix(2).modes, [0: .exact, 1: .exact])
        XCTAssertTrue(LayerSubstitution.none.input(of: 0, z, ann: nil, batch: 2, config: config).data == z.data)
    }

    func testCulpritIsTheSmallestPrefixThatStaysRight() {
        XCTAssertEqual(AttributionReport.culprit([true, true, true]), 0)
        XCTAssertEqual(AttributionReport.culprit([false, true, true]), 1)
        XCTAssertEqual(AttributionReport.culprit([false, false, true]), 2)
        XCTAssertEqual(AttributionReport.culprit([true, false, true]), 2, "right at 0 but not for every larger prefix")
        XCTAssertEqual(AttributionReport.culprit([false, true, false]), nil, "wrong with every layer exact")
    }

    func testAnytimeFromSlotPredictions() {
        // Three samples, T 3: predictions from slots 0..k.
        let p = [0, 1, 1,   // settles at slot 1
                 2, 2, 2,   // settled from slot 0
                 1, 0, 0]   // settles at slot 1, wrong label
        let a = AnytimeReport(slotPredictions: p, T: 3, labels: [1, 2, 1], ann: [1, 2, 0])
        XCTAssertEqual(a.accuracy!, [2.0 / 3, 2.0 / 3, 2.0 / 3])
        XCTAssertEqual(a.agreement, [1.0 / 3, 1, 1])
        XCTAssertEqual(a.settledBySlot, [1, 3, 3])
        let noLabels = AnytimeReport(slotPredictions: p, T: 3, labels: nil, ann: [])
        XCTAssertNil(noLabels.accuracy)
        XCTAssertEqual(noLabels.agreement, [])
    }

    /// MACs by hand: a 3×3 conv 2→3 channels on 4×4 with padding 1, a Pad lowered to a depthwise
    /// identity conv (not counted), a dense 48→10 read by the output.
    func testMACsAndSynapticOpsByHand() throws {
        let conv = Conv2D(weight: [Float](repeating: 0.1, count: 3 * 2 * 9), bias: nil, outChannels: 3, inChannels: 2,
                          kernel: (3, 3), pads: (1, 1, 1, 1))
        let pad = Conv2D(weight: [1, 1, 1], bias: nil, outChannels: 3, inChannels: 3, kernel: (1, 1),
                         pads: (0, 0, 0, 0), groups: 3)
        let graph = Graph(name: "ops", input: "x", inputShape: [2, 4, 4], output: "y", nodes: [
            Node(name: "conv", op: .conv(conv), inputs: ["x"], output: "c", origin: "Conv"),
            Node(name: "relu", op: .relu, inputs: ["c"], output: "r"),
            Node(name: "pad", op: .conv(pad), inputs: ["r"], output: "p", origin: "Pad"),
            Node(name: "flat", op: .reshape([48]), inputs: ["p"], output: "f"),
            Node(name: "fc", op: .dense(weight: [Float](repeating: 0.01, count: 480), bias: nil, outFeatures: 10,
                                        inFeatures: 48), inputs: ["f"], output: "y", origin: "Gemm"),
        ])
        let net = try Network(graph)
        XCTAssertEqual(net.synapticNodes.map(\.name), ["conv", "fc"])
        XCTAssertEqual(net.synapticNodes.map(\.macs), [3 * 16 * 18, 480])
        XCTAssertEqual(net.synapticNodes.map(\.layer), [0, nil])
        let config = ConversionConfig(T: 3, beta: 1.5, silent: 1)
        // 10 events into the conv over 2 samples: 5 per sample × fan-out 864/32.
        let ops = net.operations(events: [10, 6], samples: 2, config: config)
        XCTAssertEqual(ops.nodes[0].synapticOps, 5 * 864.0 / 32, accuracy: 1e-9)
        XCTAssertEqual(ops.nodes[1].synapticOps, 3 * 480.0 / 48, accuracy: 1e-9)
        XCTAssertEqual(ops.counts(layer: 0).macs, 864)
        XCTAssertEqual(ops.counts(layer: 0).neuronSteps, 48 * 4)
        XCTAssertEqual(ops.counts(layer: nil).macs, 480)
        XCTAssertEqual(ops.total.macs, 864 + 480)
        let (ann, snn) = ops.total.energy(.standard)
        XCTAssertEqual(ann, 1344 * 4.6, accuracy: 1e-9)
        XCTAssertEqual(snn, (135 + 30) * 0.9, accuracy: 1e-9)

        // The simulator counts the events: the conv reads the encoder's spikes.
        let x: [Float] = (0..<64).map { $0 % 3 == 0 ? 0 : Float($0 % 7) / 7 }
        let sim = Simulator(network: net)
        let theta = Amplitudes(input: 1.0 / config.sumWeights, layers: [0.05])
        let snnBatch = try sim.simulate(x[...], count: 2, amplitudes: theta, config: config, ann: nil, sampleOffset: 0,
                                        countEvents: true)
        let (encoded, spikes) = sim.encode(x[...], count: 2, theta0: theta.input, config: config)
        XCTAssertEqual(snnBatch.inputEvents[0], spikes.filter { $0 != 0 }.count)
        XCTAssertEqual(snnBatch.inputEvents[0], encoded.nonzeroCount)
        XCTAssertEqual(snnBatch.slotPredictions.count, 2 * 3)
        XCTAssertEqual(snnBatch.slotPredictions[2], argmax(snnBatch.outputs[0..<10]), "the last slot's is the final")
    }
}
