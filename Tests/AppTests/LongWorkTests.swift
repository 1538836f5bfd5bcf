import CSSApp
import CSSCore
import CSSImport
import CSSView
import Foundation
import TestSupport
import XCTest

/// A long `:adjust` reports progress through the host call and stops when its task is cancelled,
/// leaving θ and the history as they were.
final class LongWorkTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func commands() throws -> TuningCommands {
        let m = try LoadedModel.load(path: Self.root.appendingPathComponent("samples/digits-mlp").path, limit: 16,
                                     calibrationSuffices: true)
        let p = try Evaluator(network: m.network, batchSize: 4).calibrationPercentiles(m.calib, percentile: 99.99)
        let start = TuningState(config: .default, amplitudes: p.amplitudes(.default))
        let backend = try LocalBackend(network: m.network, data: m.data, calib: m.calib, start: start, percentiles: p)
        return TuningCommands(backend: backend, modelName: m.name, defaultThetaPath: "unused.theta.json", store: nil,
                              pendingRestore: nil)
    }

    final class Seen: Sendable {
        private let stored = Locked<[Double]>([])
        var values: [Double] { stored.value }
        func add(_ v: Double) { stored.withLock { $0.append(v) } }
    }

    func testProgressThenCancelLeavesThetaUnchanged() async throws {
        let c = try commands()
        let before = try await c.backend.snapshot().session
        let seen = Seen()
        // The first progress report cancels the task the request runs in (as Esc does); the
        // rounds run on a compute thread, so the task is cancelled from outside.
        let canceller = CancelFromOutside()
        let request = Task {
            await c.execute(.adjust(layer: nil, rounds: 100), position: SessionPosition(), progress: { p in
                seen.add(p)
                canceller.request()
            })
        }
        canceller.attach(request)
        let o = await request.value
        XCTAssertEqual(o.message, ":adjust cancelled; θ unchanged")
        XCTAssertTrue(o.isError)
        XCTAssertEqual(o.history?.changes, 0)
        XCTAssertFalse(seen.values.isEmpty)
        XCTAssertTrue(seen.values.allSatisfy { $0 > 0 && $0 < 1 }, "\(seen.values)")
        let after = try await c.backend.snapshot().session
        XCTAssertEqual(after, before)

        // Not cancelled, the same request runs to the end with progress up to 1.
        let done = Seen()
        let finished = await c.execute(.adjust(layer: 0, rounds: 1), position: SessionPosition(), progress: { done.add($0) })
        XCTAssertFalse(finished.isError, finished.message)
        XCTAssertEqual(done.values.last ?? 0, 1, accuracy: 1e-12)
        XCTAssertTrue(finished.message.hasPrefix("adjust "), finished.message)
    }
}
