import CSSCore
import Foundation
import XCTest
@testable import CSSImport

/// Malformed .npy files (see MalformedFileTests).
extension MalformedFileTests {
    // MARK: .npy

    /// A version-`version` .npy file with any header dict text and payload.
    static func npy(_ dict: String, payload: [UInt8], version: UInt8 = 1) -> Data {
        let prefix = version == 1 ? 10 : 12
        var header = dict
        header += String(repeating: " ", count: (64 - (prefix + header.utf8.count + 1) % 64) % 64) + "\n"
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
        let n = header.utf8.count
        out += version == 1 ? [UInt8(n & 0xff), UInt8(n >> 8)] : [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), 0, 0]
        return Data(out + Array(header.utf8) + payload)
    }

    static func dict(_ descr: String, _ shape: String, fortran: Bool = false) -> String {
        "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
    }

    static let npyTypes: [(descr: String, size: Int)] = [("<f4", 4), ("<f8", 8), ("<i8", 8), ("<i4", 4), ("|u1", 1)]

    func expectNPYRefused(_ label: String, _ bytes: Data, ints: Bool = false,
                          file: StaticString = #filePath, line: UInt = #line) {
        let path = write(label, bytes, ext: "npy")
        expectRefusal(path, label, file: file, line: line) {
            if ints { _ = try NumPyFile.readInts(path: path) } else { _ = try NumPyFile.readFloats(path: path) }
        }
    }

    func testNPYTruncatedAtEveryOffset() {
        var cases = 0
        for version: UInt8 in [1, 2, 3] {
            for (descr, size) in Self.npyTypes {
                let good = Self.npy(Self.dict(descr, "(2, 3)"), payload: [UInt8](repeating: 1, count: 6 * size), version: version)
                let path = write("good-v\(version)\(descr)", good, ext: "npy")
                XCTAssertNoThrow(try NumPyFile.readFloats(path: path))
                for cut in 0..<good.count {
                    expectNPYRefused("v\(version)\(descr)-cut\(cut)", good.prefix(cut))
                    cases += 1
                }
            }
        }
        XCTAssertGreaterThan(cases, 1000)
    }

    func testNPYBadMagicAndVersion() {
        let good = Self.npy(Self.dict("<f4", "(2,)"), payload: [UInt8](repeating: 0, count: 8))
        for i in 0..<6 {
            for x: UInt8 in [0x01, 0x20, 0xFF] {
                var b = good
                b[i] ^= x
                expectNPYRefused("magic\(i)^\(x)", b)
            }
        }
        for v: UInt8 in [0, 4, 9, 255] {
            var b = good
            b[6] = v
            expectNPYRefused("version\(v)", b)
        }
        // A header length pointing past the end of the file, in each version's length field.
        for version: UInt8 in [1, 2] {
            var b = Self.npy(Self.dict("<f4", "(2,)"), payload: [UInt8](repeating: 0, count: 8), version: version)
            b[8] = 0xFF; b[9] = 0xFF
            expectNPYRefused("header-length-v\(version)", b)
        }
        expectNPYRefused("onnx-bytes", (try? Self.mlpModel().serializedData()) ?? Data([8, 1]))
        expectNPYRefused("text", Data("1.0, 2.0, 3.0\n".utf8))
    }

    func testNPYHeaderLiesAboutShape() {
        let shapes: [(String, Int)] = [("(4,)", 4), ("(2, 3)", 6), ("(1, 1, 5)", 5), ("()", 1)]
        for (descr, size) in Self.npyTypes {
            for (shape, n) in shapes {
                for actual in Set([0, n - 1, n + 1, 2 * n]).sorted() where actual >= 0 && actual != n {
                    let b = Self.npy(Self.dict(descr, shape), payload: [UInt8](repeating: 2, count: actual * size))
                    expectNPYRefused("\(descr)\(shape)-holds\(actual)", b)
                }
                // One stray byte too many or too few.
                for delta in [-1, 1] {
                    let b = Self.npy(Self.dict(descr, shape), payload: [UInt8](repeating: 2, count: max(0, n * size + delta)))
                    expectNPYRefused("\(descr)\(shape)-bytes\(delta)", b)
                }
            }
        }
    }

    func testNPYAbsurdAndNegativeShapes() {
        let shapes = ["(2147483649,)", "(1099511627776,)", "(1048576, 1048576)", "(4294967296, 4294967296)",
                      "(9223372036854775807,)", "(9223372036854775807, 2)", "(99999999999999999999,)",
                      "(-1,)", "(3, -1)", "(-1099511627776,)", "(-9223372036854775808,)", "(0, -1)",
                      "(2, 'a')", "(1.5,)", "(,)", "[2, 3]"]
        for (descr, _) in Self.npyTypes {
            for shape in shapes {
                expectNPYRefused("\(descr)\(shape)", Self.npy(Self.dict(descr, shape), payload: [0, 0, 0, 0]))
            }
        }
        // Other header lies: dtypes cssdbg cannot read, Fortran order, missing keys, not a dict.
        for descr in [">f4", ">f8", "<f2", "<c8", "|b1", "<U3", "|O", "<i2", "<u4", "", "f4"] {
            expectNPYRefused("dtype\(descr)", Self.npy(Self.dict(descr, "(1,)"), payload: [0, 0, 0, 0]))
        }
        expectNPYRefused("fortran", Self.npy(Self.dict("<f4", "(2, 2)", fortran: true), payload: [UInt8](repeating: 0, count: 16)))
        for dict in ["{}", "{'descr': '<f4'}", "{'shape': (1,), 'fortran_order': False}", "[]", "", "{'descr': '<f4',",
                     "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}"] {
            expectNPYRefused("dict-\(dict)", Self.npy(dict, payload: [0, 0, 0, 0]))
        }
    }

    func testNPYNonFiniteAndNonIntegralData() {
        func le<T: FixedWidthInteger>(_ v: [T]) -> [UInt8] { v.flatMap { x in withUnsafeBytes(of: x.littleEndian) { Array($0) } } }
        let bads: [(String, Double)] = [("nan", .nan), ("inf", .infinity), ("-inf", -.infinity)]
        for n in [1, 5] {
            for position in Set([0, n / 2, n - 1]).sorted() {
                for (what, bad) in bads {
                    var v = [Double](repeating: 1, count: n)
                    v[position] = bad
                    let f4 = Self.npy(Self.dict("<f4", "(\(n),)"), payload: le(v.map { Float($0).bitPattern }))
                    let f8 = Self.npy(Self.dict("<f8", "(\(n),)"), payload: le(v.map(\.bitPattern)))
                    for (enc, bytes) in [("f4", f4), ("f8", f8)] {
                        expectNPYRefused("\(enc)[\(position)of\(n)]=\(what)", bytes)
                        expectNPYRefused("labels-\(enc)[\(position)of\(n)]=\(what)", bytes, ints: true)
                    }
                }
                // Too large for float32, and non-integral labels.
                var big = [Double](repeating: 1, count: n); big[position] = 1e300
                expectNPYRefused("f8-too-big[\(position)of\(n)]", Self.npy(Self.dict("<f8", "(\(n),)"), payload: le(big.map(\.bitPattern))))
                var frac = [Float](repeating: 1, count: n); frac[position] = 0.5
                expectNPYRefused("labels-fraction[\(position)of\(n)]", Self.npy(Self.dict("<f4", "(\(n),)"), payload: le(frac.map(\.bitPattern))), ints: true)
            }
        }
    }
}
