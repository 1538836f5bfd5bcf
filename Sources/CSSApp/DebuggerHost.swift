import CSSCore
import CSSImport
import CSSView

/// The debugger's host: the one dispatcher from the view's requests to what serves them —
/// breakpoints (`BreakpointCommands`), the long data-set jobs (`JobCommands`) and everything that
/// changes or saves the tuning session (`TuningCommands`). It holds the backend as a protocol
/// (`AnalysisBackend`), so a backend in another process would change nothing here.
public final class DebuggerHost: Sendable {
    public let tuning: TuningCommands
    public let breakpoints: BreakpointCommands
    public let jobs: JobCommands

    public init(backend: any AnalysisBackend, modelName: String, defaultThetaPath: String, store: SessionStore?,
                pendingRestore: SavedSession?, breakpoints initial: [Breakpoint] = []) {
        let breakpoints = BreakpointCommands(backend: backend, breakpoints: initial)
        self.breakpoints = breakpoints
        self.tuning = TuningCommands(backend: backend, modelName: modelName, defaultThetaPath: defaultThetaPath,
                                     store: store, pendingRestore: pendingRestore, breakpoints: breakpoints)
        self.jobs = JobCommands(backend: backend)
    }

    /// From its parts (tests assemble them to look inside).
    public init(tuning: TuningCommands, breakpoints: BreakpointCommands, jobs: JobCommands) {
        self.tuning = tuning
        self.breakpoints = breakpoints
        self.jobs = jobs
    }

    /// The host commands served: every one of the view's.
    public static let names = Keymap.hostCommandNames

    public var handler: HostHandler { { [self] call in await handle(call) } }

    public func handle(_ call: HostCall) async -> HostReply {
        switch call.request {
        case .breakpoint(let b):
            let reply = await breakpoints.execute(b, position: call.position, progress: call.progress)
            // A change of the list is saved in the session file at once.
            if b.changesList, !reply.isError { await tuning.savePosition(call.position) }
            return reply
        case .job(let job):
            return await jobs.execute(job, progress: call.progress)
        default:
            return await tuning.reply(to: call)
        }
    }
}
