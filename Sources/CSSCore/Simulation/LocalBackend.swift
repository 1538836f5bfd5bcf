import CSSSnapshots

/// The in-process simulation backend the debugger talks to. An actor: the view's requests are
/// served one at a time off the UI thread, and every answer is an immutable snapshot. It keeps
/// the last run of the focused sample and of the data set so a θ change recomputes only the
/// layer that moved and what it feeds.
public actor LocalBackend: AnalysisBackend {
    public let evaluator: Evaluator
    public let data: SampleSet
    public let calib: SampleSet
    public private(set) var session: TuningSession
    private(set) var percentiles: CalibrationPercentiles
    /// The focused sample's last run: its tensors (when the plan has room) and its ANN pass.
    private var sampleCache: (sample: Int, cache: SimulationCache?, ann: ANNBatch?)? = nil
    private var dataCache: EvaluationCache? = EvaluationCache()
    /// Spiking layers simulated by the last trace request (for tests and the status line).
    public private(set) var lastTraceWork: [Int] = []
    public let memory: MemoryBudget
    /// Data-set jobs (reports, A.3 rounds) in flight. The plan has room for two at once (a
    /// report and an A.3 run, or a new report and a cancelled one still finishing its batch);
    /// a third waits for a slot.
    private var datasetJobs = 0
    /// The most data-set jobs that ever held a slot at once (tests).
    public private(set) var peakDatasetJobs = 0
    public var runningDatasetJobs: Int { datasetJobs }
    private var datasetJobWaiters: [CheckedContinuation<Void, Never>] = []
    /// Counts the changes to the session; a long change commits only if it is still the one it saw.
    private var generation = 0
    /// Held while the focused sample is simulated; data-set jobs (on compute threads of their own)
    /// pause before their next graph node meanwhile, so the trace the user waits for gets the cores.
    public nonisolated let focusGate = FocusGate()

    /// - Parameters:
    ///   - start: the starting θ and config (from a θ file or calibration).
    ///   - memory: what the whole session may use; `MemoryPlan` says how (throws when too small).
    public init(network: Network, data: SampleSet, calib: SampleSet, start: TuningState,
                percentiles: CalibrationPercentiles, memory: MemoryBudget = .default) throws {
        self.evaluator = Evaluator(network: network)
        self.data = data
        self.calib = calib
        self.session = TuningSession(start: start)
        self.percentiles = percentiles
        self.memory = memory
        self.freeMemory = FreeMemoryRelease(gate: focusGate)
        _ = try MemoryPlan.of(network: network, config: start.config, memory: memory, data: data, calib: calib,
                              interactive: true)
    }

    /// How the budget is spent at the current config.
    public func plan() throws -> MemoryPlan { try plan(for: config) }

    private func plan(for c: ConversionConfig) throws -> MemoryPlan {
        try MemoryPlan.of(network: evaluator.network, config: c, memory: memory, data: data, calib: calib, interactive: true)
    }

    /// The evaluator with the plan's batch size.
    func budgeted(_ plan: MemoryPlan) -> Evaluator {
        var e = evaluator
        e.batchSize = plan.batchSize
        return e
    }

    /// Bytes the backend holds between requests: the data-set cache and the focused sample's
    /// cache and trace (tensors shared between them count once per holder, an upper bound).
    public func heldBytes() -> Int {
        var total = dataCache?.heldBytes ?? 0
        if let c = sampleCache?.cache { total += c.heldBytes }
        if let a = sampleCache?.ann { total += 4 * (a.outputs.count + a.activations.reduce(0) { $0 + $1.data.count }) }
        return total
    }

    private func beginDatasetJob() async {
        if datasetJobs >= MemoryPlan.datasetJobs {
            await withCheckedContinuation { datasetJobWaiters.append($0) }  // the slot is handed over
        } else {
            datasetJobs += 1
        }
        peakDatasetJobs = max(peakDatasetJobs, datasetJobs)
    }

    private func endDatasetJob() {
        if datasetJobWaiters.isEmpty {
            datasetJobs -= 1
        } else {
            datasetJobWaiters.removeFirst().resume()
        }
        freeMemory.request()
    }

    /// Freed memory goes back to the kernel after every trace and job, never during a trace.
    private nonisolated let freeMemory: FreeMemoryRelease

    public var config: ConversionConfig { session.current.config }
    public var amplitudes: Amplitudes { session.current.amplitudes }

    public func layout() -> NetworkLayout { evaluator.network.layout(config) }

    public func sampleCount() -> Int { data.count }

    public func trace(sample: Int) throws -> SampleTrace {
        guard sample >= 0, sample < data.count else {
            throw GraphError("sample \(sample) is out of range 0..<\(data.count)")
        }
        let plan = try plan()
        // Another sample's tensors are of no use: let them go before this run allocates.
        let same = sampleCache?.sample == sample
        var cache = same ? sampleCache!.cache : nil
        var ann = same ? sampleCache!.ann : nil
        sampleCache = nil
        let (trace, work) = try focusGate.holding {
            try evaluator.trace(data, sample: sample, amplitudes: amplitudes, config: config, cache: &cache, ann: &ann,
                                keepCache: plan.traceCache)
        }
        sampleCache = (sample, cache, ann)
        lastTraceWork = work
        freeMemory.request()
        return trace
    }

    /// Runs outside the actor, on a compute thread of its own, so trace requests (a sample change,
    /// a θ change's focused recomputation) are answered while the data set is still being
    /// simulated; it pauses while one is computed (`focusGate`).
    public nonisolated func report(progress: @escaping @Sendable (Double) -> Void) async throws -> DatasetReport {
        await beginDatasetJob()
        let start: (TuningState, Locked<EvaluationCache?>, Evaluator)
        do {
            start = try await reportStart()
        } catch {
            await endDatasetJob()
            throw error
        }
        let (state, handoff, evaluator) = start
        let data = self.data
        do {
            let (r, cache) = try await ComputeThread.run(name: "cssdbg report", gate: focusGate) {
                // Taken out of the box: the run holds the only reference, so batches it replaces are freed at once.
                var cache = handoff.withLock { c in defer { c = nil }; return c }
                let r = try evaluator.evaluate(data, amplitudes: state.amplitudes, config: state.config, cache: &cache,
                                               progress: progress)
                return (r, cache)
            }
            await keep(cache, report: r)
            return r
        } catch {
            await endDatasetJob()
            throw error
        }
    }

    /// Hands the cache over to the run in a box it empties (neither the actor nor the caller keeps
    /// a second reference, so batches the run replaces are freed at once); a cancelled run's cache
    /// is dropped.
    private func reportStart() throws -> (TuningState, Locked<EvaluationCache?>, Evaluator) {
        let plan = try plan()
        var cache = dataCache ?? EvaluationCache()
        dataCache = nil
        cache.budgetBytes = plan.dataCache
        if plan.dataCache == 0 { cache.batches = [:] }
        return (session.current, Locked(cache), budgeted(plan))
    }

    /// Cache entries record the θ and config they were computed with, so any finished run's
    /// cache is safe to keep (a cancelled run never gets here).
    private func keep(_ cache: EvaluationCache?, report: DatasetReport) {
        latestReport = report
        keep(cache)
    }

    /// The last finished data-set report (of whatever θ and config it was computed with): the
    /// breakpoint search answers from it what it can when it matches the current state.
    public private(set) var latestReport: DatasetReport?

    private func keep(_ cache: EvaluationCache?) {
        dataCache = cache
        endDatasetJob()
    }

    /// The debugger's `c`/`C`: the next stop of `breakpoints` from `position` at the current θ and
    /// config. A data-set job like a report: it waits for one of the plan's two slots and runs with
    /// the plan's batch size, so a search beside a running report stays inside the budget; it
    /// answers from the latest report what that can answer. Cancelling the task ends it before
    /// its next graph node.
    public nonisolated func nextBreak(_ direction: SearchDirection, from position: SearchPosition,
                                      breakpoints: [Breakpoint],
                                      progress: (@Sendable (Double) -> Void)? = nil) async throws -> BreakStop? {
        try await datasetJob {
            let search = try await searchStart()
            return try await ComputeThread.run(name: "cssdbg search", gate: focusGate) {
                try search.next(direction, from: position, breakpoints: breakpoints, progress: progress)
            }
        }
    }

    /// Runs `body` as a data-set job: long work over the data that is not a report (a breakpoint
    /// search, a `:sweep`) waits for one of the plan's two slots like a report, so it stays
    /// inside the budget beside a running report; the slot is given back however it ends.
    public nonisolated func datasetJob<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await beginDatasetJob()
        do {
            let result = try await body()
            await endDatasetJob()
            return result
        } catch {
            await endDatasetJob()
            throw error
        }
    }

    private func searchStart() throws -> BreakpointSearch {
        let current = session.current
        return BreakpointSearch(evaluator: budgeted(try plan()), data: data, amplitudes: current.amplitudes,
                                config: current.config, report: latestReport)
    }

    /// θ from calibration for the current config.
    public func calibrated() throws -> Amplitudes {
        try percentilesFor(config).amplitudes(config)
    }

    private func percentilesFor(_ c: ConversionConfig) throws -> CalibrationPercentiles {
        if c.percentile != percentiles.percentile {
            percentiles = try budgeted(try plan(for: c)).calibrationPercentiles(calib, percentile: c.percentile)
        }
        return percentiles
    }

    /// Applies a tuning change and answers with the new state; callers then ask for the trace
    /// (cheap, incremental) and the report (background). A.3 (`.adjust`) runs on a compute thread.
    public nonisolated func apply(_ change: TuningChange,
                                  progress: (@Sendable (Double) -> Void)?) async throws -> TuningSnapshot {
        guard case .adjust(let layers, let rounds) = change else { return try await applyNow(change) }
        await beginDatasetJob()  // before reading the state: other changes may land meanwhile
        let result: Result<TuningSnapshot, Error>
        do {
            result = .success(try await adjust(layers: layers, rounds: rounds, progress: progress))
        } catch {
            result = .failure(error)
        }
        await endDatasetJob()
        return try result.get()
    }

    /// A.3 rounds like `report`: the rounds run on a compute thread on the state taken at the start,
    /// so trace requests and other changes are answered meanwhile; the result is committed on the
    /// actor only if the task was not cancelled and no other change landed in between.
    private nonisolated func adjust(layers: [Int]?, rounds: Int,
                                    progress: (@Sendable (Double) -> Void)?) async throws -> TuningSnapshot {
        let start = try await adjustStart(layers: layers)
        let calib = self.calib
        let (theta, steps) = try await ComputeThread.run(name: "cssdbg adjust", gate: focusGate) {
            try AmplitudeAdjustment.adjust(start.evaluator, calib: calib, amplitudes: start.state.amplitudes,
                                           config: start.state.config, rounds: rounds, layers: layers.map(Set.init),
                                           progress: progress)
        }
        let changed = Set(steps.filter { $0.factor != 1 }.map(\.layer)).count
        let message = "\(start.label) ×\(rounds): \(changed) layer(s) changed"
        return try await commit(theta, steps: steps, message: message, startedAt: start.generation,
                                change: "\(start.label) ×\(rounds)")
    }

    private func adjustStart(layers: [Int]?) throws -> (state: TuningState, evaluator: Evaluator, generation: Int,
                                                        label: String) {
        let names = layout().layers.map(\.name)
        for l in layers ?? [] where l < -1 || l >= names.count { throw GraphError("no spiking layer \(l)") }
        let label = "adjust \(layers.map { $0.map { $0 < 0 ? "encoder" : names[$0] }.joined(separator: ",") } ?? "all")"
        return (session.current, budgeted(try plan()), generation, label)
    }

    private func commit(_ theta: Amplitudes, steps: [AdjustmentStep], message: String, startedAt: Int,
                        change: String) throws -> TuningSnapshot {
        try Task.checkCancellation()
        guard generation == startedAt else { throw SupersededError(change: change) }
        var state = session.current
        state.amplitudes = theta
        push(state, label: message)
        return TuningSnapshot(session: session, calibrated: try calibrated(), layout: layout(), message: message,
                              steps: steps)
    }

    /// Every change to the session goes through here (or `restore`), so `generation` tells a
    /// long change whether the state it started from is still the current one.
    private func push(_ state: TuningState, label: String) {
        if state != session.current { generation += 1 }  // `TuningSession.push` ignores a no-op
        session.push(state, label: label)
    }

    /// The changes that are quick enough to run on the actor.
    private func applyNow(_ change: TuningChange) throws -> TuningSnapshot {
        var state = session.current
        let names = layout().layers.map(\.name)
        func name(_ l: Int) -> String { l < 0 ? "encoder" : names[l] }
        func check(_ l: Int) throws {
            guard l >= -1, l < names.count else { throw GraphError("no spiking layer \(l)") }
        }
        let message: String
        switch change {
        case .setTheta(let l, let v):
            try check(l)
            guard v.isFinite, v > 0 else { throw GraphError("θ must be a positive number, got \(v)") }
            if l < 0 { state.amplitudes.input = v } else { state.amplitudes.layers[l] = v }
            message = "θ \(name(l)) = \(plainNumber(v, fractionDigits: 6))"
            push(state, label: message)
        case .scaleTheta(let l, let f):
            try check(l)
            if l < 0 { state.amplitudes.input *= f } else { state.amplitudes.layers[l] *= f }
            message = "θ \(name(l)) ×\(plainNumber(f, fractionDigits: 6))"
            push(state, label: message)
        case .adjust:
            preconditionFailure("A.3 runs off the actor (apply)")
        case .reset(let layer):
            let cal = try calibrated()
            if let l = layer {
                try check(l)
                if l < 0 { state.amplitudes.input = cal.input } else { state.amplitudes.layers[l] = cal.layers[l] }
                message = "reset θ \(name(l))"
            } else {
                state.amplitudes = cal
                message = "reset all θ to calibration"
            }
            push(state, label: message)
        case .setConfig(let c):
            try c.validate()
            _ = try plan(for: c)  // e.g. a larger T may not fit the budget: refuse, keep the session
            state.config = c
            state.amplitudes = try percentilesFor(c).amplitudes(c)
            message = "reconverted: T=\(c.T) β=\(plainNumber(c.beta, fractionDigits: 6)) L=\(c.silent) negative \(c.negative ? "on" : "off") percentile \(plainNumber(c.percentile, fractionDigits: 6))"
            push(state, label: message)
        case .replace(let new, let label):
            try new.config.validate()
            _ = try plan(for: new.config)
            guard new.amplitudes.layers.count == names.count else {
                throw GraphError("\(label) has \(new.amplitudes.layers.count) layers, the model \(names.count)")
            }
            state = new
            message = "loaded \(label)"
            push(state, label: message)
        case .undo:
            message = session.undo().map { generation += 1; return "undid: \($0)" } ?? "nothing to undo"
        case .redo:
            message = session.redo().map { generation += 1; return "redid: \($0)" } ?? "nothing to redo"
        }
        return TuningSnapshot(session: session, calibrated: try calibrated(), layout: layout(), message: message)
    }

    /// Replaces the whole session (restoring a saved one).
    public func restore(_ saved: TuningSession) throws -> TuningSnapshot {
        try saved.current.config.validate()
        guard saved.current.amplitudes.layers.count == evaluator.network.layerCount else {
            throw GraphError("the saved session has \(saved.current.amplitudes.layers.count) layers, the model \(evaluator.network.layerCount)")
        }
        session = saved
        generation += 1
        return TuningSnapshot(session: session, calibrated: try calibrated(), layout: layout(), message: "session restored")
    }

    public func snapshot() throws -> TuningSnapshot {
        TuningSnapshot(session: session, calibrated: try calibrated(), layout: layout(), message: "")
    }

    public func memoryUse() throws -> MemoryUse {
        let p = try plan()
        return MemoryUse(budget: p.budget, runtime: p.runtime, fixed: p.dataAndWeights, focused: p.focused, batchSize: p.batchSize,
                         traceCache: p.traceCache, dataCache: p.dataCache, held: heldBytes())
    }
}
