import XCTest
@testable import CSSCore

final class TuningTests: XCTestCase {
    func makeBackend() throws -> (LocalBackend, Evaluator, SampleSet, CalibrationPercentiles) {
        let net = try RandomNetworks.resnet(seed: 4)
        let ev = Evaluator(network: net)
        let data = RandomNetworks.samples(count: 12, shape: [1, 6, 6], seed: 8)
        let config = ConversionConfig(T: 6, beta: 1.5, silent: 0, negative: false)
        let p = try ev.calibrationPercentiles(data, percentile: config.percentile)
        let backend = try LocalBackend(network: net, data: data, calib: data,
                                   start: TuningState(config: config, amplitudes: p.amplitudes(config)), percentiles: p)
        return (backend, ev, data, p)
    }

    func testSetScaleUndoRedoReset() async throws {
        let (backend, _, _, p) = try makeBackend()
        let start = await backend.amplitudes
        var snap = try await backend.apply(.scaleTheta(layer: 1, factor: 1.05))
        XCTAssertEqual(snap.session.current.amplitudes.layers[1], start.layers[1] * 1.05, accuracy: 1e-12)
        snap = try await backend.apply(.setTheta(layer: 0, value: 0.5))
        XCTAssertEqual(snap.session.current.amplitudes.layers[0], 0.5)
        XCTAssertEqual(snap.session.history.count, 2)
        snap = try await backend.apply(.undo)
        XCTAssertEqual(snap.session.current.amplitudes.layers[0], start.layers[0])
        XCTAssertTrue(snap.session.canRedo)
        snap = try await backend.apply(.redo)
        XCTAssertEqual(snap.session.current.amplitudes.layers[0], 0.5)
        snap = try await backend.apply(.reset(layer: nil))
        XCTAssertEqual(snap.session.current.amplitudes, p.amplitudes(snap.session.current.config))
        do {
            _ = try await backend.apply(.setTheta(layer: 7, value: 1))
            XCTFail("expected an error for a missing layer")
        } catch {}
        do {
            _ = try await backend.apply(.setTheta(layer: 0, value: -1))
            XCTFail("expected an error for a negative θ")
        } catch {}
    }

    /// The debugger's adjust-all gives exactly what the headless adjustment gives.
    func testAdjustAllMatchesHeadless() async throws {
        let (backend, ev, data, _) = try makeBackend()
        let start = await backend.session.current
        let snap = try await backend.apply(.adjust(layers: nil, rounds: 3))
        let (headless, steps) = try AmplitudeAdjustment.adjust(ev, calib: data, amplitudes: start.amplitudes,
                                                               config: start.config, rounds: 3)
        XCTAssertEqual(snap.session.current.amplitudes, headless)
        XCTAssertEqual(snap.steps, steps)
        XCTAssertTrue(steps.contains { $0.factor > 1 }, "L=0 without negative spikes leaves residuals to fix")
        // Adjusting one layer leaves the others alone.
        let one = try await backend.apply(.adjust(layers: [0], rounds: 1))
        XCTAssertEqual(one.session.current.amplitudes.layers[1], headless.layers[1])
    }

    func testReconvertRecalibratesAndTraceIsIncremental() async throws {
        let (backend, ev, data, p) = try makeBackend()
        _ = try await backend.trace(sample: 2)
        let full = await backend.lastTraceWork
        XCTAssertEqual(full, [0, 1])
        _ = try await backend.apply(.scaleTheta(layer: 1, factor: 0.8))
        let t = try await backend.trace(sample: 2)
        let work = await backend.lastTraceWork
        XCTAssertEqual(work, [1])
        let amps = await backend.amplitudes
        let cfg = await backend.config
        let fresh = try ev.trace(data, sample: 2, amplitudes: amps, config: cfg)
        XCTAssertEqual(t.layers[1].spikes, fresh.layers[1].spikes)

        var c = cfg
        c.T = 9
        c.silent = 1
        let snap = try await backend.apply(.setConfig(c))
        XCTAssertEqual(snap.session.current.amplitudes, p.amplitudes(c))
        XCTAssertEqual(snap.layout.latency, 9 + 3)
        _ = try await backend.trace(sample: 2)
        let again = await backend.lastTraceWork
        XCTAssertEqual(again, [0, 1], "a new config recomputes everything")
    }
}
