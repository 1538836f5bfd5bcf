import Foundation
import XCTest
import CSSSnapshots
@testable import CSSView

/// The typed bridge between view and host: requests out, replies in, progress and cancel of a
/// long job through the real `CommandRunner`.
final class HostBridgeTests: XCTestCase {
    func hostState() -> ViewState { loadedState().with { $0.hostCommands = Keymap.hostCommandNames } }

    /// A host whose `:adjust` reports progress and then runs until its task is cancelled.
    static let patientHost: HostHandler = { call in
        guard case .adjust = call.request else { return HostReply(message: "did :\(call.request.commandName)", reload: true) }
        call.progress(0.25)
        while !Task.isCancelled { await Task.yield() }
        return HostReply(message: ":adjust cancelled; θ unchanged", isError: true)
    }

    func testProgressOnTheMessageLineAndEscCancels() async {
        let runner = CommandRunner(backend: FixtureBackend(), host: Self.patientHost)
        var (s, cmds) = press(hostState(), [.char("A")])
        XCTAssertEqual(cmds, [.host(.adjust(layer: nil, rounds: 1))])
        XCTAssertEqual(s.message, ":adjust all 1 …")
        let started = runner.perform(cmds, state: s)
        // Esc with the job running: one cancel, said on the message line.
        (s, cmds) = press(s, [.escape])
        XCTAssertEqual(cmds, [.cancelHost])
        XCTAssertEqual(s.message, "cancelling :adjust all 1 …")
        XCTAssertEqual(press(s, [.escape]).1, [], "a second Esc sends nothing more")
        runner.perform(cmds, state: s)
        for t in started { await t.value }
        let messages = runner.inbox.take()
        guard messages.count == 2, case .hostProgress(let p) = messages[0], case .hostReply = messages[1] else {
            return XCTFail("\(messages)")
        }
        XCTAssertEqual(p, 0.25)
        let during = update(s, messages[0]).0
        XCTAssertEqual(during.message, ":adjust all 1 … 25% (Esc cancels)")
        s = update(during, messages[1]).0
        XCTAssertEqual(s.message, ":adjust cancelled; θ unchanged")
        XCTAssertTrue(s.messageIsError)
        XCTAssertTrue(s.hostQueue.isEmpty)
        XCTAssertNil(s.hostProgress)
        XCTAssertEqual(press(s, [.escape]).1, [], "nothing running: Esc only clears the message")
    }

    func testTheNextChangeCancelsTheLongJobAndRunsAfterIt() async {
        let runner = CommandRunner(backend: FixtureBackend(), host: Self.patientHost)
        var (s, cmds) = press(hostState(), [.char("A")])
        var tasks = runner.perform(cmds, state: s)
        (s, cmds) = press(s, [.char("u")])
        XCTAssertEqual(cmds, [.cancelHost, .host(.undo)])
        tasks += runner.perform(cmds, state: s)
        for t in tasks { await t.value }
        let replies = runner.inbox.take().compactMap { m -> String? in
            if case .hostReply(let r) = m { return r.message }
            return nil
        }
        XCTAssertEqual(replies, [":adjust cancelled; θ unchanged", "did :undo"], "answered in the order asked")
        // A quick change is never cancelled by the next one.
        (s, cmds) = press(loadedState().with { $0.hostCommands = ["scale"] }, [.down, .char(">"), .char(">")])
        XCTAssertEqual(cmds, [.host(.scaleTheta(layer: 1, factor: 1.05)), .host(.scaleTheta(layer: 1, factor: 1.05))])
    }

    /// The reply's position brings the screen back without keys typed into the view: an open
    /// prompt stays as it was.
    func testPositionRestoredLeavesAnOpenPromptAlone() {
        var s = press(hostState(), chars(":sam")).0
        s.hostQueue = [PendingHostRequest(request: .restore, line: "restore")]
        let position = ViewPosition(sample: 2, step: 3, layer: 1, neuron: 4, focus: .raster, lowerLeft: .histogram,
                                    hotspotFilter: .coupling, playSpeed: 8)
        let (n, cmds) = update(s, .hostReply(HostReply(message: "restored", reload: true, position: position)))
        XCTAssertEqual(n.prompt?.text, "sam")
        XCTAssertEqual([n.sample, n.step, n.selectedLayer, n.neuron], [2, 3, 1, 4])
        XCTAssertEqual([n.focus, n.lowerLeft], [.raster, .histogram])
        XCTAssertEqual(n.hotspotFilter, .coupling)
        XCTAssertEqual(n.playSpeed, 8)
        XCTAssertEqual(n.message, "restored")
        XCTAssertEqual(cmds, [.cancelReport, .loadLayout, .loadTrace(sample: 2), .loadReport])
    }

    func testQuitReplyQuitsAndNoHostSaysSo() async {
        XCTAssertEqual(update(hostState(), .hostReply(HostReply(quit: true))).1, [.quit])
        var session = HeadlessSession(backend: FixtureBackend(), state: ViewState(width: 80, height: 24, hostCommands: ["memory"]))
        await session.start()
        await session.type(":memory")
        await session.press(.enter)
        XCTAssertEqual(session.hostRequests, [.memory])
        XCTAssertEqual(session.state.message, "no host serves :memory")
    }

    /// `settle` (quitting) waits for the host request in flight and returns as soon as it ends,
    /// not at the deadline; with nothing in flight it returns at once; a host that never ends is
    /// given up at the deadline.
    func testSettleWaitsForTheHostRequestInFlightAndNoLonger() async {
        let finish = Locked(false)
        let host: HostHandler = { call in
            while !finish.value { try? await Task.sleep(for: .milliseconds(1)) }
            return HostReply(message: "did :\(call.request.commandName)")
        }
        let clock = ContinuousClock()
        let runner = CommandRunner(backend: FixtureBackend(), host: host)
        let idle = clock.now
        await runner.settle(timeout: .seconds(60))
        XCTAssertLessThan(clock.now - idle, .seconds(10), "nothing in flight: no wait")

        let s = hostState()
        let tasks = runner.perform([.host(.undo)], state: s)
        let settled = Locked(false)
        let settling = Task {
            await runner.settle(timeout: .seconds(60))
            settled.value = true
        }
        try? await Task.sleep(for: .milliseconds(50))
        XCTAssertFalse(settled.value, "settle returned while the request was in flight")
        let released = clock.now
        finish.value = true
        await settling.value
        XCTAssertLessThan(clock.now - released, .seconds(10), "settle waited on after the request ended")
        for t in tasks { await t.value }

        finish.value = false
        let stuck = runner.perform([.host(.redo)], state: s)
        let start = clock.now
        await runner.settle(timeout: .milliseconds(100))
        XCTAssertGreaterThanOrEqual(clock.now - start, .milliseconds(100))
        XCTAssertLessThan(clock.now - start, .seconds(10), "settle outlasted its deadline")
        finish.value = true
        for t in stuck { await t.value }
    }
}
