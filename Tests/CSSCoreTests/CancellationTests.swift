import XCTest
@testable import CSSCore

/// Cancelling a simulation ends it before the next node of the graph, not at the end of its batch:
/// a quit, a superseding θ change or a new focused sample frees the cores within one layer (an
/// ImageNet-size batch takes 2–10 s, one of its layers a fraction of that).
final class CancellationTests: XCTestCase {
    /// Cancels the task it runs in when spiking layer `at` starts, and records which layers started.
    final class CancelAtLayer: SimulationObserver, @unchecked Sendable {
        let at: Int
        var started: [Int] = []
        var outputSeen = false
        init(at: Int) { self.at = at }
        func layer(_ l: Int) -> LayerObserver? {
            started.append(l)
            if l == at { withUnsafeCurrentTask { $0?.cancel() } }
            return nil
        }
        func output(_ y: Activation, batch: Int) { outputSeen = true }
    }

    func testCancelledSimulationStopsBeforeTheNextLayer() async throws {
        let net = try RandomNetworks.resnet(seed: 11)
        XCTAssertEqual(net.layerCount, 2)
        let data = RandomNetworks.samples(count: 4, shape: [1, 6, 6], seed: 5)
        let config = ConversionConfig()
        let theta = try Evaluator(network: net).calibrate(data, config: config)
        let x = try data.allInputs()
        let sim = Simulator(network: net)

        let full = CancelAtLayer(at: -1)
        _ = try sim.simulate(x[...], count: 4, amplitudes: theta, config: config, ann: nil, sampleOffset: 0, observer: full)
        XCTAssertEqual(full.started, [0, 1], "uncancelled, the run visits every spiking layer")
        XCTAssertTrue(full.outputSeen)

        let cancelled = CancelAtLayer(at: 0)
        let run = Task.detached {
            _ = try sim.simulate(x[...], count: 4, amplitudes: theta, config: config, ann: nil, sampleOffset: 0,
                                 observer: cancelled)
        }
        let result = await run.result
        XCTAssertThrowsError(try result.get()) { XCTAssertTrue($0 is CancellationError, "\($0)") }
        XCTAssertEqual(cancelled.started, [0], "the layer after the cancel never starts")
        XCTAssertFalse(cancelled.outputSeen, "a cancelled run produces no output")
    }

    /// A task cancelled before it starts simulates nothing: the ANN forward and the data-set
    /// report throw before their first node.
    func testCancelledTaskRunsNoNode() async throws {
        let net = try RandomNetworks.resnet(seed: 11)
        let data = RandomNetworks.samples(count: 4, shape: [1, 6, 6], seed: 5)
        let config = ConversionConfig()
        let ev = Evaluator(network: net, batchSize: 4)
        let theta = try ev.calibrate(data, config: config)
        let x = try data.allInputs()
        let run = Task.detached { () throws -> Int in
            withUnsafeCurrentTask { $0?.cancel() }
            var thrown = 0
            do { _ = try ev.simulator.annForward(x[...], count: 4) } catch is CancellationError { thrown += 1 }
            do { _ = try ev.evaluate(data, amplitudes: theta, config: config) } catch is CancellationError { thrown += 1 }
            do { _ = try ev.trace(data, sample: 0, amplitudes: theta, config: config) } catch is CancellationError { thrown += 1 }
            return thrown
        }
        let thrown = try await run.value
        XCTAssertEqual(thrown, 3)
        // Outside a cancelled task the same calls finish.
        XCTAssertEqual(try ev.simulator.annForward(x[...], count: 4).outputs.count, 4 * net.outputCount)
    }
}
