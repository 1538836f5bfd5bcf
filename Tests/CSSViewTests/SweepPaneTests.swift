import XCTest
import CSSSnapshots
@testable import CSSView

/// `:sweep`: option parsing (one-line errors, nothing sent), the pane's keys (select, Enter → one
/// request with the 4 settings, Esc closes, `:sweep` reopens) and its golden screens.
final class SweepPaneTests: XCTestCase {
    func run(_ s: ViewState, _ line: String) -> (ViewState, [Command]) { press(s, chars(":" + line) + [.enter]) }

    func state(width: Int = 80, height: Int = 24) -> ViewState {
        var s = loadedState(width: width, height: height)
        s.hostCommands += ["sweep", "undo", "redo"]
        return s
    }

    /// A fixed result: T 4, 8 × L 0, 1 × negative on, off (labelled).
    static let result: SweepResult = {
        var rows: [SweepRow] = []
        var i = 0
        for t in [4, 8] {
            for l in [0, 1] {
                for n in [true, false] {
                    let c = ConversionConfig(T: t, beta: 1.5, silent: l, negative: n)
                    let snn = 0.80 + 0.02 * Double(t) - 0.01 * Double(l) + (n ? 0.03 : 0)
                    rows.append(SweepRow(config: c, latency: 3 * (t + l), annAccuracy: 0.975, snnAccuracy: snn,
                                         agreement: snn + 0.01, residualP999Max: 0.5 + Double(i) * 0.25,
                                         overflow: n ? 0 : 12 * i, coupling: l == 0 ? 40 - i : 0, pareto: false,
                                         synapticOps: Double(t * 12_345 + i * 777)))
                    i += 1
                }
            }
        }
        var front = rows
        // The front as ConversionSweep marks it: no other point as fast and as accurate.
        for k in front.indices {
            let p = rows[k]
            front[k].pareto = !rows.contains { q in
                q.latency <= p.latency && q.score >= p.score && (q.latency < p.latency || q.score > p.score)
            }
        }
        return SweepResult(rows: front, samples: 48, rounds: 0)
    }()

    func opened(width: Int = 80, height: Int = 24) -> ViewState {
        var s = run(state(width: width, height: height), "sweep -T 4,8 --silent 0,1 --negative on,off").0
        s = update(s, .hostReply(HostReply(message: "sweep: 8 points", sweep: Self.result))).0
        return s
    }

    func testSweepSendsOneRequestWithTheParsedSpec() {
        let (s, cmds) = run(state(), "sweep -T 4,8 --silent 0,1 --negative on,off --beta 1.5,2 --rounds 2 --limit 10")
        let spec = SweepSpec(T: [4, 8], beta: [1.5, 2], silent: [0, 1], negative: [true, false], rounds: 2, limit: 10)
        XCTAssertEqual(cmds.compactMap { c -> HostRequest? in if case .host(let r) = c { return r } else { return nil } }, [.job(.sweep(spec))])
        XCTAssertEqual(s.message, ":sweep -T 4,8 --silent 0,1 --negative on,off --beta 1.5,2 --rounds 2 --limit 10 …")
        XCTAssertTrue(HostRequest.job(.sweep(spec)).isCancellable)
        XCTAssertFalse(HostRequest.job(.sweep(spec)).isChange)
        // Progress as the adjustment shows it.
        let p = update(s, .hostProgress(0.4)).0
        XCTAssertEqual(p.message, ":sweep -T 4,8 --silent 0,1 --negative on,off --beta 1.5,2 --rounds 2 --limit 10 … 40% (Esc cancels)")
    }

    func testBadOptionsAreOneLineAndSendNothing() {
        let s = state()
        for (line, error) in [("sweep -T x", ":sweep: -T x: 'x' is not a whole number"),
                              ("sweep -T 4,,8", ":sweep: -T 4,,8: an empty value in the list"),
                              ("sweep -T 4,4", "'4' is listed twice"),
                              ("sweep --negative maybe", "'maybe' is not on or off"),
                              ("sweep --beta 1", "β must be more than 1"),
                              ("sweep -T 400", ":sweep: -T 400:"),
                              ("sweep --rounds 0", "--rounds 0: must be between 1 and 100"),
                              ("sweep --color red", "--color: unknown option"),
                              ("sweep -T", ":sweep: -T: needs a value"),
                              ("sweep -T 4 -T 8", "given twice"),
                              ("sweep", "no sweep yet")] {
            let (t, cmds) = run(s, line)
            XCTAssertTrue(t.messageIsError, line)
            XCTAssertTrue(t.message?.contains(error) == true, "\(line): \(t.message ?? "nil")")
            XCTAssertFalse(t.message?.contains("\n") == true)
            XCTAssertFalse(cmds.contains { if case .host = $0 { return true } else { return false } }, line)
            XCTAssertEqual(t.overlay, .none)
            XCTAssertNil(t.sweep)
        }
    }

    func testTheReplyOpensThePaneOnTheFirstParetoPoint() {
        let s = opened()
        XCTAssertEqual(s.overlay, .sweep)
        XCTAssertEqual(s.sweep, Self.result)
        XCTAssertEqual(s.sweepRow, Self.result.rows.firstIndex(where: \.pareto))
        XCTAssertTrue(s.hostQueue.isEmpty)
    }

    func testSelectEnterEscAndReopen() {
        var s = opened()
        s.sweepRow = 0
        s = press(s, [.down, .char("j"), .char("j")]).0
        XCTAssertEqual(s.sweepRow, 3)
        s = press(s, [.up]).0
        XCTAssertEqual(s.sweepRow, 2)
        s = press(s, [.char("G")]).0
        XCTAssertEqual(s.sweepRow, 7)
        s = press(s, [.down]).0
        XCTAssertEqual(s.sweepRow, 7)
        s = press(s, [.char("g"), .char("k")]).0
        XCTAssertEqual(s.sweepRow, 0)
        // Keys of the main screen do not leak through.
        XCTAssertEqual(press(s, [.char("n")]).0.sample, s.sample)
        s = press(s, [.down, .down]).0
        let (t, cmds) = press(s, [.enter])
        let hosts = cmds.compactMap { c -> HostRequest? in if case .host(let r) = c { return r } else { return nil } }
        XCTAssertEqual(hosts, [.setAll([.T(4), .beta(1.5), .silent(1), .negative(true)])])
        XCTAssertTrue(hosts[0].isChange)
        XCTAssertEqual(t.overlay, .none)
        // Esc closes without a request; :sweep reopens the same result with the selection kept.
        let (closed, none) = press(s, [.escape])
        XCTAssertEqual(closed.overlay, .none)
        XCTAssertTrue(none.isEmpty)
        XCTAssertEqual(press(s, [.char("q")]).0.overlay, .none)
        let (again, more) = run(closed, "sweep")
        XCTAssertEqual(again.overlay, .sweep)
        XCTAssertEqual(again.sweepRow, 2)
        XCTAssertTrue(more.isEmpty)
    }

    func testAChangeWhileASweepRunsCancelsIt() {
        let s = run(state(), "sweep -T 4,8").0
        let (_, cmds) = run(s, "set T 6")
        XCTAssertTrue(cmds.contains { if case .cancelHost = $0 { return true } else { return false } })
        let (_, esc) = press(s, [.escape])
        XCTAssertTrue(esc.contains { if case .cancelHost = $0 { return true } else { return false } })
    }

    func testGoldenSweep80x24() { assertGolden(Screen.render(opened()), "sweep_80x24") }
    func testGoldenSweep160x48() { assertGolden(Screen.render(opened(width: 160, height: 48)), "sweep_160x48") }

    func testASCIIHasNoUnknownGlyphs() {
        var s = opened()
        s.unicode = false
        let text = Screen.render(s).text().dropFirst(2).dropLast()
        XCTAssertFalse(text.joined().contains("?"), text.joined(separator: "\n"))
    }
}
