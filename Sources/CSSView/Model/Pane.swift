import CSSSnapshots

/// The panes of the screen, in Tab order.
public enum Pane: Int, CaseIterable, Sendable {
    case layers, membrane, inspector, raster, histogram, coupling, watch

    /// The name `:focus` takes (and sessions store).
    public var commandName: String {
        switch self {
        case .layers: return "layers"
        case .membrane: return "membrane"
        case .inspector: return "neuron"
        case .raster: return "raster"
        case .histogram: return "histogram"
        case .coupling: return "coupling"
        case .watch: return "watch"
        }
    }

    /// A `:focus` argument: the command names, the pane titles' words and a unique prefix.
    public init?(commandName name: String) {
        let key = name.lowercased()
        let aliases: [String: Pane] = ["inspector": .inspector, "residual": .histogram, "hotspots": .coupling]
        if let p = Pane.allCases.first(where: { $0.commandName == key }) ?? aliases[key] {
            self = p
            return
        }
        let matches = Pane.allCases.filter { !key.isEmpty && $0.commandName.hasPrefix(key) }
        guard matches.count == 1 else { return nil }
        self = matches[0]
    }
}
