import XCTest
@testable import CSSView

/// The headless commands' progress line: time spent and an estimate of the time left.
final class ProgressEstimateTests: XCTestCase {
    func testEstimateFollowsThePaceSoFar() {
        XCTAssertEqual(ProgressEstimate.remaining(fraction: 0.25, elapsed: 10)!, 30, accuracy: 1e-9)
        XCTAssertEqual(ProgressEstimate.remaining(fraction: 0.5, elapsed: 60)!, 60, accuracy: 1e-9)
        XCTAssertNil(ProgressEstimate.remaining(fraction: 0.01, elapsed: 10), "too early: 1% done")
        XCTAssertNil(ProgressEstimate.remaining(fraction: 0.5, elapsed: 0.2), "too early: under a second")
        XCTAssertNil(ProgressEstimate.remaining(fraction: 1, elapsed: 10), "done")
        XCTAssertNil(ProgressEstimate.remaining(fraction: .nan, elapsed: 10))
    }

    func testLineReadsPercentTimeAndTimeLeft() {
        XCTAssertEqual(ProgressEstimate.line("sweeping 12 points", fraction: 0.42, elapsed: 31),
                       "sweeping 12 points 42% · 31 s, about 43 s left")
        XCTAssertEqual(ProgressEstimate.line("simulating", fraction: 0.005, elapsed: 0.4), "simulating 0% · 1 s")
        XCTAssertEqual(ProgressEstimate.line("searching latency 9: 3 of 8 configurations", fraction: nil, elapsed: 75,
                                             remaining: 4000),
                       "searching latency 9: 3 of 8 configurations · 1 min 15 s, about 1 h 06 min left")
    }

    func testDurations() {
        XCTAssertEqual(ProgressEstimate.duration(0), "0 s")
        XCTAssertEqual(ProgressEstimate.duration(7.2), "8 s")
        XCTAssertEqual(ProgressEstimate.duration(125), "2 min 05 s")
        XCTAssertEqual(ProgressEstimate.duration(3600), "1 h 00 min")
        XCTAssertEqual(ProgressEstimate.duration(-3), "0 s")
    }
}
