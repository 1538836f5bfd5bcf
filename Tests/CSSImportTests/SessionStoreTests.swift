import CSSCore
import CSSImport
import Foundation
import XCTest

/// The `cssdbg-session/1` file: where it is kept, what it round-trips, what it refuses (naming the
/// file), the backup, and the restore question.
final class SessionStoreTests: XCTestCase {
    let start = TuningState(config: ConversionConfig(T: 4, beta: 1.5, silent: 1, negative: true),
                            amplitudes: Amplitudes(input: 1, layers: [0.5, 2]))

    func session() -> SavedSession {
        var s = TuningSession(start: start)
        var next = start
        next.amplitudes.layers[1] = 3
        s.push(next, label: "θ relu2 = 3")
        next.config.beta = 2
        s.push(next, label: "β = 2")
        s.undo()
        return SavedSession(model: "m", savedAt: "2025-01-31 14:05:09", session: s,
                            position: SessionPosition(sample: 3, step: 2, layer: 1, neuron: 5, focus: "layers",
                                                      watches: [SessionWatch(layer: "/relu2/Relu_output_0", neuron: 1)],
                                                      breakpoints: [SessionBreakpoint(number: 2, condition: "flip", enabled: false)]))
    }

    func store(_ tag: String = #function) -> SessionStore {
        SessionStore(path: Paths.tempDir(tag).appendingPathComponent("session.json").path)
    }

    func testSavedSessionLoadsBackEqual() throws {
        let store = store()
        XCTAssertNil(try store.load(layers: 2), "no file: no session")
        try store.save(session())
        let back = try XCTUnwrap(try store.load(layers: 2))
        XCTAssertEqual(back, session())
        XCTAssertEqual(back.session.history, ["θ relu2 = 3"])
        XCTAssertTrue(back.session.canRedo)
    }

    func testKeptBesideTheModel() throws {
        let dir = Paths.tempDir()
        XCTAssertEqual(SessionStore.beside(model: dir.path).path, dir.appendingPathComponent(".cssdbg-session.json").path)
        let onnx = dir.appendingPathComponent("net.onnx").path
        XCTAssertEqual(SessionStore.beside(model: onnx).path, onnx + ".cssdbg-session.json")
        XCTAssertEqual(SessionStore(path: "a/s.json").backupPath, "a/s.backup.json")
    }

    func testBackUpCopiesTheFileAndSaysWhenThereIsNone() throws {
        let store = store()
        XCTAssertFalse(try store.backUp())
        try store.save(session())
        XCTAssertTrue(try store.backUp())
        XCTAssertEqual(try SessionStore(path: store.backupPath).load(layers: 2), session())
    }

    /// Each damaged file is refused with an error naming it, not taken for "no session".
    func testDamagedFilesAreRefusedNamingTheFile() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let good = String(decoding: try encoder.encode(session()), as: UTF8.self)
        let cases: [(label: String, text: String, problem: String)] = [
            ("not JSON", "{\"format\": ", "not a readable cssdbg session"),
            ("another format", good.replacingOccurrences(of: #""format":"cssdbg-session\/1""#, with: #""format":"cssdbg-session\/2""#),
             "format is not cssdbg-session/1"),
            ("a θ of zero", good.replacingOccurrences(of: "\"layers\":[0.5,2]", with: "\"layers\":[0,2]"),
             "the session holds a θ that is not a positive number"),
            ("T of zero", good.replacingOccurrences(of: "\"T\":4", with: "\"T\":0"), "T must be"),
        ]
        for c in cases {
            XCTAssertNotEqual(c.text, good, c.label)
            let store = store("damaged-\(c.label)")
            try Data(c.text.utf8).write(to: URL(fileURLWithPath: store.path))
            XCTAssertThrowsError(try store.load(layers: 2), c.label) { error in
                let e = error as? ImportError
                XCTAssertEqual(e?.file, store.path, c.label)
                XCTAssertTrue(e?.problem.hasPrefix(c.problem) ?? false, "\(c.label): \(String(describing: e))")
            }
        }
        let other = store("other-model")
        try other.save(session())
        XCTAssertThrowsError(try other.load(layers: 3)) { error in
            XCTAssertEqual((error as? ImportError)?.problem, "the session has 2 layers, the model 3")
        }
    }

    func testOlderPositionsWithoutWatchesOrBreakpointsLoad() throws {
        let p = try JSONDecoder().decode(SessionPosition.self, from: Data(#"{"sample": 2, "step": 1, "neuron": 0}"#.utf8))
        XCTAssertEqual(p, SessionPosition(sample: 2, step: 1, neuron: 0))
        XCTAssertNil(p.watches)
        XCTAssertNil(p.breakpoints)
    }

    /// The question names what restoring changes against the command line, numbers as typed.
    func testRestoreQuestionNamesWhatChanges() {
        var s = session()
        XCTAssertEqual(s.restoreQuestion(commandLine: start),
                       "Restore the tuning session saved 2025-01-31 14:05:09 (1 change)? It sets θ in 1 of 3 layers.")
        var other = start
        other.config.beta = 2
        other.config.percentile = 99.5
        s.session = TuningSession(start: start)
        XCTAssertEqual(s.restoreQuestion(commandLine: other),
                       "Restore the tuning session saved 2025-01-31 14:05:09 (0 changes)? It sets β 1.5 (command line 2), "
                       + "percentile 99.99 (command line 99.5).")
    }
}
