import CSSCore
import XCTest

/// The one number formatter of messages, errors, tables and JSON (`plainNumber`).
final class PlainNumberTests: XCTestCase {
    func testWholeNumbersHaveNoFractionAndOthersReadAsTyped() {
        XCTAssertEqual(plainNumber(4), "4")
        XCTAssertEqual(plainNumber(-3), "-3")
        XCTAssertEqual(plainNumber(0), "0")
        XCTAssertEqual(plainNumber(1.5), "1.5")
        XCTAssertEqual(plainNumber(99.99), "99.99")
        XCTAssertEqual(plainNumber(0.031169434826336488), "0.031169434826336488")
        XCTAssertEqual(plainNumber(1e14), "100000000000000")
        XCTAssertEqual(plainNumber(1e15), "1000000000000000.0")
        XCTAssertEqual(plainNumber(.infinity), "inf")
        XCTAssertEqual(plainNumber(-.infinity), "-inf")
        XCTAssertEqual(plainNumber(.nan), "nan")
    }

    func testFractionDigitsRoundOnlyLongForms() {
        XCTAssertEqual(plainNumber(0.031169434826336488, fractionDigits: 6), "0.031169")
        XCTAssertEqual(plainNumber(-2.0000004, fractionDigits: 6), "-2.0")
        XCTAssertEqual(plainNumber(0.125, fractionDigits: 6), "0.125")
        XCTAssertEqual(plainNumber(1.5, fractionDigits: 1), "1.5")
        XCTAssertEqual(plainNumber(1.25, fractionDigits: 1), "1.3")
        XCTAssertEqual(plainNumber(7, fractionDigits: 6), "7")
        // Too large to round through an integer: left as it is rather than trapping.
        XCTAssertEqual(plainNumber(2e13 + 0.5, fractionDigits: 6), String(2e13 + 0.5))
        XCTAssertEqual(plainNumber(.nan, fractionDigits: 6), "nan")
    }
}
