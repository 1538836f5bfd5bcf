import Foundation

/// Reader and writer for NumPy `.npy` files (format versions 1, 2 and 3).
///
/// Supported element types: little-endian `float32`, `float64`, `int64`, `int32` and `uint8`,
/// C order only. Everything is validated before any buffer is sized from the header.
public enum NumPyFile {
    public enum DType: String, Sendable, CaseIterable {
        case float32 = "<f4"
        case float64 = "<f8"
        case int64 = "<i8"
        case int32 = "<i4"
        case uint8 = "|u1"

        public var itemSize: Int {
            switch self {
            case .float32: 4
            case .float64: 8
            case .int64: 8
            case .int32: 4
            case .uint8: 1
            }
        }

        public var isInteger: Bool { self != .float32 && self != .float64 }
    }

    /// A decoded array: its shape, element type and the raw little-endian element bytes.
    public struct Array: Sendable {
        public var shape: [Int]
        public var dtype: DType
        /// Exactly `count * dtype.itemSize` bytes.
        public var bytes: [UInt8]
        public var count: Int { shape.reduce(1, *) }
    }

    /// Largest element count accepted (2^31).
    public static let maxElements = 1 << 31

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    // MARK: Reading

    /// Reads and validates a file.
    public static func read(path: String) throws -> Array {
        try decode(readFile(path), file: path)
    }

    /// Reads a numeric array as `Float`; NaN or infinite values are refused.
    public static func readFloats(path: String) throws -> (shape: [Int], values: [Float]) {
        let a = try read(path: path)
        return (a.shape, try floats(a, file: path))
    }

    /// Reads an array of integers (labels): integer dtypes, or floats whose values are integral.
    public static func readInts(path: String) throws -> (shape: [Int], values: [Int]) {
        let a = try read(path: path)
        return (a.shape, try ints(a, file: path))
    }

    /// Parses the bytes of a `.npy` file. `file` is only used in error messages.
    public static func decode(_ data: [UInt8], file: String) throws -> Array {
        let h = try header(data, fileSize: data.count, file: file)
        return Array(shape: h.shape, dtype: h.dtype,
                     bytes: Swift.Array(data[h.dataStart ..< h.dataStart + h.count * h.dtype.itemSize]))
    }

    /// What a `.npy` header says, checked against the file's size.
    public struct Header: Sendable, Equatable {
        public var shape: [Int]
        public var dtype: DType
        /// Offset of the first element in the file.
        public var dataStart: Int
        public var count: Int { shape.reduce(1, *) }
    }

    /// Bytes to read from the start of a file of `fileSize` bytes so that `header` sees all of
    /// it: 12, then (given those) the whole header.
    static func headerPrefixLength(_ first: [UInt8], fileSize: Int) -> Int {
        guard first.count >= 12, Swift.Array(first[0..<6]) == magic, (1...3).contains(first[6]) else { return min(fileSize, 12) }
        let length = first[6] == 1 ? Int(first[8]) | Int(first[9]) << 8
            : Int(first[8]) | Int(first[9]) << 8 | Int(first[10]) << 16 | Int(first[11]) << 24
        return min(fileSize, (first[6] == 1 ? 10 : 12) + length)
    }

    /// Parses and validates the header. `data` holds the file's first bytes, at least the whole
    /// header when the file has it (`headerPrefixLength`); sizes are checked against `fileSize`.
    public static func header(_ data: [UInt8], fileSize: Int, file: String) throws -> Header {
        func fail(_ p: String, _ hint: String? = nil) -> ImportError {
            ImportError(file: file, problem: p, hint: hint)
        }
        guard fileSize >= 10, data.count >= 10 else {
            throw fail(fileSize < 6 || Swift.Array(data.prefix(6)) != magic
                       ? "not a NumPy .npy file (too short, \(fileSize) bytes)"
                       : "truncated .npy header (\(fileSize) bytes)")
        }
        guard Swift.Array(data[0..<6]) == magic else {
            throw fail("not a NumPy .npy file (wrong magic bytes)", "save arrays with numpy.save")
        }
        let major = data[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(data[8]) | Int(data[9]) << 8
            headerStart = 10
        case 2, 3:
            guard fileSize >= 12, data.count >= 12 else { throw fail("truncated .npy header (\(fileSize) bytes)") }
            headerLength = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
            headerStart = 12
        default:
            throw fail("unsupported .npy format version \(major).\(data[7])")
        }
        guard headerLength <= fileSize - headerStart else {
            throw fail("truncated .npy header: it declares \(headerLength) bytes but only \(fileSize - headerStart) follow")
        }
        precondition(data.count >= headerStart + headerLength, "header() needs the whole header")
        let headerBytes = data[headerStart ..< headerStart + headerLength]
        guard let header = String(bytes: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw fail("the .npy header is not valid text")
        }
        let dict: [String: HeaderValue]
        do {
            var parser = HeaderParser(Swift.Array(header.unicodeScalars))
            dict = try parser.parseDict()
        } catch let e as HeaderParser.Failure {
            throw fail("cannot parse the .npy header (\(e.message))")
        }
        guard case .string(let descr)? = dict["descr"] else { throw fail("the .npy header has no 'descr' string") }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw fail("the .npy header has no 'fortran_order' flag")
        }
        guard case .tuple(let rawShape)? = dict["shape"] else { throw fail("the .npy header has no 'shape' tuple") }
        guard !fortran else {
            throw fail("array is stored in Fortran order", "save it with numpy.save(path, numpy.ascontiguousarray(a))")
        }
        let dtype: DType
        switch descr {
        case "<f4", "=f4": dtype = .float32
        case "<f8", "=f8": dtype = .float64
        case "<i8", "=i8": dtype = .int64
        case "<i4", "=i4": dtype = .int32
        case "|u1", "<u1", "=u1", ">u1": dtype = .uint8
        default:
            let hint = descr.hasPrefix(">") ? "the array is big-endian; convert with a.astype(a.dtype.newbyteorder('<'))"
                                            : "convert it to float32, float64, int64, int32 or uint8"
            throw fail("unsupported dtype '\(descr)'", hint)
        }
        var count = 1
        for d in rawShape {
            guard d >= 0 else { throw fail("the .npy header declares a negative dimension in \(rawShape)") }
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p <= maxElements else {
                throw fail("the .npy header declares an absurd shape \(rawShape) (more than 2^31 elements)")
            }
            count = p
        }
        let dataStart = headerStart + headerLength
        let available = fileSize - dataStart
        let needed = count * dtype.itemSize
        guard available >= needed else {
            throw fail("truncated: shape \(rawShape) of \(descr) needs \(needed) bytes of data but only \(available) are present")
        }
        guard available == needed else {
            throw fail("\(available - needed) unexpected bytes after the data of shape \(rawShape)")
        }
        return Header(shape: rawShape, dtype: dtype, dataStart: dataStart)
    }

    /// The values as `Float`; refuses NaN and infinities (naming the first flat index).
    public static func floats(_ a: Array, file: String) throws -> [Float] {
        let n = a.count
        var out = [Float](repeating: 0, count: n)
        try a.bytes.withUnsafeBytes { raw in
            try out.withUnsafeMutableBufferPointer { o in
                try convert(raw, dtype: a.dtype, firstIndex: 0, shape: a.shape, file: file, into: o)
            }
        }
        return out
    }

    /// Little-endian elements of `dtype` in `raw` as `Float` into `out` (`out.count` elements);
    /// `firstIndex` is the first element's flat index, for error messages. The one conversion of
    /// file values to Float32, whether a file is read whole or a batch at a time.
    public static func convert(_ raw: UnsafeRawBufferPointer, dtype: DType, firstIndex: Int, shape: [Int], file: String,
                               into out: UnsafeMutableBufferPointer<Float>) throws {
        precondition(raw.count >= out.count * dtype.itemSize)
        for i in 0..<out.count {
            let v: Float
            switch dtype {
            case .float32: v = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            case .float64:
                let d = Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
                guard d.isFinite else { throw nonFinite(file, firstIndex + i, shape) }
                guard abs(d) <= Double(Float.greatestFiniteMagnitude) else {
                    throw ImportError(file: file, problem: "value \(d) at flat index \(firstIndex + i) does not fit in float32")
                }
                v = Float(d)
            case .int64: v = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
            case .int32: v = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
            case .uint8: v = Float(raw[i])
            }
            guard v.isFinite else { throw nonFinite(file, firstIndex + i, shape) }
            out[i] = v
        }
    }

    /// The values as `Int`: integer dtypes, or floats holding integral values.
    public static func ints(_ a: Array, file: String) throws -> [Int] {
        let n = a.count
        var out = [Int](repeating: 0, count: n)
        try a.bytes.withUnsafeBytes { raw in
            for i in 0..<n {
                let d: Double
                switch a.dtype {
                case .int64: out[i] = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))); continue
                case .int32: out[i] = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))); continue
                case .uint8: out[i] = Int(raw[i]); continue
                case .float32: d = Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))))
                case .float64: d = Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
                }
                guard d.isFinite else { throw nonFinite(file, i, a.shape) }
                guard d == d.rounded(), abs(d) < 9.0e15 else {
                    throw ImportError(file: file, problem: "value \(d) at flat index \(i) is not an integer",
                                      hint: "labels must be class indices")
                }
                out[i] = Int(d)
            }
        }
        return out
    }

    static func nonFinite(_ file: String, _ i: Int, _ shape: [Int]) -> ImportError {
        ImportError(file: file, problem: "contains NaN or infinity at flat index \(i) (shape \(shape))",
                    hint: "clean the data before loading it")
    }

    // MARK: Writing

    /// The bytes of a version-1 `.npy` file holding `values` as little-endian float32 in C order.
    public static func encode(shape: [Int], values: [Float]) -> [UInt8] {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count,
                     "shape \(shape) does not match \(values.count) values")
        var out = [UInt8]()
        out.reserveCapacity(128 + values.count * 4)
        appendHeader(&out, descr: DType.float32.rawValue, shape: shape)
        for v in values {
            let b = v.bitPattern.littleEndian
            withUnsafeBytes(of: b) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// Writes `values` as a float32 `.npy` file (atomically).
    public static func write(path: String, shape: [Int], values: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == values.count else {
            throw ImportError(file: path, problem: "cannot write \(values.count) values with shape \(shape)")
        }
        do {
            try Data(encode(shape: shape, values: values)).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ImportError(file: path, problem: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Builds the magic, version, length and padded header dict (total a multiple of 64 bytes).
    static func appendHeader(_ out: inout [UInt8], descr: String, shape: [Int]) {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        var version: UInt8 = 1
        var prefix = 10
        if dict.utf8.count + 1 + prefix > 65535 { version = 2; prefix = 12 }
        let unpadded = prefix + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let len = dict.utf8.count
        out.append(contentsOf: magic)
        out.append(version)
        out.append(0)
        if version == 1 {
            out.append(UInt8(len & 0xff)); out.append(UInt8(len >> 8))
        } else {
            for s in stride(from: 0, to: 32, by: 8) { out.append(UInt8((len >> s) & 0xff)) }
        }
        out.append(contentsOf: Swift.Array(dict.utf8))
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ImportError(file: path, problem: "no such file")
        }
        guard !isDir.boolValue else { throw ImportError(file: path, problem: "is a directory, not a file") }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe))
        } catch {
            throw ImportError(file: path, problem: "cannot read: \(error.localizedDescription)")
        }
    }
}

// MARK: - Header dict parser (the Python literal subset numpy writes)

enum HeaderValue: Equatable {
    case string(String)
    case bool(Bool)
    case tuple([Int])
}

struct HeaderParser {
    struct Failure: Error { var message: String }
    let s: [Unicode.Scalar]
    var i = 0

    init(_ s: [Unicode.Scalar]) { self.s = s }

    mutating func skipSpace() {
        while i < s.count, s[i] == " " || s[i] == "\n" || s[i] == "\t" || s[i] == "\r" { i += 1 }
    }

    mutating func expect(_ c: Unicode.Scalar) throws {
        skipSpace()
        guard i < s.count, s[i] == c else { throw Failure(message: "expected '\(c)' at offset \(i)") }
        i += 1
    }

    mutating func peek() -> Unicode.Scalar? {
        skipSpace()
        return i < s.count ? s[i] : nil
    }

    mutating func parseDict() throws -> [String: HeaderValue] {
        try expect("{")
        var out: [String: HeaderValue] = [:]
        while true {
            if peek() == "}" { i += 1; break }
            guard case .string(let key) = try parseValue() else { throw Failure(message: "dictionary key is not a string") }
            try expect(":")
            out[key] = try parseValue()
            if peek() == "," { i += 1; continue }
            try expect("}")
            break
        }
        return out
    }

    mutating func parseValue() throws -> HeaderValue {
        guard let c = peek() else { throw Failure(message: "unexpected end of header") }
        if c == "'" || c == "\"" {
            i += 1
            var str = ""
            while i < s.count, s[i] != c { str.unicodeScalars.append(s[i]); i += 1 }
            guard i < s.count else { throw Failure(message: "unterminated string") }
            i += 1
            return .string(str)
        }
        if c == "(" {
            i += 1
            var dims: [Int] = []
            while true {
                if peek() == ")" { i += 1; break }
                dims.append(try parseInt())
                if peek() == "," { i += 1; continue }
                try expect(")")
                break
            }
            return .tuple(dims)
        }
        if c == "T" || c == "F" {
            let word = c == "T" ? "True" : "False"
            let w = Array(word.unicodeScalars)
            guard i + w.count <= s.count, Array(s[i ..< i + w.count]) == w else {
                throw Failure(message: "unexpected token at offset \(i)")
            }
            i += w.count
            return .bool(c == "T")
        }
        throw Failure(message: "unexpected character '\(c)' at offset \(i)")
    }

    mutating func parseInt() throws -> Int {
        skipSpace()
        var neg = false
        if i < s.count, s[i] == "-" { neg = true; i += 1 }
        var v = 0
        var digits = 0
        while i < s.count, let d = Int(String(s[i])), ("0"..."9").contains(s[i]) {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(d)
            guard !o1, !o2 else { throw Failure(message: "dimension too large") }
            v = a; i += 1; digits += 1
        }
        // Python 2 style long suffix.
        if i < s.count, s[i] == "L" { i += 1 }
        guard digits > 0 else { throw Failure(message: "expected an integer at offset \(i)") }
        return neg ? -v : v
    }
}
