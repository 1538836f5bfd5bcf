import XCTest
@testable import CSSCore

/// The hand-computable checks of docs/numerics.md §8 and the invariants around them.
final class WorkedChecksTests: XCTestCase {
    /// Definition 2: two inputs into one TSA-ReLU neuron with weights 1, 1, then a 1→1 readout.
    static func couplingNetwork() throws -> Network {
        try Network(Graph(name: "coupling", input: "x", inputShape: [2], output: "y", nodes: [
            Node(name: "/fc/Gemm", op: .dense(weight: [1, 1], bias: [0], outFeatures: 1, inFeatures: 2),
                 inputs: ["x"], output: "z"),
            Node(name: "/relu/Relu", op: .relu, inputs: ["z"], output: "hidden"),
            Node(name: "/out/Gemm", op: .dense(weight: [1], bias: [0], outFeatures: 1, inFeatures: 1),
                 inputs: ["hidden"], output: "y"),
        ]))
    }

    func testEncoderSpikesForWorkedInputs() throws {
        let net = try Network(Graph(name: "enc", input: "x", inputShape: [1], output: "r",
                                    nodes: [Node(name: "r", op: .relu, inputs: ["x"], output: "r")]))
        let sim = Simulator(network: net)
        let config = ConversionConfig(T: 3, beta: 2, silent: 0)
        let (_, s5) = sim.encode([5], count: 1, theta0: 1, config: config)
        XCTAssertEqual(s5, [1, 0, 1])
        let (_, s79) = sim.encode([7.9], count: 1, theta0: 1, config: config)
        XCTAssertEqual(s79, [1, 1, 1])
        let (_, sNeg) = sim.encode([-5], count: 1, theta0: 1, config: config)
        XCTAssertEqual(sNeg, [-1, 0, -1], "negative inputs give negative spikes")
    }

    /// The batch encoder (four values a vector, blocks of a sample's channel in parallel) against
    /// `encodeValue` one value at a time: every spike and every column, bit for bit, on planes
    /// of more than one block with a length that is not a multiple of 4, ties (±θ_0·Σw) and the
    /// values just short of them among random inputs.
    func testBatchEncoderEqualsValueByValue() throws {
        let shape = [3, 70, 65], size = 3 * 70 * 65, hw = 70 * 65, B = 3
        let net = try Network(Graph(name: "enc", input: "x", inputShape: shape, output: "r",
                                    nodes: [Node(name: "r", op: .relu, inputs: ["x"], output: "r")]))
        let sim = Simulator(network: net)
        XCTAssertGreaterThan(hw, Simulator.encoderBlock)
        for (T, beta) in [(10, 1.5), (7, 2.0), (16, 1.25)] {
            let config = ConversionConfig(T: T, beta: beta, silent: 0)
            let theta0 = 2.5 / config.sumWeights
            var x = RandomNetworks.values(B * size, seed: UInt64(T), scale: 3)
            for i in stride(from: 0, to: x.count, by: 97) { x[i] = 2.5 }
            for i in stride(from: 13, to: x.count, by: 89) { x[i] = -2.5 }
            for i in stride(from: 29, to: x.count, by: 83) { x[i] = Float(2.5 * (1 - 4e-6 / config.sumWeights)) }
            let (act, spikes) = sim.encode(x[...], count: B, theta0: theta0, config: config)
            var expectedSpikes = [Int8](repeating: 9, count: B * size * T)
            var expectedColumns = [Float](repeating: .nan, count: B * size * T)
            for b in 0..<B {
                for e in 0..<size {
                    let c = e / hw, p = e % hw
                    Simulator.encodeValue(x[b * size + e], theta0: theta0, beta: beta, T: T) { t, s in
                        expectedSpikes[(b * size + e) * T + t] = s
                        expectedColumns[(c * T * B + t * B + b) * hw + p] = Float(theta0) * Float(s)
                    }
                }
            }
            XCTAssertEqual(spikes, expectedSpikes, "T=\(T) β=\(beta)")
            XCTAssertEqual(act.data.map(\.bitPattern), expectedColumns.map(\.bitPattern), "T=\(T) β=\(beta)")
            XCTAssertEqual(act.columns, T * B)
        }
    }

    /// docs/numerics.md §4, ties fire: x = ±θ_0·Σw with θ_0 = p_0/Σw (how calibration sets it,
    /// p_0 the input's maximum) encodes as T spikes of its sign, for every T and β, while a value
    /// a little short of a tie does not fire at the last slot.
    func testEncoderTiesFireForEveryTAndBeta() throws {
        let net = try Network(Graph(name: "enc", input: "x", inputShape: [1], output: "r",
                                    nodes: [Node(name: "r", op: .relu, inputs: ["x"], output: "r")]))
        let sim = Simulator(network: net)
        // Saturated normalised pixels and other calibration maxima; 8-bit levels among them.
        let maxima: [Float] = [1, 2.0620, 1.8453612, 255.0 / 255.0 * 2.6587, 0.1, 7.25, 3.0e-3, 1234.5]
        for beta in [1.25, 1.5, 2.0] {
            for T in 1...16 {
                let config = ConversionConfig(T: T, beta: beta, silent: 0)
                let sw = config.sumWeights
                for p in maxima {
                    let theta0 = Double(p) / sw
                    let (act, s) = sim.encode([p, -p], count: 2, theta0: theta0, config: config)
                    XCTAssertEqual(Array(s[0..<T]), [Int8](repeating: 1, count: T), "x=\(p) T=\(T) β=\(beta)")
                    XCTAssertEqual(Array(s[T...]), [Int8](repeating: -1, count: T), "x=-\(p) T=\(T) β=\(beta)")
                    XCTAssertEqual(act.data.count, 2 * T)
                    // Encoded exactly: Σ w_i θ_0 S_i = ±p.
                    let e = zip(s[0..<T], config.slotWeights).map { Double($0) * $1 }.reduce(0, +) * theta0
                    XCTAssertEqual(e, Double(p), accuracy: Double(p) * 1e-12)
                    // Below the tie by more than the tolerance: the last slot stays silent.
                    let short = Float(Double(p) * (1 - 4e-6 / sw))
                    if short < p {
                        let (_, s2) = sim.encode([short], count: 1, theta0: theta0, config: config)
                        XCTAssertEqual(s2.last, 0, "x just short of the tie, T=\(T) β=\(beta)")
                    }
                }
            }
        }
    }

    /// Within 1e-6 of ±1 counts as reaching it; further away does not.
    func testEncoderTieTolerance() throws {
        var fired: [Int8] = []
        Simulator.encodeValue(Float(1 - 5e-7), theta0: 1, beta: 2, T: 1) { _, s in fired.append(s) }
        Simulator.encodeValue(Float(-1 + 5e-7), theta0: 1, beta: 2, T: 1) { _, s in fired.append(s) }
        Simulator.encodeValue(Float(1 - 3e-6), theta0: 1, beta: 2, T: 1) { _, s in fired.append(s) }
        Simulator.encodeValue(Float(-1 + 3e-6), theta0: 1, beta: 2, T: 1) { _, s in fired.append(s) }
        XCTAssertEqual(fired, [1, -1, 0, 0])
    }

    /// Theorem 2: the encoder's error |x/θ0 − Σ w S| stays below one spike's worth for |x/θ0| < β^T.
    func testEncoderErrorBound() throws {
        let net = try Network(Graph(name: "enc", input: "x", inputShape: [1], output: "r",
                                    nodes: [Node(name: "r", op: .relu, inputs: ["x"], output: "r")]))
        let sim = Simulator(network: net)
        var rng = SystemRandomNumberGenerator()
        for (T, beta) in [(10, 1.5), (6, 2.0), (16, 1.25)] {
            let config = ConversionConfig(T: T, beta: beta, silent: 1)
            let limit = Float(pow(beta, Double(T))) * 0.999
            let w = config.slotWeights
            for _ in 0..<500 {
                let x = Float.random(in: -limit...limit, using: &rng)
                let (_, s) = sim.encode([x], count: 1, theta0: 1, config: config)
                let e = zip(s, w).map { Double($0) * $1 }.reduce(0, +)
                XCTAssertLessThan(abs(Double(x) - e), 1.0 + 1e-4, "x=\(x) T=\(T) β=\(beta)")
            }
        }
    }

    func traceCoupling(silent: Int, negative: Bool) throws -> LayerTrace {
        let ev = Evaluator(network: try Self.couplingNetwork())
        let data = SampleSet(inputs: [1, 1], count: 1, sampleShape: [2])
        let config = ConversionConfig(T: 2, beta: 2, silent: silent, negative: negative)
        let trace = try ev.trace(data, sample: 0, amplitudes: Amplitudes(input: 1, layers: [1]), config: config)
        XCTAssertEqual(trace.encoder.spikes, [0, 1, 0, 1], "both inputs spike only at the last slot")
        return trace.layers[0]
    }

    func testCouplingExampleWithoutSilentPeriod() throws {
        for negative in [true, false] {
            let t = try traceCoupling(silent: 0, negative: negative)
            XCTAssertEqual(t.input, [0, 2])
            XCTAssertEqual(t.spikes, [0, 1])
            XCTAssertEqual(t.encoded, [1])
            XCTAssertEqual(t.target, [2])
            XCTAssertEqual(t.residual(neuron: 0), 1)
            XCTAssertEqual(t.margins, [2, 0, 0])
        }
        let report = try couplingReport(silent: 0)
        XCTAssertEqual(report.layers[0].coupling, 1)
        XCTAssertEqual(report.layers[0].overflow, 0)
        XCTAssertEqual(report.layers[0].firstViolationByStep, [0, 1, 0])
        XCTAssertEqual(report.layers[0].violationsByStep, [0, 1, 1])
        XCTAssertEqual(report.hotspots.first?.firstViolationStep, 1)
        XCTAssertEqual(report.hotspots.first?.kind, .coupling)
    }

    func testCouplingExampleWithSilentPeriod() throws {
        let t = try traceCoupling(silent: 1, negative: true)
        XCTAssertEqual(t.spikes, [1, 0])
        XCTAssertEqual(t.encoded, [2])
        XCTAssertEqual(t.residual(neuron: 0), 0)
        XCTAssertEqual(t.margins, [2, 2, 2, 1])
        let report = try couplingReport(silent: 1)
        XCTAssertEqual(report.layers[0].coupling + report.layers[0].overflow, 0)
        XCTAssertEqual(report.layout.latency, 2 + 2 * 1)
    }

    func couplingReport(silent: Int) throws -> DatasetReport {
        let ev = Evaluator(network: try Self.couplingNetwork())
        let data = SampleSet(inputs: [1, 1], count: 1, sampleShape: [2])
        return try ev.evaluate(data, amplitudes: Amplitudes(input: 1, layers: [1]),
                               config: ConversionConfig(T: 2, beta: 2, silent: silent))
    }

    /// u[T] = target − encoded, and the last margin column is the residual check.
    func testResidualIsTargetMinusEncodedOnRandomNetwork() throws {
        let net = try RandomNetworks.mlp(inputs: 12, hidden: [16, 8], outputs: 4, seed: 7)
        let ev = Evaluator(network: net)
        let data = RandomNetworks.samples(count: 5, shape: [12], seed: 3)
        let config = ConversionConfig()
        let theta = try ev.calibrate(data, config: config)
        for s in 0..<data.count {
            let trace = try ev.trace(data, sample: s, amplitudes: theta, config: config)
            for layer in trace.layers {
                let w = config.slotWeights
                for n in 0..<layer.neurons {
                    let e = (0..<config.T).map { Double(layer.spike(neuron: n, slot: $0)) * w[$0] }.reduce(0, +)
                    XCTAssertEqual(Double(layer.encoded[n]), e, accuracy: 1e-4)
                    let u = layer.residual(neuron: n)
                    XCTAssertEqual(layer.margin(neuron: n, k0: config.window), 1 - abs(u), accuracy: 1e-5)
                    XCTAssertEqual(layer.margin(neuron: n, k0: 0), Float(1 + config.sumWeights) - abs(layer.target[n]),
                                   accuracy: 1e-3)
                }
            }
        }
    }

    func testLayoutWindowsAndLatency() throws {
        let net = try RandomNetworks.mlp(inputs: 4, hidden: [5, 5, 5], outputs: 2, seed: 1)
        let layout = net.layout(ConversionConfig(T: 10, beta: 1.5, silent: 2))
        XCTAssertEqual(layout.layers.map(\.windowStart), [0, 2, 4])
        XCTAssertEqual(layout.outputStart, 6)
        XCTAssertEqual(layout.latency, 10 + 4 * 2)
        XCTAssertEqual(net.layout(ConversionConfig(T: 7, silent: 0)).latency, 7)
    }

    func testAdjustmentFactorBranches() {
        let sw = 100.0
        XCTAssertEqual(AmplitudeAdjustment.factor(residualP999: 0.7, sumWeights: sw), 1)
        XCTAssertEqual(AmplitudeAdjustment.factor(residualP999: 1, sumWeights: sw), 1)
        XCTAssertEqual(AmplitudeAdjustment.factor(residualP999: 1.5, sumWeights: sw), 1 + 4 * 0.5 / sw, accuracy: 1e-12)
        XCTAssertEqual(AmplitudeAdjustment.factor(residualP999: 4, sumWeights: sw), 1 + 2 / sw + 0.04, accuracy: 1e-12)
        XCTAssertEqual(AmplitudeAdjustment.factor(residualP999: 11, sumWeights: sw), 1.1, accuracy: 1e-12)
    }

    func testPercentileMatchesNumPyLinearInterpolation() {
        // numpy.percentile([1, 2, 3, 4, 10], 90) == 7.6 ; ([5], 99.99) == 5
        XCTAssertEqual(percentile([4, 1, 10, 3, 2], 90), 7.6, accuracy: 1e-6)
        XCTAssertEqual(percentile([5], 99.99), 5)
        XCTAssertEqual(percentile([0, 1], 50), 0.5)
    }

    func testQuantileHistogramModeStaysClose() {
        var exact = QuantileAccumulator(exactCapacity: Int.max)
        var folded = QuantileAccumulator(exactCapacity: 1000)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50_000 {
            let v = Float.random(in: 0..<1, using: &rng) < 0.3 ? 0 : Float.random(in: 0.001...50, using: &rng)
            exact.add(v)
            folded.add(v)
        }
        XCTAssertFalse(folded.isExact)
        for q in [50.0, 99.0, 99.9, 99.99] {
            XCTAssertEqual(folded.percentile(q), exact.percentile(q), accuracy: exact.percentile(q) * 0.01)
        }
    }

    func testRatePresetIsPositiveOnlyWithUnitWeights() {
        let rate = ConversionConfig.rate(T: 8)
        XCTAssertEqual(rate.slotWeights, Array(repeating: 1, count: 8))
        XCTAssertEqual(rate.threshold, 1)
        XCTAssertTrue(rate.isRate)
    }
}
