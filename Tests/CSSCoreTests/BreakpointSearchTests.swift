import TestSupport
import XCTest
@testable import CSSCore

/// The search engine (docs/numerics.md §11) against a brute force over the focused-sample traces
/// (every margin, spike and anytime prediction recorded): the batched passes must find exactly
/// the same hits, forward and backward searches must stop where the full list says, and answers
/// taken from the data-set report must equal simulated ones.
final class BreakpointSearchTests: XCTestCase {
    struct Setup {
        var evaluator: Evaluator
        var data: SampleSet
        var theta: Amplitudes
        var config: ConversionConfig
        var search: BreakpointSearch { BreakpointSearch(evaluator: evaluator, data: data, amplitudes: theta, config: config) }
    }

    func setup(T: Int = 6, L: Int = 1, negative: Bool = true, count: Int = 12, batch: Int = 5, mlp: Bool = false) throws -> Setup {
        let net = mlp ? try RandomNetworks.mlp(inputs: 16, hidden: [24, 16], outputs: 6, seed: 5) : try RandomNetworks.resnet(seed: 3)
        var data = RandomNetworks.samples(count: count, shape: net.inputShape, seed: 21)
        data.labels = (0..<count).map { $0 % net.outputCount }
        var e = Evaluator(network: net, batchSize: batch)
        let config = ConversionConfig(T: T, silent: L, negative: negative)
        var theta = try e.calibrate(data, config: config)
        // Smaller θ in the first layer: overflow and coupling cases to find.
        theta.layers[0] *= 0.6
        theta.layers[1] *= 0.15
        e.batchSize = batch
        return Setup(evaluator: e, data: data, theta: theta, config: config)
    }

    func breakpoints(_ l: NetworkLayout) throws -> [Breakpoint] {
        let texts = ["coupling", "overflow 0", "violation 1", "spike 0 10", "spike 1 7 -", "margin 0 < 0.75",
                     "margin < 0", "residual > 0.5", "residual 1 > 0.2", "flip", "wrong", "disagree"]
        return try texts.enumerated().compactMap { i, t in
            if t.hasSuffix("-") && !l.config.negative { return nil }
            return Breakpoint(number: i + 1, condition: try BreakCondition.parse(t, layout: l))
        }
    }

    /// Every hit, from each sample's trace (the per-neuron recording the search does not use).
    func bruteForce(_ s: Setup, _ bps: [Breakpoint]) throws -> [BreakHit] {
        var hits: [BreakHit] = []
        for sample in 0..<s.data.count {
            let t = try s.evaluator.trace(s.data, sample: sample, amplitudes: s.theta, config: s.config)
            let L = s.config.silent, T = s.config.T
            for bp in bps {
                func add(_ g: Int, _ l: Int?, _ n: Int?) {
                    hits.append(BreakHit(breakpoint: bp.number, sample: sample, step: g, layer: l, neuron: n))
                }
                for lt in t.layers where bp.condition.watches(layer: lt.info.index) {
                    let ws = lt.info.windowStart, l = lt.info.index
                    for n in 0..<lt.neurons {
                        let margins = (0...lt.window).map { lt.margin(neuron: n, k0: $0) }
                        switch bp.condition {
                        case .violation(let f, _):
                            if let k0 = margins.firstIndex(where: { $0 <= 0 }), f.matches(k0 == 0 ? .overflow : .coupling) {
                                add(ws + k0, l, n)
                            }
                        case .spike(_, let neuron, let sign) where neuron == n:
                            for i in 0..<T where lt.spike(neuron: n, slot: i) != 0 && (sign == nil || sign == lt.spike(neuron: n, slot: i)) {
                                add(ws + L + i, l, n)
                            }
                        case .margin(_, let v):
                            for k0 in margins.indices where Double(margins[k0]) < v && (k0 == 0 || Double(margins[k0 - 1]) >= v) {
                                add(ws + k0, l, n)
                            }
                        case .residual(_, let v):
                            if Double(abs(lt.residual(neuron: n))) > v { add(ws + T + L - 1, l, n) }
                        default: break
                        }
                    }
                }
                switch bp.condition {
                case .flip:
                    for g in (t.layout.outputStart + 1)..<(t.layout.outputStart + T)
                    where t.anytimePrediction(atGlobal: g) != t.anytimePrediction(atGlobal: g - 1) {
                        add(g, nil, nil)
                    }
                case .wrong: if t.snnPrediction != t.label { add(t.layout.latency, nil, nil) }
                case .disagree: if t.snnPrediction != t.annPrediction { add(t.layout.latency, nil, nil) }
                default: break
                }
            }
        }
        return hits.sorted()
    }

    func testHitsEqualTheTracesBruteForce() async throws {
        var counts = [Int: Int]()
        for mlp in [false, true] {
            for (T, L, negative) in [(6, 1, true), (5, 0, true), (6, 2, false)] {
                let s = try setup(T: T, L: L, negative: negative, mlp: mlp)
                let bps = try breakpoints(s.search.layout)
                let expected = try bruteForce(s, bps)
                let found = try s.search.hits(bps)
                XCTAssertEqual(found, expected, "mlp \(mlp) T \(T) L \(L) negative \(negative)")
                for h in expected { counts[h.breakpoint, default: 0] += 1 }
            }
        }
        // Every kind of condition is exercised.
        for n in 1...12 { XCTAssertGreaterThan(counts[n] ?? 0, 0, "no hit of breakpoint \(n)") }
    }

    func testNextAndPreviousStopWhereTheListSays() async throws {
        let s = try setup()
        let bps = try breakpoints(s.search.layout).filter { [1, 4, 10].contains($0.number) }
        let all = try s.search.hits(bps)
        XCTAssertFalse(all.isEmpty)
        let positions = [SearchPosition(sample: 0, step: -1), SearchPosition(sample: 3, step: 4),
                         SearchPosition(sample: 7, step: 0), SearchPosition(sample: 11, step: 100),
                         SearchPosition(sample: all[all.count / 2].sample, step: all[all.count / 2].step)]
        for p in positions {
            let after = all.filter { SearchPosition(sample: $0.sample, step: $0.step) > p }
            let forward = try s.search.next(.forward, from: p, breakpoints: bps)
            if let first = after.first {
                XCTAssertEqual(forward?.position, SearchPosition(sample: first.sample, step: first.step))
                XCTAssertEqual(forward?.hits, after.filter { $0.sample == first.sample && $0.step == first.step })
            } else {
                XCTAssertNil(forward)
            }
            let before = all.filter { SearchPosition(sample: $0.sample, step: $0.step) < p }
            let backward = try s.search.next(.backward, from: p, breakpoints: bps)
            if let last = before.last {
                XCTAssertEqual(backward?.position, SearchPosition(sample: last.sample, step: last.step))
                XCTAssertEqual(backward?.hits.first, before.first { $0.sample == last.sample && $0.step == last.step })
            } else {
                XCTAssertNil(backward)
            }
        }
        // Disabled breakpoints do not stop.
        let disabled = bps.map { var b = $0; b.enabled = false; return b }
        let none = try s.search.next(.forward, from: SearchPosition(sample: 0, step: -1), breakpoints: disabled)
        XCTAssertNil(none)
    }

    func testTheReportAnswersWhatItCan() async throws {
        let s = try setup()
        let report = try s.evaluator.evaluate(s.data, amplitudes: s.theta, config: s.config)
        let withReport = BreakpointSearch(evaluator: s.evaluator, data: s.data, amplitudes: s.theta, config: s.config,
                                          report: report)
        let bps = try breakpoints(s.search.layout)
        let plan = BreakpointSearch.Plan(withReport, bps)
        // Few cases: the hotspot list is complete, so violations, wrong and disagree need no simulation.
        let simulated = Set(plan.simulated.map(\.number))
        for n in [1, 2, 3, 11, 12] { XCTAssertFalse(simulated.contains(n), "breakpoint \(n) simulated") }
        for n in [4, 6, 10] { XCTAssertTrue(simulated.contains(n), "breakpoint \(n) not simulated") }
        let a = try withReport.hits(bps)
        let b = try s.search.hits(bps)
        XCTAssertEqual(a, b)
        // A report of another θ is not used.
        var other = s.theta
        other.layers[1] *= 2
        let stale = BreakpointSearch(evaluator: s.evaluator, data: s.data, amplitudes: other, config: s.config, report: report)
        XCTAssertNil(stale.report)
    }

    func testCancellationStopsTheSearch() async throws {
        let s = try setup(count: 40, batch: 2)
        // Never hits, so only cancellation ends the search early: the first progress report cancels it.
        let bps = [Breakpoint(number: 1, condition: .residual(layer: nil, above: 1e9))]
        let reports = Counter()
        do {
            _ = try s.search.next(.forward, from: SearchPosition(sample: 0, step: -1), breakpoints: bps) { _ in
                reports.add()
                withUnsafeCurrentTask { $0?.cancel() }
            }
            XCTFail("not cancelled")
        } catch is CancellationError {}
        XCTAssertEqual(reports.value, 1)
    }

    /// The debugger's `c` through the backend: a data-set job that shares the plan's two slots
    /// with reports (so a search beside a running report stays inside the memory budget), and
    /// stops where the engine does.
    func testBackendSearchIsADatasetJobAndStopsWhereTheEngineDoes() async throws {
        let s = try setup(count: 12, batch: 5)
        let backend = try LocalBackend(network: s.evaluator.network, data: s.data, calib: s.data.prefix(4),
                                       start: TuningState(config: s.config, amplitudes: s.theta),
                                       percentiles: try s.evaluator.calibrationPercentiles(s.data, percentile: s.config.percentile))
        let bps = try breakpoints(s.search.layout).filter { [1, 4, 10].contains($0.number) }
        let from = SearchPosition(sample: 2, step: 3)
        let direct = try s.search.next(.forward, from: from, breakpoints: bps)
        XCTAssertNotNil(direct)
        let stops = try await withThrowingTaskGroup(of: BreakStop?.self) { group in
            for i in 0..<6 {
                group.addTask {
                    if i % 2 == 0 { _ = try await backend.report(progress: { _ in }); return nil }
                    return try await backend.nextBreak(.forward, from: from, breakpoints: bps)
                }
            }
            return try await group.reduce(into: [BreakStop?]()) { $0.append($1) }
        }
        let found = stops.compactMap { $0 }
        XCTAssertEqual(found.count, 3)
        for stop in found { XCTAssertEqual(stop, direct) }
        let peak = await backend.peakDatasetJobs
        XCTAssertLessThanOrEqual(peak, 2, "searches and reports share the plan's two slots")
        let running = await backend.runningDatasetJobs
        XCTAssertEqual(running, 0, "every slot is given back")
        // Backward too, and a cancelled search gives its slot back.
        let back = try await backend.nextBreak(.backward, from: from, breakpoints: bps)
        let backDirect = try s.search.next(.backward, from: from, breakpoints: bps)
        XCTAssertEqual(back, backDirect)
        // Never hits and the report cannot answer it, so the search simulates until cancelled.
        let never = [Breakpoint(number: 1, condition: .margin(layer: nil, below: -1e9))]
        let canceller = CancelFromOutside()
        let task = Task { try await backend.nextBreak(.forward, from: SearchPosition(sample: 0, step: -1), breakpoints: never) { _ in
            canceller.request()  // the search runs on a compute thread: no current task there
        } }
        canceller.attach(task)
        do { _ = try await task.value; XCTFail("not cancelled") } catch is CancellationError {}
        let afterCancel = await backend.runningDatasetJobs
        XCTAssertEqual(afterCancel, 0)
    }
}

final class Counter: @unchecked Sendable {
    private var n = 0
    func add() { n += 1 }
    var value: Int { n }
}
