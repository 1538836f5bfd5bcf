import CSSSnapshots

/// The layer list's order: graph order, or the spiking layers by a data-set number, worst first
/// (encoder first and output last either way).
public enum LayerSort: String, CaseIterable, Sendable {
    case graph, coupling, overflow, residual

    /// `graph`, `coupling`/`cpl`, `overflow`/`ovf`, `residual`/`p99.9` (any unique prefix).
    public init?(argument: String) {
        let a = argument.lowercased()
        let aliases: [String: LayerSort] = ["cpl": .coupling, "ovf": .overflow, "p99.9": .residual, "p": .residual]
        if let f = aliases[a] { self = f; return }
        let m = LayerSort.allCases.filter { !a.isEmpty && $0.rawValue.hasPrefix(a) }
        guard m.count == 1 else { return nil }
        self = m[0]
    }
}
