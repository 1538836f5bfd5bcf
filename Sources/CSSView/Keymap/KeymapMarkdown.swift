/// The "Keys" and "Commands" tables of docs/debugger.md, rendered from the key table so they cannot drift
/// (a test compares them with docs/debugger.md between `<!-- keymap:keys -->` / `<!-- keymap:commands -->`
/// markers).
extension Keymap {
    public static func keysMarkdown() -> String {
        var rows = ["| key | action |", "| --- | --- |"]
        for e in keys {
            let scope = e.pane.map { "\(paneWords($0)): " } ?? ""
            rows.append("| \(cell(e.readmeKeys)) | \(scope)\(cell(e.readme)) |")
        }
        return rows.joined(separator: "\n")
    }

    public static func commandsMarkdown() -> String {
        var rows = ["| command | |", "| --- | --- |"]
        for e in commands {
            let shown = e.usage.split(separator: " ").first.map(String.init) ?? ""
            let names = ["`\(e.usage)`"] + ([e.name] + e.aliases).filter { ":" + $0 != shown }.map { "`:\($0)`" }
            rows.append("| \(cell(names.joined(separator: ", "))) | \(cell(e.readme)) |")
        }
        return rows.joined(separator: "\n")
    }

    /// How docs/debugger.md names the pane a key belongs to.
    static func paneWords(_ p: Pane) -> String {
        switch p {
        case .coupling: "in the coupling pane"
        case .layers: "in the layer list"
        case .inspector: "in the neuron pane"
        default: "in the \(p.commandName) pane"
        }
    }

    /// A table cell: `|` escaped.
    static func cell(_ text: String) -> String {
        text.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
    }
}
