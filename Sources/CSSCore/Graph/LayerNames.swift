/// Where a spiking layer's ReLU sits in the model that was exported: the module path
/// (`layer1.0.relu`) and whether that innermost module *is* the ReLU (an `nn.ReLU` applied) or
/// the module whose code calls a functional relu (`F.relu` inside `layer1.0`).
///
/// Importers fill it from what the exporter recorded (the dynamo exporter's
/// `pkg.torch.onnx.name_scopes`); without that it is read from the node name (`init(nodeName:)`).
public struct LayerScope: Sendable, Equatable {
    /// Full module path, e.g. `layer1.0.relu`; empty for a relu in the top-level forward.
    public var path: String
    /// True: the innermost module is a ReLU module; false: a functional relu inside `path`;
    /// nil: the exporter does not say.
    public var isActivationModule: Bool?

    public init(path: String, isActivationModule: Bool?) {
        self.path = path
        self.isActivationModule = isActivationModule
    }

    /// Reads a TorchScript-exporter node name, `/layer1/layer1.0/relu_1/Relu`: the scopes before
    /// the operator part give the module path (a scope is an attribute name, `relu_1`, or a
    /// Sequential child named after its parent, `layer1.0`). Any other name is taken as it is (without
    /// the dynamo exporter's `node_` prefix). Nil for an empty name.
    public init?(nodeName: String) {
        guard !nodeName.isEmpty else { return nil }
        guard nodeName.hasPrefix("/") else {
            var name = nodeName
            if name.hasPrefix("node_") && name.count > 5 { name.removeFirst(5) }
            self.init(path: name, isActivationModule: true)
            return
        }
        var parts = nodeName.split(separator: "/").map(String.init)
        if let last = parts.last, LayerScope.isOperatorPart(last) { parts.removeLast() }
        // A Sequential's child is named after its parent's scope (`block` → `block.1`).
        var components: [String] = []
        for p in parts {
            if let c = components.last, p.hasPrefix(c + ".") { components[components.count - 1] = p } else { components.append(p) }
        }
        self.init(path: components.joined(separator: "."), isActivationModule: nil)
    }

    /// `Relu`, `Relu_3`, `LeakyRelu`: what the TorchScript exporter appends to a node's scope.
    static func isOperatorPart(_ s: String) -> Bool {
        guard let f = s.first, f.isUppercase else { return false }
        let op = s.split(separator: "_", maxSplits: 1)
        return op[0].allSatisfy { $0.isLetter } && (op.count == 1 || op[1].allSatisfy(\.isNumber))
    }
}

/// Display names for the spiking layers: unique, and saying where each layer is.
public enum LayerNames {
    /// One name per layer, in order. A layer's name is its module path; layers that share a path
    /// (one `nn.ReLU` module applied twice as in torchvision's BasicBlock, or `F.relu` called
    /// twice in one module) are told apart the way PyTorch numbers repeated calls:
    /// `layer1.0.relu`, `layer1.0.relu_1`, and functional relus get a `.relu` of their own
    /// (`layer1.0.relu`, `layer1.0.relu_1` for two `F.relu` in `layer1.0`), so both exporters'
    /// graphs of one model get the same names. A name never equals another layer's tensor name,
    /// so a word typed at `:layer` or `:theta` means one layer.
    public static func unique(_ scopes: [LayerScope?], tensors: [String]) -> [String] {
        precondition(scopes.count == tensors.count)
        let bases = scopes.map { $0?.path ?? "" }
        var occurrences: [String: Int] = [:]
        for b in bases { occurrences[b, default: 0] += 1 }
        var wanted: [String] = []
        for (i, scope) in scopes.enumerated() {
            guard let scope else { wanted.append(tensors[i]); continue }
            var b = scope.path
            if (occurrences[b]! > 1 || b.isEmpty) && scope.isActivationModule != true {
                b = b.isEmpty ? "relu" : b + ".relu"
            }
            wanted.append(b.isEmpty ? tensors[i] : b)
        }
        var owner: [String: Int] = [:]
        for (i, t) in tensors.enumerated() { owner[t] = i }
        var taken = Set<String>()
        var names: [String] = []
        for (i, w) in wanted.enumerated() {
            func free(_ n: String) -> Bool { !taken.contains(n) && (owner[n] ?? i) == i }
            var name = w
            var k = 0
            while !free(name) {
                k += 1
                name = "\(w)_\(k)"
            }
            taken.insert(name)
            names.append(name)
        }
        return names
    }
}
