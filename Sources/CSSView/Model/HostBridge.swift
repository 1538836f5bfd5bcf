import CSSSnapshots

/// Work the view asks of its host (the debugger app: θ tuning, sessions, θ files), already parsed
/// and checked by the view's command table. Layers are spiking-layer indices (−1: the encoder).
public enum HostRequest: Equatable, Sendable {
    case setTheta(layer: Int, value: Double)
    case scaleTheta(layer: Int, factor: Double)
    /// A.3 amplitude adjustment; `layer` nil: every spiking layer.
    case adjust(layer: Int?, rounds: Int)
    /// Back to the calibrated θ; `layer` nil: every layer.
    case reset(layer: Int?)
    case undo, redo
    /// `:set KEY VALUE`: reconvert with one setting changed.
    case set(ConfigSetting)
    /// Reconvert with several settings changed as one undoable change (Enter in the sweep pane:
    /// T, β, L and the spike sign of the chosen point).
    case setAll([ConfigSetting])
    /// A long data-set job (`:sweep`, `:attribution`, `:doctor`): run by the backend off the UI
    /// thread; the reply carries its result for its pane. Esc or the next change cancels it.
    case job(DatasetJob)
    /// Replace θ and config together as one undoable change (Enter on a doctor's proposal).
    case adopt(TuningState, label: String)
    /// `:w [FILE]` (`force`: `:w!`); `path` nil: the host's default file.
    case write(path: String?, force: Bool)
    case load(path: String)
    /// Restore / discard the session the host offered at start-up.
    case restore, discard
    /// How the memory budget is spent.
    case memory
    /// Save the session with the current position (watches changed; no θ change).
    case savePosition
    /// `:break`, `:breaks`, `:delete`, `:enable`, `:disable`, `c`, `C`.
    case breakpoint(BreakpointRequest)

    /// The `:` command that asks for it (messages name it).
    public var commandName: String {
        switch self {
        case .setTheta: "theta"
        case .scaleTheta: "scale"
        case .adjust: "adjust"
        case .reset: "reset"
        case .undo: "undo"
        case .redo: "redo"
        case .set, .setAll: "set"
        case .job(let j): j.commandName
        case .adopt: "doctor"
        case .write(_, let force): force ? "w!" : "w"
        case .load: "load"
        case .restore: "restore"
        case .discard: "discard"
        case .memory: "memory"
        case .savePosition: "watch"
        case .breakpoint(let b): b.commandName
        }
    }

    /// Long data-set work that Esc or the next change cancels.
    public var isCancellable: Bool {
        if case .adjust = self { return true }
        if case .breakpoint(.next) = self { return true }
        if case .job = self { return true }
        return false
    }

    /// Changes θ or the config (so it supersedes a running long job).
    public var isChange: Bool {
        switch self {
        case .setTheta, .scaleTheta, .adjust, .reset, .undo, .redo, .set, .setAll, .load, .restore, .adopt: true
        case .write, .discard, .memory, .savePosition, .breakpoint, .job: false
        }
    }
}

/// One conversion setting of `:set`, with its value parsed.
public enum ConfigSetting: Equatable, Sendable {
    case T(Int), beta(Double), silent(Int), negative(Bool), rate(Bool), percentile(Double)
}

/// Where the user is: sent with every host request (sessions save it) and brought back by
/// `HostReply.position` (`:restore`).
public struct ViewPosition: Equatable, Sendable {
    public var sample: Int
    public var step: Int
    /// Selected spiking layer (nil when the encoder or output row is selected).
    public var layer: Int?
    public var neuron: Int
    /// The screen around it; nil: leave as it is (sessions saved before these were kept).
    public var focus: Pane?
    public var lowerLeft: Pane?
    public var lowerRight: Pane?
    public var hotspotFilter: HotspotFilter?
    public var hotspotLayer: Int?
    public var playSpeed: Double?
    /// Watched neurons; nil: leave the watches as they are.
    public var watches: [Watch]?

    public init(sample: Int = 0, step: Int = 0, layer: Int? = nil, neuron: Int = 0, focus: Pane? = nil,
                lowerLeft: Pane? = nil, lowerRight: Pane? = nil, hotspotFilter: HotspotFilter? = nil,
                hotspotLayer: Int? = nil, playSpeed: Double? = nil, watches: [Watch]? = nil) {
        self.sample = sample
        self.step = step
        self.layer = layer
        self.neuron = neuron
        self.focus = focus
        self.lowerLeft = lowerLeft
        self.lowerRight = lowerRight
        self.hotspotFilter = hotspotFilter
        self.hotspotLayer = hotspotLayer
        self.playSpeed = playSpeed
        self.watches = watches
    }

    /// The position the state shows.
    public init(_ s: ViewState) {
        self.init(sample: s.sample, step: s.step, layer: s.selectedLayer, neuron: s.neuron, focus: s.focus,
                  lowerLeft: s.lowerLeft, lowerRight: s.lowerRight, hotspotFilter: s.hotspotFilter,
                  hotspotLayer: s.hotspotLayer, playSpeed: s.playSpeed, watches: s.watches)
    }
}

/// What the host answers to one request.
public struct HostReply: Equatable, Sendable {
    /// For the message bar ("" : nothing to say).
    public var message: String
    public var isError: Bool
    /// θ or config changed: re-fetch layout, trace and report.
    public var reload: Bool
    /// The tuning history's depth, for the status-line indicator.
    public var tuning: TuningStatus?
    /// θ now comes from this file (`:load`), for the status line; nil: unchanged.
    public var thetaOrigin: String?
    /// Go back to this position (`:restore`).
    public var position: ViewPosition?
    /// Leave the debugger.
    public var quit: Bool
    /// `:breaks`: the list to show in the breakpoint overlay (nil: no list to show).
    public var breakpoints: [BreakpointRow]?
    /// A finished long job's result, for its pane.
    public var job: JobResult?

    /// A finished `:sweep`, for the sweep pane.
    public var sweep: SweepResult? { if case .sweep(let r)? = job { r } else { nil } }

    public init(message: String = "", isError: Bool = false, reload: Bool = false, tuning: TuningStatus? = nil,
                thetaOrigin: String? = nil, position: ViewPosition? = nil, quit: Bool = false,
                breakpoints: [BreakpointRow]? = nil, sweep: SweepResult? = nil, job: JobResult? = nil) {
        self.breakpoints = breakpoints
        self.job = job ?? sweep.map { .sweep($0) }
        self.message = message
        self.isError = isError
        self.reload = reload
        self.tuning = tuning
        self.thetaOrigin = thetaOrigin
        self.position = position
        self.quit = quit
    }
}

/// One breakpoint as the `:breaks` overlay lists it: its number, whether `c`/`C` stop at it,
/// its condition as the host prints it, and how often `c`/`C` stopped there (gdb's hit count).
public struct BreakpointRow: Equatable, Sendable {
    public var number: Int
    public var enabled: Bool
    public var condition: String
    public var hits: Int
    public init(number: Int, enabled: Bool, condition: String, hits: Int) {
        self.number = number
        self.enabled = enabled
        self.condition = condition
        self.hits = hits
    }
}

/// One request as the host receives it: what, where the user is, and where to report progress
/// (fractions in 0...1, shown on the message line).
public struct HostCall: Sendable {
    public var request: HostRequest
    public var position: ViewPosition
    public var progress: @Sendable (Double) -> Void

    public init(request: HostRequest, position: ViewPosition, progress: @escaping @Sendable (Double) -> Void = { _ in }) {
        self.request = request
        self.position = position
        self.progress = progress
    }
}

/// Executes host requests. Runs in a task of its own; cancellation of that task (Esc, the next
/// change during a long job) should stop the work and leave θ as it was.
public typealias HostHandler = @Sendable (HostCall) async -> HostReply

/// A `:` line or key that cannot run as typed: usage, a bad number, an unknown layer. One line,
/// shown in the message bar.
public struct CommandError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
