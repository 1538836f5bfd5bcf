import CSSApp
import CSSCore
import CSSImport
import CSSView
import Foundation
import XCTest
import TestSupport

/// Tuning driven the way a user drives it: keys and `:` commands into the view's update loop,
/// the view's command runner handing the typed requests to the host (`TuningCommands.handler`),
/// then the numbers compared with the headless paths.
final class TuningThroughViewTests: XCTestCase {
    static let root = Repository.root

    struct Rig {
        var model: LoadedModel
        var backend: LocalBackend
        var commands: TuningCommands
        var session: HeadlessSession
        var dir: URL
        var start: TuningState
    }

    func makeRig(sample: String = "digits-mlp", limit: Int = 48, config: ConversionConfig = .default,
                 pending: SavedSession? = nil) async throws -> Rig {
        let m = try LoadedModel.load(path: Self.root.appendingPathComponent("samples/\(sample)").path, limit: limit)
        let calib = m.calib.prefix(64)
        let ev = Evaluator(network: m.network)
        let p = try ev.calibrationPercentiles(calib, percentile: config.percentile)
        let start = TuningState(config: config, amplitudes: p.amplitudes(config))
        let backend = try LocalBackend(network: m.network, data: m.data, calib: calib, start: start, percentiles: p)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cssdbg-app-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = SessionStore(path: dir.appendingPathComponent("session.json").path)
        let commands = TuningCommands(backend: backend, modelName: m.name,
                                      defaultThetaPath: dir.appendingPathComponent("theta.json").path,
                                      store: store, pendingRestore: pending)
        var session = HeadlessSession(backend: backend, state: ViewState(width: 160, height: 48,
                                                                          hostCommands: DebuggerHost.names),
                                      host: { await commands.reply(to: $0) })
        await session.start()
        return Rig(model: m, backend: backend, commands: commands, session: session, dir: dir, start: start)
    }

    /// The host's replies since the last call (the session's runner executed the requests, as
    /// the terminal's does).
    func flush(_ rig: inout Rig) async throws -> [HostReply] {
        let all = rig.session.hostReplies
        defer { consumed[ObjectIdentifier(rig.backend)] = all.count }
        return Array(all[outcomesCount(rig)...])
    }

    var consumed: [ObjectIdentifier: Int] = [:]
    func outcomesCount(_ rig: Rig) -> Int { consumed[ObjectIdentifier(rig.backend)] ?? 0 }

    func testThetaCommandAndKeysChangeTheSelectedLayerAndTheReport() async throws {
        var rig = try await makeRig()
        let tensor = rig.model.network.layerTensors[1]
        await rig.session.type(":theta \(tensor) 0.2")
        await rig.session.press(.enter)
        var o = try await flush(&rig)
        XCTAssertEqual(o.map(\.isError), [false], o.map(\.message).joined())
        var amps = await rig.backend.amplitudes
        XCTAssertEqual(amps.layers[1], 0.2)

        // The report the view now shows equals a fresh headless evaluation with that θ.
        let headless = try Evaluator(network: rig.model.network).evaluate(rig.model.data, amplitudes: amps, config: .default)
        XCTAssertEqual(rig.session.state.report?.snnAccuracy, headless.snnAccuracy)
        XCTAssertEqual(rig.session.state.report?.layers.map(\.coupling), headless.layers.map(\.coupling))
        XCTAssertEqual(rig.session.state.report?.layers.map(\.residualP999), headless.layers.map(\.residualP999))
        XCTAssertEqual(rig.session.state.trace?.layers[1].theta, 0.2)

        // Keys on the selected layer: select layer 0 (row 1), raise by 5 %, undo, redo.
        await rig.session.press(.char("g"))
        while rig.session.state.selectedLayer != 0 { await rig.session.press(.char("k")) }
        await rig.session.press(.char(">"))
        o = try await flush(&rig)
        amps = await rig.backend.amplitudes
        XCTAssertEqual(amps.layers[0], rig.start.amplitudes.layers[0] * 1.05, accuracy: 1e-12, o.map(\.message).joined())
        await rig.session.press(.char("u"))
        _ = try await flush(&rig)
        amps = await rig.backend.amplitudes
        XCTAssertEqual(amps.layers[0], rig.start.amplitudes.layers[0])
        await rig.session.press(.char("U"))
        _ = try await flush(&rig)
        amps = await rig.backend.amplitudes
        XCTAssertEqual(amps.layers[0], rig.start.amplitudes.layers[0] * 1.05, accuracy: 1e-12)
    }

    /// `:adjust all N` in the debugger gives exactly the θ `cssdbg tune --rounds N` gives.
    func testAdjustAllMatchesTune() async throws {
        let config = ConversionConfig(silent: 0, negative: false)
        var rig = try await makeRig(sample: "digits-cnn", limit: 24, config: config)
        await rig.session.type(":adjust all 2")
        await rig.session.press(.enter)
        let o = try await flush(&rig)
        XCTAssertFalse(o[0].isError, o[0].message)
        let tuned = await rig.backend.amplitudes
        let (headless, steps) = try AmplitudeAdjustment.adjust(Evaluator(network: rig.model.network),
                                                               calib: rig.model.calib.prefix(64),
                                                               amplitudes: rig.start.amplitudes, config: config, rounds: 2)
        XCTAssertEqual(tuned, headless)
        XCTAssertTrue(steps.contains { $0.factor > 1 })
        // The message reports what was applied: θ's change over both rounds, not the first round's.
        let moved = steps.first { $0.factor != 1 }!.layer
        let layout = await rig.backend.layout()
        let applied = tuned.layers[moved] / rig.start.amplitudes.layers[moved]
        XCTAssertTrue(o[0].message.contains("\(layout.layers[moved].name) ×\(String(format: "%.4g", applied))"),
                      "\(o[0].message) should say ×\(applied)")
        XCTAssertTrue(o[0].message.contains("product of 2 rounds"), o[0].message)

        // :w writes the θ file the headless commands read back; values identical.
        await rig.session.type(":w")
        await rig.session.press(.enter)
        _ = try await flush(&rig)
        let file = try ThetaFile.read(path: rig.dir.appendingPathComponent("theta.json").path,
                                      tensors: rig.model.network.layerTensors)
        XCTAssertEqual(file.amplitudes, tuned)
        XCTAssertEqual(file.config, config)
    }

    func testReconvertAndResetAndErrors() async throws {
        var rig = try await makeRig()
        await rig.session.type(":set T 12")
        await rig.session.press(.enter)
        await rig.session.type(":set beta 1.25")
        await rig.session.press(.enter)
        var o = try await flush(&rig)
        XCTAssertEqual(o.map(\.isError), [false, false])
        XCTAssertEqual(rig.session.state.layout?.config.T, 12)
        XCTAssertEqual(rig.session.state.layout?.config.beta, 1.25)
        XCTAssertEqual(rig.session.state.report?.layout.config.T, 12)
        let cfg = await rig.backend.config
        let p = try Evaluator(network: rig.model.network).calibrationPercentiles(rig.model.calib.prefix(64), percentile: 99.99)
        let amps = await rig.backend.amplitudes
        XCTAssertEqual(amps, p.amplitudes(cfg))

        // Usage errors are the view's (nothing is sent); a value the backend refuses is the host's.
        let errors = [":theta nosuchlayer 1": ":theta: no spiking layer named 'nosuchlayer'",
                      ":theta 0 -2": ":theta: θ must be a positive number, got -2.0",
                      ":set T zero": ":set: 'zero' is not a whole number",
                      ":adjust 0 0": ":adjust: rounds must be between 1 and 100",
                      ":set colour red": ":set: unknown setting 'colour'; use T, beta, silent, negative, rate or percentile"]
        for (bad, message) in errors.sorted(by: { $0.key < $1.key }) {
            await rig.session.type(bad)
            await rig.session.press(.enter)
            XCTAssertEqual(rig.session.state.message, message, bad)
            XCTAssertTrue(rig.session.state.messageIsError, bad)
        }
        o = try await flush(&rig)
        XCTAssertEqual(o.map(\.isError), [true], "only :theta 0 -2 reached the host")
        let unchanged = await rig.backend.amplitudes
        XCTAssertEqual(unchanged, amps)
    }

    /// Every change lands in the session file at once; a new start finds it and can restore it.
    func testSessionIsSavedAndRestored() async throws {
        var rig = try await makeRig()
        // A screen to come back to: raster in front, histogram below left, coupling cases, 8 steps/s.
        for line in [":hotspots coupling", ":focus histogram", ":focus raster", ":speed 8"] {
            await rig.session.type(line)
            await rig.session.press(.enter)
        }
        await rig.session.type(":scale 1 1.3")
        await rig.session.press(.enter)
        await rig.session.type(":scale 0 0.9")
        await rig.session.press(.enter)
        _ = try await flush(&rig)
        let tuned = await rig.backend.session
        let store = SessionStore(path: rig.dir.appendingPathComponent("session.json").path)
        let saved = try XCTUnwrap(try store.load(layers: rig.model.network.layerCount))
        XCTAssertEqual(saved.session, tuned)
        XCTAssertEqual(saved.session.history.count, 2)

        // A fresh debugger on the same model: restore brings back θ, history and position.
        var again = try await makeRig(pending: saved)
        await again.session.type(":restore")
        await again.session.press(.enter)
        let o = try await flush(&again)
        XCTAssertFalse(o[0].isError, o[0].message)
        let restored = await again.backend.session
        XCTAssertEqual(restored, tuned)
        XCTAssertEqual(o[0].position?.sample, saved.position.sample)
        XCTAssertEqual(o[0].position?.hotspotFilter, .coupling)
        // The reply's position brings the screen back (no keys typed into the view).
        let screen = again.session.state
        XCTAssertEqual(screen.sample, saved.position.sample)
        XCTAssertEqual(screen.step, saved.position.step)
        XCTAssertEqual([screen.focus, screen.lowerLeft, screen.lowerRight], [.raster, .histogram, .raster])
        XCTAssertEqual(screen.hotspotFilter, .coupling)
        XCTAssertEqual(screen.playSpeed, 8)

        // A session saved before the screen was kept still loads (and restores no screen).
        var old = saved
        old.position = SessionPosition(sample: 3, step: 2)
        try store.save(old)
        let legacy = try String(contentsOfFile: store.path, encoding: .utf8)
            .replacingOccurrences(of: "\"playSpeed\"", with: "\"unused\"")
        try Data(legacy.utf8).write(to: URL(fileURLWithPath: store.path))
        let loaded = try XCTUnwrap(try store.load(layers: rig.model.network.layerCount))
        XCTAssertNil(loaded.position.focus)
        let view = ViewPosition(loaded.position, layout: rig.model.network.layout(.default))
        XCTAssertEqual([view.focus, view.lowerLeft, view.lowerRight], [nil, nil, nil])
        XCTAssertNil(view.hotspotFilter)

        // A damaged session file is reported, naming the file.
        try Data("{oops".utf8).write(to: URL(fileURLWithPath: store.path))
        XCTAssertThrowsError(try store.load(layers: 2)) { e in
            XCTAssertTrue("\(e)".contains(store.path))
        }
    }

    /// Issue 14 bug 2: a session offered at start-up is never lost by a keystroke. Esc leaves it
    /// on disk for `:restore`; the first change saved over it keeps it in the backup file; the
    /// explicit discard keeps the backup and `:restore` still works until the next change.
    func testOfferedSessionSurvivesEscAndDiscard() async throws {
        var rig = try await makeRig()
        await rig.session.type(":scale 1 1.3")
        await rig.session.press(.enter)
        _ = try await flush(&rig)
        let tuned = await rig.backend.session
        let store = SessionStore(path: rig.dir.appendingPathComponent("session.json").path)
        let saved = try XCTUnwrap(try store.load(layers: rig.model.network.layerCount))
        XCTAssertTrue(saved.restoreQuestion(commandLine: rig.start).contains("θ in 1 of"),
                      saved.restoreQuestion(commandLine: rig.start))

        // Esc, then a change: the old session is in the backup, `:restore` says where.
        var again = try await makeRig(pending: saved)
        try FileManager.default.copyItem(atPath: store.path, toPath: again.dir.appendingPathComponent("session.json").path)
        let againStore = SessionStore(path: again.dir.appendingPathComponent("session.json").path)
        await again.session.send(.offerRestore(saved.restoreQuestion(commandLine: again.start)))
        await again.session.press(.escape)
        XCTAssertEqual(try againStore.load(layers: again.model.network.layerCount), saved)  // nothing written
        await again.session.type(":scale 0 0.5")
        await again.session.press(.enter)
        var o = try await flush(&again)
        XCTAssertTrue(o[0].message.contains(againStore.backupPath), o[0].message)
        let backup = try XCTUnwrap(try SessionStore(path: againStore.backupPath).load(layers: again.model.network.layerCount))
        XCTAssertEqual(backup, saved)
        await again.session.type(":restore")
        await again.session.press(.enter)
        o = try await flush(&again)
        XCTAssertTrue(o[0].message.contains("replaced it") && o[0].message.contains(againStore.backupPath), o[0].message)

        // d discards explicitly: backup written, `:restore` still brings the session back.
        var third = try await makeRig(pending: saved)
        let thirdStore = SessionStore(path: third.dir.appendingPathComponent("session.json").path)
        try store.save(saved)
        try FileManager.default.copyItem(atPath: store.path, toPath: thirdStore.path)
        await third.session.send(.offerRestore("?"))
        await third.session.press(.char("d"))
        o = try await flush(&third)
        XCTAssertFalse(o[0].isError, o[0].message)
        XCTAssertEqual(try SessionStore(path: thirdStore.backupPath).load(layers: third.model.network.layerCount), saved)
        XCTAssertNotEqual(try thirdStore.load(layers: third.model.network.layerCount)?.session, saved.session)
        await third.session.type(":restore")
        await third.session.press(.enter)
        o = try await flush(&third)
        XCTAssertFalse(o[0].isError, o[0].message)
        let restored = await third.backend.session
        XCTAssertEqual(restored, tuned)
    }

    /// Without a session file, a change is unsaved until `:w` writes it; undoing back to the
    /// start leaves nothing unsaved. With a session file nothing is ever unsaved.
    func testUnsavedChangesWithoutSessionFile() async throws {
        let rig = try await makeRig()
        let bare = TuningCommands(backend: rig.backend, modelName: rig.model.name,
                                  defaultThetaPath: rig.dir.appendingPathComponent("t.json").path, store: nil,
                                  pendingRestore: nil)
        let here = SessionPosition()
        var o = await bare.execute(.scaleTheta(layer: 0, factor: 1.2), position: here)
        XCTAssertTrue(o.unsaved, o.message)
        o = await bare.execute(.write(path: nil, force: false), position: here)
        XCTAssertFalse(o.unsaved, o.message)
        XCTAssertEqual(o.history?.changes, 1)
        o = await bare.execute(.scaleTheta(layer: 0, factor: 1.1), position: here)
        XCTAssertTrue(o.unsaved)
        o = await bare.execute(.undo, position: here)
        XCTAssertFalse(o.unsaved, "back to what :w wrote")
        o = await bare.execute(.undo, position: here)
        XCTAssertTrue(o.unsaved, "differs from what :w wrote")
        // The rig's own commands keep a session file: never unsaved.
        o = await rig.commands.execute(.scaleTheta(layer: 1, factor: 1.3), position: here)
        XCTAssertFalse(o.unsaved)
    }

    /// `:load` applies a θ file as one undoable change; a bad file changes nothing and says why.
    func testLoadThetaFileGoodAndBad() async throws {
        var rig = try await makeRig()
        let tensors = rig.model.network.layerTensors
        let good = rig.dir.appendingPathComponent("good.json").path
        var amps = rig.start.amplitudes
        amps.layers[0] *= 2
        try ThetaFile(model: "x", config: ConversionConfig(T: 8), amplitudes: amps, tensors: tensors).write(to: good)
        let bad = rig.dir.appendingPathComponent("bad.json").path
        try Data("{\"format\":\"cssdbg-theta/1\",\"theta\":{\"input\":1}}".utf8).write(to: URL(fileURLWithPath: bad))
        await rig.session.type(":load \(bad)")
        await rig.session.press(.enter)
        await rig.session.type(":load \(good)")
        await rig.session.press(.enter)
        let o = try await flush(&rig)
        XCTAssertEqual(o.map(\.isError), [true, false], o.map(\.message).joined(separator: " | "))
        XCTAssertTrue(o[0].message.contains("bad.json"), o[0].message)
        let now = await rig.backend.session.current
        XCTAssertEqual(now.amplitudes, amps)
        XCTAssertEqual(now.config.T, 8)
        XCTAssertEqual(rig.session.state.layout?.latency, 8 + 3)
        await rig.session.press(.char("u"))
        _ = try await flush(&rig)
        let undone = await rig.backend.session.current
        XCTAssertEqual(undone, rig.start)
    }
}
