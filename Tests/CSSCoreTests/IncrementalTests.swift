import XCTest
@testable import CSSCore

/// A θ change at layer l recomputes layer l and what it feeds, never the layers before it, and
/// gives exactly what a full recomputation gives.
final class IncrementalTests: XCTestCase {
    /// The two-layer ResNet both tests below tune, its evaluator, data and calibrated θ.
    private func calibratedResNet(samples: Int) throws
        -> (net: Network, ev: Evaluator, data: SampleSet, config: ConversionConfig, theta: Amplitudes) {
        let net = try RandomNetworks.resnet(seed: 11)
        let ev = Evaluator(network: net, batchSize: 4)
        let data = RandomNetworks.samples(count: samples, shape: [1, 6, 6], seed: 5)
        let config = ConversionConfig()
        return (net, ev, data, config, try ev.calibrate(data, config: config))
    }

    func testThetaChangeRecomputesOnlyFromThatLayerOn() throws {
        let (net, ev, data, config, theta) = try calibratedResNet(samples: 10)
        XCTAssertEqual(net.layerCount, 2)

        var cache: EvaluationCache? = EvaluationCache()
        _ = try ev.evaluate(data, amplitudes: theta, config: config, cache: &cache)
        XCTAssertEqual(cache!.layersSimulated.filter { $0 == 0 }.count, 3, "first run simulates every batch")

        var tuned = theta
        tuned.layers[1] *= 1.3
        let incremental = try ev.evaluate(data, amplitudes: tuned, config: config, cache: &cache)
        XCTAssertEqual(Set(cache!.layersSimulated), [1], "layer 0 is not recomputed when θ of layer 1 moves")
        XCTAssertEqual(cache!.layersSimulated.count, 3)
        let full = try ev.evaluate(data, amplitudes: tuned, config: config)
        XCTAssertEqual(incremental, full)

        // Focused-sample path.
        var sampleCache: SimulationCache? = nil
        let (_, first) = try ev.trace(data, sample: 3, amplitudes: theta, config: config, cache: &sampleCache)
        XCTAssertEqual(first, [0, 1])
        let (t2, second) = try ev.trace(data, sample: 3, amplitudes: tuned, config: config, cache: &sampleCache)
        XCTAssertEqual(second, [1])
        let fresh = try ev.trace(data, sample: 3, amplitudes: tuned, config: config)
        for l in 0..<2 {
            XCTAssertEqual(t2.layers[l].membrane, fresh.layers[l].membrane)
            XCTAssertEqual(t2.layers[l].spikes, fresh.layers[l].spikes)
            XCTAssertEqual(t2.layers[l].margins, fresh.layers[l].margins)
        }
        XCTAssertEqual(t2.outputSlots, fresh.outputSlots)

        // Changing θ of the first layer recomputes everything after it; the encoder's θ everything.
        var early = tuned
        early.layers[0] *= 0.9
        _ = try ev.evaluate(data, amplitudes: early, config: config, cache: &cache)
        XCTAssertEqual(Set(cache!.layersSimulated), [0, 1])
    }

    /// Re-traces of one sample reuse its ANN pass (θ does not change it) and give exactly what a
    /// fresh trace gives, with and without the tensor cache.
    func testRetraceReusingTheANNPassEqualsAFreshTrace() throws {
        let (net, ev, data, config, theta) = try calibratedResNet(samples: 6)
        for keep in [true, false] {
            var cache: SimulationCache? = nil
            var ann: ANNBatch? = nil
            _ = try ev.trace(data, sample: 2, amplitudes: theta, config: config, cache: &cache, ann: &ann, keepCache: keep)
            XCTAssertEqual(ann?.activations.count, net.layerCount, "the first trace leaves its ANN pass")
            var tuned = theta
            tuned.layers[0] *= 1.2
            let (again, work) = try ev.trace(data, sample: 2, amplitudes: tuned, config: config, cache: &cache, ann: &ann,
                                             keepCache: keep)
            XCTAssertEqual(work, [0, 1])
            let fresh = try ev.trace(data, sample: 2, amplitudes: tuned, config: config)
            XCTAssertEqual(again.annOutput, fresh.annOutput)
            for l in 0..<net.layerCount {
                XCTAssertEqual(again.layers[l].annActivation, fresh.layers[l].annActivation)
                XCTAssertEqual(again.layers[l].membrane, fresh.layers[l].membrane)
                XCTAssertEqual(again.layers[l].spikes, fresh.layers[l].spikes)
                XCTAssertEqual(again.layers[l].margins, fresh.layers[l].margins)
            }
            XCTAssertEqual(again.outputSlots, fresh.outputSlots)
        }
    }

    func testResultsDoNotDependOnBatchSize() throws {
        let net = try RandomNetworks.resnet(seed: 2)
        let data = RandomNetworks.samples(count: 9, shape: [1, 6, 6], seed: 9)
        let config = ConversionConfig(T: 8, beta: 1.5, silent: 1)
        let theta = try Evaluator(network: net).calibrate(data, config: config)
        let a = try Evaluator(network: net, batchSize: 1).evaluate(data, amplitudes: theta, config: config)
        let b = try Evaluator(network: net, batchSize: 4).evaluate(data, amplitudes: theta, config: config)
        XCTAssertEqual(a.snnPredictions, b.snnPredictions)
        for (x, y) in zip(a.layers, b.layers) {
            XCTAssertEqual(x.violationsByStep, y.violationsByStep)
            XCTAssertEqual(x.spikesPositive, y.spikesPositive)
            XCTAssertEqual(x.residualP999, y.residualP999, accuracy: 1e-5)
        }
    }

    /// With Winograd convolutions too: a sample's numbers do not depend on the batch it is in
    /// (chunks change with the batch size, the arithmetic per tile does not) — bit for bit where
    /// the BLAS rounds a column independently of the product's width (`BLASColumnStability`).
    func testWinogradResultsDoNotDependOnBatchSize() throws {
        let net = try RandomNetworks.winogradCNN(seed: 3)
        XCTAssertEqual(net.winograd.count, 2)
        let data = RandomNetworks.samples(count: 40, shape: [3, 8, 8], seed: 11)
        let config = ConversionConfig(T: 8, beta: 1.5, silent: 1)
        let theta = try Evaluator(network: net).calibrate(data, config: config)
        let reference = try Evaluator(network: net, batchSize: 1).evaluate(data, amplitudes: theta, config: config)
        for batch in [7, 40] {
            let b = try Evaluator(network: net, batchSize: batch).evaluate(data, amplitudes: theta, config: config)
            guard BLASColumnStability.holds else {
                // This BLAS rounds a column by the product's width: spikes may flip at exact
                // threshold ties only (docs/numerics.md §9: counts within 2 % or 5).
                let same = zip(reference.snnPredictions, b.snnPredictions).filter { $0 == $1 }.count
                XCTAssertGreaterThanOrEqual(same, data.count - 1, "batch \(batch)")
                for (x, y) in zip(reference.layers, b.layers) {
                    for (p, q) in [(x.spikesPositive, y.spikesPositive), (x.spikesNegative, y.spikesNegative),
                                   (x.violationsByStep.reduce(0, +), y.violationsByStep.reduce(0, +))] {
                        XCTAssertLessThanOrEqual(abs(p - q), max(5, p / 50), "batch \(batch)")
                    }
                }
                continue
            }
            XCTAssertEqual(reference.snnPredictions, b.snnPredictions, "batch \(batch)")
            for (x, y) in zip(reference.layers, b.layers) {
                XCTAssertEqual(x.violationsByStep, y.violationsByStep, "batch \(batch)")
                XCTAssertEqual(x.spikesPositive, y.spikesPositive, "batch \(batch)")
                XCTAssertEqual(x.spikesNegative, y.spikesNegative, "batch \(batch)")
            }
        }
    }

    /// Winograd against the plain im2col path on a whole simulation: the same predictions and,
    /// per layer, spike counts within a few tie flips (docs/numerics.md §9).
    func testWinogradSimulationMatchesPlainConvolution() throws {
        let fast = try RandomNetworks.winogradCNN(seed: 5)
        let plain = try RandomNetworks.winogradCNN(seed: 5, winograd: false)
        XCTAssertTrue(fast.usesWinograd)
        XCTAssertFalse(plain.usesWinograd)
        let data = RandomNetworks.samples(count: 60, shape: [3, 8, 8], seed: 12)
        let config = ConversionConfig(T: 10, beta: 1.5, silent: 1)
        let theta = try Evaluator(network: plain).calibrate(data, config: config)
        let a = try Evaluator(network: fast, batchSize: 16).evaluate(data, amplitudes: theta, config: config)
        let b = try Evaluator(network: plain, batchSize: 16).evaluate(data, amplitudes: theta, config: config)
        let same = zip(a.snnPredictions, b.snnPredictions).filter { $0 == $1 }.count
        XCTAssertGreaterThanOrEqual(same, 59)
        for (x, y) in zip(a.layers, b.layers) {
            let spikes = y.spikesPositive + y.spikesNegative
            XCTAssertGreaterThan(spikes, 1000)
            // docs/numerics.md §9: counts within 2 % or 5. Which spikes flip depends on the CPU (OpenBLAS
            // picks its kernels, and so its summation order, per CPU): 0.1 % held on AMD, not on Intel.
            XCTAssertLessThanOrEqual(abs((x.spikesPositive + x.spikesNegative) - spikes), max(5, spikes / 50))
        }
        let ann = try Simulator(network: fast).annForward(try data.allInputs()[...], count: data.count).outputs
        let annPlain = try Simulator(network: plain).annForward(try data.allInputs()[...], count: data.count).outputs
        for (p, q) in zip(ann, annPlain) { XCTAssertEqual(p, q, accuracy: 1e-4 * max(1, abs(q))) }
    }
}
