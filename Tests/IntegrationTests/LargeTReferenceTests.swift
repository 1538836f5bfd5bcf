import CSSCore
import CSSImport
import Foundation
import XCTest

/// Issue 14 bug 3: every accepted T is exact to docs/numerics.md §9, and a T beyond the Float32
/// limit of §10 is refused with the limit named. digits-mlp against the Float64 reference at
/// T = 16, 32 (where accepted) and the largest accepted T for β = 1.25, 1.5, 2, L = 0 and 1
/// (references from `tools/reference/make_reference.sh large-t`).
final class LargeTReferenceTests: XCTestCase {
    static let cases: [(beta: Double, T: [Int])] = [(1.25, [16, 32, 43]), (1.5, [16, 25]), (2, [8, 16])]

    func testLargestAcceptedTIsWhereMeasured() {
        XCTAssertEqual(ConversionConfig.maxT(beta: 1.25), 43)
        XCTAssertEqual(ConversionConfig.maxT(beta: 1.5), 25)
        XCTAssertEqual(ConversionConfig.maxT(beta: 2), 16)
        XCTAssertEqual(ConversionConfig.maxT(beta: 1), 64, "rate coding: Σw = T")
        XCTAssertEqual(ConversionConfig.maxT(beta: 4), 8)
        for (beta, Ts) in Self.cases {
            XCTAssertEqual(Ts.last, ConversionConfig.maxT(beta: beta), "the test covers the largest accepted T")
        }
    }

    func testTAboveTheLimitIsRefusedNamingIt() {
        for (T, beta, limit) in [(26, 1.5, "25 for beta 1.5"), (32, 1.5, "25 for beta 1.5"), (40, 1.5, "25 for beta 1.5"),
                                 (17, 2.0, "16 for beta 2"), (44, 1.25, "43 for beta 1.25"),
                                 (99, 1.5, "25 for beta 1.5"), (65, 1.0, "64 for beta 1")] {
            XCTAssertThrowsError(try ConversionConfig(T: T, beta: beta).validate()) { e in
                let text = "\(e)"
                XCTAssert(text.contains("T must be at most \(limit)") && text.contains("got \(T)"), text)
                XCTAssertFalse(text.contains("\n"), "one line: \(text)")
            }
        }
        XCTAssertThrowsError(try ConversionConfig(T: 0, beta: 1.5).validate()) { e in
            XCTAssert("\(e)".contains("T must be between 1 and 25 for beta 1.5, got 0"), "\(e)")
        }
        XCTAssertNoThrow(try ConversionConfig(T: 25, beta: 1.5).validate())
        XCTAssertNoThrow(try ConversionConfig(T: 64, beta: 1, silent: 0, negative: false).validate())
    }

    /// A θ file whose config asks for a T beyond the limit is refused, naming the file.
    func testThetaFileWithTAboveTheLimitIsRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cssdbg-largeT-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("theta.json").path
        try #"{"format":"cssdbg-theta/1","config":{"T":40,"beta":1.5},"theta":{"input":1,"hidden":1}}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ThetaFile.read(path: path, tensors: ["hidden"])) { e in
            XCTAssert("\(e)".contains(path) && "\(e)".contains("T must be at most 25 for beta 1.5"), "\(e)")
        }
    }

    /// `:set T` / `:set beta` in the debugger go through the backend, which refuses the same way
    /// and keeps the session as it was.
    func testBackendRefusesTAboveTheLimit() async throws {
        let m = try LoadedModel.load(path: ReferenceAgreementTests.root.appendingPathComponent("samples/digits-mlp").path, limit: 16)
        let ev = Evaluator(network: m.network)
        let p = try ev.calibrationPercentiles(m.calib, percentile: 99.99)
        let backend = try LocalBackend(network: m.network, data: m.data, calib: m.calib,
                                   start: TuningState(config: .default, amplitudes: p.amplitudes(.default)), percentiles: p)
        do {
            _ = try await backend.apply(.setConfig(ConversionConfig(T: 20, beta: 2)))
            XCTFail("T 20 with beta 2 accepted")
        } catch {
            XCTAssert("\(error)".contains("T must be at most 16 for beta 2"), "\(error)")
        }
        let snap = try await backend.snapshot()
        XCTAssertEqual(snap.session.current.config, .default)
    }

    func testLargeTAgreesWithReferenceUpToTheLimit() throws {
        typealias R = ReferenceAgreementTests
        let s = try R.sample("digits-mlp")
        for (beta, Ts) in Self.cases {
            for T in Ts {
                for L in [0, 1] {
                    let name = "digits-mlp-beta\(beta == beta.rounded() ? String(Int(beta)) : "\(beta)")-T\(T)-L\(L)"
                    R.compare(try s.evalJSON(ConversionConfig(T: T, beta: beta, silent: L)), try R.reference(name), name)
                }
            }
        }
    }
}
