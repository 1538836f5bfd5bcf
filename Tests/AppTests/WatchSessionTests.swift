import CSSApp
import CSSCore
import CSSImport
import CSSView
import Foundation
import XCTest

/// Watches in the session file: kept by tensor name, optional (older files load), and a layer the
/// model no longer has is dropped.
final class WatchSessionTests: XCTestCase {
    let layout = NetworkLayout(
        modelName: "m", config: ConversionConfig(T: 4, beta: 2, silent: 1, negative: true), inputShape: [4],
        layers: [SpikingLayerInfo(index: 0, name: "relu1", tensor: "/relu1/Relu_output_0", shape: [8], neurons: 8,
                                  windowStart: 0, depth: 1),
                 SpikingLayerInfo(index: 1, name: "relu2", tensor: "/relu2/Relu_output_0", shape: [4], neurons: 4,
                                  windowStart: 1, depth: 2)],
        outputStart: 2, latency: 7, outputCount: 2)

    func testWatchesRoundTripByTensorName() throws {
        let view = ViewPosition(sample: 1, step: 3, layer: 0, neuron: 2,
                                watches: [Watch(layer: 1, neuron: 3), Watch(layer: 0, neuron: 7)])
        let saved = SessionPosition(view, layout: layout)
        XCTAssertEqual(saved.watches, [SessionWatch(layer: "/relu2/Relu_output_0", neuron: 3),
                                       SessionWatch(layer: "/relu1/Relu_output_0", neuron: 7)])
        let json = try JSONEncoder().encode(saved)
        let back = ViewPosition(try JSONDecoder().decode(SessionPosition.self, from: json), layout: layout)
        XCTAssertEqual(back.watches, view.watches)
    }

    func testOlderSessionsWithoutWatchesLoad() throws {
        let old = #"{"sample": 2, "step": 1, "neuron": 0}"#
        let p = try JSONDecoder().decode(SessionPosition.self, from: Data(old.utf8))
        XCTAssertNil(p.watches)
        XCTAssertNil(ViewPosition(p, layout: layout).watches)
    }

    func testAWatchOfALayerTheModelLacksIsDropped() {
        let p = SessionPosition(sample: 0, step: 0, neuron: 0,
                                watches: [SessionWatch(layer: "gone", neuron: 1), SessionWatch(layer: "relu2", neuron: 2)])
        XCTAssertEqual(ViewPosition(p, layout: layout).watches, [Watch(layer: 1, neuron: 2)])
    }
}
