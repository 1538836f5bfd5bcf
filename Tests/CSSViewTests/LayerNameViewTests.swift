import CSSSnapshots
import XCTest
@testable import CSSView

/// `:layer`, completion and `/` with the names of a ResNet whose blocks apply one ReLU twice
/// (issue 10 §3): every name means one layer, tensor names and indices work, ambiguity is said.
final class LayerNameViewTests: XCTestCase {
    static let names = ["relu", "layer1.0.relu", "layer1.0.relu_1", "layer1.1.relu", "layer1.1.relu_1"]

    func state() -> ViewState {
        let c = ConversionConfig(T: 6, beta: 1.5, silent: 1, negative: true)
        let layers = Self.names.enumerated().map { i, n in
            SpikingLayerInfo(index: i, name: n, tensor: "/t\(i)/Relu_output_0", shape: [2, 6, 6], neurons: 72,
                             windowStart: i, depth: i + 1)
        }
        let layout = NetworkLayout(modelName: "resnet", config: c, inputShape: [1, 6, 6], layers: layers,
                                   outputStart: 5, latency: 12, outputCount: 3)
        let s = ViewState(width: 160, height: 48, unicode: true, sample: 0, hostCommands: ["theta", "adjust"])
        return update(s, .layoutArrived(layout, sampleCount: 4)).0
    }

    func testLayerCommandTakesEveryUniqueName() {
        var s = state()
        for (i, n) in Self.names.enumerated().reversed() {
            s = press(s, chars(":layer \(n)") + [.enter]).0
            XCTAssertEqual(s.selectedLayer, i, n)
            XCTAssertFalse(s.messageIsError, n)
        }
        s = press(s, chars(":layer /t3/Relu_output_0") + [.enter]).0
        XCTAssertEqual(s.selectedLayer, 3)
        s = press(s, chars(":layer 2") + [.enter]).0
        XCTAssertEqual(s.selectedLayer, 2)
        s = press(s, chars(":layer LAYER1.1.RELU_1") + [.enter]).0
        XCTAssertEqual(s.selectedLayer, 4)
        s = press(s, chars(":layer output") + [.enter]).0
        XCTAssertTrue(s.isOutputSelected)
        s = press(s, chars(":layer encoder") + [.enter]).0
        XCTAssertEqual(s.layerRow, 0)
    }

    func testAmbiguousAndUnknownNamesAreSaid() {
        var s = state()
        s = press(s, chars(":layer layer1.1.relu_1") + [.enter]).0
        s = press(s, chars(":layer layer1.0") + [.enter]).0
        XCTAssertEqual(s.selectedLayer, 4, "an ambiguous name leaves the selection")
        XCTAssertTrue(s.messageIsError)
        XCTAssertEqual(s.message, ":layer: 'layer1.0' matches 2 layers (layer1.0.relu, layer1.0.relu_1); type more of the name")
        s = press(s, chars(":layer nope") + [.enter]).0
        XCTAssertEqual(s.message, ":layer: no spiking layer named 'nope'")
        s = press(s, chars(":layer 9") + [.enter]).0
        XCTAssertEqual(s.message, ":layer: layer index 9 is out of range 0 to 4")
        // Unambiguous parts still work: the one name containing "1.1.relu_".
        s = press(s, chars(":layer 1.1.relu_") + [.enter]).0
        XCTAssertEqual(s.selectedLayer, 4)
    }

    func testCompletionOfNamesAndTensors() {
        let s = state()
        XCTAssertEqual(complete("layer layer1.0", state: s).0, "layer layer1.0.relu")
        XCTAssertEqual(complete("layer layer1.0", state: s).1, ["layer1.0.relu", "layer1.0.relu_1"])
        XCTAssertEqual(complete("layer layer1.1.relu_", state: s).0, "layer layer1.1.relu_1")
        XCTAssertEqual(complete("theta layer1.0.relu_", state: s).0, "theta layer1.0.relu_1 ")
        XCTAssertEqual(complete("adjust layer1.1", state: s).1, ["layer1.1.relu", "layer1.1.relu_1"])
        // No name starts with "/t2": the tensor names complete.
        XCTAssertEqual(complete("theta /t2", state: s).0, "theta /t2/Relu_output_0 ")
        XCTAssertEqual(complete("layer /t", state: s).1.count, 5)
    }

    func testSearchFindsTheRepeatedRelu() {
        var s = state()
        s = press(s, chars("/relu_1") + [.enter]).0
        XCTAssertEqual(s.selectedLayer, 2)
        s = press(s, chars("/1.1.relu_1") + [.enter]).0
        XCTAssertEqual(s.selectedLayer, 4)
    }
}

/// Issue 14 "Work that is kept": the status line says when θ is not calibrated but comes from a
/// file, above all from a bundle's own theta.json.
final class ThetaOriginViewTests: XCTestCase {
    func testStatusLineShowsTheThetaFile() {
        var s = loadedState()
        XCTAssertFalse(Screen.render(s).text()[0].contains("θ "), "calibrated: nothing said")
        s = update(s, .thetaOrigin("bundle theta.json")).0
        let top = Screen.render(s).text()[0]
        XCTAssertTrue(top.contains(" digits-cnn  θ bundle theta.json  sample 0/4"), top)
        s = update(s, .thetaOrigin("tuned.json")).0
        XCTAssertTrue(Screen.render(s).text()[0].contains(" θ tuned.json "))
        // At 80 columns its first word, and the config still fits.
        var narrow = loadedState(width: 80, height: 24)
        narrow = update(narrow, .thetaOrigin("bundle theta.json")).0
        let line = Screen.render(narrow).text()[0]
        XCTAssertTrue(line.contains(" digits-cnn  θ bundle  sample") && line.contains("L 1 neg on"), line)
    }
}
