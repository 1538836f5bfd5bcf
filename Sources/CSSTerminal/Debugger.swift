import CSSSnapshots
import CSSView
import CNcurses
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a custom `:` command sees: the words typed and where the cursor is.
public struct CustomCommandRequest: Sendable {
    public var name: String
    public var arguments: [String]
    /// The whole line without the colon.
    public var line: String
    public var sample: Int
    public var step: Int
    /// Selected spiking layer (nil when the encoder or output row is selected).
    public var layer: Int?
    public var neuron: Int
    /// The screen around it, as `:focus` / `:hotspots` / `:speed` arguments (sessions keep them).
    public var focus: String
    public var lowerLeft: String
    public var lowerRight: String
    public var hotspotFilter: String
    public var playSpeed: Double
}

/// What a custom command did.
public struct CustomCommandResult: Sendable {
    /// Shown in the message bar.
    public var message: String?
    public var isError: Bool
    /// The conversion changed (θ, config): re-fetch layout, trace and report.
    public var reload: Bool
    public var quit: Bool
    /// `:` command lines (without the colon) to replay afterwards, e.g. to restore a position.
    public var followUp: [String]
    /// The tuning history's depth, for the status-line indicator.
    public var tuning: TuningStatus?
    /// θ now comes from this file (`:load`), for the status line; nil: unchanged.
    public var thetaOrigin: String?

    public init(message: String? = nil, isError: Bool = false, reload: Bool = false, quit: Bool = false,
                followUp: [String] = [], tuning: TuningStatus? = nil, thetaOrigin: String? = nil) {
        self.tuning = tuning
        self.thetaOrigin = thetaOrigin
        self.message = message
        self.isError = isError
        self.reload = reload
        self.quit = quit
        self.followUp = followUp
    }
}

public typealias CustomCommandHandler = @Sendable (CustomCommandRequest) async throws -> CustomCommandResult

/// Knobs of the interactive debugger.
public struct DebuggerOptions: Sendable {
    /// nil = decide from the locale (UTF-8 → Unicode glyphs); `CSSDBG_ASCII=1` forces ASCII.
    public var unicode: Bool?
    public var mouse: Bool
    /// Run the data-set report at start-up (otherwise `r` or `:report` starts it).
    public var reportOnStart: Bool
    /// Names of extra `:` commands (completion, help) and their handler.
    public var customCommands: [String]
    public var customHandler: CustomCommandHandler?
    /// Environment (colour detection: NO_COLOR, CSSDBG_COLOR, CSSDBG_ASCII).
    public var environment: [String: String]
    /// Messages delivered right after start-up (e.g. an offer to restore a saved session).
    public var initialMessages: [Message] = []

    public init(unicode: Bool? = nil, mouse: Bool = true, reportOnStart: Bool = true, customCommands: [String] = [],
                customHandler: CustomCommandHandler? = nil, environment: [String: String] = currentEnvironment()) {
        self.unicode = unicode
        self.mouse = mouse
        self.reportOnStart = reportOnStart
        self.customCommands = customCommands
        self.customHandler = customHandler
        self.environment = environment
    }
}

/// The process environment as a dictionary.
public func currentEnvironment() -> [String: String] {
    var env: [String: String] = [:]
    var p = environ
    while let entry = p.pointee {
        let s = String(cString: entry)
        if let eq = s.firstIndex(of: "=") {
            env[String(s[..<eq])] = String(s[s.index(after: eq)...])
        }
        p += 1
    }
    return env
}

/// How the debugger ended, and the exit status a shell expects for it.
public enum DebuggerExit: Sendable, Equatable {
    /// `q`, `:q`: status 0.
    case quit
    /// The Ctrl-C key (raw mode delivers it as a key) or SIGINT: status 130, as other tools.
    case interrupted
    /// SIGTERM or SIGHUP: 128 + the signal number (143, 129), as a shell reports a killed job.
    case signal(Int32)

    public var status: Int32 {
        switch self {
        case .quit: 0
        case .interrupted: 128 + SIGINT
        case .signal(let s): 128 + s
        }
    }
}

/// Runs the interactive debugger until the user quits (q, :q, Ctrl-C) or SIGTERM/SIGHUP/SIGINT
/// arrives. Backend work runs in tasks off the main actor; results come back as messages, so
/// the UI stays responsive. The terminal is always restored before this returns or throws.
///
/// On return, background work has been cancelled but may still be inside BLAS on worker
/// threads: the caller should leave with `exitWithoutTeardown` rather than run the process's
/// exit-time teardown under them (OpenBLAS frees its buffers then: SIGSEGV).
@MainActor @discardableResult
public func runDebugger(backend: any SimulationBackend, initialSample: Int = 0,
                        options: DebuggerOptions = DebuggerOptions()) async throws -> DebuggerExit {
    let screen = try TerminalScreen(environment: options.environment, mouse: options.mouse)
    defer { screen.end() }
    let asciiForced = options.environment["CSSDBG_ASCII"].map { $0 == "1" || $0 == "yes" } ?? false
    let unicode = asciiForced ? false : (options.unicode ?? screen.utf8)
    let (w, h) = screen.size
    var state = ViewState(width: w, height: h, unicode: unicode, sample: max(0, initialSample),
                          customCommands: options.customCommands)
    state.monochrome = screen.profile == .mono
    let loop = AppLoop(backend: backend, options: options)
    var commands = initialCommands(state)
    if !options.reportOnStart { commands.removeAll { $0 == .loadReport } } else { state.reportProgress = 0 }
    state.loadingSample = state.sample
    loop.perform(commands, state: state)
    for m in options.initialMessages { loop.inbox.append(m) }

    var dirty = true
    var nextTick: ContinuousClock.Instant? = nil
    let clock = ContinuousClock()
    defer { loop.cancelAll() }
    var exit = DebuggerExit.quit
    while !loop.quitRequested {
        let signal = cnc_take_signal()
        if signal != 0 {
            exit = signal == SIGINT ? .interrupted : .signal(signal)
            break
        }
        if dirty {
            screen.draw(Screen.render(state))
            dirty = false
        }
        // Wait for a key, but never longer than the next play tick or ~40 ms (background results).
        var timeout = 40
        if state.playing {
            let now = clock.now
            if nextTick == nil { nextTick = now.advanced(by: .milliseconds(Int(state.playInterval * 1000))) }
            let remaining = now.duration(to: nextTick!)
            let ms = Int(remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000)
            timeout = max(0, min(timeout, ms))
        } else {
            nextTick = nil
        }
        var messages: [Message] = []
        if let key = screen.readKey(timeoutMs: timeout) {
            if case .resize = key { screen.invalidate() }
            messages.append(.key(key))
        }
        messages += loop.inbox.take()
        if state.playing, let t = nextTick, clock.now >= t {
            messages.append(.tick)
            nextTick = t.advanced(by: .milliseconds(max(1, Int(state.playInterval * 1000))))
            if clock.now > nextTick! { nextTick = clock.now }
        }
        for m in messages {
            let (next, cmds) = update(state, m)
            state = next
            if case .key(.ctrlC) = m, cmds.contains(.quit) { exit = .interrupted }
            loop.perform(cmds, state: state)
            dirty = true
        }
        if messages.isEmpty { await Task.yield() }
    }
    loop.cancelAll()
    screen.end()
    // A `:` command may be writing the session or a θ file (atomically, so never corrupt):
    // give it a moment to finish so the last change is kept; cancelled work stops at its
    // next batch boundary.
    await loop.settle(timeout: .seconds(3))
    return exit
}

/// Ends the process at once with `status`, after flushing stdio, without exit-time teardown
/// (atexit handlers, library destructors) that would run while cancelled workers may still be
/// inside OpenBLAS. Call after the terminal is restored; files are written atomically already.
public func exitWithoutTeardown(_ status: Int32) -> Never {
    fflush(nil)
    _exit(status)
}

/// Owns the background tasks and the inbox they report into.
@MainActor
final class AppLoop {
    let backend: any SimulationBackend
    let options: DebuggerOptions
    let inbox = MessageBox()
    private var traceTask: Task<Void, Never>?
    private var reportTask: Task<Void, Never>?
    private var otherTasks: [Task<Void, Never>] = []
    /// The last custom command; the next one waits for it, so changes apply in the order typed.
    private var customChain: Task<Void, Never>?
    /// Custom commands started and finished (`settle` waits until they match).
    private let customCounter = CompletionCounter()
    private(set) var quitRequested = false

    init(backend: any SimulationBackend, options: DebuggerOptions) {
        self.backend = backend
        self.options = options
    }

    func perform(_ commands: [Command], state: ViewState) {
        let backend = self.backend
        let inbox = self.inbox
        let send: @Sendable (Message) -> Void = { inbox.append($0) }
        for c in commands {
            switch c {
            case .quit:
                quitRequested = true
            case .loadTrace:
                traceTask?.cancel()
                traceTask = Task.detached { await Effects.perform(c, backend: backend, send: send) }
            case .loadReport:
                reportTask?.cancel()
                reportTask = Task.detached { await Effects.perform(c, backend: backend, send: send) }
            case .cancelReport:
                reportTask?.cancel()
                reportTask = nil
            case .loadLayout:
                otherTasks.append(Task.detached { await Effects.perform(c, backend: backend, send: send) })
            case .custom(let name, let arguments, let line):
                guard let handler = options.customHandler else {
                    send(.commandError("no handler for :\(name)"))
                    continue
                }
                let req = CustomCommandRequest(name: name, arguments: arguments, line: line, sample: state.sample,
                                               step: state.step, layer: state.selectedLayer, neuron: state.neuron,
                                               focus: state.focus.commandName, lowerLeft: state.lowerLeft.commandName,
                                               lowerRight: state.lowerRight.commandName,
                                               hotspotFilter: state.hotspotArguments, playSpeed: state.playSpeed)
                let previous = customChain
                let counter = customCounter
                counter.started()
                let task = Task.detached {
                    defer { counter.finished() }
                    await previous?.value
                    do {
                        let r = try await handler(req)
                        if let t = r.tuning { send(.tuningStatus(t)) }
                        if let o = r.thetaOrigin { send(.thetaOrigin(o)) }
                        if r.reload { send(.reload) }
                        for line in r.followUp {
                            send(.key(.char(":")))
                            for ch in line { send(.key(.char(ch))) }
                            send(.key(.enter))
                        }
                        // After the follow-ups, whose own messages would hide it.
                        if let m = r.message { send(r.isError ? .commandError(m) : .info(m)) }
                        if r.quit { send(.key(.ctrlC)) }
                    } catch {
                        send(.commandError(":\(name): \(error)"))
                    }
                }
                customChain = task
                otherTasks.append(task)
            }
        }
        otherTasks.removeAll { $0.isCancelled }
    }

    func cancelAll() {
        traceTask?.cancel()
        reportTask?.cancel()
        for t in otherTasks { t.cancel() }
    }

    /// Waits (polling, the main actor stays free) until every custom command has finished, at
    /// most `timeout`.
    func settle(timeout: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while customCounter.running > 0, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Counts tasks in flight across threads.
final class CompletionCounter: Sendable {
    private let count = Atomic<Int>(0)

    func started() { count.wrappingAdd(1, ordering: .relaxed) }
    func finished() { count.wrappingSubtract(1, ordering: .relaxed) }
    var running: Int { count.load(ordering: .relaxed) }
}
