import CSSCore
import Foundation

/// What the dynamo exporter (`torch.onnx.export(..., dynamo=True)`) records about where a node
/// comes from. Its node names (`node_relu_3`) say nothing about the module; its metadata does:
/// `pkg.torch.onnx.name_scopes` = `['', 'layer1', 'layer1.0', 'layer1.0.relu', 'relu_3']` (module
/// paths, then the FX node) and `pkg.torch.onnx.class_hierarchy` = the classes of those modules,
/// then the aten op; older exports carry the same in `namespace`
/// (`: Net/layer1: Sequential/layer1.0: BasicBlock/layer1.0.relu: ReLU/relu_3: aten.relu.default`).
enum ExporterScopes {
    static func scope(of node: Onnx_NodeProto) -> LayerScope? {
        var props: [String: String] = [:]
        for p in node.metadataProps { props[p.key] = p.value }
        if let s = props["pkg.torch.onnx.name_scopes"].map(pythonStrings), s.count >= 2 {
            let classes = props["pkg.torch.onnx.class_hierarchy"].map(pythonStrings)
            return scope(paths: Array(s.dropLast()), classes: classes.flatMap { $0.count == s.count ? Array($0.dropLast()) : nil })
        }
        if let ns = props["namespace"] {
            // "name: class" per level, the root's name empty, the node itself last.
            let levels = ns.split(separator: "/", omittingEmptySubsequences: false).map { level -> (String, String) in
                let parts = level.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
                return (parts.first ?? "", parts.count > 1 ? parts[1] : "")
            }
            guard levels.count >= 2 else { return nil }
            let modules = levels.dropLast()
            return scope(paths: modules.map(\.0), classes: modules.map(\.1))
        }
        return nil
    }

    /// The innermost module's path (empty at the top level) and whether it is a ReLU module.
    static func scope(paths: [String], classes: [String]?) -> LayerScope {
        let path = paths.last ?? ""
        guard let classes, let cls = classes.last else { return LayerScope(path: path, isActivationModule: nil) }
        let isReLU = !path.isEmpty && (cls == "ReLU" || cls.hasSuffix(".ReLU"))
        return LayerScope(path: path, isActivationModule: isReLU)
    }

    /// The string elements of a Python list literal, `['', 'a.b', "c"]`.
    static func pythonStrings(_ text: String) -> [String] {
        var out: [String] = []
        var current: String? = nil
        var quote: Character = "'"
        var escaped = false
        for ch in text {
            if var c = current {
                if escaped { c.append(ch); escaped = false; current = c }
                else if ch == "\\" { escaped = true }
                else if ch == quote { out.append(c); current = nil }
                else { c.append(ch); current = c }
            } else if ch == "'" || ch == "\"" {
                quote = ch
                current = ""
            }
        }
        return out
    }
}
