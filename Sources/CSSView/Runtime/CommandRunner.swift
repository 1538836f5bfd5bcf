import Foundation
import CSSSnapshots

/// Performs the commands `update` returns: backend work and host requests in tasks of their own,
/// results posted to `inbox` as messages. The one runner of the terminal loop and of
/// `HeadlessSession`, so tests exercise the real wiring. Drive it from one task (the UI loop);
/// only `inbox` is touched by the tasks it starts.
public final class CommandRunner: @unchecked Sendable {
    public let backend: any SimulationBackend
    public let host: HostHandler?
    /// Results from the tasks, for the UI loop to feed into `update`.
    public let inbox: MessageBox
    /// Where the loop and the tasks note what happened when (nil: nowhere).
    public let events: EventLog?
    public private(set) var quitRequested = false

    private var traceTask: Task<Void, Never>?
    /// The last trace summarised and its summary: the next trace's layers taken from the
    /// backend's cache keep their numbers (`TraceSummary(_:reusing:)`). It is the trace the
    /// screen shows, so holding it costs no memory the plan does not count.
    private let lastSummarised = Locked<(trace: SampleTrace, summary: TraceSummary)?>(nil)
    private var reportTask: Task<Void, Never>?
    private var otherTasks: [Task<Void, Never>] = []
    /// The last host request; the next one waits for it, so changes apply in the order asked.
    private var hostChain: Task<Void, Never>?
    /// The running long host request (`:adjust`), for `cancelHost`.
    private var longHostTask: Task<Void, Never>?
    /// Host requests started and not finished (`settle` waits for them).
    private let hostCounter = CompletionCounter()

    /// - Parameter wake: called after every message posted to `inbox`, from the posting thread
    ///   (the terminal loop stops waiting for a key then).
    public init(backend: any SimulationBackend, host: HostHandler? = nil, wake: (@Sendable () -> Void)? = nil,
                events: EventLog? = nil) {
        self.backend = backend
        self.host = host
        self.inbox = MessageBox(wake: wake)
        self.events = events
    }

    /// Starts the commands; returns the tasks started (a headless session awaits them).
    @discardableResult
    public func perform(_ commands: [Command], state: ViewState) -> [Task<Void, Never>] {
        let backend = self.backend
        let inbox = self.inbox
        let send: @Sendable (Message) -> Void = { inbox.append($0) }
        let events = self.events
        let lastSummarised = self.lastSummarised
        var started: [Task<Void, Never>] = []
        for c in commands {
            switch c {
            case .quit:
                quitRequested = true
            case .loadTrace(let sample):
                traceTask?.cancel()
                events?.record("trace-request", "\(sample)")
                traceTask = Task.detached {
                    do {
                        let trace = try await backend.trace(sample: sample)
                        events?.record("trace-computed", "\(sample)")
                        try Task.checkCancellation()
                        let summary = TraceSummary(trace, reusing: lastSummarised.withLock { $0 })
                        lastSummarised.withLock { $0 = (trace, summary) }
                        events?.record("trace-summarised", "\(sample)")
                        send(.summarisedTraceArrived(trace, summary))
                    } catch is CancellationError {
                        events?.record("trace-cancelled", "\(sample)")
                    } catch {
                        events?.record("trace-failed", "\(sample)")
                        send(.backendFailed("sample \(sample): \(error)"))
                    }
                }
                started.append(traceTask!)
            case .loadReport:
                reportTask?.cancel()
                // The focused sample first: a θ change asks for a new trace and a new report at
                // once, and the report waits for that trace instead of halving its cores (on an
                // ImageNet-size network the trace is what the user waits for; the report takes
                // minutes either way). A trace asked for later does not hold the report back.
                let focused = traceTask
                reportTask = Task.detached {
                    await focused?.value
                    do {
                        events?.record("report-start")
                        send(.reportArrived(try await backend.report(progress: { send(.progress($0)) })))
                        events?.record("report-done")
                    } catch is CancellationError {
                        // Superseded (reload) or stopped on purpose: nothing to report.
                        events?.record("report-cancelled")
                    } catch {
                        send(.backendFailed("report: \(error)"))
                    }
                }
                started.append(reportTask!)
            case .cancelReport:
                reportTask?.cancel()
                reportTask = nil
            case .loadLayout:
                let t = Task.detached {
                    let layout = await backend.layout()
                    send(.layoutArrived(layout, sampleCount: await backend.sampleCount()))
                }
                otherTasks.append(t)
                started.append(t)
            case .host(let request):
                started.append(startHost(request, position: ViewPosition(state), send: send))
            case .cancelHost:
                longHostTask?.cancel()
                longHostTask = nil
            case .listFiles(let partial):
                send(.filesListed(partial: partial, names: fileCompletions(partial, list: listDirectory)))
            }
        }
        otherTasks.removeAll { $0.isCancelled }
        return started
    }

    private func startHost(_ request: HostRequest, position: ViewPosition,
                           send: @escaping @Sendable (Message) -> Void) -> Task<Void, Never> {
        let call = HostCall(request: request, position: position, progress: { send(.hostProgress($0)) })
        let host = self.host
        let events = self.events
        let previous = hostChain
        let counter = hostCounter
        counter.started()
        events?.record("host-request", ":\(request.commandName)")
        let task = Task.detached {
            defer { counter.finished() }
            await previous?.value
            guard let host else {
                events?.record("host-replied", ":\(request.commandName)")
                send(.hostReply(HostReply(message: "no host serves :\(request.commandName)", isError: true)))
                return
            }
            let reply = await host(call)
            events?.record("host-replied", ":\(request.commandName)")
            send(.hostReply(reply))
        }
        hostChain = task
        if request.isCancellable { longHostTask = task }
        otherTasks.append(task)
        return task
    }

    public func cancelAll() {
        traceTask?.cancel()
        reportTask?.cancel()
        for t in otherTasks { t.cancel() }
    }

    /// Waits (suspended, the caller's actor stays free) until every host request has finished, at
    /// most `timeout`: a `:w` or session save in flight is kept.
    public func settle(timeout: Duration) async {
        await hostCounter.idle(timeout: timeout)
    }
}

/// A small lock-protected message queue (results from background tasks to the UI loop).
public final class MessageBox: @unchecked Sendable {
    private let items = Locked<[Message]>([])
    private let wake: (@Sendable () -> Void)?

    public init(wake: (@Sendable () -> Void)? = nil) { self.wake = wake }

    public func append(_ m: Message) {
        items.withLock { $0.append(m) }
        wake?()
    }

    public func take() -> [Message] {
        items.withLock {
            let out = $0
            $0.removeAll()
            return out
        }
    }
}

/// Counts tasks in flight across threads; `idle(timeout:)` waits until none is.
final class CompletionCounter: Sendable {
    private struct State {
        var running = 0
        var nextWaiter = 0
        /// Suspended `idle` calls, resumed when `running` drops to 0 or at their deadline.
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Locked(State())

    func started() { state.withLock { $0.running += 1 } }

    func finished() {
        let idle = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.running -= 1
            guard s.running == 0 else { return [] }
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for w in idle { w.resume() }
    }

    /// Returns once nothing is running, or after `timeout`, whichever comes first.
    func idle(timeout: Duration) async {
        let timer = Locked<Task<Void, Never>?>(nil)
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let id = state.withLock { s -> Int? in
                guard s.running > 0 else { return nil }
                s.nextWaiter += 1
                s.waiters[s.nextWaiter] = c
                return s.nextWaiter
            }
            guard let id else { return c.resume() }
            timer.value = Task.detached { [state] in
                try? await Task.sleep(for: timeout)
                state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
            }
        }
        timer.value?.cancel()
    }
}

/// The entries of a directory and whether each is one (`~` expanded); none when it cannot be read.
@Sendable func listDirectory(_ path: String) -> [(name: String, isDirectory: Bool)] {
    let fm = FileManager.default
    let dir = (path as NSString).expandingTildeInPath
    guard let names = try? fm.contentsOfDirectory(atPath: dir) else { return [] }
    return names.map { name in
        var isDir: ObjCBool = false
        _ = fm.fileExists(atPath: (dir as NSString).appendingPathComponent(name), isDirectory: &isDir)
        return (name, isDir.boolValue)
    }
}
