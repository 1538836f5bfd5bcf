/// A backend whose θ and conversion can be changed: the debugger's tuning commands (`:theta`,
/// `:adjust`, `:set`, `:undo`, `:restore`, ...) go through this, so the host holds any backend
/// (in-process today, another process or machine later) rather than the concrete actor.
public protocol TunableBackend: SimulationBackend {
    /// The current conversion config.
    var config: ConversionConfig { get async }
    /// Applies one change and answers with the new tuning state; callers then ask for the trace
    /// (cheap, incremental) and the report (background). Long changes (`.adjust`) report
    /// fractions in 0...1 to `progress`, do not hold up `trace` while they run, and throw
    /// `CancellationError` when the calling task is cancelled, leaving the state unchanged;
    /// `SupersededError` when another change landed while they ran (theirs is kept).
    func apply(_ change: TuningChange, progress: (@Sendable (Double) -> Void)?) async throws -> TuningSnapshot
    /// Replaces the whole session (restoring a saved one).
    func restore(_ saved: TuningSession) async throws -> TuningSnapshot
    /// The tuning state as it is, with no change.
    func snapshot() async throws -> TuningSnapshot
    /// θ straight from calibration for the current config.
    func calibrated() async throws -> Amplitudes
    /// How the memory budget is spent at the current config and what is held now (`:memory`).
    func memoryUse() async throws -> MemoryUse
}

extension TunableBackend {
    /// A change without progress reports.
    public func apply(_ change: TuningChange) async throws -> TuningSnapshot {
        try await apply(change, progress: nil)
    }
}

/// A long change that finished after another change had already moved θ or the config: its
/// result was computed from a state that is gone, so it is dropped and the later change stays.
public struct SupersededError: Error, CustomStringConvertible, Sendable {
    /// What was dropped, e.g. `adjust all ×100`.
    public var change: String
    public init(change: String) { self.change = change }
    public var description: String { "\(change) was superseded by a later change; θ is as that change left it" }
}

/// The memory plan of the current config and what the backend holds (bytes).
public struct MemoryUse: Sendable, Equatable {
    /// The whole `--memory` budget.
    public var budget: Int
    /// The fixed runtime overhead (binary, libraries, thread stacks), there before any model.
    public var runtime: Int
    /// Data set, calibration set and weights.
    public var fixed: Int
    /// The focused sample's traces and their working memory.
    public var focused: Int
    /// Samples per data-set batch.
    public var batchSize: Int
    /// Whether the focused sample keeps its tensors for incremental re-traces.
    public var traceCache: Bool
    /// What the data-set cache may hold.
    public var dataCache: Int
    /// What the backend holds between requests now.
    public var held: Int

    public init(budget: Int, runtime: Int, fixed: Int, focused: Int, batchSize: Int, traceCache: Bool, dataCache: Int,
                held: Int) {
        self.budget = budget
        self.runtime = runtime
        self.fixed = fixed
        self.focused = focused
        self.batchSize = batchSize
        self.traceCache = traceCache
        self.dataCache = dataCache
        self.held = held
    }
}
