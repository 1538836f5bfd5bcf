import CSSCore
import Foundation
import SwiftProtobuf

/// Imports ONNX models (as `torch.onnx.export` writes them, TorchScript or dynamo exporter,
/// opsets 13–20, dynamic batch dimension) into the simulator's `Graph`.
///
/// Everything that is not an exact affine map or a ReLU is refused with one line naming the
/// operator, the node and what to do instead.
public enum ONNXModelLoader {
    /// Largest model file read into memory (protobuf itself cannot exceed 2 GiB).
    public static let maxModelBytes = 2 << 30

    /// Reads, validates and lowers the model at `path`. External data is looked up next to it.
    public static func load(path: String) throws -> Graph {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ImportError(file: path, problem: "no such file")
        }
        guard !isDir.boolValue else {
            throw ImportError(file: path, problem: "is a directory", hint: "pass the .onnx file or a bundle directory")
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maxModelBytes else {
            throw ImportError(file: path, problem: "is \(size) bytes, larger than any valid ONNX protobuf (2 GiB)",
                              hint: "save large weights as external data")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw ImportError(file: path, problem: "cannot read: \(error.localizedDescription)")
        }
        return try load(data: data, file: path)
    }

    /// Lowers a model held in memory. `file` names it in messages and locates external data.
    public static func load(data: Data, file: String) throws -> Graph {
        let model = try parse(data: data, file: file)
        var lowerer = try Lowerer(model: model, file: file)
        return try lowerer.run()
    }

    static func parse(data: Data, file: String) throws -> Onnx_ModelProto {
        func fail(_ p: String, _ h: String? = nil) -> ImportError { ImportError(file: file, problem: p, hint: h) }
        guard !data.isEmpty else { throw fail("is empty, not an ONNX model") }
        let head = [UInt8](data.prefix(8))
        if head.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) {
            throw fail("is a NumPy .npy file, not an ONNX model")
        }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            throw fail("is a zip archive (a PyTorch checkpoint?), not an ONNX model", "export it with torch.onnx.export")
        }
        if head.starts(with: [0x89, 0x48, 0x44, 0x46]) {
            throw fail("is an HDF5 file (a Keras model?), not an ONNX model", "convert it to ONNX first")
        }
        let model: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            model = try Onnx_ModelProto(serializedBytes: data, partial: true, options: options)
        } catch {
            throw fail("is not a valid ONNX model (protobuf decoding failed: \(error)); the file may be truncated or corrupt")
        }
        guard model.irVersion > 0, model.hasGraph else {
            throw fail("is not an ONNX model (no IR version or no graph); the file may be truncated or corrupt")
        }
        return model
    }
}

/// One value flowing through the ONNX graph during lowering.
enum Val {
    case const(ConstTensor)
    /// An activation: the IR tensor holding it and its per-sample shape.
    case act(String, [Int])
}

struct Attrs {
    var map: [String: Onnx_AttributeProto] = [:]
    init(_ node: Onnx_NodeProto) {
        for a in node.attribute { map[a.name] = a }
    }
    func int(_ n: String) -> Int64? { map[n].map(\.i) }
    func int(_ n: String, _ d: Int64) -> Int64 { map[n]?.i ?? d }
    func float(_ n: String, _ d: Float) -> Float { map[n]?.f ?? d }
    func ints(_ n: String) -> [Int64]? { map[n].map(\.ints) }
    func string(_ n: String) -> String? { map[n].map { String(decoding: $0.s, as: UTF8.self) } }
    func has(_ n: String) -> Bool { map[n] != nil }
}

struct Lowerer {
    /// Largest number of values in one input sample (2^28, 1 GiB of float32).
    static let maxInputElements = 1 << 28

    let model: Onnx_ModelProto
    let graph: Onnx_GraphProto
    let file: String
    var decoder: TensorDecoder
    var values: [String: Val] = [:]
    var nodes: [Node] = []
    var irNames: Set<String> = []
    var inputName = ""
    var inputShape: [Int] = []
    /// The model's fixed batch size, if its input declares one.
    var staticBatch: Int?
    var opset: Int64 = 0

    init(model: Onnx_ModelProto, file: String) throws {
        self.model = model
        self.graph = model.graph
        self.file = file
        self.decoder = TensorDecoder(file: file)
    }

    func fail(_ p: String, _ h: String? = nil) -> ImportError { ImportError(file: file, problem: p, hint: h) }

    func label(_ n: Onnx_NodeProto, _ index: Int) -> String {
        n.name.isEmpty ? "node #\(index) (\(n.opType))" : "node '\(n.name)'"
    }

    // MARK: Driver

    mutating func run() throws -> Graph {
        for o in model.opsetImport where o.domain.isEmpty || o.domain == "ai.onnx" { opset = o.version }
        guard opset > 0 else { throw fail("declares no opset for the default ONNX domain") }
        guard opset >= 7 else {
            throw fail("uses opset \(opset), which is too old", "re-export with opset_version between 13 and 20")
        }
        guard graph.sparseInitializer.isEmpty else {
            throw fail("has sparse initializers, which cssdbg does not read", "export dense weights")
        }

        // Constants first: every initializer is decoded and validated.
        var initNames = Set<String>()
        for t in graph.initializer {
            guard !t.name.isEmpty else { throw fail("has an initializer without a name") }
            values[t.name] = .const(try decoder.decode(t))
            initNames.insert(t.name)
        }

        try readInput(initNames: initNames)
        guard graph.output.count == 1 else {
            let names = graph.output.map { "'\($0.name)'" }.joined(separator: ", ")
            throw fail("has \(graph.output.count) graph outputs (\(names)); cssdbg needs exactly one",
                       graph.output.isEmpty ? nil : "export only the logits")
        }
        let outputName = graph.output[0].name

        let order = try topologicalOrder(initNames: initNames)
        let live = liveNodes(order: order, output: outputName)
        for i in order where live.contains(i) {
            try lower(graph.node[i], index: i)
        }

        guard let outVal = values[outputName] else {
            throw fail("graph output '\(outputName)' is never computed")
        }
        var outIR: String
        switch outVal {
        case .const:
            throw fail("graph output '\(outputName)' does not depend on the input")
        case .act(let name, let shape):
            outIR = name
            if name == inputName {
                let n = uniqueName(outputName == inputName ? outputName + "/identity" : outputName)
                nodes.append(Node(name: "Identity", op: .identity, inputs: [inputName], output: n))
                outIR = n
                _ = shape
            }
        }
        fuseBiases(output: outIR)
        try checkFiniteWeights()
        let name = graph.name.isEmpty ? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent : graph.name
        let g = Graph(name: name, input: inputName, inputShape: inputShape, output: outIR, nodes: nodes)
        do {
            _ = try g.inferShapes()
        } catch let e as GraphError {
            throw fail("the imported graph is inconsistent: \(e.description)")
        }
        return g
    }

    mutating func readInput(initNames: Set<String>) throws {
        let inputs = graph.input.filter { !initNames.contains($0.name) }
        guard inputs.count == 1 else {
            if inputs.isEmpty { throw fail("has no graph input") }
            let names = inputs.map { "'\($0.name)'" }.joined(separator: ", ")
            throw fail("has \(inputs.count) graph inputs (\(names)); cssdbg needs exactly one", "export a single-input model")
        }
        let vi = inputs[0]
        inputName = vi.name
        guard !inputName.isEmpty else { throw fail("has a graph input without a name") }
        guard vi.type.tensorType.hasShape, !vi.type.tensorType.shape.dim.isEmpty else {
            throw fail("input '\(inputName)' has no declared shape", "export with a fixed sample shape (dynamic batch is fine)")
        }
        let elem = vi.type.tensorType.elemType
        guard elem == 1 || elem == 10 || elem == 11 || elem == 16 else {
            let tn = ONNXDataType(rawValue: elem)?.name ?? "type \(elem)"
            throw fail("input '\(inputName)' has element type \(tn); cssdbg needs a floating-point input")
        }
        let dims = vi.type.tensorType.shape.dim
        guard dims.count <= ConstTensor.maxRank else {
            throw fail("input '\(inputName)' has \(dims.count) dimensions; cssdbg supports at most \(ConstTensor.maxRank)")
        }
        if case .dimValue(let b)? = dims[0].value {
            guard b > 0 else { throw fail("input '\(inputName)' has batch dimension \(b)") }
            staticBatch = Int(clamping: b)
        }
        var shape: [Int] = []
        var count = 1
        for (i, d) in dims.dropFirst().enumerated() {
            guard case .dimValue(let v)? = d.value else {
                throw fail("input '\(inputName)' has a dynamic dimension \(i + 1); only the batch dimension may be dynamic",
                           "export with a fixed sample shape")
            }
            guard v > 0, v <= Int64(TensorDecoder.maxElements) else {
                throw fail("input '\(inputName)' has an invalid dimension \(v)")
            }
            let (p, o) = count.multipliedReportingOverflow(by: Int(v))
            count = o ? Int.max : p
            shape.append(Int(v))
        }
        // Every activation, and every constant broadcast to one, is sized by the sample.
        guard count <= Self.maxInputElements else {
            let values = count == Int.max ? "more than 2^63" : "\(count)"
            throw fail("input '\(inputName)' declares the sample shape \(shape), \(values) values per sample; cssdbg supports at most 2^28 (268435456)",
                       "export the model for a smaller input")
        }
        guard !shape.isEmpty else {
            throw fail("input '\(inputName)' has only a batch dimension; cssdbg needs [batch, ...sample shape]")
        }
        inputShape = shape
        values[inputName] = .act(inputName, shape)
        irNames.insert(inputName)
    }

    /// Node indices in dependency order; refuses dangling names, duplicate definitions and cycles.
    func topologicalOrder(initNames: Set<String>) throws -> [Int] {
        var producer: [String: Int] = [:]
        for (i, n) in graph.node.enumerated() {
            for o in n.output where !o.isEmpty {
                if producer[o] != nil || initNames.contains(o) || o == inputName {
                    throw fail("tensor '\(o)' is defined more than once (again by \(label(n, i)))")
                }
                producer[o] = i
            }
        }
        var indegree = [Int](repeating: 0, count: graph.node.count)
        var consumers = [[Int]](repeating: [], count: graph.node.count)
        for (i, n) in graph.node.enumerated() {
            for name in n.input where !name.isEmpty {
                if let p = producer[name] {
                    indegree[i] += 1
                    consumers[p].append(i)
                } else if !initNames.contains(name) && name != inputName {
                    throw fail("\(label(n, i)) uses '\(name)', which no node, initializer or input defines",
                               "the initializer may be missing or the graph truncated")
                }
            }
        }
        // Kahn's algorithm, preferring the file's own order.
        var ready = (0..<graph.node.count).filter { indegree[$0] == 0 }.reversed() as [Int]
        var order: [Int] = []
        order.reserveCapacity(graph.node.count)
        while let i = ready.popLast() {
            order.append(i)
            var newly: [Int] = []
            for c in consumers[i] {
                indegree[c] -= 1
                if indegree[c] == 0 { newly.append(c) }
            }
            ready.append(contentsOf: newly.sorted(by: >))
            ready.sort(by: >)
        }
        if order.count < graph.node.count {
            let stuck = (0..<graph.node.count).first { indegree[$0] > 0 }!
            throw fail("the graph has a cycle through \(label(graph.node[stuck], stuck))")
        }
        return order
    }

    /// Nodes the graph output depends on; the rest (dead shape computations etc.) is skipped.
    func liveNodes(order: [Int], output: String) -> Set<Int> {
        var producer: [String: Int] = [:]
        for (i, n) in graph.node.enumerated() { for o in n.output where !o.isEmpty { producer[o] = i } }
        var live = Set<Int>()
        var stack = [output]
        while let name = stack.popLast() {
            guard let p = producer[name], !live.contains(p) else { continue }
            live.insert(p)
            stack.append(contentsOf: graph.node[p].input.filter { !$0.isEmpty })
        }
        return live
    }

    mutating func uniqueName(_ base: String) -> String {
        var name = base
        var k = 1
        while irNames.contains(name) { k += 1; name = "\(base)#\(k)" }
        irNames.insert(name)
        return name
    }

    /// Appends an IR node, checking its shape; returns the new activation.
    mutating func emit(_ n: Onnx_NodeProto, _ index: Int, _ op: Op, _ inputs: [(String, [Int])],
                       output: String, suffix: String = "") throws -> Val {
        let shape: [Int]
        do {
            shape = try op.outputShape(inputs.map(\.1))
        } catch let e as GraphError {
            throw fail("\(label(n, index)) (\(n.opType)): \(e.description)")
        }
        let name = uniqueName(output + suffix)
        let display = (n.name.isEmpty ? "\(n.opType)_\(index)" : n.name) + suffix
        var scope: LayerScope? = nil
        if case .relu = op { scope = ExporterScopes.scope(of: n) }
        nodes.append(Node(name: display, op: op, inputs: inputs.map(\.0), output: name, scope: scope, origin: n.opType))
        return .act(name, shape)
    }

    /// Refuses NaN or infinite values in the lowered graph's weights. Initializers are checked
    /// when decoded, but non-finite values can also come from attributes (Gemm alpha/beta,
    /// BatchNormalization epsilon), constant folding (3e38 * 3e38) or the lowering itself
    /// (Div by 1e-45, BatchNormalization with a tiny variance); this one check after lowering
    /// covers every such path and names the node the values ended up in.
    func checkFiniteWeights() throws {
        for n in nodes {
            var arrays: [(String, [Float]?)] = []
            switch n.op {
            case .dense(let w, let b, _, _): arrays = [("weights", w), ("bias", b)]
            case .conv(let c): arrays = [("weights", c.weight), ("bias", c.bias)]
            case .affine(let scale, _, let shift, _): arrays = [("scale", scale), ("shift", shift)]
            case .add, .averagePool, .globalAveragePool, .reshape, .identity, .relu: break
            }
            for case let (what, values?) in arrays {
                guard let k = values.firstIndex(where: { !$0.isFinite }) else { continue }
                throw fail("node '\(n.name)' (\(n.op.kind)) has a NaN or infinite value in its \(what) (\(values[k]) at index \(k)), from its attributes or constant arithmetic",
                           "check the node's attributes (alpha, beta, epsilon) and constants for overflow")
            }
        }
    }

    /// Folds a dense/conv bias followed by a constant-shift affine into the bias, when the
    /// intermediate tensor is used nowhere else (MatMul + Add as some exporters write Linear).
    mutating func fuseBiases(output: String) {
        var uses: [String: Int] = [:]
        for n in nodes { for i in n.inputs { uses[i, default: 0] += 1 } }
        var i = 0
        while i + 1 < nodes.count {
            let a = nodes[i], b = nodes[i + 1]
            guard b.inputs == [a.output], uses[a.output] == 1, a.output != output,
                  case .affine(nil, _, let shift?, let sb) = b.op else { i += 1; continue }
            var fused: Op?
            switch a.op {
            case .dense(let w, let bias, let out, let inF):
                let s: [Float] = sb == .scalar ? [Float](repeating: shift[0], count: out) : shift
                guard s.count == out else { break }
                let nb = bias.map { zip($0, s).map(+) } ?? s
                fused = .dense(weight: w, bias: nb, outFeatures: out, inFeatures: inF)
            case .conv(var c):
                guard sb == .perChannel || sb == .scalar else { break }
                let s: [Float] = sb == .scalar ? [Float](repeating: shift[0], count: c.outChannels) : shift
                guard s.count == c.outChannels else { break }
                c.bias = c.bias.map { zip($0, s).map(+) } ?? s
                fused = .conv(c)
            default: break
            }
            if let fused {
                nodes[i] = Node(name: a.name, op: fused, inputs: a.inputs, output: b.output, origin: a.origin)
                nodes.remove(at: i + 1)
            } else {
                i += 1
            }
        }
    }
}
