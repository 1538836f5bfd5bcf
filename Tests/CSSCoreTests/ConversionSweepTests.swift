import XCTest
@testable import CSSCore

/// The sweep's grid order and its Pareto front of accuracy against latency.
final class ConversionSweepTests: XCTestCase {
    func point(_ latency: Int, _ accuracy: Double?, agreement: Double = 1) -> SweepPoint {
        SweepPoint(config: .default, rounds: 0, amplitudes: Amplitudes(input: 1, layers: []), latency: latency,
                   annAccuracy: accuracy, snnAccuracy: accuracy, agreement: agreement, residualP999Max: 0, overflow: 0,
                   coupling: 0, pareto: false)
    }

    func testParetoFront() {
        var points = [point(4, 0.90), point(6, 0.90), point(6, 0.95), point(8, 0.95), point(3, 0.50), point(8, 0.97),
                      point(4, 0.90)]
        ConversionSweep.markParetoFront(&points)
        // Dominated: (6, 0.90) by (4, 0.90); (8, 0.95) by (6, 0.95). Equal points are both on the front.
        XCTAssertEqual(points.map(\.pareto), [true, false, true, false, true, true, true])
    }

    func testWithoutLabelsTheFrontIsOnAgreement() {
        var points = [point(4, nil, agreement: 0.8), point(6, nil, agreement: 0.99), point(8, nil, agreement: 0.9)]
        ConversionSweep.markParetoFront(&points)
        XCTAssertEqual(points.map(\.pareto), [true, true, false])
    }

    func testGridOrderIsTThenBetaThenLThenSign() {
        let c = ConversionSweep.configurations(T: [4, 6], beta: [1.5, 2], silent: [0, 1], negative: [true, false],
                                               base: ConversionConfig(percentile: 99.9))
        XCTAssertEqual(c.count, 16)
        XCTAssertEqual(c.prefix(3).map { "\($0.T) \($0.beta) \($0.silent) \($0.negative)" },
                       ["4 1.5 0 true", "4 1.5 0 false", "4 1.5 1 true"])
        XCTAssertEqual(c.last.map { "\($0.T) \($0.beta) \($0.silent) \($0.negative)" }, "6 2.0 1 false")
        XCTAssertTrue(c.allSatisfy { $0.percentile == 99.9 })
    }
}
