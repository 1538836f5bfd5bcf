import Foundation
import XCTest
import CSSSnapshots
@testable import CSSView

/// Before/after numbers across θ changes: the report shown, the previous one, stale marks.
final class BeforeAfterTests: XCTestCase {
    func testReportsThroughTwoChanges() {
        var s = loadedState().with { $0.hostCommands = tuningCommands }
        let base = Fixture.report()
        XCTAssertEqual(s.baselineReport, base)
        XCTAssertNil(s.previousReport)
        XCTAssertNil(s.comparisonReport)
        XCTAssertEqual(s.reloadCount, 0)

        // The host applied a change: everything is fetched again, old numbers stay (stale).
        var cmds: [Command]
        (s, cmds) = update(s, .reload)
        XCTAssertEqual(cmds, [.cancelReport, .loadLayout, .loadTrace(sample: 0), .loadReport])
        XCTAssertTrue(s.reportStale)
        XCTAssertTrue(s.traceStale)
        XCTAssertEqual(s.reportProgress, 0)
        XCTAssertEqual(s.report, base)
        XCTAssertNil(s.previousReport)
        XCTAssertEqual(s.reloadCount, 1)
        s = update(s, .layoutArrived(Fixture.layout(), sampleCount: 4)).0
        s = update(s, .traceArrived(TunedFixture.trace(sample: 0, factor: 1.05))).0
        XCTAssertFalse(s.traceStale)
        XCTAssertTrue(s.reportStale)
        s = update(s, .progress(0.5)).0

        // The new report arrives: the old one becomes "previous", the first stays the baseline.
        let r1 = TunedFixture.report(round: 1)
        s = update(s, .reportArrived(r1)).0
        XCTAssertFalse(s.reportStale)
        XCTAssertNil(s.reportProgress)
        XCTAssertEqual(s.report, r1)
        XCTAssertEqual(s.previousReport, base)
        XCTAssertEqual(s.baselineReport, base)
        XCTAssertEqual(s.comparisonReport, base)

        // Re-running the report without a change does not move "previous".
        s = press(s, [.char("r")]).0
        s = update(s, .reportArrived(r1)).0
        XCTAssertEqual(s.previousReport, base)

        // Second change.
        s = update(s, .reload).0
        XCTAssertNil(s.comparisonReport)  // deltas hidden while recomputing
        let r2 = TunedFixture.report(round: 2)
        s = update(s, .reportArrived(r2)).0
        XCTAssertEqual(s.previousReport, r1)
        XCTAssertEqual(s.baselineReport, base)
        XCTAssertEqual(s.reloadCount, 2)
    }

    func testTwoReloadsBeforeTheReportCompareWithWhatWasShown() {
        var s = loadedState()
        s = update(s, .reload).0
        s = update(s, .reload).0  // the first recomputation was cancelled
        s = update(s, .reportArrived(TunedFixture.report(round: 2))).0
        XCTAssertEqual(s.previousReport, Fixture.report())
        XCTAssertEqual(s.reloadCount, 2)
    }

    func testFailedRecomputationStaysStale() {
        var s = loadedState(width: 120, height: 30)
        s = update(s, .reload).0
        s = update(s, .backendFailed("report: out of memory")).0
        XCTAssertTrue(s.reportStale)
        XCTAssertNil(s.reportProgress)
        s = update(s, .traceArrived(Fixture.trace(sample: 0))).0
        let g = Screen.render(s.with { $0.overlay = .none })
        XCTAssertTrue(g.text()[1].contains("report stale, r recomputes"))
        var cmds: [Command]
        (s, cmds) = press(s.with { $0.overlay = .none }, [.char("r")])
        XCTAssertEqual(cmds, [.loadReport])
        s = update(s, .reportArrived(TunedFixture.report(round: 1))).0
        XCTAssertEqual(s.previousReport, Fixture.report())
    }

    func testLayerDeltas() {
        let s = tunedState()
        let d0 = LayerListPane.rowData(s, row: 1)
        XCTAssertEqual(d0.p999Delta.text, "-.500")
        XCTAssertEqual(d0.p999Delta.role, .better)
        XCTAssertEqual(d0.overflowDelta.text, "-4")
        XCTAssertEqual(d0.overflowDelta.role, .better)
        XCTAssertEqual(d0.couplingDelta.text, "0")
        XCTAssertEqual(d0.couplingDelta.role, .dim)
        XCTAssertEqual(d0.thetaDelta.text, "+5.0%")
        let d1 = LayerListPane.rowData(s, row: 2)
        XCTAssertEqual(d1.couplingDelta.text, "+2")
        XCTAssertEqual(d1.couplingDelta.role, .worse)
        XCTAssertEqual(d1.thetaDelta.text, "0")
        XCTAssertFalse(d1.spikesStale)
    }

    func testStaleNumbersWhileRecomputing() {
        var s = loadedState()
        s = update(s, .reload).0
        var d = LayerListPane.rowData(s, row: 1)
        XCTAssertEqual(d.p999Role, .dim)
        XCTAssertEqual(d.overflowRole, .dim)
        XCTAssertEqual(d.thetaRole, .dim)
        XCTAssertTrue(d.spikesStale)
        XCTAssertEqual(d.thetaDelta.text, "")
        // The fresh trace already knows the new θ: shown (not dim) with its change.
        s = update(s, .traceArrived(TunedFixture.trace(sample: 0, factor: 1.05))).0
        d = LayerListPane.rowData(s, row: 1)
        XCTAssertEqual(d.thetaRole, .normal)
        XCTAssertEqual(d.theta, "0.105")
        XCTAssertEqual(d.thetaDelta.text, "+5.0%")
        XCTAssertEqual(d.p999Role, .dim)
        XCTAssertEqual(d.p999Delta.text, "")
        XCTAssertFalse(d.spikesStale)
        let status = Screen.render(update(s, .progress(0.25)).0).text()[1]
        XCTAssertTrue(status.contains("recomputing"), status)
    }

    func testStatusDeltasAndIndicator() {
        var s = tunedState(width: 120, height: 30)
        var line = Screen.render(s).text()[1]
        XCTAssertTrue(line.contains("SNN 75.0% (-25.0 / -25.0)"), line)
        XCTAssertTrue(line.contains("agree 75.0% (-25.0 / -25.0)"), line)
        XCTAssertTrue(Screen.render(s).text()[0].contains("tuning: 1 reload "))
        // Second change: back to 100%: +25 against the previous, 0 against the baseline.
        s = update(s, .reload).0
        s = update(s, .reportArrived(TunedFixture.report(round: 2))).0
        line = Screen.render(s).text()[1]
        XCTAssertTrue(line.contains("SNN 100.0% (+25.0 / 0)"), line)
        XCTAssertTrue(Screen.render(s).text()[0].contains("tuning: 2 reloads "))
        // The host's own count wins.
        s = update(s, .tuningStatus(TuningStatus(changes: 1, redoable: 1))).0
        XCTAssertTrue(Screen.render(s).text()[0].contains("tuning: 1 change, 1 undone"))
        XCTAssertEqual(StatusPane.percentDigits(10_000), 2)
    }
}
