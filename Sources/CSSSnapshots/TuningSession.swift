/// What a tuning step can change: the conversion config and the amplitudes.
public struct TuningState: Sendable, Equatable, Codable {
    public var config: ConversionConfig
    public var amplitudes: Amplitudes

    public init(config: ConversionConfig, amplitudes: Amplitudes) {
        self.config = config
        self.amplitudes = amplitudes
    }
}

/// One change the user asks for.
public enum TuningChange: Sendable, Equatable {
    /// θ of layer l (−1: the encoder) set to a value in ANN units.
    case setTheta(layer: Int, value: Double)
    /// θ of layer l (−1: the encoder) multiplied by a factor.
    case scaleTheta(layer: Int, factor: Double)
    /// A.3 rounds on the given layers (nil: all).
    case adjust(layers: [Int]?, rounds: Int)
    /// Back to the calibrated θ for the current config (nil: all layers and the encoder).
    case reset(layer: Int?)
    /// Reconvert with another config (θ recalibrated for it).
    case setConfig(ConversionConfig)
    /// Replace θ and config at once (e.g. from a θ file); `label` names the source.
    case replace(TuningState, label: String)
    case undo
    case redo
}

/// The tuning history: linear undo/redo over states, each labelled with what produced it.
public struct TuningSession: Sendable, Equatable, Codable {
    public private(set) var current: TuningState
    public private(set) var undoStack: [Entry] = []
    public private(set) var redoStack: [Entry] = []

    public struct Entry: Sendable, Equatable, Codable {
        public var state: TuningState
        public var label: String
    }

    public init(start: TuningState) { current = start }

    public var canUndo: Bool { !undoStack.isEmpty }
    public var canRedo: Bool { !redoStack.isEmpty }
    /// Labels of the changes that led to the current state, oldest first.
    public var history: [String] { undoStack.map(\.label) }

    public mutating func push(_ state: TuningState, label: String) {
        guard state != current else { return }
        undoStack.append(Entry(state: current, label: label))
        redoStack.removeAll()
        current = state
    }

    /// Returns the label of the undone change.
    @discardableResult
    public mutating func undo() -> String? {
        guard let e = undoStack.popLast() else { return nil }
        redoStack.append(Entry(state: current, label: e.label))
        current = e.state
        return e.label
    }

    @discardableResult
    public mutating func redo() -> String? {
        guard let e = redoStack.popLast() else { return nil }
        undoStack.append(Entry(state: current, label: e.label))
        current = e.state
        return e.label
    }
}

/// The backend's answer to a tuning change.
public struct TuningSnapshot: Sendable, Equatable {
    public var session: TuningSession
    /// θ straight from calibration for the current config.
    public var calibrated: Amplitudes
    public var layout: NetworkLayout
    /// What the last change did, for the status line.
    public var message: String
    /// A.3 steps taken by the last change, if it was an adjustment.
    public var steps: [AdjustmentStep]

    public init(session: TuningSession, calibrated: Amplitudes, layout: NetworkLayout, message: String,
                steps: [AdjustmentStep] = []) {
        self.session = session
        self.calibrated = calibrated
        self.layout = layout
        self.message = message
        self.steps = steps
    }
}

/// One round of A.3 for one layer (docs/numerics.md §7).
public struct AdjustmentStep: Sendable, Equatable {
    public var round: Int
    public var layer: Int
    public var residualP999: Double
    public var factor: Double
    public var theta: Double

    public init(round: Int, layer: Int, residualP999: Double, factor: Double, theta: Double) {
        self.round = round
        self.layer = layer
        self.residualP999 = residualP999
        self.factor = factor
        self.theta = theta
    }
}
