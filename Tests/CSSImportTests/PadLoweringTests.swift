import CSSCore
import Foundation
import XCTest
@testable import CSSImport

/// Pad (zero padding of H and W, as `nn.ZeroPad2d` and `F.pad` export it) lowers to a 1×1
/// identity depthwise Conv with those pads: the padded tensor exactly, zeros around the input.
final class PadLoweringTests: XCTestCase {
    /// x [N,2,2,3] → Pad → Relu, pads [top, left] = [1, 0], [bottom, right] = [0, 2].
    func padModel(opset: Int64 = 13, pads: [Int64] = [0, 0, 1, 0, 0, 0, 0, 2], attrs: [Onnx_AttributeProto] = [],
                  extraInputs: (inout ModelBuilder) -> [String] = { _ in [] }) -> ModelBuilder {
        var b = ModelBuilder(opset: opset, inputDims: [nil, 2, 2, 3])
        var ins = ["x"]
        if opset >= 11 {
            b.intInitializer("pads", [Int64(pads.count)], pads)
            ins.append("pads")
        }
        ins += extraInputs(&b)
        b.node("Pad", ins, ["p"], name: "/pad/Pad", attrs: attrs)
        b.node("Relu", ["p"], ["y"])
        return b
    }

    let x: [Float] = [1, -2, 3, 4, 5, 6, /* channel 1 */ 7, 8, -9, 10, 11, 12]

    /// `x` padded with one row on top and two columns on the right: [2, 3, 5], then Relu.
    var expected: [Float] {
        var out: [Float] = []
        for ch in 0..<2 {
            out += [0, 0, 0, 0, 0]
            for row in 0..<2 { out += x[(ch * 6 + row * 3)..<(ch * 6 + row * 3 + 3)].map { max($0, 0) } + [0, 0] }
        }
        return out
    }

    func testZeroPadBecomesAnIdentityDepthwiseConvAndPadsExactly() throws {
        let g = try padModel().load()
        XCTAssertEqual(g.nodes.map(\.op.kind), ["Conv", "Relu"])
        guard case .conv(let c) = g.nodes[0].op else { return XCTFail("not a conv") }
        XCTAssertEqual(c.weight, [1, 1])
        XCTAssertNil(c.bias)
        XCTAssertEqual(c.groups, 2)
        XCTAssertTrue(c.kernel == (1, 1) && c.stride == (1, 1) && c.dilation == (1, 1))
        XCTAssertTrue(c.pads == (1, 0, 0, 2), "\(c.pads)")
        XCTAssertEqual(try g.inferShapes()[g.output], [2, 3, 5])
        XCTAssertEqual(try NaiveForward.run(g, x), expected)
    }

    func testOpset10PadsAttributeAndOpset18Axes() throws {
        let old = try padModel(opset: 10, attrs: [ModelBuilder.attr("pads", ints: [0, 0, 1, 0, 0, 0, 0, 2]),
                                                  ModelBuilder.attr("mode", string: "constant")]).load()
        XCTAssertEqual(try NaiveForward.run(old, x), expected)
        // Opset 18: pads only for the listed axes (H and W, one negative index), explicit zero value.
        let axes = try padModel(opset: 18, pads: [1, 0, 0, 2]) { b in
            b.initializer("zero", [], [0])
            b.intInitializer("axes", [2], [2, -1])
            return ["zero", "axes"]
        }.load()
        XCTAssertEqual(try NaiveForward.run(axes, x), expected)
    }

    func testAllZeroPadsPassTheActivationThrough() throws {
        let g = try padModel(pads: [0, 0, 0, 0, 0, 0, 0, 0]).load()
        XCTAssertEqual(g.nodes.map(\.op.kind), ["Relu"])
    }

    func testPaddingThatIsNotZeroPaddingOfHAndWIsRefused() {
        func refusal(_ b: ModelBuilder) -> String {
            do { _ = try b.load(); return "accepted" } catch { return "\(error)" }
        }
        let who = "test.onnx: node '/pad/Pad' "
        XCTAssertEqual(refusal(padModel(attrs: [ModelBuilder.attr("mode", string: "reflect")])),
                       who + "uses Pad with mode 'reflect', which cssdbg cannot represent; only zero padding converts; "
                       + "pad with zeros (F.pad(x, p) or the padding of Conv/AveragePool)")
        XCTAssertEqual(refusal(padModel { b in b.initializer("v", [], [1.5]); return ["v"] }),
                       who + "pads with the value 1.5; only zero padding converts; pad with zeros")
        XCTAssertEqual(refusal(padModel(pads: [0, 1, 0, 0, 0, 0, 0, 0])),
                       who + "pads dimensions other than H and W of a tensor of sample shape [2, 2, 3]; only spatial zero padding of [N,C,H,W] converts")
        XCTAssertEqual(refusal(padModel(pads: [0, 0, -1, 0, 0, 0, 0, 0])),
                       who + "has negative pads [0, 0, -1, 0, 0, 0, 0, 0] (cropping), which cssdbg does not support")
        XCTAssertEqual(refusal(padModel(pads: [0, 0, 1, 0])), who + "has 4 pads for 4 dimensions; Pad needs a begin and an end for each")
        XCTAssertEqual(refusal(padModel(pads: [0, 0, 1 << 40, 0, 0, 0, 0, 0])),
                       who + "has absurd pads [0, 0, 1099511627776, 0, 0, 0, 0, 0]")
        var computed = ModelBuilder(opset: 13, inputDims: [nil, 2, 2, 3])
        computed.node("Relu", ["x"], ["r"])
        computed.node("Pad", ["x", "r"], ["p"], name: "/pad/Pad")
        computed.node("Add", ["p", "p"], ["y"])
        XCTAssertEqual(refusal(computed), who + "pads by amounts that are not constant")
    }
}
