/// The debugger's long data-set jobs: every one is a method of the backend, runs off the
/// caller's thread within the memory plan (a data-set job slot), reports fractions in 0...1 to
/// `progress`, and ends with `CancellationError` when the calling task is cancelled (Esc, or a θ
/// change that supersedes it). A new job is one method here, one `DatasetJob` case, one `:`
/// command entry and its view.
public protocol AnalysisBackend: TunableBackend {
    /// `c`/`C`: the next stop of `breakpoints` from `position` at the current θ and config.
    func nextBreak(_ direction: SearchDirection, from position: SearchPosition, breakpoints: [Breakpoint],
                   progress: (@Sendable (Double) -> Void)?) async throws -> BreakStop?
    /// `:sweep`: every configuration of `spec` (lists not given keep the current config), evaluated.
    func sweep(_ spec: SweepSpec, progress: (@Sendable (Double) -> Void)?) async throws -> SweepResult
    /// `:attribution`: the data-set report at the current θ and config with its attribution
    /// (docs/numerics.md §12: 2n+1 simulations).
    func attribution(progress: (@Sendable (Double) -> Void)?) async throws -> DatasetReport
    /// `:doctor`: the diagnosis of the current conversion and the lowest-latency lossless one (§15).
    func doctor(_ spec: DoctorSpec, progress: (@Sendable (Double) -> Void)?) async throws -> DoctorResult
}

/// A long job the view asks the host for (`HostRequest.job`).
public enum DatasetJob: Equatable, Sendable {
    case sweep(SweepSpec)
    case attribution
    case doctor(DoctorSpec)

    /// The `:` command that asks for it.
    public var commandName: String {
        switch self {
        case .sweep: "sweep"
        case .attribution: "attribution"
        case .doctor: "doctor"
        }
    }
}

/// What a finished job hands the view.
public enum JobResult: Equatable, Sendable {
    case sweep(SweepResult)
    case attribution(DatasetReport)
    case doctor(DoctorResult)
}

/// `:doctor [TOLERANCE]`: how much accuracy may go, in percentage points.
public struct DoctorSpec: Equatable, Sendable {
    public var tolerance: Double
    public var maxRounds: Int

    public init(tolerance: Double = 0.5, maxRounds: Int = 3) {
        self.tolerance = tolerance
        self.maxRounds = maxRounds
    }
}

/// One configuration the doctor proposes: everything one undoable change needs.
public struct DoctorProposal: Equatable, Sendable {
    public var config: ConversionConfig
    public var rounds: Int
    public var amplitudes: Amplitudes
    public var latency: Int
    public var score: Double
    public var synapticOps: Double
    public var lossless: Bool
    /// Why it is proposed ("recommended: the lowest lossless latency", "Pareto front").
    public var why: String

    public init(config: ConversionConfig, rounds: Int, amplitudes: Amplitudes, latency: Int, score: Double,
                synapticOps: Double, lossless: Bool, why: String) {
        self.config = config
        self.rounds = rounds
        self.amplitudes = amplitudes
        self.latency = latency
        self.score = score
        self.synapticOps = synapticOps
        self.lossless = lossless
        self.why = why
    }
}

/// The doctor's answer for the debugger's pane.
public struct DoctorResult: Equatable, Sendable {
    public var findings: [DoctorFinding]
    /// The recommendation first (when there is one), then the rest of the Pareto front.
    public var proposals: [DoctorProposal]
    /// Samples evaluated, configurations evaluated and whether the search ran to its end.
    public var samples: Int
    public var evaluated: Int
    public var complete: Bool
    /// Whether scores are accuracies (else agreement with the ANN).
    public var byLabels: Bool

    public init(findings: [DoctorFinding], proposals: [DoctorProposal], samples: Int, evaluated: Int, complete: Bool,
                byLabels: Bool) {
        self.findings = findings
        self.proposals = proposals
        self.samples = samples
        self.evaluated = evaluated
        self.complete = complete
        self.byLabels = byLabels
    }
}
