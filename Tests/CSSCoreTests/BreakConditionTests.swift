import XCTest
@testable import CSSCore

/// The breakpoint grammar (docs/numerics.md §11): every condition, every kind of bad input, and
/// the order of hits.
final class BreakConditionTests: XCTestCase {
    /// resnet: layer 0 "stem" (r0, 4×6×6 = 144 neurons), layer 1 "block" (r1).
    func layout(negative: Bool = true) throws -> NetworkLayout {
        try RandomNetworks.resnet(seed: 1).layout(ConversionConfig(T: 6, silent: 1, negative: negative))
    }

    func parse(_ text: String, negative: Bool = true) throws -> BreakCondition {
        try BreakCondition.parse(text, layout: layout(negative: negative))
    }

    func problem(_ text: String, negative: Bool = true) throws -> String {
        do {
            let c = try parse(text, negative: negative)
            XCTFail("'\(text)' parsed as \(c)")
            return ""
        } catch let e as BreakConditionError {
            XCTAssertFalse(e.description.contains("\n"), e.description)
            return e.description
        }
    }

    func testEveryCondition() throws {
        let l = try layout()
        XCTAssertEqual(l.layers.map(\.name), ["stem", "block"])
        XCTAssertEqual(try parse("coupling"), .violation(.coupling, layer: nil))
        XCTAssertEqual(try parse("coupling block"), .violation(.coupling, layer: 1))
        XCTAssertEqual(try parse("overflow r0"), .violation(.overflow, layer: 0))   // tensor name
        XCTAssertEqual(try parse("violation 1"), .violation(.violation, layer: 1))  // index
        XCTAssertEqual(try parse("  Coupling   stem "), .violation(.coupling, layer: 0))
        XCTAssertEqual(try parse("spike stem 12"), .spike(layer: 0, neuron: 12, sign: nil))
        XCTAssertEqual(try parse("spike stem 143 +"), .spike(layer: 0, neuron: 143, sign: 1))
        XCTAssertEqual(try parse("spike r1 0 -"), .spike(layer: 1, neuron: 0, sign: -1))
        XCTAssertEqual(try parse("margin stem < 0.5"), .margin(layer: 0, below: 0.5))
        XCTAssertEqual(try parse("margin stem<-1"), .margin(layer: 0, below: -1))
        XCTAssertEqual(try parse("margin < 2"), .margin(layer: nil, below: 2))
        XCTAssertEqual(try parse("residual block > 1"), .residual(layer: 1, above: 1))
        XCTAssertEqual(try parse("residual>0.25"), .residual(layer: nil, above: 0.25))
        XCTAssertEqual(try parse("flip"), .flip)
        XCTAssertEqual(try parse("wrong"), .wrong)
        XCTAssertEqual(try parse("disagree"), .disagree)
    }

    func testCanonicalTextParsesBack() throws {
        let l = try layout()
        for text in ["coupling", "overflow stem", "violation block", "spike stem 12", "spike block 3 +", "spike stem 4 -",
                     "margin stem < 0.5", "margin < 2", "residual block > 1", "residual > 0.25", "flip", "wrong", "disagree"] {
            let c = try BreakCondition.parse(text, layout: l)
            XCTAssertEqual(c.text(l), text)
            XCTAssertEqual(try BreakCondition.parse(c.text(l), layout: l), c)
        }
        XCTAssertEqual(try parse("overflow 0").text(l), "overflow stem")
        XCTAssertEqual(try parse("margin r0<0.50").text(l), "margin stem < 0.5")
    }

    func testBadInput() throws {
        XCTAssertTrue(try problem("").hasPrefix("empty condition; use one of coupling, overflow"))
        XCTAssertEqual(try problem("cuopling"),
                       "unknown condition 'cuopling'; use one of coupling, overflow, violation, spike, margin, residual, flip, wrong, disagree")
        XCTAssertEqual(try problem("coupling nosuch"), "no spiking layer named 'nosuch'")
        XCTAssertEqual(try problem("coupling 7"), "layer index 7 is out of range 0 to 1")
        XCTAssertEqual(try problem("coupling input"), "the input encoder has no neurons to break on; name a spiking layer")
        XCTAssertEqual(try problem("coupling stem block"), "unexpected 'block' after 'coupling'")
        XCTAssertEqual(try problem("spike"), "needs a layer and a neuron")
        XCTAssertEqual(try problem("spike stem"), "needs a neuron")
        XCTAssertEqual(try problem("spike stem x"), "neuron 'x' is not a whole number")
        XCTAssertEqual(try problem("spike stem 144"), "neuron 144 is out of range 0 to 143 of stem")
        XCTAssertEqual(try problem("spike stem -1"), "neuron -1 is out of range 0 to 143 of stem")
        XCTAssertEqual(try problem("spike stem 1 *"), "the sign is + or -, got '*'")
        XCTAssertEqual(try problem("spike stem 1 + 2"), "unexpected '2' after 'spike'")
        XCTAssertEqual(try problem("spike stem 1 -", negative: false), "no negative spikes in this conversion (negative off)")
        XCTAssertEqual(try problem("margin stem"), "needs '< VALUE'")
        XCTAssertEqual(try problem("margin stem > 1"), "needs '< VALUE', got '>'")
        XCTAssertEqual(try problem("margin stem <"), "needs a value after '<'")
        XCTAssertEqual(try problem("margin stem < abc"), "'abc' is not a number")
        XCTAssertEqual(try problem("margin stem < nan"), "'nan' is not a number")
        XCTAssertEqual(try problem("residual stem < 1"), "needs '> VALUE', got '<'")
        XCTAssertEqual(try problem("residual stem > -1"), "|u[T]| is never below 0; give a value of 0 or more, got -1")
        XCTAssertEqual(try problem("residual > 1 2"), "unexpected '2' after 'residual'")
        XCTAssertEqual(try problem("flip stem"), "'flip' takes nothing after it, got 'stem'")
        XCTAssertEqual(try problem("wrong 1"), "'wrong' takes nothing after it, got '1'")
    }

    func testAmbiguousLayerNamesSayWhich() throws {
        let net = try RandomNetworks.mlp(inputs: 4, hidden: [3, 3], outputs: 2, seed: 1)
        let l = net.layout(.default)
        XCTAssertThrowsError(try BreakCondition.parse("coupling relu", layout: l)) { e in
            XCTAssertTrue("\(e)".contains("matches 2 layers"), "\(e)")
        }
    }

    func testHitOrder() {
        func h(_ b: Int, _ s: Int, _ g: Int, _ l: Int?, _ n: Int?) -> BreakHit {
            BreakHit(breakpoint: b, sample: s, step: g, layer: l, neuron: n)
        }
        let sorted = [h(1, 0, 3, 0, 5), h(2, 0, 3, 0, 5), h(1, 0, 3, 0, 6), h(1, 0, 3, 1, 0), h(1, 0, 3, nil, nil),
                      h(3, 0, 4, 0, 0), h(1, 1, 0, 1, 1)]
        XCTAssertEqual(sorted.reversed().sorted(), sorted)
        XCTAssertEqual(sorted.shuffled().sorted(), sorted)
    }
}
