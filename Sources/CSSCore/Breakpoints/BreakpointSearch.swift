/// Where breakpoints hit over the loaded data (docs/numerics.md §11). One engine for the
/// debugger's `c`/`C` and for `cssdbg find`: batched whole-window simulation observed per channel,
/// stopping at the first sample with a hit, and answering from the data-set report what it can.

public struct BreakpointSearch: Sendable {
    public let evaluator: Evaluator
    public let data: SampleSet
    public let amplitudes: Amplitudes
    public let config: ConversionConfig
    /// The data-set report of this θ and config, when one is at hand: `wrong`/`disagree` come
    /// from its predictions, violations from its hotspots when they are complete, and layers it
    /// shows free of a condition are not simulated for it. Ignored when it is of another θ/config.
    public let report: DatasetReport?

    public init(evaluator: Evaluator, data: SampleSet, amplitudes: Amplitudes, config: ConversionConfig,
                report: DatasetReport? = nil) {
        self.evaluator = evaluator
        self.data = data
        self.amplitudes = amplitudes
        self.config = config
        let matches = report.map { $0.amplitudes == amplitudes && $0.layout.config == config && $0.samples == data.count }
        self.report = matches == true ? report : nil
    }

    public var layout: NetworkLayout { evaluator.network.layout(config) }

    /// Every hit of the enabled breakpoints in `samples` (default: all), in hit order.
    /// `progress` gets fractions in 0...1; cancelling the task throws `CancellationError`.
    public func hits(_ breakpoints: [Breakpoint], samples: Range<Int>? = nil,
                     progress: (@Sendable (Double) -> Void)? = nil) throws -> [BreakHit] {
        let range = samples ?? 0..<data.count
        let plan = Plan(self, breakpoints.filter(\.enabled))
        var all = plan.answered.filter { range.contains($0.sample) }
        if !plan.simulated.isEmpty {
            var done = 0
            var lo = range.lowerBound
            while lo < range.upperBound {
                try Checkpoint.pass()
                let n = min(evaluator.batchSize, range.upperBound - lo)
                all += try simulate(plan.simulated, samples: lo..<(lo + n))
                lo += n
                done += n
                progress?(Double(done) / Double(max(1, range.count)))
            }
        }
        return all.sorted()
    }

    /// The next stop strictly after `position` (forward: the rest of its sample, then the
    /// following samples in order) or strictly before it (backward: the earlier steps of its
    /// sample, then the preceding samples); nil when there is none. Simulates a batch at a time
    /// and stops at the first sample with a hit.
    public func next(_ direction: SearchDirection, from position: SearchPosition, breakpoints: [Breakpoint],
                     progress: (@Sendable (Double) -> Void)? = nil) throws -> BreakStop? {
        let plan = Plan(self, breakpoints.filter(\.enabled))
        let forward = direction == .forward
        func qualifies(_ h: BreakHit) -> Bool {
            let p = SearchPosition(sample: h.sample, step: h.step)
            return forward ? p > position : p < position
        }
        // The best answer from the report alone bounds how far the simulation must go.
        let fromReport = plan.answered.filter(qualifies)
        let bound = forward ? fromReport.min().map(\.sample) : fromReport.max().map(\.sample)
        func stop(_ candidates: [BreakHit]) -> BreakStop? {
            guard let best = forward ? candidates.min() : candidates.max() else { return nil }
            let at = SearchPosition(sample: best.sample, step: best.step)
            return BreakStop(position: at, hits: candidates.filter { $0.sample == at.sample && $0.step == at.step }.sorted())
        }
        guard !plan.simulated.isEmpty, data.count > 0 else { return stop(fromReport) }
        let first = min(max(position.sample, 0), data.count - 1)
        let last = bound ?? (forward ? data.count - 1 : 0)
        let total = abs(last - first) + 1
        var s = first, done = 0
        while forward ? s <= last : s >= last {
            try Checkpoint.pass()
            // The start sample alone first: it is the focused one, where the next hit most often
            // is, and on a large model a whole batch would keep the user waiting for it.
            let n = s == first ? 1 : min(evaluator.batchSize, abs(last - s) + 1)
            let range = forward ? s..<(s + n) : (s - n + 1)..<(s + 1)
            let found = try simulate(plan.simulated, samples: range).filter(qualifies)
            // Samples in search order: the first one with a hit from either source is the answer.
            for sample in forward ? Array(range) : range.reversed() {
                let here = found.filter { $0.sample == sample } + fromReport.filter { $0.sample == sample }
                if let answer = stop(here) { return answer }
            }
            done += n
            progress?(Double(done) / Double(total))
            s = forward ? s + n : s - n
        }
        return stop(fromReport)
    }

    /// Hits of `breakpoints` in `samples` from one batched simulation.
    func simulate(_ breakpoints: [Breakpoint], samples: Range<Int>) throws -> [BreakHit] {
        let n = samples.count
        let x = try data.samples(samples)
        let conditions = breakpoints.map(\.condition)
        let labels = conditions.contains(.wrong) ? data.labels.map { Array($0[samples]) } : nil
        var ann: [Int]? = nil
        if conditions.contains(.disagree) {
            if let report { ann = Array(report.annPredictions[samples]) } else {
                let a = try evaluator.simulator.annForward(x, count: n)
                let classes = evaluator.network.outputCount
                ann = (0..<n).map { b in argmax(Array(a.outputs[(b * classes)..<((b + 1) * classes)])) }
            }
        }
        let collector = BatchHitCollector(layout: layout, breakpoints: breakpoints, sampleOffset: samples.lowerBound,
                                          batch: n, labels: labels, annPredictions: ann)
        _ = try evaluator.simulator.simulate(x, count: n, amplitudes: amplitudes, config: config, ann: nil,
                                         sampleOffset: samples.lowerBound, observer: collector)
        return collector.hits
    }

    /// Which breakpoints the report answers (with their hits over all samples), which it shows
    /// can never hit, and which must be simulated.
    struct Plan {
        var answered: [BreakHit] = []
        var simulated: [Breakpoint] = []

        init(_ search: BreakpointSearch, _ breakpoints: [Breakpoint]) {
            let layout = search.layout
            guard let report = search.report else {
                simulated = breakpoints
                return
            }
            let last = report.layout.latency
            for bp in breakpoints {
                switch bp.condition {
                case .wrong, .disagree:
                    let truth = bp.condition == .wrong ? search.data.labels : report.annPredictions
                    guard let truth else { continue }  // no labels: never wrong
                    for (s, p) in report.snnPredictions.enumerated() where p != truth[s] {
                        answered.append(BreakHit(breakpoint: bp.number, sample: s, step: last, layer: nil, neuron: nil))
                    }
                case .violation(let filter, let layer):
                    let layers = layer.map { [$0] } ?? Array(layout.layers.indices)
                    let kinds = [ViolationKind.overflow, .coupling].filter(filter.matches)
                    let cases = layers.reduce(0) { n, l in
                        n + kinds.reduce(0) { $0 + ($1 == .overflow ? report.layers[l].overflow : report.layers[l].coupling) }
                    }
                    let listed = report.hotspots.filter { layers.contains($0.layer) && kinds.contains($0.kind) }
                    if cases == 0 { continue }
                    // The hotspot list holds every case when it holds as many as the counts say.
                    if listed.count == cases {
                        answered += listed.map { h in
                            BreakHit(breakpoint: bp.number, sample: h.sample,
                                     step: layout.layers[h.layer].windowStart + h.firstViolationStep,
                                     layer: h.layer, neuron: h.neuron)
                        }
                    } else {
                        simulated.append(bp)
                    }
                case .residual(let layer, let above):
                    let layers = layer.map { [$0] } ?? Array(layout.layers.indices)
                    if layers.contains(where: { report.layers[$0].residualMax > above }) { simulated.append(bp) }
                case .spike, .margin, .flip:
                    simulated.append(bp)
                }
            }
        }
    }
}
