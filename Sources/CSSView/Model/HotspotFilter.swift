import CSSSnapshots

/// Which data-set hotspots the coupling pane lists (the report sorts overflow first, so the
/// temporal-coupling cases come after every overflow).
public enum HotspotFilter: String, CaseIterable, Sendable {
    case all, overflow, coupling

    public func includes(_ kind: ViolationKind) -> Bool {
        switch self {
        case .all: return true
        case .overflow: return kind == .overflow
        case .coupling: return kind == .coupling
        }
    }

    /// `all`, `overflow`/`ovf`/`o`, `coupling`/`cpl`/`c` (any unique prefix).
    public init?(argument: String) {
        let a = argument.lowercased()
        switch a {
        case "ovf": self = .overflow
        case "cpl": self = .coupling
        default:
            guard !a.isEmpty, let f = HotspotFilter.allCases.first(where: { $0.rawValue.hasPrefix(a) }) else {
                return nil
            }
            self = f
        }
    }
}
