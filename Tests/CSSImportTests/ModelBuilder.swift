import CSSCore
import Foundation
@testable import CSSImport

/// Builds small ONNX models in memory for tests (uses the generated protobuf types).
struct ModelBuilder {
    var model = Onnx_ModelProto()
    var counter = 0

    init(opset: Int64 = 13, input: String = "x", inputDims: [Int64?] = [nil, 4], outputs: [String] = ["y"]) {
        model.irVersion = 8
        var o = Onnx_OperatorSetIdProto()
        o.domain = ""
        o.version = opset
        model.opsetImport = [o]
        model.graph.name = "test"
        model.graph.input = [Self.valueInfo(input, inputDims)]
        model.graph.output = outputs.map { Self.valueInfo($0, []) }
    }

    static func valueInfo(_ name: String, _ dims: [Int64?], elem: Int32 = 1) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var tt = Onnx_TypeProto.Tensor()
        tt.elemType = elem
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = d } else { dim.dimParam = "N" }
            return dim
        }
        if !dims.isEmpty { tt.shape = shape }
        v.type.tensorType = tt
        return v
    }

    static func floatTensor(_ name: String, _ dims: [Int64], _ values: [Float]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims
        t.dataType = 1
        var raw = Data()
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
        t.rawData = raw
        return t
    }

    static func intTensor(_ name: String, _ dims: [Int64], _ values: [Int64]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims
        t.dataType = 7
        t.int64Data = values
        return t
    }

    mutating func initializer(_ name: String, _ dims: [Int64], _ values: [Float]) {
        model.graph.initializer.append(Self.floatTensor(name, dims, values))
    }

    mutating func intInitializer(_ name: String, _ dims: [Int64], _ values: [Int64]) {
        model.graph.initializer.append(Self.intTensor(name, dims, values))
    }

    static func attr(_ name: String, int: Int64) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = int; return a
    }
    static func attr(_ name: String, ints: [Int64]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = ints; return a
    }
    static func attr(_ name: String, float: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = float; return a
    }
    static func attr(_ name: String, string: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .string; a.s = Data(string.utf8); return a
    }
    static func attr(_ name: String, tensor: Onnx_TensorProto) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .tensor; a.t = tensor; return a
    }

    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String? = nil,
                       attrs: [Onnx_AttributeProto] = []) -> String {
        counter += 1
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = name ?? "/\(op)_\(counter)"
        n.input = inputs
        n.output = outputs
        n.attribute = attrs
        model.graph.node.append(n)
        return outputs[0]
    }

    func data() throws -> Data { try model.serializedData() }

    func load(file: String = "test.onnx") throws -> CSSCore.Graph {
        try ONNXModelLoader.load(data: try data(), file: file)
    }

    /// Writes the model into `dir` and loads it from disk.
    func loadFromDisk(_ dir: URL, name: String = "model.onnx") throws -> CSSCore.Graph {
        let p = dir.appendingPathComponent(name)
        try data().write(to: p)
        return try ONNXModelLoader.load(path: p.path)
    }
}

