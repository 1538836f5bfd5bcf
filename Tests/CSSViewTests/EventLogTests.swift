import CSSSnapshots
@testable import CSSView
import Foundation
import XCTest

final class EventLogTests: XCTestCase {
    func testLinesAreTimestampedInOrderAndABadPathIsNamed() throws {
        let path = NSTemporaryDirectory() + "cssdbg-events-\(getpid()).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let log = try EventLog(path: path)
            log.record("key", "j")
            log.record("frame")
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasSuffix(" key j"), String(lines[0]))
        XCTAssertTrue(lines[1].hasSuffix(" frame"), String(lines[1]))
        let t = lines.map { Double($0.split(separator: " ")[0])! }
        XCTAssertLessThanOrEqual(t[0], t[1])
        XCTAssertThrowsError(try EventLog(path: "/nonexistent-dir/x.log")) {
            XCTAssertTrue("\($0)".contains("/nonexistent-dir/x.log"))
        }
    }

    /// The terminal loop stops waiting for a key when a result is posted.
    func testEveryPostedMessageWakesTheLoop() {
        let woken = Locked(0)
        let box = MessageBox(wake: { woken.withLock { $0 += 1 } })
        box.append(.info("a"))
        box.append(.info("b"))
        XCTAssertEqual(woken.value, 2)
        XCTAssertEqual(box.take().count, 2)
    }
}
