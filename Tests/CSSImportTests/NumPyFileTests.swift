import Foundation
import XCTest
@testable import CSSImport
import TestSupport

final class NumPyFileTests: XCTestCase {
    /// Hand-built .npy bytes for any descr / header text.
    func npy(descr: String, shape: String, fortran: Bool = false, payload: [UInt8], version: UInt8 = 1,
             rawHeader: String? = nil) -> [UInt8] {
        var header = rawHeader ?? "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
        let prefix = version == 1 ? 10 : 12
        header += String(repeating: " ", count: (64 - (prefix + header.utf8.count + 1) % 64) % 64) + "\n"
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
        let n = header.utf8.count
        if version == 1 { out += [UInt8(n & 0xff), UInt8(n >> 8)] } else { out += [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), 0, 0] }
        return out + Array(header.utf8) + payload
    }

    func le<T: FixedWidthInteger>(_ v: [T]) -> [UInt8] { v.flatMap { x in withUnsafeBytes(of: x.littleEndian) { Array($0) } } }

    func assertFails(_ bytes: [UInt8], _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try NumPyFile.decode(bytes, file: "d.npy")
            XCTFail("expected failure \(parts)", file: file, line: line)
        } catch let e as ImportError {
            XCTAssertTrue(e.description.hasPrefix("d.npy: "), e.description, file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), file: file, line: line)
            for p in parts { XCTAssertTrue(e.description.contains(p), "'\(e.description)' lacks '\(p)'", file: file, line: line) }
        } catch { XCTFail("\(error)", file: file, line: line) }
    }

    func testRoundTripFloat32() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = dir.appendingPathComponent("a.npy").path
        let values: [Float] = (0..<24).map { Float($0) * 0.5 - 3 }
        try NumPyFile.write(path: p, shape: [2, 3, 4], values: values)
        let (s, v) = try NumPyFile.readFloats(path: p)
        XCTAssertEqual(s, [2, 3, 4]); XCTAssertEqual(v, values)
        // Header is a multiple of 64 bytes, as numpy writes it.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: p))
        XCTAssertEqual((10 + Int(bytes[8]) + Int(bytes[9]) << 8) % 64, 0)
        for shape in [[Int](), [5], [0, 3]] {
            let n = shape.reduce(1, *)
            let a = try NumPyFile.decode(NumPyFile.encode(shape: shape, values: [Float](repeating: 1, count: n)), file: "x")
            XCTAssertEqual(a.shape, shape); XCTAssertEqual(a.count, n)
        }
    }

    func testReadsNumpyWrittenFile() throws {
        // Fixture inputs are written by numpy itself.
        let (s, v) = try NumPyFile.readFloats(path: Paths.fixture("flatten.input.npy"))
        XCTAssertEqual(s, [3, 2, 3, 4]); XCTAssertEqual(v.count, 72)
    }

    func testEveryDType() throws {
        let f32 = npy(descr: "<f4", shape: "(2,)", payload: le([Float(1.5).bitPattern, Float(-2).bitPattern]))
        XCTAssertEqual(try NumPyFile.floats(NumPyFile.decode(f32, file: "x"), file: "x"), [1.5, -2])
        let f64 = npy(descr: "<f8", shape: "(2,)", payload: le([Double(3).bitPattern, Double(-0.25).bitPattern]))
        XCTAssertEqual(try NumPyFile.floats(NumPyFile.decode(f64, file: "x"), file: "x"), [3, -0.25])
        XCTAssertThrowsError(try NumPyFile.ints(NumPyFile.decode(f64, file: "x"), file: "x"))
        let f64i = npy(descr: "<f8", shape: "(2,)", payload: le([Double(3).bitPattern, Double(-1).bitPattern]))
        XCTAssertEqual(try NumPyFile.ints(NumPyFile.decode(f64i, file: "x"), file: "x"), [3, -1])
        let i64 = npy(descr: "<i8", shape: "(3,)", payload: le([Int64(7), -1, 9]))
        XCTAssertEqual(try NumPyFile.ints(NumPyFile.decode(i64, file: "x"), file: "x"), [7, -1, 9])
        let i32 = npy(descr: "<i4", shape: "(1, 2)", payload: le([Int32(4), 5]))
        XCTAssertEqual(try NumPyFile.ints(NumPyFile.decode(i32, file: "x"), file: "x"), [4, 5])
        XCTAssertEqual(try NumPyFile.floats(NumPyFile.decode(i32, file: "x"), file: "x"), [4, 5])
        let u8 = npy(descr: "|u1", shape: "(3,)", payload: [0, 200, 255])
        XCTAssertEqual(try NumPyFile.ints(NumPyFile.decode(u8, file: "x"), file: "x"), [0, 200, 255])
        let v2 = npy(descr: "<f4", shape: "(1,)", payload: le([Float(2).bitPattern]), version: 2)
        XCTAssertEqual(try NumPyFile.decode(v2, file: "x").shape, [1])
        let v3 = npy(descr: "<f4", shape: "(1,)", payload: le([Float(2).bitPattern]), version: 3)
        XCTAssertEqual(try NumPyFile.decode(v3, file: "x").shape, [1])
        let spaced = npy(descr: "", shape: "", payload: le([Float(2).bitPattern]),
                         rawHeader: "{\"shape\":(1 ,),\"descr\":\"<f4\",\"fortran_order\":False}")
        XCTAssertEqual(try NumPyFile.decode(spaced, file: "x").shape, [1])
    }

    func testErrors() {
        assertFails([], ["not a NumPy .npy file"])
        assertFails(Array("PK\u{3}\u{4}hello world".utf8), ["wrong magic"])
        let good = npy(descr: "<f4", shape: "(4,)", payload: le([UInt32](repeating: 0, count: 4)))
        assertFails(Array(good.prefix(9)), ["truncated .npy header"])
        assertFails(Array(good.prefix(40)), ["truncated .npy header"])
        assertFails(Array(good.dropLast(3)), ["truncated: shape [4] of <f4 needs 16 bytes of data but only 13"])
        assertFails(good + [0], ["1 unexpected bytes"])
        assertFails(npy(descr: "<f4", shape: "(2,)", fortran: true, payload: le([UInt32(0), 0])), ["Fortran order"])
        assertFails(npy(descr: ">f4", shape: "(1,)", payload: [0, 0, 0, 0]), ["unsupported dtype '>f4'", "big-endian"])
        assertFails(npy(descr: "<c8", shape: "(1,)", payload: []), ["unsupported dtype '<c8'"])
        assertFails(npy(descr: "<f4", shape: "(100000, 100000, 100000)", payload: []), ["absurd shape"])
        assertFails(npy(descr: "<f4", shape: "(-1,)", payload: []), ["negative dimension"])
        assertFails(npy(descr: "<f4", shape: "(99999999999999999999999,)", payload: []), ["cannot parse the .npy header"])
        assertFails(npy(descr: "", shape: "", payload: [], rawHeader: "{'descr': '<f4', 'shape': (1,)"), ["cannot parse"])
        assertFails(npy(descr: "", shape: "", payload: [], rawHeader: "{'descr': '<f4', 'shape': (1,), }"), ["no 'fortran_order'"])
        var bad = good; bad[6] = 9
        assertFails(bad, ["unsupported .npy format version 9"])
    }

    func testNonFiniteAndNonIntegralValues() {
        let nan = npy(descr: "<f4", shape: "(2,)", payload: le([Float(1).bitPattern, Float.nan.bitPattern]))
        XCTAssertThrowsError(try NumPyFile.floats(NumPyFile.decode(nan, file: "d.npy"), file: "d.npy")) { e in
            XCTAssertTrue("\(e)".contains("d.npy: contains NaN or infinity at flat index 1"), "\(e)")
        }
        let inf = npy(descr: "<f8", shape: "(1,)", payload: le([Double.infinity.bitPattern]))
        XCTAssertThrowsError(try NumPyFile.floats(NumPyFile.decode(inf, file: "d.npy"), file: "d.npy"))
        let frac = npy(descr: "<f4", shape: "(1,)", payload: le([Float(1.5).bitPattern]))
        XCTAssertThrowsError(try NumPyFile.ints(NumPyFile.decode(frac, file: "l.npy"), file: "l.npy")) { e in
            XCTAssertTrue("\(e)".contains("is not an integer"), "\(e)")
        }
        let tooBig = npy(descr: "<f8", shape: "(1,)", payload: le([Double(1e300).bitPattern]))
        XCTAssertThrowsError(try NumPyFile.floats(NumPyFile.decode(tooBig, file: "d.npy"), file: "d.npy"))
    }

    func testMissingFileAndDirectory() {
        XCTAssertThrowsError(try NumPyFile.read(path: "/nonexistent/x.npy")) { XCTAssertEqual("\($0)", "/nonexistent/x.npy: no such file") }
        XCTAssertThrowsError(try NumPyFile.read(path: Paths.fixtures.path)) { XCTAssertTrue("\($0)".contains("is a directory")) }
    }

    func testTruncationAtEveryOffsetNeverCrashes() {
        let good = NumPyFile.encode(shape: [3, 5], values: (0..<15).map(Float.init))
        for cut in 0..<good.count {
            XCTAssertThrowsError(try NumPyFile.decode(Array(good.prefix(cut)), file: "t.npy")) { XCTAssertTrue($0 is ImportError) }
        }
        var rng = SplitMix(seed: 7)
        for _ in 0..<2000 {
            var b = good
            let i = Int(rng.next() % UInt64(b.count))
            b[i] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            do { _ = try NumPyFile.readFloatsFrom(b) } catch { XCTAssertTrue(error is ImportError, "\(error)") }
        }
    }
}

extension NumPyFile {
    static func readFloatsFrom(_ b: [UInt8]) throws -> [Float] { try floats(decode(b, file: "f.npy"), file: "f.npy") }
}

