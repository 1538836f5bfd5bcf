import CSSSnapshots
import CSSView
import CNcurses
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Knobs of the interactive debugger.
public struct DebuggerOptions: Sendable {
    /// nil = decide from the locale (UTF-8 → Unicode glyphs); `CSSDBG_ASCII=1` forces ASCII.
    public var unicode: Bool?
    public var mouse: Bool
    /// Run the data-set report at start-up (otherwise `r` or `:report` starts it).
    public var reportOnStart: Bool
    /// The host's `:` commands it serves (`Keymap.hostCommandNames`) and what executes them.
    public var hostCommands: [String]
    public var host: HostHandler?
    /// Environment (colour detection: NO_COLOR, CSSDBG_COLOR, CSSDBG_ASCII).
    public var environment: [String: String]
    /// Messages delivered right after start-up (e.g. an offer to restore a saved session).
    public var initialMessages: [Message] = []
    /// Notes keys, results and frames with their times (`CSSDBG_EVENT_LOG`).
    public var events: EventLog?

    public init(unicode: Bool? = nil, mouse: Bool = true, reportOnStart: Bool = true, hostCommands: [String] = [],
                host: HostHandler? = nil, environment: [String: String] = currentEnvironment()) {
        self.unicode = unicode
        self.mouse = mouse
        self.reportOnStart = reportOnStart
        self.hostCommands = hostCommands
        self.host = host
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
                          hostCommands: options.hostCommands)
    state.monochrome = screen.profile == .mono
    let events = options.events
    let loop = CommandRunner(backend: backend, host: options.host, wake: TerminalScreen.wake, events: events)
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
            events?.record("frame")
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
            if let events { note(m, events) }
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
    // give it a moment to finish so the last change is kept; cancelled simulations stop
    // before their next graph node.
    await loop.settle(timeout: .seconds(3))
    return exit
}

/// The messages a latency measurement needs, as the loop takes them.
private func note(_ m: Message, _ events: EventLog) {
    switch m {
    case .key(let k): events.record("key", "\(k)")
    case .summarisedTraceArrived(let t, _), .traceArrived(let t): events.record("trace-arrived", "\(t.sample)")
    case .hostReply: events.record("host-reply")
    case .reportArrived: events.record("report-arrived")
    default: break
    }
}

/// Ends the process at once with `status`, after flushing stdio, without exit-time teardown
/// (atexit handlers, library destructors) that would run while cancelled workers may still be
/// inside OpenBLAS. Call after the terminal is restored; files are written atomically already.
public func exitWithoutTeardown(_ status: Int32) -> Never {
    fflush(nil)
    _exit(status)
}
