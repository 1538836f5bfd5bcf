import CSSCore
import CSSView
import Foundation

/// The debugger's `:sweep`: the same `ConversionSweep` as `cssdbg sweep`, run in the host
/// handler's task (off the UI thread; Esc or the next θ/config change cancels it), answering
/// with a `SweepResult` for the sweep pane. Lists not given keep the debugger's current config,
/// so `:sweep -T 4,6,8` varies T around what is being debugged. Nothing in the tuning session
/// changes: a point is only adopted by Enter in the pane (`HostRequest.setAll`, one undo step).
public final class SweepCommands: Sendable {
    public let backend: LocalBackend

    public init(backend: LocalBackend) { self.backend = backend }

    /// Serves `.sweep`; every other request goes to `other`.
    public func handler(around other: @escaping HostHandler) -> HostHandler {
        { [self] call in
            guard case .sweep(let spec) = call.request else { return await other(call) }
            return await execute(spec, progress: call.progress)
        }
    }

    public func execute(_ spec: SweepSpec, progress: (@Sendable (Double) -> Void)? = nil) async -> HostReply {
        do {
            let result = try await run(spec, progress: progress)
            let front = result.rows.filter(\.pareto).count
            return HostReply(message: "sweep: \(result.rows.count) points on \(result.samples) samples, \(front) on the front; Enter adopts the selected one",
                             sweep: result)
        } catch is CancellationError {
            return HostReply(message: ":sweep cancelled; θ and config unchanged", isError: true)
        } catch let p as SweepSpec.Problem {
            return HostReply(message: ":sweep: \(p)", isError: true)
        } catch {
            return HostReply(message: ":sweep: \(error)", isError: true)
        }
    }

    /// The points, as `ConversionSweep.run` computes them on the backend's data (its first
    /// `limit` samples) and calibration set.
    public func run(_ spec: SweepSpec, progress: (@Sendable (Double) -> Void)?) async throws -> SweepResult {
        let base = await backend.config
        let configs = try spec.configurations(base: base)
        let all = await backend.data, calib = await backend.calib, memory = await backend.memory
        let data = spec.limit.map { all.prefix($0) } ?? all
        // A data-set job of the backend's (one of the plan's two slots), batches sized below.
        return try await backend.datasetJob {
            try await Self.sweep(backend, spec: spec, configs: configs, base: base, data: data, calib: calib,
                                 memory: memory, progress: progress)
        }
    }

    private static func sweep(_ backend: LocalBackend, spec: SweepSpec, configs: [ConversionConfig], base: ConversionConfig,
                              data: SampleSet, calib: SampleSet, memory: MemoryBudget,
                              progress: (@Sendable (Double) -> Void)?) async throws -> SweepResult {
        var evaluator = await backend.evaluator
        // Batches sized for the most demanding point (the longest window), within the budget.
        let widest = configs.max { $0.window < $1.window } ?? base
        evaluator.batchSize = try LocalBackend.plan(network: evaluator.network, config: widest, memory: memory,
                                                    data: data, calib: calib).batchSize
        let ev = evaluator
        // On a compute thread of its own, pausing while the focused sample is traced.
        let points = try await ComputeThread.run(name: "cssdbg sweep", gate: backend.focusGate) {
            let p = try ev.calibrationPercentiles(calib, percentile: base.percentile)
            return try ConversionSweep.run(ev, data: data, calib: calib, percentiles: p, configs: configs,
                                           rounds: spec.rounds ?? 0, progress: progress)
        }
        return SweepResult(rows: points.map(\.row), samples: data.count, rounds: spec.rounds ?? 0)
    }
}
