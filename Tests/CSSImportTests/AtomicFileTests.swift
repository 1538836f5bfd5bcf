import CSSCore
@testable import CSSImport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// θ and session files are replaced atomically: writes that fail on purpose — mid-way through
/// the data, at the rename, or in a missing directory — leave the previous file as it was and
/// no temporary file behind.
final class AtomicFileTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cssdbg-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
    }

    /// The kernel refuses to let the file grow past RLIMIT_FSIZE: the write fails part-way.
    func testWriteFailingMidwayKeepsThePreviousFile() throws {
        let path = dir.appendingPathComponent("theta.json").path
        let previous = ThetaFile(model: "m", config: .default, amplitudes: Amplitudes(input: 1, layers: [2]), tensors: ["r"])
        try previous.write(to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))

        signal(SIGXFSZ, SIG_IGN)
        var saved = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        var small = saved
        small.rlim_cur = 64
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &small)
        let big = ThetaFile(model: String(repeating: "x", count: 4096), config: .default,
                            amplitudes: Amplitudes(input: 3, layers: [4]), tensors: ["r"])
        XCTAssertThrowsError(try big.write(to: path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(path) && text.contains("previous file is unchanged"), text)
            XCTAssertFalse(text.contains("\n"))
        }
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        signal(SIGXFSZ, SIG_DFL)

        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
        XCTAssertEqual(try ThetaFile.read(path: path, tensors: ["r"]).amplitudes, previous.amplitudes)
        XCTAssertEqual(try leftovers(), [])
    }

    /// The rename cannot replace a directory: the directory and its contents stay.
    func testRenameFailureLeavesTargetAlone() throws {
        let target = dir.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: target.appendingPathComponent("inside"))
        XCTAssertThrowsError(try AtomicFile.write("new", to: target.path))
        XCTAssertEqual(try String(contentsOf: target.appendingPathComponent("inside"), encoding: .utf8), "keep")
        XCTAssertEqual(try leftovers(), [])
    }

    func testMissingDirectoryIsOneLineNamingTheFile() throws {
        let path = dir.appendingPathComponent("no/such/dir/theta.json").path
        XCTAssertThrowsError(try AtomicFile.write("x", to: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix(path + ": cannot write"), "\(error)")
        }
    }

    func testSuccessfulWriteReplacesContent() throws {
        let path = dir.appendingPathComponent("a.json").path
        try AtomicFile.write("one", to: path)
        try AtomicFile.write("two", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "two")
        XCTAssertEqual(try leftovers(), [])
    }
}
