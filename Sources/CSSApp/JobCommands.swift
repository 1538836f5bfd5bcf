import CSSCore
import CSSView
import Foundation

/// The debugger's long data-set jobs (`:sweep`, `:attribution`, `:doctor`): each is one method
/// of the backend (`AnalysisBackend`); this turns its result or its failure into the reply the
/// view shows. Run in the host handler's task: Esc or the next θ/config change cancels it, and
/// nothing in the tuning session changes (a sweep point or a doctor's proposal is adopted only
/// by Enter in its pane, as one undoable change).
public final class JobCommands: Sendable {
    public let backend: any AnalysisBackend

    public init(backend: any AnalysisBackend) { self.backend = backend }

    public func execute(_ job: DatasetJob, progress: (@Sendable (Double) -> Void)? = nil) async -> HostReply {
        let name = job.commandName
        do {
            switch job {
            case .sweep(let spec):
                let result = try await backend.sweep(spec, progress: progress)
                let front = result.rows.filter(\.pareto).count
                return HostReply(message: "sweep: \(result.rows.count) points on \(result.samples) samples, \(front) on the front; Enter adopts the selected one",
                                 job: .sweep(result))
            case .attribution:
                let report = try await backend.attribution(progress: progress)
                return HostReply(message: Self.summary(report), job: .attribution(report))
            case .doctor(let spec):
                let result = try await backend.doctor(spec, progress: progress)
                let best = result.proposals.first { $0.lossless }
                let message = best.map {
                    "doctor: lossless at latency \($0.latency) (T \($0.config.T), L \($0.config.silent), negative \($0.config.negative ? "on" : "off"), \($0.rounds) A.3 rounds); Enter on a proposal adopts it"
                } ?? "doctor: no lossless configuration in the space (tolerance \(String(format: "%g", spec.tolerance)) points); the front is listed"
                return HostReply(message: message, job: .doctor(result))
            }
        } catch is CancellationError {
            return HostReply(message: ":\(name) cancelled; θ and config unchanged", isError: true)
        } catch let p as SweepSpec.Problem {
            return HostReply(message: ":\(name): \(p)", isError: true)
        } catch {
            return HostReply(message: ":\(name): \(error)", isError: true)
        }
    }

    /// The layer that costs the most, in one line.
    static func summary(_ r: DatasetReport) -> String {
        guard let a = r.attribution else { return "attribution: no result" }
        let prefix = a.exactPrefixAccuracy ?? a.exactPrefixAgreement
        let steps = r.layers.indices.map { prefix[$0 + 1] - prefix[$0] }
        guard let worst = steps.indices.max(by: { steps[$0] < steps[$1] }), steps[worst] > 0 else {
            return "attribution: no layer's coding costs \(a.byLabels ? "accuracy" : "agreement") on these \(r.samples) samples"
        }
        return "attribution: \(r.layers[worst].info.name) loses the most (\(String(format: "%.1f", steps[worst] * 100)) points; culprit of \(a.culpritSamples[worst]) samples)"
    }
}
