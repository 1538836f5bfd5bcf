import CSSCore
import CSSImport
import CSSView
import Foundation

/// The debugger's breakpoints (docs/numerics.md §11): the numbered list `:break`, `:delete`,
/// `:enable` and `:disable` edit, and `c`/`C`, which run `BreakpointSearch.next` from the current
/// step off the UI thread (the host handler's task; Esc cancels it). Hit counts count how often
/// `c`/`C` stopped at each breakpoint, as gdb's "already hit N times".
public final class BreakpointCommands: Sendable {
    public let backend: any AnalysisBackend
    private let state = Locked(State())

    struct State {
        var breakpoints: [Breakpoint] = []
        var hitCounts: [Int: Int] = [:]
        var nextNumber = 1
        /// The hits of the last stop, all at one sample and step, and the one shown: the next
        /// `c` (`C`) visits the others there before searching on.
        var here: [BreakHit] = []
        var hereIndex = 0
    }

    /// `initial`: the `--break` ones (already parsed and numbered from 1).
    public init(backend: any AnalysisBackend, breakpoints initial: [Breakpoint] = []) {
        self.backend = backend
        state.value = State(breakpoints: initial, nextNumber: (initial.map(\.number).max() ?? 0) + 1)
    }

    /// The breakpoints, in number order.
    public var breakpoints: [Breakpoint] { state.value.breakpoints }
    public func hitCount(_ number: Int) -> Int { state.value.hitCounts[number] ?? 0 }

    @discardableResult
    func add(_ condition: BreakCondition) -> Breakpoint {
        state.withLock { s in
            let bp = Breakpoint(number: s.nextNumber, condition: condition)
            s.nextNumber += 1
            s.breakpoints.append(bp)
            return bp
        }
    }

    /// The list as the session file keeps it.
    public func saved(_ layout: NetworkLayout) -> [SessionBreakpoint] {
        breakpoints.map { SessionBreakpoint(number: $0.number, condition: $0.condition.text(layout), enabled: $0.enabled) }
    }

    /// A restored session's breakpoints replace the list (numbers kept); the ones set by
    /// `--break` that it lacks follow with new numbers. A condition the model no longer parses
    /// (a layer gone) is dropped. Hit counts start again.
    public func restore(_ list: [SessionBreakpoint], layout: NetworkLayout) {
        state.withLock { s in
            var restored: [Breakpoint] = list.compactMap { b in
                (try? BreakCondition.parse(b.condition, layout: layout)).map {
                    Breakpoint(number: b.number, condition: $0, enabled: b.enabled)
                }
            }
            var next = (restored.map(\.number).max() ?? 0) + 1
            for bp in s.breakpoints where !restored.contains(where: { $0.condition == bp.condition }) {
                restored.append(Breakpoint(number: next, condition: bp.condition, enabled: bp.enabled))
                next += 1
            }
            s = State(breakpoints: restored, nextNumber: next)
        }
    }

    public func execute(_ request: BreakpointRequest, position: ViewPosition,
                        progress: (@Sendable (Double) -> Void)? = nil) async -> HostReply {
        let layout = await backend.layout()
        switch request {
        case .add(let text):
            do {
                let bp = add(try BreakCondition.parse(text, layout: layout))
                return HostReply(message: "breakpoint \(bp.number): \(bp.condition.text(layout))")
            } catch {
                return HostReply(message: ":break: \(error)", isError: true)
            }
        case .list:
            let s = state.value
            guard !s.breakpoints.isEmpty else { return HostReply(message: "no breakpoints; :break COND adds one") }
            let rows = s.breakpoints.map { bp in
                BreakpointRow(number: bp.number, enabled: bp.enabled, condition: bp.condition.text(layout),
                              hits: s.hitCounts[bp.number] ?? 0)
            }
            let off = rows.filter { !$0.enabled }.count
            return HostReply(message: "\(rows.count) breakpoint\(rows.count == 1 ? "" : "s")"
                                 + (off > 0 ? " (\(off) disabled)" : "") + "; Esc closes the list",
                             breakpoints: rows)
        case .delete(nil):
            let n = state.withLock { s in
                defer { s.breakpoints.removeAll(); s.hitCounts.removeAll() }
                return s.breakpoints.count
            }
            return HostReply(message: "deleted \(n) breakpoint\(n == 1 ? "" : "s")")
        case .delete(let number?):
            let found = state.withLock { s in
                guard let i = s.breakpoints.firstIndex(where: { $0.number == number }) else { return false }
                s.breakpoints.remove(at: i)
                s.hitCounts[number] = nil
                return true
            }
            return found ? HostReply(message: "deleted breakpoint \(number)")
                : HostReply(message: ":delete: no breakpoint \(number)", isError: true)
        case .enable(let number, let on):
            let found = state.withLock { s in
                guard let i = s.breakpoints.firstIndex(where: { $0.number == number }) else { return false }
                s.breakpoints[i].enabled = on
                return true
            }
            return found ? HostReply(message: "\(on ? "enabled" : "disabled") breakpoint \(number)")
                : HostReply(message: ":\(request.commandName): no breakpoint \(number)", isError: true)
        case .next(let forward):
            return await next(forward: forward, from: position, layout: layout, progress: progress)
        }
    }

    func next(forward: Bool, from position: ViewPosition, layout: NetworkLayout,
              progress: (@Sendable (Double) -> Void)?) async -> HostReply {
        let key = forward ? "c" : "C"
        let enabled = breakpoints.filter(\.enabled)
        guard !enabled.isEmpty else {
            return HostReply(message: breakpoints.isEmpty ? "\(key): no breakpoints; :break COND adds one"
                                                          : "\(key): every breakpoint is disabled", isError: true)
        }
        // Several hits at the step on screen: the others there first, in order (C: backwards).
        let enabledNumbers = Set(enabled.map(\.number))
        let walk: (hits: [BreakHit], index: Int)? = state.withLock { s in
            s.here.removeAll { !enabledNumbers.contains($0.breakpoint) }
            guard let first = s.here.first, first.sample == position.sample, first.step == position.step else { return nil }
            let i = s.hereIndex + (forward ? 1 : -1)
            guard s.here.indices.contains(i) else { return nil }
            s.hereIndex = i
            return (s.here, i)
        }
        if let walk {
            return reply(walk.hits, walk.index, enabled: enabled, layout: layout, position: position)
        }
        do {
            // A data-set job of the backend's: the plan's batch size and job slots, the latest
            // report where it answers (violations, wrong, disagree of this θ and config).
            guard let stop = try await backend.nextBreak(forward ? .forward : .backward,
                                                         from: SearchPosition(sample: position.sample, step: position.step),
                                                         breakpoints: enabled, progress: progress) else {
                try Task.checkCancellation()  // superseded at the end: say so, not "no hit"
                return HostReply(message: "\(key): no \(forward ? "further" : "earlier") hit of the enabled breakpoints")
            }
            try Task.checkCancellation()
            // Forward, the step's first hit; backward, its last (C walks back through them).
            let index = forward ? 0 : stop.hits.count - 1
            state.withLock { s in
                for n in Set(stop.hits.map(\.breakpoint)) { s.hitCounts[n, default: 0] += 1 }
                s.here = stop.hits
                s.hereIndex = index
            }
            return reply(stop.hits, index, enabled: enabled, layout: layout, position: position)
        } catch is CancellationError {
            return HostReply(message: "\(key): search cancelled; nothing moved", isError: true)
        } catch {
            return HostReply(message: "\(key): \(error)", isError: true)
        }
    }

    /// The stop at `hits[index]`: `(+N more here)` on the first of several, `(k of N here)` on
    /// the others.
    private func reply(_ hits: [BreakHit], _ index: Int, enabled: [Breakpoint], layout: NetworkLayout,
                       position: ViewPosition) -> HostReply {
        let hit = hits[index]
        let bp = enabled.first { $0.number == hit.breakpoint }!
        let where_ = hit.layer.map { layout.layers[$0].name } ?? "output"
        var message = "break \(hit.breakpoint): \(bp.condition.text(layout)) — \(where_)"
            + (hit.neuron.map { " neuron \($0)" } ?? "") + ", sample \(hit.sample), g \(hit.step)"
        if hits.count > 1 {
            message += index == 0 ? " (+\(hits.count - 1) more here)" : " (\(index + 1) of \(hits.count) here)"
        }
        return HostReply(message: message,
                         position: ViewPosition(sample: hit.sample, step: hit.step, layer: hit.layer,
                                                neuron: hit.neuron ?? position.neuron))
    }
}
