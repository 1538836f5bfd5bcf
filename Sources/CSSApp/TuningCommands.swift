import CSSCore
import CSSImport
import CSSView
import Foundation

/// The debugger's host: executes the view's typed `HostRequest`s (`:theta`, `:scale`, `:adjust`,
/// `:reset`, `:undo`, `:redo`, `:set`, `:w`, `:load`, `:restore`, `:discard`, `:memory`; the view's
/// command table parses them) against the backend. Every change is saved to the session file at
/// once, so a crash or a closed terminal loses nothing.
public final class TuningCommands: Sendable {
    public let backend: any TunableBackend
    public let modelName: String
    /// Where `:w` writes when no file is named.
    public let defaultThetaPath: String
    public let store: SessionStore?
    /// The session found on disk at start-up, offered for restoring: `:restore` brings it back
    /// until this session's first change is saved over it (and then it is in the backup file).
    private let offered: Locked<OfferedSession?>

    struct OfferedSession: Sendable {
        var saved: SavedSession
        /// The session file has been copied to the store's backup path.
        var backedUp = false
    }

    /// The debugger's breakpoints, saved in the session file with the position and restored with it.
    public let breakpoints: BreakpointCommands?

    public init(backend: any TunableBackend, modelName: String, defaultThetaPath: String, store: SessionStore?,
                pendingRestore: SavedSession?, breakpoints: BreakpointCommands? = nil) {
        self.backend = backend
        self.breakpoints = breakpoints
        self.modelName = modelName
        self.defaultThetaPath = defaultThetaPath
        self.store = store
        self.offered = Locked(pendingRestore.map { OfferedSession(saved: $0) })
    }

    /// The state last written with `:w` (nil: none yet, compare with the session's start).
    private let written = Locked<TuningState?>(nil)

    /// Whether quitting now loses θ or config changes: only without a session file, and only when
    /// the state differs from the last `:w` (or from the start of the session).
    public func hasUnsavedChanges() async -> Bool {
        guard store == nil, let snap = try? await backend.snapshot() else { return false }
        let session = snap.session
        let reference = written.value ?? session.undoStack.first?.state ?? session.current
        return session.current != reference
    }

    /// The saved session `:restore` would bring back, if any.
    public var pendingRestore: SavedSession? { offered.value?.saved }

    public struct Outcome: Sendable, Equatable {
        public var message: String
        public var isError: Bool
        /// θ or config changed: the view re-fetches trace and report.
        public var reload: Bool
        /// Where the view goes back to afterwards (`:restore`).
        public var position: SessionPosition?
        /// The session's undo and redo depth after the command, when it touched the session.
        public var history: (changes: Int, redoable: Int)?
        /// Without a session file (`--no-session`): θ or config differ from what was last written
        /// with `:w` (or from the start), so quitting would lose them.
        public var unsaved = false
        /// θ now comes from this file (`:load`), for the status line.
        public var thetaOrigin: String?

        public init(message: String, isError: Bool = false, reload: Bool = false, position: SessionPosition? = nil,
                    history: (changes: Int, redoable: Int)? = nil, thetaOrigin: String? = nil) {
            self.thetaOrigin = thetaOrigin
            self.message = message
            self.isError = isError
            self.reload = reload
            self.position = position
            self.history = history
        }

        public static func == (a: Outcome, b: Outcome) -> Bool {
            a.message == b.message && a.isError == b.isError && a.reload == b.reload && a.position == b.position
                && a.history?.changes == b.history?.changes && a.history?.redoable == b.history?.redoable
                && a.unsaved == b.unsaved
                && a.thetaOrigin == b.thetaOrigin
        }
    }

    /// `:memory`: how the `--memory` budget is spent and what the backend holds now.
    static func describe(_ use: MemoryUse) -> String {
        let d = MemoryBudget.describe
        return "memory \(d(use.budget)): runtime \(d(use.runtime)), data+weights \(d(use.fixed)), focused sample \(d(use.focused))"
            + ", batches of \(use.batchSize), trace cache \(use.traceCache ? "on" : "off")"
            + ", data-set cache \(d(use.dataCache)); holding \(d(use.held))"
    }

    /// Runs one request; `position` is where the user is (saved with the session), `progress`
    /// hears how far a long `:adjust` is. Cancelled (Esc, the next change), θ stays as it was.
    /// `layout`: the current one when the caller has it (one fetch per request).
    public func execute(_ request: HostRequest, position: SessionPosition, layout known: NetworkLayout? = nil,
                        progress: (@Sendable (Double) -> Void)? = nil) async -> Outcome {
        let name = request.commandName
        do {
            let layout: NetworkLayout
            if let known { layout = known } else { layout = await backend.layout() }
            var o = try await run(request, position: position, layout: layout, progress: progress)
            o.unsaved = await hasUnsavedChanges()
            return o
        } catch is CancellationError {
            var o = Outcome(message: ":\(name) cancelled; θ unchanged", isError: true)
            if let snap = try? await backend.snapshot() { o.history = depth(snap.session) }
            o.unsaved = await hasUnsavedChanges()
            return o
        } catch let e as GraphError {
            return Outcome(message: ":\(name): \(e.description)", isError: true)
        } catch let e as ImportError {
            return Outcome(message: e.description, isError: true)
        } catch {
            return Outcome(message: ":\(name): \(error)", isError: true)
        }
    }

    /// A tuning request from the view's command runner, answered for its update.
    public func reply(to call: HostCall) async -> HostReply {
        let layout = await backend.layout()
        let o = await execute(call.request, position: SessionPosition(call.position, layout: layout), layout: layout,
                              progress: call.progress)
        return HostReply(message: o.message, isError: o.isError, reload: o.reload,
                         tuning: o.history.map { TuningStatus(changes: $0.changes, redoable: $0.redoable, unsaved: o.unsaved) },
                         thetaOrigin: o.thetaOrigin, position: o.position.map { ViewPosition($0, layout: layout) })
    }

    /// Saves the session with `position` (the breakpoint list or the watches changed).
    public func savePosition(_ position: ViewPosition) async {
        _ = await reply(to: HostCall(request: .savePosition, position: position))
    }

    /// What A.3 applied to each layer: the product of its rounds' factors (θ moved by that), in
    /// the order the layers first moved; " (all residuals p99.9 ≤ 1)" when nothing moved.
    static func appliedFactors(_ steps: [AdjustmentStep], names: [String]) -> String {
        var order: [Int] = []
        var product: [Int: Double] = [:]
        for st in steps where st.factor != 1 {
            if product[st.layer] == nil { order.append(st.layer) }
            product[st.layer, default: 1] *= st.factor
        }
        guard !order.isEmpty else { return " (all residuals p99.9 ≤ 1)" }
        let rounds = Set(steps.map(\.round)).count
        let shown = order.prefix(4).map { "\($0 < names.count ? names[$0] : "#\($0)") ×\(String(format: "%.4g", product[$0]!))" }
        return " (" + shown.joined(separator: ", ") + (order.count > 4 ? ", …" : "")
            + (rounds > 1 ? "; θ moved by the product of \(rounds) rounds" : "") + ")"
    }

    func run(_ request: HostRequest, position: SessionPosition, layout: NetworkLayout,
             progress: (@Sendable (Double) -> Void)?) async throws -> Outcome {
        func change(_ c: TuningChange) async throws -> Outcome {
            let snap = try await backend.apply(c, progress: progress)
            // The first change saved over a session offered at start-up keeps that one as a backup.
            let kept = try backUpOffered()
            // The snapshot carries the layout after the change: no second fetch.
            try save(snap.session, position, layout: snap.layout)
            var message = snap.message
            if !snap.steps.isEmpty {
                message += Self.appliedFactors(snap.steps, names: layout.layers.map(\.name))
            }
            if let kept { message += "; the session saved \(kept.savedAt) is kept in \(store?.backupPath ?? "")" }
            return Outcome(message: message, reload: true, history: depth(snap.session))
        }
        switch request {
        case .setTheta(let layer, let value):
            return try await change(.setTheta(layer: layer, value: value))
        case .scaleTheta(let layer, let factor):
            return try await change(.scaleTheta(layer: layer, factor: factor))
        case .adjust(let layer, let rounds):
            return try await change(.adjust(layers: layer.map { [$0] }, rounds: rounds))
        case .reset(let layer):
            return try await change(.reset(layer: layer))
        case .undo:
            return try await change(.undo)
        case .redo:
            return try await change(.redo)
        case .set(let setting):
            return try await change(.setConfig(configChange(setting, await backend.config)))
        case .setAll(let settings):
            // One reconversion, so one undo step whatever the number of settings.
            var c = await backend.config
            for setting in settings { c = configChange(setting, c) }
            return try await change(.setConfig(c))
        case .adopt(let state, let label):
            return try await change(.replace(state, label: label))
        case .memory:
            return Outcome(message: Self.describe(try await backend.memoryUse()))
        case .savePosition:
            // Not over a session offered at start-up that the user has not answered yet.
            guard pendingRestore == nil else { return Outcome(message: "") }
            let snap = try await backend.snapshot()
            try save(snap.session, position, layout: layout)
            return Outcome(message: "", history: depth(snap.session))
        case .breakpoint, .job:  // `DebuggerHost` routes these to BreakpointCommands and JobCommands
            preconditionFailure("\(request.commandName) is not a tuning request")
        case .write(let given, let force):
            // Like vim: `:w` never replaces a file holding something else (θ of another model or
            // config, not a θ file); `:w!` does.
            let path = given ?? defaultThetaPath
            let snap = try await backend.snapshot()
            let file = ThetaFile(model: modelName, config: snap.session.current.config,
                                 amplitudes: snap.session.current.amplitudes,
                                 tensors: layout.layers.map(\.tensor))
            let replaced = try file.checkReplacing(path, force: force, howToForce: "use :w! \(given ?? "")"
                                                       .trimmingCharacters(in: .whitespaces))
            try file.write(to: path)
            written.value = snap.session.current
            switch replaced {
            case .nothing, .sameModelAndConfig: return Outcome(message: "wrote θ to \(path)", history: depth(snap.session))
            case .forced(let what):
                return Outcome(message: "wrote θ to \(path) (replaced: it \(what))", history: depth(snap.session))
            }
        case .load(let path):
            let file = try ThetaFile.read(path: path, tensors: layout.layers.map(\.tensor))
            var o = try await change(.replace(TuningState(config: file.config, amplitudes: file.amplitudes), label: path))
            o.thetaOrigin = URL(fileURLWithPath: path).lastPathComponent
            return o
        case .restore:
            guard let saved = pendingRestore else {
                if let store, FileManager.default.fileExists(atPath: store.backupPath) {
                    return Outcome(message: "no saved session to restore: this session's changes replaced it; the old one is in \(store.backupPath)")
                }
                return Outcome(message: "no saved session to restore")
            }
            let snap = try await backend.restore(saved.session)
            if let list = saved.position.breakpoints { breakpoints?.restore(list, layout: layout) }
            try save(snap.session, saved.position, layout: snap.layout)
            offered.value = nil
            return Outcome(message: "restored the session saved \(saved.savedAt) (\(saved.session.history.count) changes)",
                           reload: true, position: saved.position, history: depth(snap.session))
        case .discard:
            // Explicit (the dialog's d): the saved session goes to the backup file, and `:restore`
            // still brings it back until this session's first change is saved.
            guard let saved = pendingRestore else { return Outcome(message: "no saved session to discard") }
            _ = try backUpOffered(force: true)
            let snap = try await backend.snapshot()
            try save(snap.session, position, layout: layout)
            offered.value = OfferedSession(saved: saved, backedUp: true)
            return Outcome(message: "started a new tuning session; :restore brings back the one saved \(saved.savedAt) until the first change (a copy stays in \(store?.backupPath ?? ""))",
                           history: depth(snap.session))
        }
    }

    /// Before a change is saved over the session offered at start-up: copies the session file to
    /// the backup path (once) and forgets the offer, returning it; nil when nothing was offered.
    /// `force`: back up now and keep the offer (`:discard`).
    func backUpOffered(force: Bool = false) throws -> SavedSession? {
        guard let o = offered.value else { return nil }
        if !o.backedUp { try store?.backUp() }
        if force { return o.saved }
        offered.value = nil
        return o.backedUp ? nil : o.saved
    }

    func depth(_ s: TuningSession) -> (changes: Int, redoable: Int) { (s.undoStack.count, s.redoStack.count) }

    func save(_ session: TuningSession, _ position: SessionPosition, layout: NetworkLayout) throws {
        guard let store else { return }
        var position = position
        if let breakpoints { position.breakpoints = breakpoints.saved(layout) }
        try store.save(SavedSession(model: modelName, savedAt: SavedSession.now(), session: session, position: position))
    }

    /// The config with one `:set` setting changed.
    func configChange(_ setting: ConfigSetting, _ current: ConversionConfig) -> ConversionConfig {
        var c = current
        switch setting {
        case .T(let v): c.T = v
        case .beta(let v): c.beta = v
        case .silent(let v): c.silent = v
        case .negative(let v): c.negative = v
        case .percentile(let v): c.percentile = v
        case .rate(let on):
            c = on ? .rate(T: c.T, percentile: c.percentile) : ConversionConfig(T: c.T, percentile: c.percentile)
        }
        return c
    }

    func format(_ x: Double) -> String { String(format: "%.4g", x) }
}
