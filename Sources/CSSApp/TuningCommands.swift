import CSSCore
import CSSImport
import Foundation

/// The debugger's tuning commands (`:theta`, `:scale`, `:adjust`, `:reset`, `:undo`, `:redo`,
/// `:set`, `:w`, `:load`, `:restore`, `:discard`), executed against the backend. Every change is saved
/// to the session file at once, so a crash or a closed terminal loses nothing.
public final class TuningCommands: Sendable {
    public static let names = ["theta", "scale", "adjust", "reset", "undo", "redo", "set", "w", "w!", "load", "restore",
                               "discard", "memory"]

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

    public init(backend: any TunableBackend, modelName: String, defaultThetaPath: String, store: SessionStore?,
                pendingRestore: SavedSession?) {
        self.backend = backend
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
        /// `:` command lines to replay in the view afterwards (restoring the position).
        public var followUp: [String]
        /// The session's undo and redo depth after the command, when it touched the session.
        public var history: (changes: Int, redoable: Int)?
        /// Without a session file (`--no-session`): θ or config differ from what was last written
        /// with `:w` (or from the start), so quitting would lose them.
        public var unsaved = false
        /// θ now comes from this file (`:load`), for the status line.
        public var thetaOrigin: String?

        public init(message: String, isError: Bool = false, reload: Bool = false, followUp: [String] = [],
                    history: (changes: Int, redoable: Int)? = nil, thetaOrigin: String? = nil) {
            self.thetaOrigin = thetaOrigin
            self.message = message
            self.isError = isError
            self.reload = reload
            self.followUp = followUp
            self.history = history
        }

        public static func == (a: Outcome, b: Outcome) -> Bool {
            a.message == b.message && a.isError == b.isError && a.reload == b.reload && a.followUp == b.followUp
                && a.history?.changes == b.history?.changes && a.history?.redoable == b.history?.redoable
                && a.unsaved == b.unsaved
                && a.thetaOrigin == b.thetaOrigin
        }
    }

    /// `:memory`: how the `--memory` budget is spent and what the backend holds now.
    static func describe(_ use: MemoryUse) -> String {
        let d = MemoryBudget.describe
        return "memory \(d(use.budget)): data+weights \(d(use.fixed)), focused sample \(d(use.focused))"
            + ", batches of \(use.batchSize), trace cache \(use.traceCache ? "on" : "off")"
            + ", data-set cache \(d(use.dataCache)); holding \(d(use.held))"
    }

    /// Runs one command; `position` is where the user is (saved with the session).
    public func execute(_ name: String, _ args: [String], position: SessionPosition) async -> Outcome {
        do {
            var o = try await run(name, args, position: position)
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

    func run(_ name: String, _ args: [String], position: SessionPosition) async throws -> Outcome {
        let layout = await backend.layout()
        func change(_ c: TuningChange) async throws -> Outcome {
            let snap = try await backend.apply(c)
            // The first change saved over a session offered at start-up keeps that one as a backup.
            let kept = try backUpOffered()
            try save(snap.session, position)
            var message = snap.message
            if !snap.steps.isEmpty {
                let moved = snap.steps.filter { $0.factor != 1 }
                message += moved.isEmpty ? " (all residuals p99.9 ≤ 1)" :
                    " (" + moved.prefix(4).map { "\(layout.layers[$0.layer].name) ×\(format($0.factor))" }.joined(separator: ", ")
                    + (moved.count > 4 ? ", …" : "") + ")"
            }
            if let kept { message += "; the session saved \(kept.savedAt) is kept in \(store?.backupPath ?? "")" }
            return Outcome(message: message, reload: true, history: depth(snap.session))
        }
        switch name {
        case "theta":
            guard args.count == 2 else { throw GraphError("usage: :theta LAYER VALUE") }
            return try await change(.setTheta(layer: try resolveLayer(args[0], layout), value: try number(args[1])))
        case "scale":
            guard args.count == 2 else { throw GraphError("usage: :scale LAYER FACTOR") }
            let f = try number(args[1])
            guard f > 0 else { throw GraphError("factor must be positive") }
            return try await change(.scaleTheta(layer: try resolveLayer(args[0], layout), factor: f))
        case "adjust":
            guard args.count <= 2 else { throw GraphError("usage: :adjust [LAYER|all] [ROUNDS]") }
            var layers: [Int]? = nil
            if let a = args.first, a != "all" {
                let l = try resolveLayer(a, layout)
                guard l >= 0 else { throw GraphError("A.3 adjusts spiking layers, not the encoder") }
                layers = [l]
            }
            let rounds = try args.count == 2 ? integer(args[1]) : 1
            guard (1...100).contains(rounds) else { throw GraphError("rounds must be between 1 and 100") }
            return try await change(.adjust(layers: layers, rounds: rounds))
        case "reset":
            guard args.count <= 1 else { throw GraphError("usage: :reset [LAYER|all]") }
            let layer = try args.first.flatMap { $0 == "all" ? nil : try resolveLayer($0, layout) }
            return try await change(.reset(layer: layer))
        case "undo":
            return try await change(.undo)
        case "redo":
            return try await change(.redo)
        case "set":
            guard args.count == 2 else { throw GraphError("usage: :set T|beta|silent|negative|rate|percentile VALUE") }
            return try await change(.setConfig(try configChange(args[0], args[1], await backend.config)))
        case "memory":
            guard args.isEmpty else { throw GraphError("usage: :memory") }
            return Outcome(message: Self.describe(try await backend.memoryUse()))
        case "w", "w!":
            // Like vim: `:w` never replaces a file holding something else (θ of another model or
            // config, not a θ file); `:w!` does.
            guard args.count <= 1 else { throw GraphError("usage: :\(name) [FILE]") }
            let path = args.first ?? defaultThetaPath
            let snap = try await backend.snapshot()
            let file = ThetaFile(model: modelName, config: snap.session.current.config,
                                 amplitudes: snap.session.current.amplitudes,
                                 tensors: layout.layers.map(\.tensor))
            let replaced = try file.checkReplacing(path, force: name == "w!", howToForce: "use :w! \(args.first ?? "")"
                                                       .trimmingCharacters(in: .whitespaces))
            try file.write(to: path)
            written.value = snap.session.current
            switch replaced {
            case .nothing, .sameModelAndConfig: return Outcome(message: "wrote θ to \(path)", history: depth(snap.session))
            case .forced(let what):
                return Outcome(message: "wrote θ to \(path) (replaced: it \(what))", history: depth(snap.session))
            }
        case "load":
            guard args.count == 1 else { throw GraphError("usage: :load FILE") }
            let file = try ThetaFile.read(path: args[0], tensors: layout.layers.map(\.tensor))
            var o = try await change(.replace(TuningState(config: file.config, amplitudes: file.amplitudes), label: args[0]))
            o.thetaOrigin = URL(fileURLWithPath: args[0]).lastPathComponent
            return o
        case "restore":
            guard let saved = pendingRestore else {
                if let store, FileManager.default.fileExists(atPath: store.backupPath) {
                    return Outcome(message: "no saved session to restore: this session's changes replaced it; the old one is in \(store.backupPath)")
                }
                return Outcome(message: "no saved session to restore")
            }
            let snap = try await backend.restore(saved.session)
            try save(snap.session, saved.position)
            offered.value = nil
            let p = saved.position
            return Outcome(message: "restored the session saved \(saved.savedAt) (\(saved.session.history.count) changes)",
                           reload: true,
                           followUp: ["sample \(p.sample)", "step \(p.step)", p.layer.flatMap { $0 < layout.layers.count ? "layer \(layout.layers[$0].name)" : nil }, "neuron \(p.neuron)"]
                               .compactMap { $0 } + p.screenCommands,
                           history: depth(snap.session))
        case "discard":
            // Explicit (the dialog's d): the saved session goes to the backup file, and `:restore`
            // still brings it back until this session's first change is saved.
            guard let saved = pendingRestore else { return Outcome(message: "no saved session to discard") }
            _ = try backUpOffered(force: true)
            let snap = try await backend.snapshot()
            try save(snap.session, position)
            offered.value = OfferedSession(saved: saved, backedUp: true)
            return Outcome(message: "started a new tuning session; :restore brings back the one saved \(saved.savedAt) until the first change (a copy stays in \(store?.backupPath ?? ""))",
                           history: depth(snap.session))
        default:
            throw GraphError("unknown command :\(name)")
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

    func save(_ session: TuningSession, _ position: SessionPosition) throws {
        try store?.save(SavedSession(model: modelName, savedAt: SavedSession.now(), session: session, position: position))
    }

    /// A layer by display name, ONNX tensor name, index or unambiguous part of a name;
    /// `input`/`encoder` is −1 (`NetworkLayout.layerIndex(matching:)`).
    func resolveLayer(_ text: String, _ layout: NetworkLayout) throws -> Int {
        try layout.layerIndex(matching: text)
    }

    func configChange(_ key: String, _ value: String, _ current: ConversionConfig) throws -> ConversionConfig {
        var c = current
        switch key.lowercased() {
        case "t": c.T = try integer(value)
        case "beta", "β": c.beta = try number(value)
        case "silent", "l": c.silent = try integer(value)
        case "negative": c.negative = try flag(value)
        case "percentile": c.percentile = try number(value)
        case "rate":
            c = try flag(value) ? .rate(T: c.T, percentile: c.percentile)
                : ConversionConfig(T: c.T, percentile: c.percentile)
        default: throw GraphError("unknown setting '\(key)'; use T, beta, silent, negative, rate or percentile")
        }
        return c
    }

    func number(_ s: String) throws -> Double {
        guard let v = Double(s), v.isFinite else { throw GraphError("'\(s)' is not a number") }
        return v
    }

    func integer(_ s: String) throws -> Int {
        guard let v = Int(s) else { throw GraphError("'\(s)' is not a whole number") }
        return v
    }

    func flag(_ s: String) throws -> Bool {
        switch s.lowercased() {
        case "on", "true", "yes", "1": return true
        case "off", "false", "no", "0": return false
        default: throw GraphError("'\(s)' is not on/off")
        }
    }

    func format(_ x: Double) -> String { String(format: "%.4g", x) }
}
