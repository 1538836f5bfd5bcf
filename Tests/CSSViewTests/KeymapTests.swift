import Foundation
import XCTest
import CSSSnapshots
@testable import CSSView

/// The key table is the one source of keys and commands: the tables in docs/debugger.md, help and dispatch.
final class KeymapTests: XCTestCase {
    static let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/debugger.md")

    /// The text between `<!-- keymap:NAME -->` and `<!-- /keymap:NAME -->` in docs/debugger.md.
    func section(_ name: String) throws -> String {
        let text = try String(contentsOf: Self.page, encoding: .utf8)
        let open = "<!-- keymap:\(name) -->", close = "<!-- /keymap:\(name) -->"
        let start = try XCTUnwrap(text.range(of: open), "docs/debugger.md has no \(open) marker")
        let end = try XCTUnwrap(text.range(of: close, range: start.upperBound..<text.endIndex), "docs/debugger.md has no \(close)")
        return text[start.upperBound..<end.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// With CSSDBG_UPDATE_DOCS=1 the tables are written into docs/debugger.md instead of compared
    /// (then review the diff): `CSSDBG_UPDATE_DOCS=1 swift test --skip-build --filter KeymapTests`.
    func updateIfAsked(_ name: String, _ expected: String) throws {
        guard ProcessInfo.processInfo.environment["CSSDBG_UPDATE_DOCS"] == "1" else { return }
        var text = try String(contentsOf: Self.page, encoding: .utf8)
        let open = "<!-- keymap:\(name) -->", close = "<!-- /keymap:\(name) -->"
        let start = try XCTUnwrap(text.range(of: open)), end = try XCTUnwrap(text.range(of: close))
        text.replaceSubrange(start.upperBound..<end.lowerBound, with: "\n" + expected + "\n")
        try text.write(to: Self.page, atomically: true, encoding: .utf8)
    }

    func testDocsKeyTableIsTheKeymap() throws {
        let expected = Keymap.keysMarkdown()
        try updateIfAsked("keys", expected)
        let found = try section("keys")
        XCTAssertEqual(found, expected, "docs/debugger.md's key table differs from Keymap.keys; paste this between the markers:\n\(expected)\n")
    }

    func testDocsCommandTableIsTheKeymap() throws {
        let expected = Keymap.commandsMarkdown()
        try updateIfAsked("commands", expected)
        let found = try section("commands")
        XCTAssertEqual(found, expected, "docs/debugger.md's command table differs from Keymap.commands; paste this between the markers:\n\(expected)\n")
    }

    /// No key means two things in one place: each (pane, key) is bound once.
    func testEveryKeyIsBoundOncePerPane() {
        var seen: [String: String] = [:]
        for e in Keymap.keys {
            for b in e.bindings {
                let where_ = e.pane.map(\.commandName) ?? "global"
                let id = "\(where_) \(b.key)"
                XCTAssertNil(seen[id], "\(id) is bound by \(seen[id] ?? "") and \(e.label)")
                seen[id] = e.label
            }
        }
    }

    func testCommandNamesAndAliasesAreUnique() {
        let all = Keymap.commands.flatMap { [$0.name] + $0.aliases }
        XCTAssertEqual(all.count, Set(all).count, all.joined(separator: " "))
    }

    /// Help lists exactly the live entries: a host key disappears with its command.
    func testHelpFollowsTheTable() {
        let s = loadedState(width: 80, height: 24)
        let lines = HelpOverlay.lines(s)
        XCTAssertFalse(lines.contains { $0.hasPrefix("> / <") }, "no :scale, no > / < in help")
        XCTAssertTrue(HelpOverlay.lines(s.with { $0.hostCommands = ["scale"] }).contains { $0.hasPrefix("> / <") })
        for e in Keymap.keys where e.host == nil {
            XCTAssertTrue(lines.contains { $0.hasPrefix(HelpOverlay.forScreen(e.label, s)) }, e.label)
        }
    }

    /// Host commands parse to typed requests; usage errors are `CommandError`s naming the command.
    func testHostRequestParsing() throws {
        let layout = Fixture.layout()
        XCTAssertEqual(try HostRequest.parse("adjust all 3", layout: layout), .adjust(layer: nil, rounds: 3))
        XCTAssertEqual(try HostRequest.parse("adjust conv2", layout: layout), .adjust(layer: 1, rounds: 1))
        XCTAssertEqual(try HostRequest.parse("set rate on", layout: layout), .set(.rate(true)))
        XCTAssertEqual(try HostRequest.parse("w! out.json", layout: layout), .write(path: "out.json", force: true))
        XCTAssertEqual(try HostRequest.parse("reset", layout: nil), .reset(layer: nil))
        XCTAssertThrowsError(try HostRequest.parse("scale conv1 -1", layout: layout)) { e in
            XCTAssertEqual(e as? CommandError, CommandError(":scale: factor must be positive"))
        }
        XCTAssertThrowsError(try HostRequest.parse("adjust input", layout: layout)) { e in
            XCTAssertEqual("\(e)", ":adjust: A.3 adjusts spiking layers, not the encoder")
        }
        XCTAssertThrowsError(try HostRequest.parse("sample 3", layout: layout)) { e in
            XCTAssertEqual("\(e)", "unknown command :sample")
        }
    }
}

/// `H`: the selected layer's worst hotspot, one key away.
final class WorstHotspotKeyTests: XCTestCase {
    func testHJumpsToTheSelectedLayersWorstHotspot() throws {
        let report = Fixture.report()
        let s = press(loadedState(), [.down]).0
        XCTAssertEqual(s.selectedLayer, 1)
        let worst = try XCTUnwrap(report.hotspots.first { $0.layer == 1 })
        let (n, cmds) = press(s, [.char("H")])
        XCTAssertEqual(n.hotspotLayer, 1)
        XCTAssertEqual(n.selectedHotspot, worst)
        XCTAssertEqual([n.sample, n.selectedLayer, n.neuron], [worst.sample, 1, worst.neuron])
        XCTAssertEqual(n.step, report.layout.layers[1].windowStart + worst.firstViolationStep)
        XCTAssertEqual(n.lowerRight, .inspector)
        XCTAssertEqual(cmds, worst.sample == s.sample ? [] : [.loadTrace(sample: worst.sample)])
        XCTAssertEqual(n.message?.hasPrefix("hotspot 1: \(worst.kind.rawValue) in conv2"), true, n.message ?? "")
        // With the coupling filter, the worst coupling case of that layer.
        let c = press(s.with { $0.hotspotFilter = .coupling }, [.char("H")]).0
        if let cpl = report.hotspots.first(where: { $0.layer == 1 && $0.kind == .coupling }) {
            XCTAssertEqual(c.selectedHotspot, cpl)
        } else {
            XCTAssertEqual(c.message, "no coupling hotspots in conv2")
        }
    }

    func testHNeedsASpikingLayerAndAReport() {
        let (n, cmds) = press(press(loadedState(), [.up]).0, [.char("H")])
        XCTAssertTrue(n.isEncoderSelected)
        XCTAssertTrue(cmds.isEmpty)
        XCTAssertEqual(n.message, "select a spiking layer first (j/k): H jumps to its worst hotspot")
        var noReport = loadedState().with { $0.report = nil }
        noReport = press(noReport, [.down, .char("H")]).0
        XCTAssertEqual(noReport.message, "no data-set report yet: H needs its hotspots (r computes it)")
        XCTAssertTrue(noReport.messageIsError)
    }
}
