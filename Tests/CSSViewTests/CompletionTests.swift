import XCTest
import CSSSnapshots
@testable import CSSView

/// Tab completes everywhere a value is expected: `:break` conditions and their layers, `:set`
/// values that are a choice, and file paths after `:w`, `:w!` and `:load` (listed by the host,
/// so the view reads no directory).
final class CompletionTests: XCTestCase {
    func state() -> ViewState {
        var s = ViewState(width: 100, height: 30, unicode: true, sample: 0,
                          hostCommands: ["theta", "set", "break", "w", "w!", "load"])
        s = update(s, .layoutArrived(Fixture.layout(), sampleCount: 4)).0
        return update(s, .traceArrived(Fixture.trace(sample: 0))).0
    }

    /// The prompt's text and the message after typing `text` at `:` and then Tab.
    func tab(_ text: String, times: Int = 1) -> (String, String?, [Command]) {
        let (s, cmds) = press(state(), [.char(":")] + chars(text) + Array(repeating: .tab, count: times))
        return (s.prompt?.text ?? "", s.message, cmds)
    }

    func testCompletion() {
        var s = loadedState()
        s = press(s, chars(":la") + [.tab]).0
        XCTAssertEqual(s.prompt?.text, "layer ")
        s = press(s, chars("co") + [.tab]).0
        XCTAssertEqual(s.prompt?.text, "layer conv")
        XCTAssertEqual(s.message, "conv1  conv2   (Tab again: each in turn)")
        s = press(s, chars("2")).0
        s = press(s, [.enter]).0
        XCTAssertEqual(s.selectedLayer, 1)
        s = press(s, chars(":layer f") + [.tab]).0
        XCTAssertEqual(s.prompt?.text, "layer fc1")
        s = press(s, [.escape]).0
        XCTAssertNil(s.prompt)
        // Custom command names complete too.
        s = press(s, chars(":th") + [.tab]).0
        XCTAssertEqual(s.prompt?.text, "theta ")
        XCTAssertEqual(complete("s", state: s).1, ["sample", "set", "sort", "speed", "step"])
    }

    func testBreakConditionsComplete() {
        XCTAssertEqual(tab("break cou").0, "break coupling ")
        XCTAssertEqual(tab("break mar").0, "break margin ")
        XCTAssertEqual(tab("break fl").0, "break flip", "a condition taking nothing more ends there")
        XCTAssertEqual(tab("break sp").0, "break spike ")
        // Several keywords: their common prefix, the candidates listed.
        let (text, message, _) = tab("break ")
        XCTAssertEqual(text, "break ")
        XCTAssertTrue(message?.contains("coupling  overflow  violation  spike") == true, message ?? "nil")
    }

    func testBreakConditionLayersComplete() {
        XCTAssertEqual(tab("break coupling fc").0, "break coupling fc1 ")
        XCTAssertEqual(tab("break spike conv2").0, "break spike conv2 ")
        XCTAssertEqual(tab("break overflow co").0, "break overflow conv")
        XCTAssertEqual(tab("break overflow co", times: 2).0, "break overflow conv1")
        XCTAssertEqual(tab("break margin <").0, "break margin < ", "margin may go without a layer")
        XCTAssertEqual(tab("break residual FC").0, "break residual fc1 ", "layers match in any case")
        XCTAssertEqual(tab("break flip x").0, "break flip x", "flip takes no layer")
        XCTAssertEqual(tab("break coupling fc1 ").0, "break coupling fc1 ", "nothing after the layer")
    }

    func testSetValuesCompleteWhereTheyAreAChoice() {
        XCTAssertEqual(tab("set negative o").0, "set negative o")
        XCTAssertEqual(tab("set negative of").0, "set negative off")
        XCTAssertEqual(tab("set rate on").0, "set rate on")
        XCTAssertEqual(tab("set RATE of").0, "set RATE off")
        let (text, message, _) = tab("set negative ")
        XCTAssertEqual(text, "set negative o", "their common prefix")
        XCTAssertTrue(message?.hasPrefix("on  off") == true, message ?? "nil")
        XCTAssertEqual(tab("set T 1").0, "set T 1", "a number is not a choice")
        XCTAssertEqual(tab("set neg").0, "set negative ")
    }

    /// Tab after a command taking a file asks the host to list the directory; the answer
    /// completes the path (a directory with its `/`), lists several, or says none matches.
    func testFilePathsCompleteFromTheHostsListing() {
        for command in ["w", "w!", "load"] {
            XCTAssertEqual(tab("\(command) samples/dig").2, [.listFiles(partial: "samples/dig")], command)
        }
        XCTAssertEqual(tab("load").2, [], "the command name itself completes as before")
        var s = press(state(), [.char(":")] + chars("load samples/digits-c") + [.tab]).0
        s = update(s, .filesListed(partial: "samples/digits-c", names: ["samples/digits-cnn/"])).0
        XCTAssertEqual(s.prompt?.text, "load samples/digits-cnn/")
        s = press(s, chars("th") + [.tab]).0
        s = update(s, .filesListed(partial: "samples/digits-cnn/th", names: ["samples/digits-cnn/theta.json",
                                                                             "samples/digits-cnn/thin.json"])).0
        XCTAssertEqual(s.prompt?.text, "load samples/digits-cnn/th")
        XCTAssertTrue(s.message?.contains("samples/digits-cnn/theta.json  samples/digits-cnn/thin.json") == true)
        s = press(s, [.tab]).0
        XCTAssertEqual(s.prompt?.text, "load samples/digits-cnn/theta.json", "a second Tab takes each in turn")
        // A listing for a path no longer typed changes nothing.
        let typedOn = press(s, chars("x")).0
        XCTAssertEqual(update(typedOn, .filesListed(partial: "samples/digits-cnn/th", names: ["a"])).0.prompt?.text,
                       "load samples/digits-cnn/theta.jsonx")
        // No match: said so, the text kept.
        var none = press(state(), [.char(":")] + chars("w nowhere/") + [.tab]).0
        none = update(none, .filesListed(partial: "nowhere/", names: [])).0
        XCTAssertEqual(none.prompt?.text, "w nowhere/")
        XCTAssertEqual(none.message, "no file matches nowhere/")
        XCTAssertTrue(none.messageIsError)
    }

    func testFileCompletionsListTheDirectoryNamed() {
        let entries: [String: [(name: String, isDirectory: Bool)]] = [
            ".": [("samples", true), ("README.md", false), (".git", true)],
            "samples/": [("digits-cnn", true), ("digits-mlp", true), ("coupling", true)],
        ]
        let list: (String) -> [(name: String, isDirectory: Bool)] = { entries[$0] ?? [] }
        XCTAssertEqual(fileCompletions("sam", list: list), ["samples/"])
        XCTAssertEqual(fileCompletions("", list: list), ["README.md", "samples/"], "hidden entries only when asked")
        XCTAssertEqual(fileCompletions(".g", list: list), [".git/"])
        XCTAssertEqual(fileCompletions("samples/digits", list: list), ["samples/digits-cnn/", "samples/digits-mlp/"])
        XCTAssertEqual(fileCompletions("nowhere/x", list: list), [])
    }
}
