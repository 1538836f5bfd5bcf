import CSSCore
import CSSImport
import Foundation
import FuzzSupport

// Structure-aware ONNX fuzzing: the input bytes are a little program that builds a graph
// (operators, attributes, initializers with extreme dims and dtypes), which is serialized with
// the hand-written protobuf encoder below and fed to the loader. Byte-level mutation of real
// models (FuzzONNX) rarely gets past protobuf decoding into constant folding and lowering;
// this target starts there.

let modelPath = FuzzCheck.workDirectory + "/graph.onnx"

/// Reads choices from the fuzzer's bytes; zeros once they run out.
struct Choices {
    var bytes: UnsafeRawBufferPointer
    var i = 0
    mutating func byte() -> Int {
        defer { i += 1 }
        return i < bytes.count ? Int(bytes[i]) : 0
    }
    mutating func pick<T>(_ options: [T]) -> T { options[byte() % options.count] }
    var exhausted: Bool { i >= bytes.count }
}

/// Minimal protobuf writer (proto3 wire format).
struct PB {
    var out: [UInt8] = []
    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }
    mutating func tag(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }
    mutating func int(_ field: Int, _ v: Int64) { tag(field, 0); varint(UInt64(bitPattern: v)) }
    mutating func float(_ field: Int, _ v: Float) {
        tag(field, 5)
        withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) }
    }
    mutating func bytes(_ field: Int, _ b: [UInt8]) { tag(field, 2); varint(UInt64(b.count)); out += b }
    mutating func string(_ field: Int, _ s: String) { bytes(field, Array(s.utf8)) }
    mutating func message(_ field: Int, _ build: (inout PB) -> Void) {
        var m = PB()
        build(&m)
        bytes(field, m.out)
    }
}

let ops = ["Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "Reshape", "Flatten", "Squeeze",
           "Unsqueeze", "Concat", "Gather", "Slice", "Shape", "Size", "Transpose", "ConstantOfShape", "Expand",
           "Range", "Cast", "Constant", "Neg", "Sqrt", "Reciprocal", "BatchNormalization", "AveragePool",
           "GlobalAveragePool", "ReduceMean", "Clip", "LeakyRelu", "Identity", "Dropout", "Sum", "MaxPool", "Pad"]
let attrNames = ["axis", "axes", "perm", "value", "pads", "strides", "kernel_shape", "dilations", "group",
                 "auto_pad", "ceil_mode", "allowzero", "transA", "transB", "alpha", "beta", "epsilon", "to",
                 "keepdims", "start", "end", "count_include_pad", "min", "max", "starts", "ends", "training_mode", "mode"]
let interesting: [Int64] = [0, 1, 2, 3, 4, -1, -2, 7, 16, 1 << 20, 1 << 24, (1 << 31) - 1, 1 << 31, 1 << 32,
                            1 << 40, 1 << 62, .max, .min, -(1 << 31)]
let floats: [Float] = [0, 1, -1, 0.5, 2, 1e-30, 1e30, 3e38, .infinity, -.infinity, .nan, .leastNonzeroMagnitude]
let dtypes: [Int64] = [1, 7, 6, 11, 10, 16, 2, 3, 9, 12, 13, 8, 0, 99]

func small(_ c: inout Choices) -> Int64 {
    let b = c.byte()
    return b < 192 ? Int64(b % 6) : c.pick(interesting)
}

func tensor(_ pb: inout PB, name: String, _ c: inout Choices) {
    let dtype = c.pick(dtypes)
    let rank = c.byte() % 4
    var dims: [Int64] = []
    for _ in 0..<rank { dims.append(small(&c)) }
    for d in dims { pb.int(1, d) }
    pb.int(2, dtype)
    pb.string(8, name)
    // Element count the dims declare, capped; the data may deliberately disagree.
    var n: Int64 = 1
    for d in dims { n = n.multipliedReportingOverflow(by: max(d, 0)).overflow ? .max : n * max(d, 0) }
    var count = Int(min(n, 64))
    switch c.byte() % 4 {
    case 0: count += 1
    case 1: count = max(0, count - 1)
    default: break
    }
    switch c.byte() % 3 {
    case 0:  // raw_data
        let item = [1: 4, 7: 8, 6: 4, 11: 8, 10: 2, 16: 2, 2: 1, 3: 1, 9: 1, 12: 4, 13: 8][dtype] ?? 4
        var raw: [UInt8] = []
        for _ in 0..<(count * item) { raw.append(UInt8(truncatingIfNeeded: c.byte())) }
        pb.bytes(9, raw)
    case 1:  // typed lists
        for _ in 0..<count {
            if dtype == 1 { pb.float(4, c.pick(floats)) } else if dtype == 11 {
                pb.tag(10, 1)
                withUnsafeBytes(of: Double(c.pick(floats)).bitPattern.littleEndian) { pb.out.append(contentsOf: $0) }
            } else if dtype == 7 { pb.int(7, small(&c)) } else { pb.int(5, small(&c)) }
        }
    default:  // external data next to the model (scripts/fuzz.sh provides model.onnx.data)
        pb.message(13) { e in e.string(1, "location"); e.string(2, c.pick(["model.onnx.data", "missing.bin", "../x", "/etc/passwd"])) }
        pb.message(13) { e in e.string(1, "offset"); e.string(2, String(small(&c))) }
        pb.int(14, 1)
    }
}

func buildModel(_ c: inout Choices) -> [UInt8] {
    var names = ["x"]
    var graph = PB()
    var inits = 0
    let nodeCount = 1 + c.byte() % 8
    for k in 0..<nodeCount {
        let op = c.pick(ops)
        let inputCount = c.byte() % 4
        var inputs: [String] = []
        for _ in 0..<inputCount {
            if c.byte() % 3 == 0 {
                let name = "w\(inits)"
                inits += 1
                graph.message(5) { t in tensor(&t, name: name, &c) }
                inputs.append(name)
            } else {
                inputs.append(c.pick(names + [""]))
            }
        }
        let out = "t\(k)"
        graph.message(1) { n in
            for i in inputs { n.string(1, i) }
            n.string(2, out)
            n.string(3, "n\(k)")
            n.string(4, op)
            for _ in 0..<(c.byte() % 4) {
                n.message(5) { a in
                    a.string(1, c.pick(attrNames))
                    switch c.byte() % 5 {
                    case 0: a.int(3, small(&c)); a.int(20, 2)
                    case 1: a.float(2, c.pick(floats)); a.int(20, 1)
                    case 2:
                        for _ in 0..<(c.byte() % 5) { a.int(8, small(&c)) }
                        a.int(20, 7)
                    case 3: a.string(4, c.pick(["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER", ""])); a.int(20, 3)
                    default: a.message(5) { t in tensor(&t, name: "", &c) }; a.int(20, 4)
                    }
                }
            }
        }
        names.append(out)
    }
    let inputRank = 1 + c.byte() % 4
    graph.message(11) { v in
        v.string(1, "x")
        v.message(2) { t in t.message(1) { tt in
            tt.int(1, c.pick([1, 1, 1, 7, 10]))
            tt.message(2) { s in
                s.message(1) { d in d.string(2, "N") }
                for _ in 1..<inputRank { s.message(1) { d in d.int(1, c.byte() < 200 ? Int64(1 + c.byte() % 6) : c.pick(interesting)) } }
            }
        } }
    }
    let outName = c.byte() % 8 == 0 ? c.pick(names) : names.last!
    graph.message(12) { v in v.string(1, outName) }
    var model = PB()
    model.int(1, 8)
    model.message(7) { g in g.out = graph.out }
    model.message(8) { o in o.string(1, ""); o.int(2, c.pick([13, 13, 17, 20, 7, 6])) }
    return model.out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNXGraph(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    var c = Choices(bytes: UnsafeRawBufferPointer(start: start, count: count))
    let bytes = buildModel(&c)
    if ProcessInfo.processInfo.environment["CSSDBG_FUZZ_DUMP"] == "1" {
        FileManager.default.createFile(atPath: modelPath, contents: Data(bytes))
    }
    do {
        let graph = try ONNXModelLoader.load(data: Data(bytes), file: modelPath)
        FuzzCheck.acceptGraph(graph, file: modelPath)
        do { _ = try Network(graph) } catch is GraphError {}
    } catch {
        FuzzCheck.accept(error, file: modelPath)
    }
    return 0
}
