import CSSCore
import Foundation
import XCTest
@testable import CSSImport

/// The shared ONNX conformance suite (Tests/Fixtures/conformance, written by
/// scripts/make_conformance.py): cssdbg's importer against the manifest that cssdbg-torch
/// (python/tests/test_conformance.py) and the Float64 reference (tools/reference/test_reference_sim.py)
/// run too. The manifest's `swift` expectations are the source of truth: an accepted fixture
/// loads and its ANN reproduces onnxruntime, a refused one gives one line with the text.
final class ConformanceTests: XCTestCase {
    static let dir = Paths.repoRoot.appendingPathComponent("Tests/Fixtures/conformance")

    struct Fixture {
        let name: String
        let status: String
        let ops: [String]
        let text: String?
    }

    func manifest() throws -> [String: Any] {
        let data = try Data(contentsOf: Self.dir.appendingPathComponent("manifest.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func fixtures() throws -> [Fixture] {
        let list = try XCTUnwrap(try manifest()["fixtures"] as? [[String: Any]])
        return try list.map { f in
            let swift = try XCTUnwrap((f["expect"] as? [String: Any])?["swift"] as? [String: Any], "\(f)")
            return Fixture(name: try XCTUnwrap(f["name"] as? String), status: try XCTUnwrap(swift["status"] as? String),
                           ops: try XCTUnwrap(f["ops"] as? [String]), text: swift["text"] as? String)
        }
    }

    /// What a registry entry does, in the manifest's words.
    static func kind(_ rule: ONNXOperator) -> String {
        var folds = false
        if case .fold = rule.constants { folds = true }
        switch (rule.lower != nil, folds, rule.refusal != nil) {
        case (true, _, true): return "lowers or refuses"
        case (true, _, false): return "lowers"
        case (false, true, true): return "folds, refused on activations"
        case (false, true, false): return "folds"
        case (false, false, _): return "refused"
        }
    }

    /// The manifest's operator lists are the registry's: the supported list of refusals and
    /// every op type with what its entry does. On a difference this prints the registry's side.
    func testOperatorListsAreTheRegistrys() throws {
        let m = try manifest()
        XCTAssertEqual(m["supported"] as? String, ONNXOperator.supportedList,
                       "manifest.json 'supported' differs from ONNXOperator.supportedList; regenerate with scripts/make_conformance.py")
        let listed = try XCTUnwrap(m["operators"] as? [String: String])
        var registry: [String: String] = [:]
        for rule in ONNXOperator.registry { for op in rule.opTypes { registry[op] = Self.kind(rule) } }
        for (op, kind) in registry.sorted(by: { $0.key < $1.key }) where listed[op] != kind {
            XCTFail("manifest.json 'operators': \(op) is \(listed[op].map { "'\($0)'" } ?? "missing"); the registry says '\(kind)'")
        }
        for op in Set(listed.keys).subtracting(registry.keys).sorted() {
            XCTFail("manifest.json 'operators' lists \(op), which the registry does not have")
        }
    }

    /// Every op type of the registry appears in at least one fixture; so does every lowering
    /// (an accepted fixture) and every refusal by name (a refused one).
    func testEveryRegisteredOperatorHasAFixture() throws {
        let fx = try fixtures()
        let accepted = Set(fx.filter { $0.status == "accepted" }.flatMap(\.ops))
        let refused = Set(fx.filter { $0.status == "refused" }.flatMap(\.ops))
        for rule in ONNXOperator.registry {
            for op in rule.opTypes {
                var folds = false
                if case .fold = rule.constants { folds = true }
                if rule.lower != nil || folds {
                    XCTAssertTrue(accepted.contains(op), "\(op) converts but no accepted conformance fixture uses it")
                }
                if rule.refusal != nil {
                    XCTAssertTrue(refused.contains(op), "\(op) is refused by name but no refused conformance fixture uses it")
                }
            }
        }
        XCTAssertGreaterThan(fx.count, 60)
    }

    func testAcceptedFixturesReproduceOnnxruntime() throws {
        let tolerance = Float(try XCTUnwrap(try manifest()["tolerance"] as? Double))
        var checked = 0
        for f in try fixtures() where f.status == "accepted" {
            let path = Self.dir.appendingPathComponent(f.name + ".onnx").path
            let g: CSSCore.Graph
            do { g = try ONNXModelLoader.load(path: path) } catch {
                XCTFail("\(f.name): refused: \(error)"); continue
            }
            let (xs, x) = try NumPyFile.readFloats(path: Self.dir.appendingPathComponent(f.name + ".input.npy").path)
            let (_, want) = try NumPyFile.readFloats(path: Self.dir.appendingPathComponent(f.name + ".ort.npy").path)
            XCTAssertEqual(Array(xs.dropFirst()), g.inputShape, f.name)
            let y = try Simulator(network: try Network(g)).annForward(x[...], count: xs[0]).outputs
            XCTAssertEqual(y.count, want.count, f.name)
            guard y.count == want.count else { continue }
            let err = zip(y, want).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            XCTAssertLessThan(err, tolerance, "\(f.name): ANN output differs from onnxruntime by \(err)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 15)
    }

    func testRefusedFixturesGiveTheirLine() throws {
        var checked = 0
        for f in try fixtures() where f.status == "refused" {
            let path = Self.dir.appendingPathComponent(f.name + ".onnx").path
            let text = try XCTUnwrap(f.text, "\(f.name): refused without a text")
            do {
                _ = try ONNXModelLoader.load(path: path)
                XCTFail("\(f.name): accepted; the manifest says it is refused with '\(text)'")
            } catch let e as ImportError {
                let line = e.description
                XCTAssertFalse(line.contains("\n"), "\(f.name): \(line)")
                XCTAssertTrue(line.hasPrefix(path + ": "), "\(f.name): \(line)")
                XCTAssertTrue(line.contains(text), "\(f.name): got\n  \(line)\nwanted a line containing\n  \(text)")
            } catch {
                XCTFail("\(f.name): not an ImportError: \(error)")
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 40)
    }
}
