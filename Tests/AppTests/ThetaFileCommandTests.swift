import CSSApp
import CSSCore
import CSSImport
import CSSView
import Foundation
import XCTest
import TestSupport

/// Issue 14 "Work that is kept" and issue 10 §3 through the debugger's commands: `:w` never
/// replaces θ of another model or config (`:w!` does), the default file is named after the
/// model, and `:theta` takes the unique layer names of a ResNet that reuses its ReLU.
final class ThetaFileCommandTests: XCTestCase {
    static let root = Repository.root

    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cssdbg-theta-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func commands(model: String = "samples/digits-mlp", name: String? = nil) throws -> TuningCommands {
        let path = model.hasPrefix("/") ? model : Self.root.appendingPathComponent(model).path
        let m = try LoadedModel.load(path: path, limit: 16, calibrationSuffices: true)
        let ev = Evaluator(network: m.network)
        let p = try ev.calibrationPercentiles(m.calib, percentile: 99.99)
        let start = TuningState(config: .default, amplitudes: p.amplitudes(.default))
        let backend = try LocalBackend(network: m.network, data: m.data, calib: m.calib, start: start, percentiles: p)
        let modelName = name ?? m.name
        return TuningCommands(backend: backend, modelName: modelName,
                              defaultThetaPath: dir.appendingPathComponent(ThetaFile.defaultPath(model: modelName)).path,
                              store: nil, pendingRestore: nil)
    }

    /// A `:` line as the view parses it, executed by the host.
    func run(_ c: TuningCommands, _ line: String) async -> TuningCommands.Outcome {
        do {
            return await c.execute(try HostRequest.parse(line, layout: await c.backend.layout()), position: SessionPosition())
        } catch {
            return TuningCommands.Outcome(message: "\(error)", isError: true)
        }
    }

    func testDefaultNameIsDerivedFromTheModel() {
        XCTAssertEqual(ThetaFile.defaultPath(model: "digits-resnet"), "digits-resnet.theta.json")
        XCTAssertEqual(ThetaFile.defaultPath(model: "model"), "model.theta.json")
    }

    func testWriteRefusesAnotherConfigAndForceReplaces() async throws {
        let c = try commands()
        let path = dir.appendingPathComponent("digits-mlp.theta.json").path
        var o = await run(c, "w")
        XCTAssertEqual(o.message, "wrote θ to \(path)")
        XCTAssertFalse(o.isError)
        o = await run(c, "w")
        XCTAssertFalse(o.isError, "same model and config: saving again is fine")
        let saved = try Data(contentsOf: URL(fileURLWithPath: path))

        o = await run(c, "set silent 0")
        XCTAssertFalse(o.isError, o.message)
        o = await run(c, "w")
        XCTAssertTrue(o.isError)
        XCTAssertEqual(o.message, "\(path): holds θ for L=1, not L=0; use :w! to replace it")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), saved, "the refused file is untouched")

        o = await run(c, "w!")
        XCTAssertFalse(o.isError, o.message)
        XCTAssertEqual(o.message, "wrote θ to \(path) (replaced: it holds θ for L=1, not L=0)")
        let file = try ThetaFile.read(path: path, tensors: try readTensors(path))
        XCTAssertEqual(file.config.silent, 0)
    }

    func readTensors(_ path: String) throws -> [String] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        return (json["theta"] as! [String: Any]).keys.filter { $0 != "input" }.sorted()
    }

    func testWriteRefusesAnotherModelsFileAndNonThetaFiles() async throws {
        let mlp = try commands()
        let cnn = try commands(model: "samples/digits-cnn")
        let other = dir.appendingPathComponent("shared.json").path
        var o = await run(mlp, "w \(other)")
        XCTAssertFalse(o.isError, o.message)
        o = await run(cnn, "w \(other)")
        XCTAssertEqual(o.message, "\(other): holds θ of model 'digits-mlp', not 'digits-cnn'; use :w! \(other) to replace it")
        XCTAssertTrue(o.isError)
        o = await run(cnn, "w! \(other)")
        XCTAssertFalse(o.isError, o.message)
        XCTAssertEqual(try ThetaFile.read(path: other, tensors: try readTensors(other)).model, "digits-cnn")

        // Same name, other layers: refused too (a model re-exported with other tensor names).
        let renamed = try commands(name: "digits-cnn")
        o = await run(renamed, "w \(other)")
        XCTAssertTrue(o.isError)
        XCTAssertTrue(o.message.hasPrefix("\(other): holds θ of other layers ("), o.message)

        let notes = dir.appendingPathComponent("notes.txt").path
        try "my notes\n".write(toFile: notes, atomically: true, encoding: .utf8)
        o = await run(mlp, "w \(notes)")
        XCTAssertEqual(o.message, "\(notes): exists and is not a cssdbg-theta/1 file; use :w! \(notes) to replace it")
        XCTAssertEqual(try String(contentsOfFile: notes, encoding: .utf8), "my notes\n")
        o = await run(mlp, "w \(dir.path)")
        XCTAssertEqual(o.message, "\(dir.path): is a directory; name a file to write θ to")
    }

    func testLoadReportsTheNewThetaOrigin() async throws {
        let c = try commands()
        let path = dir.appendingPathComponent("digits-mlp.theta.json").path
        _ = await run(c, "w")
        let o = await run(c, "load \(path)")
        XCTAssertFalse(o.isError, o.message)
        XCTAssertEqual(o.thetaOrigin, "digits-mlp.theta.json")
    }

    /// `:theta` on a ResNet whose blocks apply one nn.ReLU twice, from the dynamo exporter:
    /// each unique name sets its own layer; the shared prefix is refused as ambiguous.
    func testThetaTakesUniqueNamesOfReusedRelu() async throws {
        let bundle = dir.appendingPathComponent("resnet")
        try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true)
        let fixtures = Self.root.appendingPathComponent("Tests/Fixtures/onnx")
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent("resnet-relu-module-dynamo.onnx"),
                                         to: bundle.appendingPathComponent("model.onnx"))
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent("resnet-relu-module-dynamo.input.npy"),
                                         to: bundle.appendingPathComponent("calib.npy"))
        let c = try commands(model: bundle.path)
        let layout = await c.backend.layout()
        XCTAssertEqual(layout.layers.map(\.name), ["relu", "layer1.0.relu", "layer1.0.relu_1", "layer1.1.relu", "layer1.1.relu_1"])
        var o = await run(c, "theta layer1.0.relu_1 0.25")
        XCTAssertFalse(o.isError, o.message)
        var theta = try await c.backend.snapshot().session.current.amplitudes
        XCTAssertEqual(theta.layers[2], 0.25)
        XCTAssertNotEqual(theta.layers[1], 0.25)
        o = await run(c, "theta \(layout.layers[3].tensor) 0.125")
        XCTAssertFalse(o.isError, o.message)
        theta = try await c.backend.snapshot().session.current.amplitudes
        XCTAssertEqual(theta.layers[3], 0.125)
        o = await run(c, "scale layer1.0 2")
        XCTAssertTrue(o.isError)
        XCTAssertEqual(o.message, ":scale: 'layer1.0' matches 2 layers (layer1.0.relu, layer1.0.relu_1); type more of the name")
        o = await run(c, "adjust layer1.1.relu_1")
        XCTAssertFalse(o.isError, o.message)
    }
}
