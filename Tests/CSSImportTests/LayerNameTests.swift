import CSSCore
import Foundation
import XCTest
@testable import CSSImport

/// Issue 10 §3: every spiking layer has a name of its own that says where it is, for both
/// exporters, a reused nn.ReLU module (torchvision's BasicBlock) and functional relus.
final class LayerNameTests: XCTestCase {
    static let expected = ["relu", "layer1.0.relu", "layer1.0.relu_1", "layer1.1.relu", "layer1.1.relu_1"]

    func names(_ fixture: String) throws -> [String] {
        let g = try ONNXModelLoader.load(path: Paths.fixture(fixture + ".onnx"))
        return try Network(g).layout(.default).layers.map(\.name)
    }

    func testReusedReLUModuleTorchScript() throws {
        XCTAssertEqual(try names("resnet-relu-module-torchscript"), Self.expected)
    }

    func testReusedReLUModuleDynamo() throws {
        XCTAssertEqual(try names("resnet-relu-module-dynamo"), Self.expected)
    }

    func testFunctionalReLUTorchScript() throws {
        XCTAssertEqual(try names("resnet-relu-functional-torchscript"), Self.expected)
    }

    func testFunctionalReLUDynamo() throws {
        XCTAssertEqual(try names("resnet-relu-functional-dynamo"), Self.expected)
    }

    /// The dynamo exporter's metadata is what names the layers: without it (stripped, as in
    /// the mlp-dynamo fixtures) the FX node names are used, still unique.
    func testDynamoWithoutMetadataFallsBackToNodeNames() throws {
        XCTAssertEqual(try names("mlp-dynamo"), ["relu", "relu_1"])
        XCTAssertEqual(try names("mlp-torchscript"), ["relu", "relu_1"])
    }

    func testSampleNamesStay() throws {
        let g = try ONNXModelLoader.load(path: Paths.samples.appendingPathComponent("digits-resnet/model.onnx").path)
        XCTAssertEqual(try Network(g).layout(.default).layers.map(\.name),
                       ["stem.2", "block1.relu1", "block1.relu2", "block2.relu1", "block2.relu2", "block3.relu1", "block3.relu2"])
    }

    func testTorchScriptNodeNames() {
        XCTAssertEqual(LayerScope(nodeName: "/layer1/layer1.0/relu_1/Relu"), LayerScope(path: "layer1.0.relu_1", isActivationModule: nil))
        XCTAssertEqual(LayerScope(nodeName: "/features/features.1/block/block.1/Relu")?.path, "features.1.block.1")
        XCTAssertEqual(LayerScope(nodeName: "/stem/stem.2/Relu")?.path, "stem.2")
        XCTAssertEqual(LayerScope(nodeName: "/Relu_1")?.path, "")
        XCTAssertEqual(LayerScope(nodeName: "node_relu_3")?.path, "relu_3")
        XCTAssertEqual(LayerScope(nodeName: "relu1")?.path, "relu1")
        XCTAssertNil(LayerScope(nodeName: ""))
    }

    func testDynamoMetadata() {
        XCTAssertEqual(ExporterScopes.pythonStrings(#"['', 'layer1', "layer1.0", 'it\'s']"#), ["", "layer1", "layer1.0", "it's"])
        var n = Onnx_NodeProto()
        n.name = "node_relu_2"
        var p = Onnx_StringStringEntryProto()
        p.key = "namespace"
        p.value = ": __main__.Net/layer1: torch.nn.modules.container.Sequential/layer1.0: __main__.Block/layer1.0.act: torch.nn.modules.activation.ReLU/relu_2: aten.relu.default"
        n.metadataProps = [p]
        XCTAssertEqual(ExporterScopes.scope(of: n), LayerScope(path: "layer1.0.act", isActivationModule: true))
        p.value = ": __main__.Net/relu_2: aten.relu.default"
        n.metadataProps = [p]
        XCTAssertEqual(ExporterScopes.scope(of: n), LayerScope(path: "", isActivationModule: false))
    }

    /// Collisions are numbered like PyTorch numbers repeated calls, and a name never equals
    /// another layer's tensor (so `:theta WORD` means one layer).
    func testUniqueness() {
        let s = { (p: String, m: Bool?) in LayerScope(path: p, isActivationModule: m) }
        XCTAssertEqual(LayerNames.unique([s("a.act", true), s("a.act", true), s("a.act", true)], tensors: ["t0", "t1", "t2"]),
                       ["a.act", "a.act_1", "a.act_2"])
        XCTAssertEqual(LayerNames.unique([s("a", false), s("a", nil), s("b", false)], tensors: ["t0", "t1", "t2"]),
                       ["a.relu", "a.relu_1", "b"])
        XCTAssertEqual(LayerNames.unique([s("", false), s("", false)], tensors: ["t0", "t1"]), ["relu", "relu_1"])
        // "relu" is the tensor of layer 1: layer 0 must not be called that.
        XCTAssertEqual(LayerNames.unique([s("", false), s("stem", true)], tensors: ["relu_7", "relu"]), ["relu_1", "stem"])
        XCTAssertEqual(LayerNames.unique([nil, s("x", true)], tensors: ["t0", "t1"]), ["t0", "x"])
        // A module really named like a numbered name does not make two layers alike.
        XCTAssertEqual(LayerNames.unique([s("m.relu", true), s("m.relu", true), s("m.relu_1", true)], tensors: ["a", "b", "c"]),
                       ["m.relu", "m.relu_1", "m.relu_1_1"])
    }
}
