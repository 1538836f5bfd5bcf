import CSSCore
import Foundation

/// Where the user was when the session was saved.
public struct SessionPosition: Sendable, Equatable, Codable {
    public var sample: Int
    public var step: Int
    /// Selected spiking layer, if any.
    public var layer: Int?
    public var neuron: Int
    /// The screen: focused pane, the panes in the two lower slots (`:focus` names), the hotspot
    /// filter and the play speed (steps/s). Absent in sessions saved before they were kept.
    public var focus: String?
    public var lowerLeft: String?
    public var lowerRight: String?
    public var hotspotFilter: String?
    public var playSpeed: Double?
    /// Watched neurons (`:watch`); absent in older sessions.
    public var watches: [SessionWatch]?
    /// Breakpoints (`:break`), with their numbers and whether enabled; absent in older sessions.
    public var breakpoints: [SessionBreakpoint]?

    public init(sample: Int = 0, step: Int = 0, layer: Int? = nil, neuron: Int = 0, focus: String? = nil,
                lowerLeft: String? = nil, lowerRight: String? = nil, hotspotFilter: String? = nil,
                playSpeed: Double? = nil, watches: [SessionWatch]? = nil, breakpoints: [SessionBreakpoint]? = nil) {
        self.sample = sample
        self.step = step
        self.layer = layer
        self.neuron = neuron
        self.focus = focus
        self.lowerLeft = lowerLeft
        self.lowerRight = lowerRight
        self.hotspotFilter = hotspotFilter
        self.playSpeed = playSpeed
        self.watches = watches
        self.breakpoints = breakpoints
    }
}

/// One breakpoint as the session file keeps it: its number, its condition as `:break` takes it
/// (layers by display name, which is unique and parsed back like any LAYER) and whether enabled.
public struct SessionBreakpoint: Sendable, Equatable, Codable {
    public var number: Int
    public var condition: String
    public var enabled: Bool
    public init(number: Int, condition: String, enabled: Bool) {
        self.number = number
        self.condition = condition
        self.enabled = enabled
    }
}

/// One watched neuron as the session file keeps it: the layer by its ONNX tensor name (so the
/// watch survives a layer list reordered by a new export) and the neuron index.
public struct SessionWatch: Sendable, Equatable, Codable {
    public var layer: String
    public var neuron: Int
    public init(layer: String, neuron: Int) {
        self.layer = layer
        self.neuron = neuron
    }
}

/// The `cssdbg-session/1` file: the tuning session (θ, config, undo history) and the position.
public struct SavedSession: Sendable, Equatable, Codable {
    public static let format = "cssdbg-session/1"
    public var format: String = SavedSession.format
    public var model: String
    public var savedAt: String
    public var session: TuningSession
    public var position: SessionPosition

    public init(model: String, savedAt: String, session: TuningSession, position: SessionPosition) {
        self.model = model
        self.savedAt = savedAt
        self.session = session
        self.position = position
    }

    /// The time of a save as the file keeps it (`2025-01-31 14:05:09`, local time).
    public static func now() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: Date())
    }
}

/// Keeps the session beside the model: `.cssdbg-session.json` in a bundle directory, or
/// `NAME.onnx.cssdbg-session.json` next to a bare model file. Writes are atomic.
public struct SessionStore: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public static func beside(model: String) -> SessionStore {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDir), isDir.boolValue {
            return SessionStore(path: (model as NSString).appendingPathComponent(".cssdbg-session.json"))
        }
        return SessionStore(path: model + ".cssdbg-session.json")
    }

    /// Where a session offered at start-up and not restored is kept (`…cssdbg-session.backup.json`)
    /// before this session's first change is saved over it.
    public var backupPath: String {
        path.hasSuffix(".json") ? String(path.dropLast(5)) + ".backup.json" : path + ".backup"
    }

    /// Copies the session file to `backupPath` (atomically); false when there is no file.
    @discardableResult
    public func backUp() throws -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImportError(file: path, problem: "cannot read the session file to back it up")
        }
        try AtomicFile.write([UInt8](data), to: backupPath)
        return true
    }

    public func save(_ s: SavedSession) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(s)
        try AtomicFile.write([UInt8](data), to: path)
    }

    /// The saved session, nil when there is none; a damaged file is an error naming it.
    public func load(layers: Int) throws -> SavedSession? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImportError(file: path, problem: "cannot read the session file")
        }
        guard data.count < 256 << 20 else { throw ImportError(file: path, problem: "session file is larger than 256 MiB") }
        let s: SavedSession
        do {
            s = try JSONDecoder().decode(SavedSession.self, from: data)
        } catch {
            throw ImportError(file: path, problem: "not a readable cssdbg session", hint: "delete it to start fresh")
        }
        guard s.format == SavedSession.format else { throw ImportError(file: path, problem: "format is not \(SavedSession.format)") }
        let states = [s.session.current] + s.session.undoStack.map(\.state) + s.session.redoStack.map(\.state)
        for st in states {
            guard st.amplitudes.layers.count == layers else {
                throw ImportError(file: path, problem: "the session has \(st.amplitudes.layers.count) layers, the model \(layers)",
                                  hint: "it belongs to another model; delete it to start fresh")
            }
            guard (st.amplitudes.layers + [st.amplitudes.input]).allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw ImportError(file: path, problem: "the session holds a θ that is not a positive number")
            }
            do { try st.config.validate() } catch let e as ConfigError { throw ImportError(file: path, problem: e.description) }
        }
        return s
    }
}

extension SavedSession {
    /// The restore dialog's question: when the session was saved, how many changes it holds, and
    /// what restoring it changes against what the command line asked for (T, β, L, negative
    /// spikes, percentile, and in how many layers θ differs).
    public func restoreQuestion(commandLine start: TuningState) -> String {
        let n = session.history.count
        var q = "Restore the tuning session saved \(savedAt) (\(n) change\(n == 1 ? "" : "s"))?"
        let a = session.current.config, b = start.config
        var diffs: [String] = []
        if a.T != b.T { diffs.append("T \(a.T) (command line \(b.T))") }
        if a.beta != b.beta { diffs.append("β \(plainNumber(a.beta)) (command line \(plainNumber(b.beta)))") }
        if a.silent != b.silent { diffs.append("L \(a.silent) (command line \(b.silent))") }
        if a.negative != b.negative {
            diffs.append("negative spikes \(a.negative ? "on" : "off") (command line \(b.negative ? "on" : "off"))")
        }
        if a.percentile != b.percentile {
            diffs.append("percentile \(plainNumber(a.percentile)) (command line \(plainNumber(b.percentile)))")
        }
        let mine = session.current.amplitudes, theirs = start.amplitudes
        var changed = zip(mine.layers, theirs.layers).filter { $0 != $1 }.count
        if mine.input != theirs.input { changed += 1 }
        if changed > 0 {
            let total = theirs.layers.count + 1
            diffs.append("θ in \(changed) of \(total) layers")
        }
        if !diffs.isEmpty { q += " It sets " + diffs.joined(separator: ", ") + "." }
        return q
    }
}
