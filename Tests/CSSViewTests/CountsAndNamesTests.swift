import XCTest
import CSSSnapshots
@testable import CSSView
import TestSupport

/// Bugs 1 and 6 of issue 14: counts are shortened with a unit, never cut, and layer names stay
/// distinct at every width.
final class CountsAndNamesTests: XCTestCase {
    /// The value a shortened count stands for (`9.7k` → 9700).
    func value(_ text: String) -> Double? {
        let units: [Character: Double] = ["k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12]
        var t = text
        var scale = 1.0
        if let u = t.last, let f = units[u] { scale = f; t.removeLast() }
        if t.hasPrefix("+") { t.removeFirst() }
        return Double(t).map { $0 * scale }
    }

    func testCountsFitTheirWidthAndKeepTheirValue() {
        var rng = SplitMix(14)
        var values = [0, 1, 9, 10, 99, 999, 1000, 9741, 9999, 10_000, 99_949, 99_950, 99_999, 100_000, 999_499,
                      999_500, 999_999, 1_000_000, 9_949_999, 9_950_000, 9_999_999, 123_456_789, 999_999_999_999]
        for _ in 0..<2000 { values.append(Int(rng.next() % 10_000_000_000) >> Int(rng.next() % 34)) }
        for v in values {
            for n in [v, -v] {
                for signed in [false, true] {
                    for width in 1...9 {
                        let text = Fmt.count(n, width: width, signed: signed)
                        // Four columns hold every count, five every signed one.
                        let needed = n < 0 || (signed && n > 0) ? 5 : 4
                        if width >= needed { XCTAssertLessThanOrEqual(text.count, width, "\(n) in \(width)") }
                        if String(n.magnitude).count + (n < 0 || (signed && n > 0) ? 1 : 0) <= width {
                            XCTAssertEqual(text, (signed && n > 0 ? "+" : "") + String(n), "exact when it fits")
                        }
                        guard let parsed = value(text) else { return XCTFail("\(text) is not a count") }
                        guard width >= needed else { continue }
                        XCTAssertEqual(parsed.sign == .minus && parsed != 0, n < 0, text)
                        // Rounded, never cut: within half a unit of the last digit shown, and at
                        // worst 5% off (one decimal of k/M/G, or two significant digits).
                        XCTAssertLessThanOrEqual(abs(parsed - Double(n)), max(0.5, 0.05 * Double(n.magnitude)),
                                                 "\(n) shown as \(text)")
                    }
                }
            }
        }
        XCTAssertEqual(Fmt.count(-9741, width: 5, signed: true), "-9741")
        XCTAssertEqual(Fmt.count(-9741, width: 4, signed: true), "-10k")
        XCTAssertEqual(Fmt.count(-97_410, width: 5, signed: true), "-97k")
        XCTAssertEqual(Fmt.count(9886), "9886")
        XCTAssertEqual(Fmt.count(19_999), "20k")
        XCTAssertEqual(Fmt.count(12_345, width: 5), "12345")
        XCTAssertEqual(Fmt.count(9_741_234), "9.7M")
        XCTAssertEqual(Fmt.count(999_999), "1.0M")
        XCTAssertEqual(Fmt.count(-9_999, width: 5, signed: true), "-9999")
        XCTAssertEqual(Fmt.count(99_999, width: 4), "100k")
    }

    func testNamesStayDistinctAtEveryWidth() {
        let resnet = ["encoder", "stem.2", "block1.relu1", "block1.relu2", "block2.relu1", "block2.relu2",
                      "block3.relu1", "block3.relu2", "head.fc1", "output"]
        let onnx = ["/features/features.1/Relu", "/features/features.3/Relu", "/features/features.11/Relu",
                    "/classifier/classifier.1/Relu", "/classifier/classifier.4/Relu"]
        let cjk = ["卷积层一号很长的名字", "卷积层二号很长的名字", "conv3"]
        for names in [resnet, onnx, cjk] {
            for ellipsis in ["…", "~"] {
                for width in 5...30 {
                    let short = NameShortening.shorten(names, to: width, ellipsis: ellipsis)
                    XCTAssertEqual(Set(short).count, names.count, "\(width): \(short)")
                    for (a, b) in zip(names, short) {
                        XCTAssertLessThanOrEqual(DisplayWidth.of(b), width, b)
                        if DisplayWidth.of(a) <= width { XCTAssertEqual(a, b) }
                    }
                }
            }
        }
        XCTAssertEqual(NameShortening.shorten(resnet, to: 7), ["encoder", "stem.2", "b1.…lu1", "b1.…lu2", "b2.…lu1",
                                                               "b2.…lu2", "b3.…lu1", "b3.…lu2", "h.fc1", "output"])
        // One rule in every pane: leading parts abbreviated first, then a cut in the middle.
        XCTAssertEqual(NameShortening.shorten(resnet, to: 10)[2], "b1.relu1")
        XCTAssertEqual(NameShortening.shorten(resnet, to: 9, ellipsis: "~")[4], "b2.relu1")
        XCTAssertEqual(NameShortening.shorten(["head.classifier.fc1.relu.out", "x"], to: 24)[0], "h.c.fc1.relu.out")
    }

    /// Seven layers whose counts have 1 to 7 digits, compared with a report before a change
    /// whose differences have 1 to 7 digits too.
    static func countState(width: Int = 160, height: Int = 48, unicode: Bool = true) -> ViewState {
        let c = ConversionConfig(T: 6, beta: 1.5, silent: 1, negative: true)
        let names = ["stem", "block1.relu1", "block1.relu2", "block2.relu1", "block2.relu2", "block3.relu1", "fc"]
        let infos = names.enumerated().map { i, n in
            SpikingLayerInfo(index: i, name: n, tensor: n + "_out", shape: [8], neurons: 8, windowStart: i + 1, depth: i + 1)
        }
        let layout = NetworkLayout(modelName: "counts", config: c, inputShape: [8], layers: infos, outputStart: 8,
                                   latency: 14, outputCount: 10)
        let now = [7, 86, 975, 9886, 97_531, 864_209, 9_753_108]
        let change = [-3, 41, -974, -9741, 86_420, -975_310, 9_999_999]
        func report(_ ovf: [Int], _ cpl: [Int], theta: Double, residual: Double = 0.3) -> DatasetReport {
            let layers = infos.indices.map { i in
                LayerReport(info: infos[i], theta: theta * Double(i + 1), residualP999: residual * Double(i + 1),
                            residualMax: 1, overOne: 0, overflow: ovf[i], coupling: cpl[i],
                            violationsByStep: [Int](repeating: 0, count: c.window + 1),
                            firstViolationByStep: [Int](repeating: 0, count: c.window + 1), spikesPositive: 0,
                            spikesNegative: 0, activationRMSE: 0, residualHistogram: Histogram(lower: -2, upper: 2, binCount: 8))
            }
            return DatasetReport(layout: layout, amplitudes: Amplitudes(input: 0.01, layers: infos.map { theta * Double($0.index + 1) }),
                                 samples: 10_000_000, annAccuracy: 1, snnAccuracy: 1, agreement: 1, layers: layers,
                                 hotspots: [], annPredictions: [], snnPredictions: [])
        }
        let before = report(zip(now, change).map { max(0, $0 - $1) }, zip(now, change).map { max(0, $0 - $1) }, theta: 0.05)
        let after = report(now, now.reversed(), theta: 0.0515, residual: 0.27)
        var s = ViewState(width: width, height: height, unicode: unicode)
        s = update(s, .layoutArrived(layout, sampleCount: 10)).0
        s = update(s, .reportArrived(before)).0
        s = update(s, .reload).0
        s = update(s, .reportArrived(after)).0
        return s
    }

    func testLayerListCountsAtEveryWidth() {
        // Every width from the narrowest pane to a wide one: no count is cut and, where the list
        // scrolls, the arrow has a column of its own.
        let s = Self.countState()
        for width in 20...100 {
            for height in [10, 6] {
                let scrolls = s.layerRowCount > height - 3
                let (_, cols) = LayerListPane.chooseColumns(width: width - 2 - (scrolls ? 1 : 0), compare: true,
                                                             longestName: 12)
                for row in 0..<s.layerRowCount {
                    let d = LayerListPane.rowData(s, row: row)
                    for c in cols {
                        let text = LayerListPane.cell(d, c).text
                        XCTAssertLessThanOrEqual(DisplayWidth.of(text), LayerListPane.width(of: c), "\(c) \(text)")
                        if ["ovf", "cpl", "Δo", "Δc"].contains(c), !text.isEmpty {
                            XCTAssertNotNil(value(text), text)
                        }
                    }
                }
                let g = renderPane(.layers, s, width: width, height: height)
                if scrolls {
                    // The arrow column (the pane's last inner column) holds nothing but arrows.
                    for y in 2..<(height - 1) { XCTAssertTrue([" ", "↑", "↓"].contains(g[width - 2, y].glyph), "\(width)") }
                }
                // θ stays whenever the Δ columns show.
                if cols.contains(where: { $0.hasPrefix("Δ") }) { XCTAssertTrue(cols.contains("θ"), "\(width): \(cols)") }
            }
        }
        assertGolden(renderPane(.layers, s, width: 90, height: 10), "pane_layers_counts_wide")
        assertGolden(renderPane(.layers, s, width: 43, height: 10), "pane_layers_counts_80x24")
        assertGolden(renderPane(.layers, s, width: 43, height: 6), "pane_layers_counts_scrolling")
        assertGolden(renderPane(.layers, s, width: 28, height: 10), "pane_layers_counts_narrow")
    }
}

/// Issue 14 bug 4: while the first data-set report computes, the layer list's data-set columns
/// hold the focused sample's numbers, and say so.
final class SampleNumbersLabelTests: XCTestCase {
    func testDataSetColumnsAreLabelledUntilTheReportIsIn() {
        var s = loadedState(width: 80, height: 24, report: false)
        s = update(s, .progress(0.3)).0
        var top = Screen.render(s).text()[2]
        XCTAssertTrue(top.contains("Layers · p99.9/ovf/cpl of sample 0"), top)
        // The numbers are this sample's (TraceSummary), not blank.
        let d = LayerListPane.rowData(s, row: 1)
        XCTAssertEqual(d.overflow, Fmt.count(s.summary!.overflow[0]))
        // Another sample: the label follows it once its trace is in.
        s = press(s, [.char("]")]).0
        XCTAssertFalse(Screen.render(s).text()[2].contains("of sample"))
        s = update(s, .traceArrived(Fixture.trace(sample: 1))).0
        XCTAssertTrue(Screen.render(s).text()[2].contains("of sample 1"))
        // The report in: data-set numbers, no label.
        s = update(s, .reportArrived(Fixture.report())).0
        top = Screen.render(s).text()[2]
        XCTAssertFalse(top.contains("of sample"), top)
        XCTAssertEqual(LayerListPane.rowData(s, row: 1).overflow, Fmt.count(Fixture.report().layers[0].overflow))
    }
}
