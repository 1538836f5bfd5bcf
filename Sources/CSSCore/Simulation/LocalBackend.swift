/// The in-process simulation backend the debugger talks to. An actor: the view's requests are
/// served one at a time off the UI thread, and every answer is an immutable snapshot. It keeps
/// the last run of the focused sample and of the data set so a θ change recomputes only the
/// layer that moved and what it feeds.
public actor LocalBackend: SimulationBackend {
    public let evaluator: Evaluator
    public let data: SampleSet
    public let calib: SampleSet
    public private(set) var session: TuningSession
    private var percentiles: CalibrationPercentiles
    private var sampleCache: (sample: Int, cache: SimulationCache?)? = nil
    private var dataCache: EvaluationCache? = EvaluationCache()
    /// Spiking layers simulated by the last trace request (for tests and the status line).
    public private(set) var lastTraceWork: [Int] = []

    /// - Parameter start: the starting θ and config (from a θ file or calibration).
    public init(network: Network, data: SampleSet, calib: SampleSet, start: TuningState,
                percentiles: CalibrationPercentiles) {
        self.evaluator = Evaluator(network: network)
        self.data = data
        self.calib = calib
        self.session = TuningSession(start: start)
        self.percentiles = percentiles
    }

    public var config: ConversionConfig { session.current.config }
    public var amplitudes: Amplitudes { session.current.amplitudes }

    public func layout() -> NetworkLayout { evaluator.network.layout(config) }

    public func sampleCount() -> Int { data.count }

    public func trace(sample: Int) throws -> SampleTrace {
        guard sample >= 0, sample < data.count else {
            throw GraphError("sample \(sample) is out of range 0..<\(data.count)")
        }
        var cache = sampleCache?.sample == sample ? sampleCache!.cache : nil
        let (trace, work) = evaluator.trace(data, sample: sample, amplitudes: amplitudes, config: config, cache: &cache)
        sampleCache = (sample, cache)
        lastTraceWork = work
        return trace
    }

    /// Runs outside the actor, so trace requests (a sample change, a θ change's focused
    /// recomputation) are answered while the data set is still being simulated.
    public nonisolated func report(progress: @escaping @Sendable (Double) -> Void) async throws -> DatasetReport {
        let (state, start) = await reportStart()
        var cache = start
        let r = try evaluator.evaluate(data, amplitudes: state.amplitudes, config: state.config, cache: &cache,
                                       progress: progress)
        await keep(cache)
        return r
    }

    private func reportStart() -> (TuningState, EvaluationCache?) { (session.current, dataCache) }

    /// Cache entries record the θ and config they were computed with, so any finished run's
    /// cache is safe to keep (a cancelled run never gets here).
    private func keep(_ cache: EvaluationCache?) { dataCache = cache }

    /// θ from calibration for the current config.
    public func calibrated() throws -> Amplitudes {
        try percentilesFor(config).amplitudes(config)
    }

    private func percentilesFor(_ c: ConversionConfig) throws -> CalibrationPercentiles {
        if c.percentile != percentiles.percentile {
            percentiles = try evaluator.calibrationPercentiles(calib, percentile: c.percentile)
        }
        return percentiles
    }

    /// Applies a tuning change and answers with the new state; callers then ask for the trace
    /// (cheap, incremental) and the report (background).
    public func apply(_ change: TuningChange, progress: (@Sendable (Double) -> Void)? = nil) throws -> TuningSnapshot {
        var state = session.current
        let names = layout().layers.map(\.name)
        func name(_ l: Int) -> String { l < 0 ? "encoder" : names[l] }
        func check(_ l: Int) throws {
            guard l >= -1, l < names.count else { throw GraphError("no spiking layer \(l)") }
        }
        var steps: [AdjustmentStep] = []
        let message: String
        switch change {
        case .setTheta(let l, let v):
            try check(l)
            guard v.isFinite, v > 0 else { throw GraphError("θ must be a positive number, got \(v)") }
            if l < 0 { state.amplitudes.input = v } else { state.amplitudes.layers[l] = v }
            message = "θ \(name(l)) = \(short(v))"
            session.push(state, label: message)
        case .scaleTheta(let l, let f):
            try check(l)
            if l < 0 { state.amplitudes.input *= f } else { state.amplitudes.layers[l] *= f }
            message = "θ \(name(l)) ×\(short(f))"
            session.push(state, label: message)
        case .adjust(let layers, let rounds):
            try layers?.forEach(check)
            let (theta, s) = try AmplitudeAdjustment.adjust(evaluator, calib: calib, amplitudes: state.amplitudes,
                                                            config: state.config, rounds: rounds,
                                                            layers: layers.map(Set.init), progress: progress)
            steps = s
            state.amplitudes = theta
            let changed = Set(s.filter { $0.factor != 1 }.map(\.layer)).count
            message = "adjust \(layers.map { $0.map(name).joined(separator: ",") } ?? "all") ×\(rounds): \(changed) layer(s) changed"
            session.push(state, label: message)
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
            session.push(state, label: message)
        case .setConfig(let c):
            try c.validate()
            state.config = c
            state.amplitudes = try percentilesFor(c).amplitudes(c)
            message = "reconverted: T=\(c.T) β=\(short(c.beta)) L=\(c.silent) negative \(c.negative ? "on" : "off") percentile \(short(c.percentile))"
            session.push(state, label: message)
        case .replace(let new, let label):
            try new.config.validate()
            guard new.amplitudes.layers.count == names.count else {
                throw GraphError("\(label) has \(new.amplitudes.layers.count) layers, the model \(names.count)")
            }
            state = new
            message = "loaded \(label)"
            session.push(state, label: message)
        case .undo:
            message = session.undo().map { "undid: \($0)" } ?? "nothing to undo"
        case .redo:
            message = session.redo().map { "redid: \($0)" } ?? "nothing to redo"
        }
        return TuningSnapshot(session: session, calibrated: try calibrated(), layout: layout(), message: message,
                              steps: steps)
    }

    /// Replaces the whole session (restoring a saved one).
    public func restore(_ saved: TuningSession) throws -> TuningSnapshot {
        try saved.current.config.validate()
        guard saved.current.amplitudes.layers.count == evaluator.network.layerCount else {
            throw GraphError("the saved session has \(saved.current.amplitudes.layers.count) layers, the model \(evaluator.network.layerCount)")
        }
        session = saved
        return TuningSnapshot(session: session, calibrated: try calibrated(), layout: layout(), message: "session restored")
    }

    public func snapshot() throws -> TuningSnapshot {
        TuningSnapshot(session: session, calibrated: try calibrated(), layout: layout(), message: "")
    }
}

/// Compact number for messages.
func short(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e9 { return String(Int(x)) }
    var s = String(x)
    if s.count > 8, let d = Double(s) {
        let m = Double(Int((d * 1e6).rounded())) / 1e6
        s = String(m)
    }
    return s
}
