import CSSSnapshots

/// The debugger's long data-set jobs (`AnalysisBackend`): each holds one of the plan's data-set
/// job slots, runs on a compute thread of its own that pauses while the focused sample is traced,
/// and works on a copy of the state, so a θ change meanwhile is not held up (it cancels the job).
extension LocalBackend {
    /// `:sweep`: the same `ConversionSweep` as `cssdbg sweep` on the backend's data (its first
    /// `spec.limit` samples) and calibration set. Lists not given keep the current config.
    public nonisolated func sweep(_ spec: SweepSpec, progress: (@Sendable (Double) -> Void)?) async throws -> SweepResult {
        let base = await config
        let configs = try spec.configurations(base: base)
        let data = spec.limit.map { self.data.prefix($0) } ?? self.data
        return try await datasetJob {
            // Batches sized for the most demanding point (the longest window), within the budget.
            let widest = configs.max { $0.window < $1.window } ?? base
            let ev = await self.jobEvaluator(for: widest, data: data)
            let calib = self.calib
            let points = try await ComputeThread.run(name: "cssdbg sweep", gate: self.focusGate) {
                let p = try ev.calibrationPercentiles(calib, percentile: base.percentile)
                return try ConversionSweep.run(ev, data: data, calib: calib, percentiles: p, configs: configs,
                                               rounds: spec.rounds ?? 0, progress: progress)
            }
            return SweepResult(rows: points.map(\.row), samples: data.count, rounds: spec.rounds ?? 0)
        }
    }

    /// `:attribution`: the report of the current θ and config with its attribution.
    public nonisolated func attribution(progress: (@Sendable (Double) -> Void)?) async throws -> DatasetReport {
        let state = await session.current
        return try await datasetJob {
            let ev = await self.jobEvaluator(for: state.config, data: self.data)
            let data = self.data
            return try await ComputeThread.run(name: "cssdbg attribution", gate: self.focusGate) {
                // The report is a quarter of the work here (one of 2n+2 passes).
                let n = Double(ev.network.layerCount)
                var r = try ev.evaluate(data, amplitudes: state.amplitudes, config: state.config,
                                        progress: progress.map { p in { @Sendable f in p(f / (2 * n + 2)) } })
                r.attribution = try ev.attribution(data, amplitudes: state.amplitudes, config: state.config,
                                                   snnPredictions: r.snnPredictions, progress: progress.map { p in { @Sendable f in p((1 + f * (2 * n + 1)) / (2 * n + 2)) } })
                return r
            }
        }
    }

    /// `:doctor`: the diagnosis of the current conversion, then the search of docs/numerics.md §15
    /// (β 1.5, T up to its precision limit, L 0–3, both spike signs, 0–`maxRounds` A.3 rounds).
    public nonisolated func doctor(_ spec: DoctorSpec, progress: (@Sendable (Double) -> Void)?) async throws -> DoctorResult {
        let state = await session.current
        return try await datasetJob {
            let space = LosslessSearch.Space(maxRounds: spec.maxRounds, percentile: state.config.percentile)
            let widest = ConversionConfig(T: ConversionConfig.maxT(beta: 1.5), beta: 1.5, silent: 3)
            let ev = await self.jobEvaluator(for: widest, data: self.data)
            let data = self.data, calib = self.calib
            return try await ComputeThread.run(name: "cssdbg doctor", gate: self.focusGate) {
                var r = try ev.evaluate(data, amplitudes: state.amplitudes, config: state.config)
                r.attribution = try ev.attribution(data, amplitudes: state.amplitudes, config: state.config,
                                                   snnPredictions: r.snnPredictions)
                progress?(0.1)
                let (_, a3) = try AmplitudeAdjustment.adjust(ev, calib: calib, amplitudes: state.amplitudes,
                                                            config: state.config, rounds: 1)
                let diagnosis = Diagnosis(report: r, a3: a3, tolerance: spec.tolerance)
                // The search's progress: the share of the candidates up to the current config's
                // latency (or the one being searched, when that is higher) that were visited.
                let latencies = space.candidates(ev.network).map(\.latency)
                let base = r.layout.latency
                let outcome = try LosslessSearch.run(ev, data: data, calib: calib, space: space, tolerance: spec.tolerance,
                                                     progress: { done, k, _, latency in
                    let upTo = latencies.filter { $0 <= max(base, latency) }.count
                    progress?(0.1 + 0.9 * min(1, Double(done) / Double(max(1, upTo))))
                })
                if outcome.stop == .interrupted { throw CancellationError() }
                return DoctorResult(diagnosis: diagnosis, outcome: outcome, samples: data.count)
            }
        }
    }

    /// The evaluator with batches sized for `config` within the plan.
    func jobEvaluator(for config: ConversionConfig, data: SampleSet) -> Evaluator {
        var ev = evaluator
        ev.batchSize = (try? MemoryPlan.of(network: evaluator.network, config: config, memory: memory, data: data,
                                           calib: calib, interactive: true).batchSize) ?? evaluator.batchSize
        return ev
    }
}

extension DoctorResult {
    /// The recommendation first, then the other configurations on the Pareto front by latency.
    public init(diagnosis: Diagnosis, outcome: LosslessSearch.Outcome, samples: Int) {
        func proposal(_ t: LosslessSearch.Trial, why: String) -> DoctorProposal {
            DoctorProposal(config: t.config, rounds: t.rounds, amplitudes: t.report!.amplitudes, latency: t.latency,
                           score: t.report!.score, synapticOps: t.report!.synapticOps, lossless: t.lossless, why: why)
        }
        var proposals: [DoctorProposal] = []
        if let best = outcome.best { proposals.append(proposal(best, why: "recommended")) }
        for t in outcome.pareto.sorted(by: { $0.latency < $1.latency }) where t != outcome.best {
            if proposals.contains(where: { $0.latency == t.latency && $0.score == t.report!.score }) { continue }
            proposals.append(proposal(t, why: "Pareto front"))
        }
        self.init(findings: diagnosis.findings, proposals: proposals, samples: samples,
                  evaluated: outcome.trials.filter { $0.report != nil }.count, complete: outcome.stop == .found || outcome.stop == .exhausted,
                  byLabels: diagnosis.report.snnAccuracy != nil)
    }
}
