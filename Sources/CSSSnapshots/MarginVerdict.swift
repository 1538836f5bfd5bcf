/// What a neuron's decoupling margins say about it (CSS paper, Sec. 3): overflow when the margin
/// is already ≤ 0 at k0 = 0, temporal coupling when it first drops to ≤ 0 at a later k0, else fine.
/// One definition for every screen that classifies a neuron from its margins.
public enum MarginVerdict: Equatable, Sendable {
    case fine
    case overflow
    /// The first local step k0 (1...T+L) whose margin is ≤ 0.
    case coupling(firstViolation: Int)

    /// Classifies `window + 1` margins, one per k0 = 0...window.
    public init<C: Collection>(margins: C) where C.Element == Float {
        guard let first = margins.first else { self = .fine; return }
        if first <= 0 { self = .overflow; return }
        if let k = margins.firstIndex(where: { $0 <= 0 }) {
            self = .coupling(firstViolation: margins.distance(from: margins.startIndex, to: k))
        } else {
            self = .fine
        }
    }
}

extension LayerTrace {
    /// The verdict for neuron `n` of this sample; `.fine` when the trace holds no margins for it.
    public func marginVerdict(neuron n: Int) -> MarginVerdict {
        let stride = window + 1
        guard n >= 0, margins.count >= (n + 1) * stride else { return .fine }
        return MarginVerdict(margins: margins[(n * stride)..<((n + 1) * stride)])
    }
}
