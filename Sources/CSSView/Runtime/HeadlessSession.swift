import CSSSnapshots

/// A headless session: `update` plus the same `CommandRunner` as the terminal, each command's
/// tasks awaited before the next message, so runs are deterministic. No terminal: for tests and
/// scripted screenshots (`render()` gives the screen as a grid).
public struct HeadlessSession {
    public private(set) var state: ViewState
    public let runner: CommandRunner
    public var backend: any SimulationBackend { runner.backend }
    public var quit: Bool { runner.quitRequested }
    /// Every host request sent, in order.
    public private(set) var hostRequests: [HostRequest] = []
    /// Every host reply received, in order.
    public private(set) var hostReplies: [HostReply] = []

    public init(backend: any SimulationBackend, state: ViewState, host: HostHandler? = nil) {
        self.runner = CommandRunner(backend: backend, host: host)
        self.state = state
    }

    /// Delivers the start-up commands (layout, trace, report) and waits for their results.
    public mutating func start() async {
        await run(initialCommands(state))
    }

    public mutating func send(_ message: Message) async {
        if case .hostReply(let r) = message { hostReplies.append(r) }
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
            if case .host(let r) = c { hostRequests.append(r) }
            for t in runner.perform([c], state: state) { await t.value }
            for m in runner.inbox.take() { await send(m) }
        }
    }

    public func render() -> CellGrid { Screen.render(state) }
}
