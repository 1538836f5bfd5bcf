import CSSCore
import Foundation
import XCTest
@testable import CSSImport
import TestSupport

/// Generated malformed files, written to disk and read through the same path-based entry points
/// the CLI uses. Every one must be refused with an `ImportError` whose description is a single
/// line naming the file; nothing may crash. (MalformedModelTests and NumPyFileTests mutate bytes
/// in memory and only check the error type; this suite covers the on-disk readers, the θ file and
/// the one-line/file-name contract, with cases generated from a few valid models by family.)
/// The harness is here; the cases are in MalformedONNXFileTests, MalformedNPYFileTests and
/// MalformedThetaFileTests.
final class MalformedFileTests: XCTestCase {
    var dir: URL!
    var serial = 0

    override func setUp() {
        super.setUp()
        dir = Paths.tempDir("malformed")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: dir)
        super.tearDown()
    }

    // MARK: Harness

    /// Writes `bytes` to a new file (name derived from `label`) and returns its path.
    func write(_ label: String, _ bytes: Data, ext: String) -> String {
        serial += 1
        let safe = String(label.map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(60))
        let path = dir.appendingPathComponent("\(serial)-\(safe).\(ext)").path
        // Plain create-and-write: FileManager.createFile writes atomically (temp file + rename),
        // which on ext4 forces a flush per file and made this suite ~10x slower.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0, path)
        let written = bytes.withUnsafeBytes { writeAll(fd, $0) }
        XCTAssertEqual(written, bytes.count, path)
        close(fd)
        return path
    }

    /// `body` must throw an ImportError that is one line and names `path`.
    func expectRefusal(_ path: String, _ label: String, file: StaticString = #filePath, line: UInt = #line,
                       _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("\(label): accepted \(path)", file: file, line: line)
        } catch let e as ImportError {
            let d = e.description
            XCTAssertTrue(d.contains(path), "\(label): message does not name the file: \(d)", file: file, line: line)
            XCTAssertFalse(d.unicodeScalars.contains { $0 == "\n" || $0 == "\r" },
                           "\(label): message is not one line: \(d.debugDescription)", file: file, line: line)
        } catch {
            XCTFail("\(label): not an ImportError: \(type(of: error)) \(error)", file: file, line: line)
        }
    }

    func expectONNXRefused(_ label: String, _ bytes: Data, file: StaticString = #filePath, line: UInt = #line) {
        let path = write(label, bytes, ext: "onnx")
        expectRefusal(path, label, file: file, line: line) { _ = try ONNXModelLoader.load(path: path) }
    }

    func expectONNXRefused(_ label: String, _ model: Onnx_ModelProto, file: StaticString = #filePath, line: UInt = #line) {
        guard let bytes = try? model.serializedData() else { return XCTFail("\(label): cannot serialize") }
        expectONNXRefused(label, bytes, file: file, line: line)
    }

    func testUnreadablePaths() {
        let missing = dir.appendingPathComponent("does-not-exist").path
        expectRefusal(missing, "onnx-missing") { _ = try ONNXModelLoader.load(path: missing + ".onnx") }
        expectRefusal(missing, "npy-missing") { _ = try NumPyFile.read(path: missing + ".npy") }
        expectRefusal(missing, "theta-missing") { _ = try ThetaFile.read(path: missing + ".json", tensors: Self.layers) }
        let sub = dir.appendingPathComponent("a-directory.onnx")
        try? FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        expectRefusal(sub.path, "onnx-dir") { _ = try ONNXModelLoader.load(path: sub.path) }
        expectRefusal(sub.path, "npy-dir") { _ = try NumPyFile.read(path: sub.path) }
        expectRefusal(sub.path, "theta-dir") { _ = try ThetaFile.read(path: sub.path, tensors: Self.layers) }
    }
}

/// POSIX write (a free function, so the name does not resolve to the test case's `write`).
private func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
    return write(fd, base, buffer.count)
}

/// Regression tests for what fuzzing found (Fuzz/README.md, F1–F11): each saved input must be
/// refused the way LoadedModel refuses (an ImportError, or a GraphError when building the
/// network), with a one-line message naming the file. Before the fixes they crashed, exhausted
/// memory, hung or were accepted.
final class FuzzFindingTests: XCTestCase {
    func findings(_ sub: String) -> [String] {
        let d = Paths.repoRoot.appendingPathComponent("Fuzz/findings/\(sub)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? []
        return names.filter { !$0.hasSuffix(".md") }.sorted().map { d.appendingPathComponent($0).path }
    }

    func expectRefusal(_ path: String, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("\(path): accepted")
        } catch let e as ImportError {
            XCTAssertTrue(e.description.contains(path), e.description)
            XCTAssertFalse(e.description.unicodeScalars.contains { $0 == "\n" || $0 == "\r" }, e.description.debugDescription)
        } catch is GraphError {
            // Network's refusal (e.g. a model without Relu); LoadedModel wraps it in an ImportError.
        } catch {
            XCTFail("\(path): \(error)")
        }
    }

    func testSavedFindingsAreRefusedCleanly() throws {
        for p in findings("onnx") { expectRefusal(p) { _ = try Network(ONNXModelLoader.load(path: p)) } }
        for p in findings("npy") { expectRefusal(p) { _ = try NumPyFile.readFloats(path: p) } }
        for p in findings("theta") { expectRefusal(p) { _ = try ThetaFile.read(path: p, tensors: ["hidden"]) } }
    }
}
