import CSSApp
import CSSCore
import CSSImport
import CSSView
import Foundation
import XCTest
import TestSupport

/// Breakpoints are kept in the session file: every edit of the list saves it, `:restore` brings
/// the list back (numbers and disabled ones included) with the `--break` ones appended.
final class BreakpointSessionTests: XCTestCase {
    func makeSession(_ m: LoadedModel, store: SessionStore, pending: SavedSession?,
                     initial: [Breakpoint] = []) async throws -> (HeadlessSession, BreakpointCommands, LocalBackend) {
        var config = ConversionConfig.default
        config.silent = 0
        let calib = m.calib.prefix(32)
        let p = try Evaluator(network: m.network).calibrationPercentiles(calib, percentile: config.percentile)
        let backend = try LocalBackend(network: m.network, data: m.data, calib: calib,
                                       start: TuningState(config: config, amplitudes: p.amplitudes(config)), percentiles: p)
        let breaks = BreakpointCommands(backend: backend, breakpoints: initial)
        let commands = TuningCommands(backend: backend, modelName: m.name, defaultThetaPath: "/nonexistent/theta.json",
                                      store: store, pendingRestore: pending, breakpoints: breaks)
        var session = HeadlessSession(backend: backend, state: ViewState(width: 160, height: 48,
                                                                          hostCommands: DebuggerHost.names),
                                      host: DebuggerHost(tuning: commands, breakpoints: breaks, jobs: JobCommands(backend: backend)).handler)
        await session.start()
        return (session, breaks, backend)
    }

    func run(_ session: inout HeadlessSession, _ line: String) async -> String {
        await session.type(":" + line)
        await session.press(.enter)
        XCTAssertFalse(session.state.messageIsError, "\(line): \(session.state.message ?? "")")
        return session.state.message ?? ""
    }

    func testBreakpointsAreSavedAndRestoredWithTheSession() async throws {
        let m = try LoadedModel.load(path: Repository.root.appendingPathComponent("samples/digits-resnet").path, limit: 8)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cssdbg-bp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = SessionStore(path: dir.appendingPathComponent("session.json").path)

        var (first, _, backend) = try await makeSession(m, store: store, pending: nil)
        let layer = await backend.layout().layers[2].name
        _ = await run(&first, "break coupling \(layer)")
        _ = await run(&first, "break flip")
        _ = await run(&first, "break residual \(layer) > 2")
        _ = await run(&first, "disable 2")
        _ = await run(&first, "delete 3")
        let saved = try XCTUnwrap(try store.load(layers: m.network.layerCount))
        XCTAssertEqual(saved.position.breakpoints, [
            SessionBreakpoint(number: 1, condition: "coupling \(layer)", enabled: true),
            SessionBreakpoint(number: 2, condition: "flip", enabled: false),
        ])

        // A new run with `--break wrong` restores the saved list and keeps its own after it.
        let layout = await backend.layout()
        let wrong = Breakpoint(number: 1, condition: try BreakCondition.parse("wrong", layout: layout))
        var (second, breaks, _) = try await makeSession(m, store: store, pending: saved, initial: [wrong])
        _ = await run(&second, "restore")
        XCTAssertEqual(breaks.breakpoints.map(\.number), [1, 2, 3])
        XCTAssertEqual(breaks.breakpoints.map(\.enabled), [true, false, true])
        XCTAssertEqual(breaks.breakpoints.map { $0.condition.text(layout) }, ["coupling \(layer)", "flip", "wrong"])
        let listed = await run(&second, "breaks")
        XCTAssertEqual(listed, "3 breakpoints (1 disabled); Esc closes the list")
        XCTAssertEqual(second.state.overlay, .breakpoints([
            BreakpointRow(number: 1, enabled: true, condition: "coupling \(layer)", hits: 0),
            BreakpointRow(number: 2, enabled: false, condition: "flip", hits: 0),
            BreakpointRow(number: 3, enabled: true, condition: "wrong", hits: 0)]))
        await second.press(.escape)
        XCTAssertEqual(second.state.overlay, .none)
        // The next breakpoint is numbered after them.
        let added = await run(&second, "break disagree")
        XCTAssertEqual(added, "breakpoint 4: disagree")
    }
}
