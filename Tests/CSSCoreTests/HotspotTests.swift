import XCTest
@testable import CSSCore

/// The hotspot list keeps the worst cases of each kind, however many of the other kind there are.
final class HotspotTests: XCTestCase {
    func hotspot(_ kind: ViolationKind, margin: Double, neuron: Int) -> Hotspot {
        Hotspot(layer: neuron % 3, neuron: neuron, sample: neuron % 7, kind: kind,
                firstViolationStep: kind == .overflow ? 0 : 2, worstMargin: margin, residual: -margin)
    }

    func testMostSevereCapsEachKindSeparately() {
        // 40 overflows (all more severe by the ordering) and 15 coupling cases, cap 10 per kind.
        let list = (0..<40).map { hotspot(.overflow, margin: -Double($0), neuron: $0) }
            + (0..<15).map { hotspot(.coupling, margin: -Double($0) / 2, neuron: 100 + $0) }
        let kept = Hotspot.mostSevere(list.shuffled(), perKind: 10)
        XCTAssertEqual(kept.count, 20)
        XCTAssertEqual(kept.filter { $0.kind == .coupling }.count, 10)
        // The worst of each kind, in severity order: overflows first, most negative margin first.
        XCTAssertEqual(kept.prefix(10).map(\.worstMargin), (30..<40).reversed().map { -Double($0) })
        XCTAssertEqual(kept.suffix(10).map(\.worstMargin), (5..<15).reversed().map { -Double($0) / 2 })
    }

    /// Statistics merged from many blocks keep the same top cases as one sort of everything.
    func testLayerStatisticsKeepTheDataSetsWorstCases() {
        var stats = LayerStatistics(window: 4)
        var all: [Hotspot] = []
        for i in 0..<5000 {
            let h = hotspot(i % 5 == 0 ? .coupling : .overflow, margin: -Double((i * 7919) % 3001), neuron: i)
            all.append(h)
            var block = LayerStatistics(window: 4)
            block.addHotspot(h)
            stats.merge(block)
        }
        stats.trimHotspots()
        XCTAssertEqual(stats.hotspots, Hotspot.mostSevere(all, perKind: LayerStatistics.hotspotCapacity))
        XCTAssertEqual(stats.hotspots.filter { $0.kind == .coupling }.count, LayerStatistics.hotspotCapacity)
    }
}
