import XCTest
import CSSSnapshots
@testable import CSSView

/// `:attribution`, `:doctor` and `:anytime`: what is sent to the host, the keys of their views
/// (select, Enter jumps to a layer's worst hotspot or adopts a proposal as one change, Esc
/// closes) and their golden screens.
final class AnalysisViewTests: XCTestCase {
    func run(_ s: ViewState, _ line: String) -> (ViewState, [Command]) { press(s, chars(":" + line) + [.enter]) }

    func state(width: Int = 80, height: Int = 24) -> ViewState {
        var s = loadedState(width: width, height: height)
        s.hostCommands += ["attribution", "doctor", "undo"]
        return s
    }

    static func hostRequests(_ cmds: [Command]) -> [HostRequest] {
        cmds.compactMap { if case .host(let r) = $0 { return r } else { return nil } }
    }

    /// The fixture's report with an attribution of three layers (one of them the culprit of most).
    static func attributed(_ s: ViewState) -> DatasetReport {
        var r = s.report!
        r.attribution = AttributionReport(decoupledAccuracy: [0.5, 0.9125, 0.25], decoupledAgreement: [0.5, 0.9125, 0.25],
                                          exactPrefixAccuracy: [0.25, 0.5, 0.975, 1], exactPrefixAgreement: [0.25, 0.5, 0.975, 1],
                                          culpritSamples: [1, 2, 0], unresolved: 1, byLabels: true)
        return r
    }

    static let doctor = DoctorResult(
        findings: [DoctorFinding(kind: .summary, layer: nil, text: "loses 75.0 points: SNN accuracy 25.0 % against the ANN's 100.0 % at latency 14 (T 10, L 1, negative spikes on)"),
                   DoctorFinding(kind: .overflow, layer: 1, text: "hidden.relu2 overflows in 12345 cases: θ is too small (A.3 raises it ×1.24)"),
                   DoctorFinding(kind: .coupling, layer: 2, text: "coupling in out.relu3 costs up to 50.0 points (decoupled alone: out.relu3 +25.0): a longer silent period or more T reduce it")],
        proposals: [DoctorProposal(config: ConversionConfig(T: 5, silent: 0), rounds: 3,
                                   amplitudes: Amplitudes(input: 0.1, layers: [0.2, 0.3, 0.4]), latency: 5, score: 0.9917,
                                   synapticOps: 960575, lossless: true, why: "recommended"),
                    DoctorProposal(config: ConversionConfig(T: 4, silent: 0), rounds: 0,
                                   amplitudes: Amplitudes(input: 0.1, layers: [0.2, 0.3, 0.4]), latency: 4, score: 0.9889,
                                   synapticOps: 780432, lossless: false, why: "Pareto front")],
        samples: 4, evaluated: 29, complete: true, byLabels: true)

    func attributionOpened(width: Int = 80, height: Int = 24) -> ViewState {
        let s = state(width: width, height: height)
        let (asked, cmds) = run(s, "attribution")
        XCTAssertEqual(Self.hostRequests(cmds), [.job(.attribution)])
        XCTAssertTrue(HostRequest.job(.attribution).isCancellable)
        XCTAssertFalse(HostRequest.job(.attribution).isChange)
        return update(asked, .hostReply(HostReply(message: "attribution: done", job: .attribution(Self.attributed(s))))).0
    }

    func testAttributionAsksTheHostAndOpensOnItsAnswer() {
        let s = attributionOpened()
        XCTAssertEqual(s.overlay, .attribution)
        XCTAssertEqual(s.analysis.attributionRow, 0)
        // :attribution again with the same θ and config reopens it without a new job.
        let closed = press(s, [.escape]).0
        XCTAssertEqual(closed.overlay, .none)
        let (again, cmds) = run(closed, "attribution")
        XCTAssertEqual(again.overlay, .attribution)
        XCTAssertEqual(Self.hostRequests(cmds), [])
        XCTAssertEqual(run(closed, "attribution x").0.message, "usage: :attribution")
    }

    func testEnterOnALayerSelectsItAndItsWorstHotspot() {
        var s = attributionOpened()
        s = press(s, [.down, .down, .up]).0
        XCTAssertEqual(s.analysis.attributionRow, 1)
        s = press(s, [.enter]).0
        XCTAssertEqual(s.overlay, .none)
        XCTAssertEqual(s.selectedLayer, 1)
        XCTAssertEqual(s.hotspotLayer, 1)
        if let r = s.report, !s.visibleHotspots.isEmpty {
            XCTAssertEqual(r.hotspots[s.visibleHotspots[s.hotspot]].layer, 1, "the worst hotspot of that layer")
        }
    }

    func testDoctorSendsItsToleranceAndRefusesABadOne() {
        let (_, cmds) = run(state(), "doctor 1.5")
        XCTAssertEqual(Self.hostRequests(cmds), [.job(.doctor(DoctorSpec(tolerance: 1.5)))])
        let (bad, none) = run(state(), "doctor lots")
        XCTAssertEqual(Self.hostRequests(none), [])
        XCTAssertTrue(bad.messageIsError)
        XCTAssertEqual(bad.message, ":doctor: tolerance must be a number of percentage points from 0 to 100, got lots")
    }

    func doctorOpened(width: Int = 80, height: Int = 24) -> ViewState {
        let asked = run(state(width: width, height: height), "doctor").0
        return update(asked, .hostReply(HostReply(message: "doctor: lossless at latency 5", job: .doctor(Self.doctor)))).0
    }

    func testDoctorEnterAdoptsAProposalAsOneChangeAndJumpsFromAFinding() {
        var s = doctorOpened()
        XCTAssertEqual(s.overlay, .doctor)
        XCTAssertEqual(s.analysis.doctorRow, 3, "opens on the recommendation")
        let (adopted, cmds) = press(s, [.enter])
        let p = Self.doctor.proposals[0]
        XCTAssertEqual(Self.hostRequests(cmds), [.adopt(TuningState(config: p.config, amplitudes: p.amplitudes),
                                                        label: "doctor: T 5 L 0 negative on, 3 A.3 rounds")])
        XCTAssertTrue(HostRequest.adopt(TuningState(config: p.config, amplitudes: p.amplitudes), label: "").isChange)
        XCTAssertEqual(adopted.overlay, .none)
        // A finding about a layer: Enter selects it.
        s = press(s, [.up, .up]).0
        XCTAssertEqual(s.analysis.doctorRow, 1)
        s = press(s, [.enter]).0
        XCTAssertEqual(s.overlay, .none)
        XCTAssertEqual(s.selectedLayer, 1)
    }

    func testAnytimeNeedsAReport() {
        let none = run(loadedState(width: 80, height: 24, report: false), "anytime").0
        XCTAssertEqual(none.message, ":anytime: no data-set report yet (r computes it)")
        var s = state()
        s.report?.anytime = AnytimeReport(slotPredictions: [0, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                                            2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
                                                            0, 0, 0, 3, 3, 3, 3, 3, 3, 3,
                                                            1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
                                          T: 10, labels: [1, 2, 3, 0], ann: [1, 2, 3, 1])
        let opened = run(s, "anytime").0
        XCTAssertEqual(opened.overlay, .anytime)
        // Stepping works under the chart; Esc closes it.
        let stepped = press(opened, [.char("n")]).0
        XCTAssertEqual(stepped.step, opened.step + 1)
        XCTAssertEqual(stepped.overlay, .anytime)
        XCTAssertEqual(press(stepped, [.escape]).0.overlay, .none)
    }

    func anytimeOpened(width: Int, height: Int) -> ViewState {
        var s = state(width: width, height: height)
        s.report?.anytime = AnytimeReport(accuracy: [0.25, 0.5, 0.5, 0.75, 0.75, 0.75, 1, 1, 1, 1],
                                          agreement: [0.25, 0.5, 0.5, 0.75, 0.75, 0.75, 1, 1, 1, 1],
                                          settledBySlot: [0, 1, 1, 2, 2, 2, 4, 4, 4, 4])
        return press(run(s, "anytime").0, [.char("n"), .char("n"), .char("n")]).0
    }

    func testGoldenAttribution80x24() { assertGolden(Screen.render(attributionOpened()), "attribution_80x24") }
    func testGoldenAttribution160x48() { assertGolden(Screen.render(attributionOpened(width: 160, height: 48)), "attribution_160x48") }
    func testGoldenDoctor80x24() { assertGolden(Screen.render(doctorOpened()), "doctor_80x24") }
    func testGoldenDoctor160x48() { assertGolden(Screen.render(doctorOpened(width: 160, height: 48)), "doctor_160x48") }
    func testGoldenAnytime80x24() { assertGolden(Screen.render(anytimeOpened(width: 80, height: 24)), "anytime_80x24") }
    func testGoldenAnytime160x48() { assertGolden(Screen.render(anytimeOpened(width: 160, height: 48)), "anytime_160x48") }
}

/// The layer list's operation columns (`E`) and the energy in the status line (docs/numerics.md §13).
final class OperationColumnsTests: XCTestCase {
    static func state(width: Int, height: Int) -> ViewState {
        var s = loadedState(width: width, height: height)
        s.report?.operations = OperationReport(
            nodes: [NodeOperations(name: "conv1", layer: 0, macs: 9216, synapticOps: 28567.2),
                    NodeOperations(name: "conv2", layer: 1, macs: 1_474_560, synapticOps: 3_026_092.4),
                    NodeOperations(name: "fc1", layer: 2, macs: 73_728, synapticOps: 212_907.4),
                    NodeOperations(name: "fc2", layer: nil, macs: 320, synapticOps: 1992.1)],
            neuronSteps: [11264, 11264, 5632])
        return s
    }

    func testEShowsMACsAndSynapticOperationsAndTheStatusLineTheEnergy() {
        let s = Self.state(width: 160, height: 48)
        let plain = Screen.render(s).text()
        XCTAssertFalse(plain[3].contains("MACs"), plain[3])
        XCTAssertTrue(plain[1].contains("E SNN 2.94 µJ / ANN 7.17 µJ"), plain[1])
        let (on, _) = press(s, [.char("E")])
        XCTAssertTrue(on.analysis.operations)
        let text = Screen.render(on).text()
        let header = text.first { $0.contains("layer") && $0.contains("MACs") } ?? ""
        XCTAssertTrue(header.contains("synop") && header.contains("s/M"), header)
        // Counts that do not fit their column are shortened with a unit, never cut.
        XCTAssertTrue(text.contains { $0.contains(" 1.5M ") && $0.contains(" 3.0M ") && $0.contains(" 2.05") },
                      text.prefix(14).joined(separator: "\n"))
        XCTAssertFalse(press(on, [.char("E")]).0.analysis.operations)
    }

    func testOperationColumnsKeepCouplingAndThetaAt80Columns() {
        let (s, _) = press(Self.state(width: 80, height: 24), [.char("E")])
        let header = Screen.render(s).text().first { $0.contains("layer") && $0.contains("cpl") } ?? ""
        XCTAssertTrue(header.contains("θ"), header)
        assertGolden(Screen.render(s), "operations_80x24")
    }
}
