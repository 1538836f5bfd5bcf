import CSSSnapshots

/// Performs the backend commands `update` asks for. Shared by the terminal app loop and
/// headless tests; results come back as messages through `send`.
public enum Effects {
    /// Runs a backend command to completion. `quit`, `cancelReport` and `custom` are not
    /// backend work and are ignored here (the app loop handles them).
    public static func perform(_ command: Command, backend: any SimulationBackend,
                               send: @escaping @Sendable (Message) -> Void) async {
        switch command {
        case .loadLayout:
            let layout = await backend.layout()
            let n = await backend.sampleCount()
            send(.layoutArrived(layout, sampleCount: n))
        case .loadTrace(let sample):
            do {
                let t = try await backend.trace(sample: sample)
                send(.traceArrived(t))
            } catch is CancellationError {
            } catch {
                send(.backendFailed("sample \(sample): \(error)"))
            }
        case .loadReport:
            do {
                let r = try await backend.report(progress: { p in send(.progress(p)) })
                send(.reportArrived(r))
            } catch is CancellationError {
                // Superseded (reload) or stopped on purpose: nothing to report.
            } catch {
                send(.backendFailed("report: \(error)"))
            }
        case .cancelReport, .custom, .quit:
            break
        }
    }
}

/// A headless session: the update loop plus effects run inline, no terminal. For tests and
/// scripted screenshots (`render()` gives the screen as a grid).
public struct HeadlessSession {
    public private(set) var state: ViewState
    public let backend: any SimulationBackend
    public private(set) var quit = false
    public private(set) var customCommands: [Command] = []

    public init(backend: any SimulationBackend, state: ViewState) {
        self.backend = backend
        self.state = state
    }

    /// Delivers the start-up commands (layout, trace, report) and waits for their results.
    public mutating func start() async {
        await run(initialCommands(state))
    }

    public mutating func send(_ message: Message) async {
        let (next, cmds) = update(state, message)
        state = next
        await run(cmds)
    }

    public mutating func press(_ keys: Key...) async {
        for k in keys { await send(.key(k)) }
    }

    /// Types characters one by one.
    public mutating func type(_ text: String) async {
        for c in text { await send(.key(.char(c))) }
    }

    mutating func run(_ cmds: [Command]) async {
        for c in cmds {
            switch c {
            case .quit: quit = true
            case .custom: customCommands.append(c)
            default:
                let box = MessageBox()
                await Effects.perform(c, backend: backend, send: { box.append($0) })
                for m in box.take() { await send(m) }
            }
        }
    }

    public func render() -> CellGrid { Screen.render(state) }
}

/// A small lock-protected message queue (results from background tasks to the UI loop).
public final class MessageBox: @unchecked Sendable {
    private var items: [Message] = []
    private let lock = SpinLock()

    public init() {}

    public func append(_ m: Message) { lock.withLock { items.append(m) } }

    public func take() -> [Message] {
        lock.withLock {
            let out = items
            items.removeAll()
            return out
        }
    }
}
