import CSSCore
import CSSImport
import CSSSnapshots
import CSSView
import Foundation
import XCTest
import TestSupport

/// A θ change's re-trace takes the layers before the changed one from the backend's cache; the
/// summary of the new trace keeps their numbers instead of summarising them again, and comes
/// out the same as a summary computed from nothing.
final class TraceSummaryReuseTests: XCTestCase {
    func testReusedSummaryEqualsFreshOneAndSharesOnlyUnchangedLayers() async throws {
        let m = try LoadedModel.load(path: Repository.root.appendingPathComponent("samples/digits-resnet").path, limit: 16)
        let calib = m.calib.prefix(32)
        let ev = Evaluator(network: m.network)
        let p = try ev.calibrationPercentiles(calib, percentile: ConversionConfig.default.percentile)
        let start = TuningState(config: .default, amplitudes: p.amplitudes(.default))
        let backend = try LocalBackend(network: m.network, data: m.data, calib: calib, start: start, percentiles: p)
        let first = try await backend.trace(sample: 3)
        let firstSummary = TraceSummary(first)
        let layers = first.layers.count
        XCTAssertGreaterThan(layers, 3)
        let changed = layers - 2
        _ = try await backend.apply(.scaleTheta(layer: changed, factor: 0.7))
        let second = try await backend.trace(sample: 3)
        for l in 0..<layers {
            XCTAssertEqual(TraceSummary.sameStorage(first.layers[l], second.layers[l]), l < changed,
                           "layer \(l): taken from the cache exactly when it is before the changed one")
        }
        let reused = TraceSummary(second, reusing: (first, firstSummary))
        let fresh = TraceSummary(second)
        XCTAssertEqual(reused.cumulativePositive, fresh.cumulativePositive)
        XCTAssertEqual(reused.cumulativeNegative, fresh.cumulativeNegative)
        XCTAssertEqual(reused.overflow, fresh.overflow)
        XCTAssertEqual(reused.coupling, fresh.coupling)
        XCTAssertEqual(reused.residualP999, fresh.residualP999)
        XCTAssertEqual(reused.encoderPositive, fresh.encoderPositive)
        XCTAssertNotEqual(fresh.cumulativePositive[changed], firstSummary.cumulativePositive[changed],
                          "the changed layer's spikes moved, so a stale reuse would show")
        // Another sample shares nothing.
        let other = try await backend.trace(sample: 4)
        XCTAssertFalse(other.layers.indices.contains { TraceSummary.sameStorage(other.layers[$0], second.layers[$0]) })
    }
}
