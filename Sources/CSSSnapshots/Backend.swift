/// What the debugger's view may ask of the simulation. Every answer is an immutable snapshot;
/// implementations do their work off the caller's thread.
public protocol SimulationBackend: Sendable {
    /// Layout of the current conversion (cheap).
    func layout() async -> NetworkLayout
    /// Number of loaded samples.
    func sampleCount() async -> Int
    /// Full trace of one sample under the current θ and config.
    func trace(sample: Int) async throws -> SampleTrace
    /// Diagnostics over the whole loaded data set; `progress` receives fractions in 0...1.
    /// Cancellation of the calling task stops the work early with `CancellationError`.
    func report(progress: @escaping @Sendable (Double) -> Void) async throws -> DatasetReport
}
