/// Breakpoint conditions (docs/numerics.md §11): pure values, parsed against a `NetworkLayout`
/// only, so the view, `cssdbg find` and the session file share one grammar and one meaning.

/// Which first violations a `coupling`/`overflow`/`violation` breakpoint stops at (§6 kinds).
public enum ViolationFilter: String, Sendable, Hashable, Codable, CaseIterable {
    case coupling
    case overflow
    /// Either kind.
    case violation

    public func matches(_ kind: ViolationKind) -> Bool {
        switch self {
        case .coupling: return kind == .coupling
        case .overflow: return kind == .overflow
        case .violation: return true
        }
    }
}

/// What a breakpoint stops at. Layers are spiking-layer indices (resolved when parsed); nil
/// means any spiking layer.
public enum BreakCondition: Sendable, Hashable {
    /// A neuron's first violation of the decoupling condition, at g = window_start + k0.
    case violation(ViolationFilter, layer: Int?)
    /// The neuron fires (with that sign; nil: either), at g = window_start + L + slot.
    case spike(layer: Int, neuron: Int, sign: Int8?)
    /// A neuron's margin(k0) drops below the value: margin(k0) < value and (k0 = 0 or
    /// margin(k0 − 1) ≥ value), at g = window_start + k0.
    case margin(layer: Int?, below: Double)
    /// A neuron ends its window with |u[T]| > value (θ units), at its window's last step.
    case residual(layer: Int?, above: Double)
    /// The anytime prediction changes, at the step the slot that changes it arrives.
    case flip
    /// The final SNN prediction differs from the label, at g = latency.
    case wrong
    /// The final SNN prediction differs from the ANN's, at g = latency.
    case disagree

    /// The words a condition starts with, for completion and error messages.
    public static let keywords = ["coupling", "overflow", "violation", "spike", "margin", "residual", "flip",
                                  "wrong", "disagree"]

    /// The spiking layer the condition watches; nil for any layer and for the output conditions.
    public var layer: Int? {
        switch self {
        case .violation(_, let l), .margin(let l, _), .residual(let l, _): return l
        case .spike(let l, _, _): return l
        case .flip, .wrong, .disagree: return nil
        }
    }

    /// Whether the condition is about the output integrator (its hits have no neuron).
    public var isOutputCondition: Bool {
        switch self {
        case .flip, .wrong, .disagree: return true
        default: return false
        }
    }

    /// Whether layer `l` is one the condition watches (false for the output conditions).
    public func watches(layer l: Int) -> Bool {
        if isOutputCondition { return false }
        return layer.map { $0 == l } ?? true
    }

    /// Parses `text` (the `--break`/`:break` argument). LAYER is a tensor name, display name or
    /// index, resolved as `:theta` resolves it. Throws a `BreakConditionError` with one line
    /// saying what is wrong.
    public static func parse(_ text: String, layout: NetworkLayout) throws -> BreakCondition {
        var words = tokens(text)
        guard !words.isEmpty else {
            throw BreakConditionError("empty condition; use one of " + keywords.joined(separator: ", "))
        }
        let keyword = words.removeFirst().lowercased()
        func done(_ c: BreakCondition) throws -> BreakCondition {
            if let extra = words.first { throw BreakConditionError("unexpected '\(extra)' after '\(keyword)'") }
            return c
        }
        func layerArgument() throws -> Int {
            let word = words.removeFirst()
            let l: Int
            do { l = try layout.layerIndex(matching: word) } catch let e as GraphError {
                throw BreakConditionError(e.description)
            }
            if l < 0 { throw BreakConditionError("the input encoder has no neurons to break on; name a spiking layer") }
            return l
        }
        func value(after op: String) throws -> Double {
            guard let w = words.first, w == op else {
                throw BreakConditionError("needs '\(op) VALUE'" + (words.first.map { ", got '\($0)'" } ?? ""))
            }
            words.removeFirst()
            guard let v = words.first else { throw BreakConditionError("needs a value after '\(op)'") }
            words.removeFirst()
            guard let x = Double(v), x.isFinite else { throw BreakConditionError("'\(v)' is not a number") }
            return x
        }
        switch keyword {
        case "coupling", "overflow", "violation":
            let filter = ViolationFilter(rawValue: keyword)!
            let layer = words.isEmpty ? nil : try layerArgument()
            return try done(.violation(filter, layer: layer))
        case "spike":
            guard !words.isEmpty else { throw BreakConditionError("needs a layer and a neuron") }
            let l = try layerArgument()
            guard let n = words.first else { throw BreakConditionError("needs a neuron") }
            words.removeFirst()
            let count = layout.layers[l].neurons
            guard let neuron = Int(n) else { throw BreakConditionError("neuron '\(n)' is not a whole number") }
            guard neuron >= 0, neuron < count else {
                throw BreakConditionError("neuron \(neuron) is out of range 0 to \(count - 1) of \(layout.layers[l].name)")
            }
            var sign: Int8? = nil
            if let s = words.first {
                switch s {
                case "+": sign = 1
                case "-": sign = -1
                default: throw BreakConditionError("the sign is + or -, got '\(s)'")
                }
                words.removeFirst()
                if sign == -1 && !layout.config.negative {
                    throw BreakConditionError("no negative spikes in this conversion (negative off)")
                }
            }
            return try done(.spike(layer: l, neuron: neuron, sign: sign))
        case "margin":
            let layer = words.first == "<" || words.isEmpty ? nil : try layerArgument()
            return try done(.margin(layer: layer, below: try value(after: "<")))
        case "residual":
            let layer = words.first == ">" || words.isEmpty ? nil : try layerArgument()
            let v = try value(after: ">")
            if v < 0 { throw BreakConditionError("|u[T]| is never below 0; give a value of 0 or more, got \(plainNumber(v))") }
            return try done(.residual(layer: layer, above: v))
        case "flip", "wrong", "disagree":
            if let extra = words.first { throw BreakConditionError("'\(keyword)' takes nothing after it, got '\(extra)'") }
            return keyword == "flip" ? .flip : (keyword == "wrong" ? .wrong : .disagree)
        default:
            throw BreakConditionError("unknown condition '\(keyword)'; use one of " + keywords.joined(separator: ", "))
        }
    }

    /// The condition as it would be typed, with the layer's display name (the canonical text
    /// `:breaks`, `cssdbg find` and session files show).
    public func text(_ layout: NetworkLayout) -> String {
        func name(_ l: Int?) -> String { l.map { " " + layout.layers[$0].name } ?? "" }
        switch self {
        case .violation(let f, let l): return f.rawValue + name(l)
        case .spike(let l, let n, let s): return "spike\(name(l)) \(n)" + (s.map { $0 > 0 ? " +" : " -" } ?? "")
        case .margin(let l, let v): return "margin\(name(l)) < \(plainNumber(v))"
        case .residual(let l, let v): return "residual\(name(l)) > \(plainNumber(v))"
        case .flip: return "flip"
        case .wrong: return "wrong"
        case .disagree: return "disagree"
        }
    }

    /// Words of a condition; `<` and `>` are words of their own even when typed against a name or
    /// value (`conv1<0.5`).
    static func tokens(_ text: String) -> [String] {
        var spaced = ""
        for ch in text {
            if ch == "<" || ch == ">" { spaced += " \(ch) " } else { spaced.append(ch) }
        }
        return spaced.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }
}

/// Why a condition does not parse: one line, without the condition itself (the caller says
/// where it came from: `--break 'spike conv1': needs a neuron`).
public struct BreakConditionError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A numbered breakpoint. Numbers start at 1 and stay with the breakpoint.
public struct Breakpoint: Sendable, Hashable {
    public var number: Int
    public var condition: BreakCondition
    public var enabled: Bool

    public init(number: Int, condition: BreakCondition, enabled: Bool = true) {
        self.number = number
        self.condition = condition
        self.enabled = enabled
    }
}

/// One place where a breakpoint's condition holds.
public struct BreakHit: Sendable, Hashable, Comparable {
    /// The breakpoint's number.
    public var breakpoint: Int
    public var sample: Int
    /// Global step g.
    public var step: Int
    /// Spiking layer; nil for the output conditions (flip, wrong, disagree).
    public var layer: Int?
    /// Neuron within the layer; nil for the output conditions.
    public var neuron: Int?

    public init(breakpoint: Int, sample: Int, step: Int, layer: Int?, neuron: Int?) {
        self.breakpoint = breakpoint
        self.sample = sample
        self.step = step
        self.layer = layer
        self.neuron = neuron
    }

    /// Data order, then step order (§11): sample, step, layer index (the output after every
    /// spiking layer), neuron, breakpoint number.
    public static func < (a: BreakHit, b: BreakHit) -> Bool {
        if a.sample != b.sample { return a.sample < b.sample }
        if a.step != b.step { return a.step < b.step }
        let la = a.layer ?? Int.max, lb = b.layer ?? Int.max
        if la != lb { return la < lb }
        let na = a.neuron ?? -1, nb = b.neuron ?? -1
        if na != nb { return na < nb }
        return a.breakpoint < b.breakpoint
    }
}

/// A position in the data: a sample and a global step.
public struct SearchPosition: Sendable, Hashable, Comparable {
    public var sample: Int
    public var step: Int

    public init(sample: Int, step: Int) {
        self.sample = sample
        self.step = step
    }

    public static func < (a: SearchPosition, b: SearchPosition) -> Bool {
        (a.sample, a.step) < (b.sample, b.step)
    }
}

/// Where a search stopped: the first (forward) or last (backward) (sample, step) with a hit,
/// and every hit at that step, in hit order (the first is the one to select).
public struct BreakStop: Sendable, Equatable {
    public var position: SearchPosition
    public var hits: [BreakHit]

    public init(position: SearchPosition, hits: [BreakHit]) {
        self.position = position
        self.hits = hits
    }
}

public enum SearchDirection: Sendable {
    case forward
    case backward
}

