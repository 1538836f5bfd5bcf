/// The in-process simulation backend the debugger talks to. An actor: the view's requests are
/// served one at a time off the UI thread, and every answer is an immutable snapshot.
public actor LocalBackend: SimulationBackend {
    public let evaluator: Evaluator
    public let data: SampleSet
    public let calib: SampleSet
    public private(set) var config: ConversionConfig
    public private(set) var amplitudes: Amplitudes

    public init(network: Network, data: SampleSet, calib: SampleSet, config: ConversionConfig,
                amplitudes: Amplitudes) {
        self.evaluator = Evaluator(network: network)
        self.data = data
        self.calib = calib
        self.config = config
        self.amplitudes = amplitudes
    }

    public func layout() -> NetworkLayout { evaluator.network.layout(config) }

    public func sampleCount() -> Int { data.count }

    public func trace(sample: Int) throws -> SampleTrace {
        guard sample >= 0, sample < data.count else {
            throw GraphError("sample \(sample) is out of range 0..<\(data.count)")
        }
        return evaluator.trace(data, sample: sample, amplitudes: amplitudes, config: config)
    }

    public func report(progress: @escaping @Sendable (Double) -> Void) throws -> DatasetReport {
        try evaluator.evaluate(data, amplitudes: amplitudes, config: config, progress: progress)
    }

    /// Replaces θ and the config (for tuning); callers re-request traces and reports afterwards.
    public func update(config: ConversionConfig, amplitudes: Amplitudes) {
        self.config = config
        self.amplitudes = amplitudes
    }
}
