import Foundation

/// An integer that may stand for a multiple of the (unknown) batch size: `coef · B^batch`.
/// Exporters compute Reshape targets from `Shape(x)`, whose first entry is the batch size.
struct SymInt: Equatable, CustomStringConvertible {
    var coef: Int64
    var batch: Bool

    static func known(_ v: Int64) -> SymInt { SymInt(coef: v, batch: false) }
    static let batchSize = SymInt(coef: 1, batch: true)

    /// `coef · N`, with `0 · N` written as the known 0 it is.
    static func normalized(coef: Int64, batch: Bool) -> SymInt { SymInt(coef: coef, batch: batch && coef != 0) }

    var knownValue: Int64? { batch ? nil : coef }
    var description: String { batch ? (coef == 1 ? "N" : "\(coef)·N") : "\(coef)" }
}

/// A constant tensor met while importing (initializer, Constant node or folded value).
struct ConstTensor {
    enum Storage {
        case float([Float])
        case int([SymInt])
    }
    var shape: [Int]
    var storage: Storage

    /// Largest extent (product of dims, zeros counted as 1) of a folded tensor whose values are
    /// computed: folding evaluates shape computations and small constants, not whole networks.
    static let maxFoldedElements = 1 << 24
    /// Most dimensions of any constant (decoded or folded); ONNX models use at most 6 or so.
    static let maxRank = 32

    /// Number of elements, 0 when a dim is 0 and saturated at `Int.max` instead of trapping on
    /// overflow (decoded and folded tensors are kept far below that; see ConstFolding.swift).
    var count: Int {
        if shape.contains(0) { return 0 }
        return checkedProduct(shape) ?? Int.max
    }

    init(shape: [Int], floats: [Float]) { self.shape = shape; storage = .float(floats) }
    init(shape: [Int], ints: [SymInt]) { self.shape = shape; storage = .int(ints) }
    init(shape: [Int], known: [Int64]) { self.shape = shape; storage = .int(known.map(SymInt.known)) }

    var isFloat: Bool { if case .float = storage { true } else { false } }

    /// Values as floats (integers are converted; symbolic ones are not allowed).
    var floats: [Float]? {
        switch storage {
        case .float(let f): return f
        case .int(let v):
            guard v.allSatisfy({ !$0.batch }) else { return nil }
            return v.map { Float($0.coef) }
        }
    }

    var syms: [SymInt]? {
        switch storage {
        case .int(let v): return v
        case .float(let f):
            guard f.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e15 }) else { return nil }
            return f.map { .known(Int64($0)) }
        }
    }

    /// Fully known integer values.
    var knownInts: [Int64]? {
        guard let s = syms, s.allSatisfy({ !$0.batch }) else { return nil }
        return s.map(\.coef)
    }
}

/// ONNX `TensorProto.DataType` codes the importer understands.
enum ONNXDataType: Int32 {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7
    case string = 8, bool = 9, float16 = 10, double = 11, uint32 = 12, uint64 = 13
    case bfloat16 = 16

    var name: String {
        switch self {
        case .float: "FLOAT"
        case .uint8: "UINT8"
        case .int8: "INT8"
        case .uint16: "UINT16"
        case .int16: "INT16"
        case .int32: "INT32"
        case .int64: "INT64"
        case .string: "STRING"
        case .bool: "BOOL"
        case .float16: "FLOAT16"
        case .double: "DOUBLE"
        case .uint32: "UINT32"
        case .uint64: "UINT64"
        case .bfloat16: "BFLOAT16"
        }
    }

    var itemSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16, .float16, .bfloat16: 2
        case .float, .int32, .uint32: 4
        case .int64, .double, .uint64: 8
        case .string: 0
        }
    }

    var isFloatingPoint: Bool { self == .float || self == .double || self == .float16 || self == .bfloat16 }
}

/// IEEE half precision bits to Float, without relying on the `Float16` type.
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exp = Int((h >> 10) & 0x1f)
    let mant = UInt32(h & 0x3ff)
    if exp == 0 {
        // Zero or subnormal: mant · 2^-24.
        let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -v : v
    }
    if exp == 31 {
        return Float(bitPattern: sign | 0x7f80_0000 | (mant << 13))
    }
    return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
}

/// Decodes TensorProtos after checking every declared size against the bytes actually present.
struct TensorDecoder {
    /// Largest element count of one tensor (2^31).
    static let maxElements = 1 << 31
    /// Largest total of decoded tensor bytes.
    static let maxTotalBytes = 4 << 30

    let file: String
    /// The model's directory, symlinks resolved; external data must stay inside it.
    let modelDirectory: URL
    var totalBytes = 0

    init(file: String) {
        self.file = file
        modelDirectory = URL(fileURLWithPath: file).deletingLastPathComponent().resolvingSymlinksInPath()
    }

    func fail(_ problem: String, _ hint: String? = nil) -> ImportError {
        ImportError(file: file, problem: problem, hint: hint)
    }

    /// Validated shape and element count of a tensor's declared dims.
    func checkedShape(_ dims: [Int64], name: String, allowEmpty: Bool) throws -> (shape: [Int], count: Int) {
        guard dims.count <= ConstTensor.maxRank else {
            throw fail("tensor '\(name)' declares \(dims.count) dimensions; cssdbg supports at most \(ConstTensor.maxRank)")
        }
        var count = 1
        var extent = 1
        var shape: [Int] = []
        for d in dims {
            guard d >= 0 else { throw fail("tensor '\(name)' declares a negative dimension in \(dims)") }
            guard d > 0 || allowEmpty else { throw fail("tensor '\(name)' declares a zero dimension in \(dims)") }
            guard d <= Int64(Self.maxElements) else {
                throw fail("tensor '\(name)' declares an absurd shape \(dims) (more than 2^31 elements)")
            }
            // The extent counts zero dims as 1: [2^31, 2^31, 0] holds no values but its other
            // dims still size strides and loops when it is folded.
            let (p, o) = extent.multipliedReportingOverflow(by: max(Int(d), 1))
            guard !o, p <= Self.maxElements else {
                throw fail("tensor '\(name)' declares an absurd shape \(dims) (more than 2^31 elements)")
            }
            extent = p
            count *= Int(d)
            shape.append(Int(d))
        }
        return (shape, count)
    }

    mutating func decode(_ t: Onnx_TensorProto, what: String? = nil) throws -> ConstTensor {
        let name = what ?? (t.name.isEmpty ? "(unnamed)" : t.name)
        guard let dtype = ONNXDataType(rawValue: t.dataType) else {
            throw fail("tensor '\(name)' has unsupported data type \(t.dataType)", "export weights as float32")
        }
        guard dtype != .string else { throw fail("tensor '\(name)' holds strings, which cssdbg cannot use") }
        guard !t.hasSegment else { throw fail("tensor '\(name)' is segmented, which cssdbg does not support") }
        let (shape, count) = try checkedShape(t.dims, name: name, allowEmpty: !dtype.isFloatingPoint)
        let byteCount = count * dtype.itemSize

        if t.dataLocation == .external {
            let bytes = try readExternal(t, name: name, expected: byteCount)
            return try fromBytes(bytes, dtype: dtype, shape: shape, count: count, name: name)
        }
        if t.hasRawData {
            guard t.rawData.count == byteCount else {
                throw fail("tensor '\(name)' declares shape \(shape) of \(dtype.name) (\(byteCount) bytes) but holds \(t.rawData.count) bytes of data")
            }
            try account(byteCount, name: name)
            return try fromBytes([UInt8](t.rawData), dtype: dtype, shape: shape, count: count, name: name)
        }
        func mismatch(_ have: Int) -> ImportError {
            fail("tensor '\(name)' declares shape \(shape) (\(count) values) but holds \(have) values")
        }
        try account(byteCount, name: name)
        switch dtype {
        case .float:
            guard t.floatData.count == count else { throw mismatch(t.floatData.count) }
            return try checkedFloats(t.floatData, shape: shape, name: name)
        case .double:
            guard t.doubleData.count == count else { throw mismatch(t.doubleData.count) }
            return try checkedFloats(try t.doubleData.map { try narrow($0, name) }, shape: shape, name: name)
        case .float16, .bfloat16:
            guard t.int32Data.count == count else { throw mismatch(t.int32Data.count) }
            let f = t.int32Data.map { v -> Float in
                let bits = UInt16(truncatingIfNeeded: v)
                return dtype == .float16 ? halfToFloat(bits) : Float(bitPattern: UInt32(bits) << 16)
            }
            return try checkedFloats(f, shape: shape, name: name)
        case .int64:
            guard t.int64Data.count == count else { throw mismatch(t.int64Data.count) }
            return ConstTensor(shape: shape, known: t.int64Data)
        case .int32, .int16, .int8, .uint16, .uint8, .bool:
            guard t.int32Data.count == count else { throw mismatch(t.int32Data.count) }
            return ConstTensor(shape: shape, known: t.int32Data.map(Int64.init))
        case .uint32, .uint64:
            guard t.uint64Data.count == count else { throw mismatch(t.uint64Data.count) }
            return ConstTensor(shape: shape, known: t.uint64Data.map { Int64(truncatingIfNeeded: $0) })
        case .string:
            throw fail("tensor '\(name)' holds strings")
        }
    }

    mutating func account(_ bytes: Int, name: String) throws {
        totalBytes += bytes
        guard totalBytes <= Self.maxTotalBytes else {
            throw fail("the model's tensors add up to more than 4 GiB (at '\(name)')")
        }
    }

    func narrow(_ d: Double, _ name: String) throws -> Float {
        guard d.isFinite else { throw nonFinite(name) }
        guard abs(d) <= Double(Float.greatestFiniteMagnitude) else {
            throw fail("tensor '\(name)' holds \(d), which does not fit in float32")
        }
        return Float(d)
    }

    func nonFinite(_ name: String) -> ImportError {
        fail("tensor '\(name)' contains NaN or infinite values", "fix the trained weights before exporting")
    }

    func checkedFloats(_ f: [Float], shape: [Int], name: String) throws -> ConstTensor {
        guard f.allSatisfy(\.isFinite) else { throw nonFinite(name) }
        return ConstTensor(shape: shape, floats: f)
    }

    func fromBytes(_ b: [UInt8], dtype: ONNXDataType, shape: [Int], count: Int, name: String) throws -> ConstTensor {
        precondition(b.count == count * dtype.itemSize)
        return try b.withUnsafeBytes { raw -> ConstTensor in
            func u16(_ i: Int) -> UInt16 { UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
            func u32(_ i: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) }
            func u64(_ i: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) }
            switch dtype {
            case .float:
                return try checkedFloats((0..<count).map { Float(bitPattern: u32($0)) }, shape: shape, name: name)
            case .double:
                return try checkedFloats(try (0..<count).map { try narrow(Double(bitPattern: u64($0)), name) },
                                         shape: shape, name: name)
            case .float16:
                return try checkedFloats((0..<count).map { halfToFloat(u16($0)) }, shape: shape, name: name)
            case .bfloat16:
                return try checkedFloats((0..<count).map { Float(bitPattern: UInt32(u16($0)) << 16) }, shape: shape, name: name)
            case .int64, .uint64:
                return ConstTensor(shape: shape, known: (0..<count).map { Int64(bitPattern: u64($0)) })
            case .int32:
                return ConstTensor(shape: shape, known: (0..<count).map { Int64(Int32(bitPattern: u32($0))) })
            case .uint32:
                return ConstTensor(shape: shape, known: (0..<count).map { Int64(u32($0)) })
            case .int16:
                return ConstTensor(shape: shape, known: (0..<count).map { Int64(Int16(bitPattern: u16($0))) })
            case .uint16:
                return ConstTensor(shape: shape, known: (0..<count).map { Int64(u16($0)) })
            case .int8:
                return ConstTensor(shape: shape, known: (0..<count).map { Int64(Int8(bitPattern: raw[$0])) })
            case .uint8, .bool:
                return ConstTensor(shape: shape, known: (0..<count).map { Int64(raw[$0]) })
            case .string:
                throw fail("tensor '\(name)' holds strings")
            }
        }
    }

    // MARK: External data

    mutating func readExternal(_ t: Onnx_TensorProto, name: String, expected: Int) throws -> [UInt8] {
        var location: String?
        var offset = 0
        var length: Int?
        for entry in t.externalData {
            switch entry.key {
            case "location": location = entry.value
            case "offset":
                guard let v = Int(entry.value), v >= 0 else {
                    throw fail("tensor '\(name)' has an invalid external-data offset '\(entry.value)'")
                }
                offset = v
            case "length":
                guard let v = Int(entry.value), v >= 0 else {
                    throw fail("tensor '\(name)' has an invalid external-data length '\(entry.value)'")
                }
                length = v
            default: break
            }
        }
        guard let location, !location.isEmpty else {
            throw fail("tensor '\(name)' is stored externally but names no location")
        }
        let target = try resolveExternal(location, name: name)
        if let length, length != expected {
            throw fail("tensor '\(name)' needs \(expected) bytes but its external data length is \(length)")
        }
        let size: Int
        do {
            let attrs = try FileManager.default.attributesOfItem(atPath: target.path)
            guard (attrs[.type] as? FileAttributeType) == .typeRegular else {
                throw fail("external data '\(location)' of tensor '\(name)' is not a regular file")
            }
            size = (attrs[.size] as? NSNumber)?.intValue ?? 0
        } catch let e as ImportError {
            throw e
        } catch {
            throw fail("external data file '\(location)' of tensor '\(name)' is missing",
                       "keep it in the same directory as the model")
        }
        guard offset <= size, expected <= size - offset else {
            throw fail("external data '\(location)' is truncated: tensor '\(name)' needs \(expected) bytes at offset \(offset) but the file has \(size)")
        }
        try account(expected, name: name)
        do {
            let h = try FileHandle(forReadingFrom: target)
            defer { try? h.close() }
            try h.seek(toOffset: UInt64(offset))
            let d = try h.read(upToCount: expected) ?? Data()
            guard d.count == expected else {
                throw fail("external data '\(location)' ended early while reading tensor '\(name)'")
            }
            return [UInt8](d)
        } catch let e as ImportError {
            throw e
        } catch {
            throw fail("cannot read external data '\(location)' of tensor '\(name)': \(error.localizedDescription)")
        }
    }

    /// The external file for `location`, which must be a relative path that stays inside the
    /// model's directory after resolving symlinks.
    func resolveExternal(_ location: String, name: String) throws -> URL {
        let hint = "keep external data files next to the model and name them with a plain relative path"
        guard !location.hasPrefix("/"), !location.hasPrefix("\\"), !location.contains(":"), !location.contains("\0") else {
            throw fail("tensor '\(name)' refers to external data by an absolute path '\(location)', which is refused", hint)
        }
        let parts = location.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        guard !parts.contains("..") else {
            throw fail("tensor '\(name)' refers to external data '\(location)' outside the model's directory, which is refused", hint)
        }
        let resolved = modelDirectory.appendingPathComponent(location).standardizedFileURL.resolvingSymlinksInPath()
        let base = modelDirectory.standardizedFileURL.path
        let basePrefix = base.hasSuffix("/") ? base : base + "/"
        guard resolved.path.hasPrefix(basePrefix) else {
            throw fail("tensor '\(name)' refers to external data '\(location)', which resolves outside the model's directory (symlink), which is refused", hint)
        }
        return resolved
    }
}
