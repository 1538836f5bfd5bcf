import XCTest
import CSSSnapshots
@testable import CSSView

/// Every number on screen is whole (issue 28): at 80×24, 100×30 and 160×48, with counts of 1 to 7
/// digits, negative values of every magnitude and long layer names, each number the grid shows
/// parses to a value the snapshots hold, within the precision it is shown with. A cut number
/// (`m -4` for −44.6, `0.0` for −0.036, `12` for 12345) reads as another number and fails here.
final class ExtremeValuesTests: XCTestCase {
    static let sizes = [(80, 24), (100, 30), (160, 48)]
    static let names = ["block1.downsample.conv.relu1", "block2.relu1", "/features/features.10/Relu_output_0"]

    /// Values of the neuron `n`'s row scaled by a magnitude from 10⁻⁴ to 10⁴ (the sign kept), so
    /// that every pane meets small and large, negative and positive values.
    static func scale(_ n: Int) -> Float {
        [1, -0.0004, 0.036, -44.6, 1234.5, -10977, 0.9, 98765][n % 8]
    }

    static func state(width: Int, height: Int) -> ViewState {
        let base = Fixture.trace(sample: 0)
        var layout = base.layout
        for i in layout.layers.indices { layout.layers[i].name = names[i] }
        let layers = base.layers.enumerated().map { li, lt -> LayerTrace in
            var info = lt.info
            info.name = names[li]
            func scaled(_ xs: [Float], per: Int) -> [Float] {
                xs.enumerated().map { i, x in x * scale(i / per) }
            }
            return LayerTrace(info: info, theta: lt.theta, T: lt.T, silent: lt.silent, threshold: lt.threshold,
                              membrane: lt.membrane, input: scaled(lt.input, per: lt.T), spikes: lt.spikes,
                              target: scaled(lt.target, per: 1), encoded: lt.encoded,
                              annActivation: scaled(lt.annActivation, per: 1),
                              margins: scaled(lt.margins, per: lt.window + 1))
        }
        let trace = SampleTrace(layout: layout, sample: 0, label: base.label, annOutput: base.annOutput,
                                encoder: base.encoder, layers: layers, outputSlots: base.outputSlots)
        var report = Fixture.report()
        report.layout = layout
        let counts = [7, 86, 975, 9886, 97_531, 864_209, 9_753_108, 1_000_000]
        for i in report.layers.indices {
            report.layers[i].info.name = names[i]
            report.layers[i].overflow = counts[(i + 4) % counts.count]
            report.layers[i].coupling = counts[(i + 6) % counts.count]
            report.layers[i].overOne = counts[(i + 5) % counts.count]
            report.layers[i].residualP999 = [0.00042, 44.6, 12_345.6][i]
            report.layers[i].violationsByStep = report.layers[i].violationsByStep.indices.map { counts[($0 + i) % counts.count] }
        }
        let margins = [-0.0036, -44.6, -12_345.6, -0.6, -1_234_567, -9.97]
        let residuals = [24.03, 10_977, 0.004, 3.5, 1_234_567, 99.96]
        for (i, _) in report.hotspots.enumerated() where i < 24 {
            report.hotspots[i].worstMargin = margins[i % margins.count]
            report.hotspots[i].residual = residuals[i % residuals.count]
            report.hotspots[i].neuron = [3, 1_234_567, 45, 9_999_999][i % 4] % (report.layers[report.hotspots[i].layer].info.neurons * 100_000)
            report.hotspots[i].sample = [0, 99_999, 3][i % 3]
        }
        var s = ViewState(width: width, height: height, sample: 0, hostCommands: ["theta", "set"])
        s = update(s, .layoutArrived(layout, sampleCount: 4)).0
        s = update(s, .traceArrived(trace)).0
        s = update(s, .reportArrived(report)).0
        return s
    }

    /// Every value the view may show, sorted.
    static func values(_ s: ViewState) -> [Double] {
        var v: [Double] = []
        if let t = s.trace {
            for lt in t.layers {
                v += lt.input.map(Double.init) + lt.target.map(Double.init) + lt.encoded.map(Double.init)
                v += lt.margins.map(Double.init) + lt.membrane.map { Double($0) / lt.threshold }
                v += (0..<lt.neurons).map { Double(lt.residual(neuron: $0)) }
                v += lt.annActivation.map { Double($0) / lt.theta }
                v.append(lt.theta)
            }
            v += t.encoder.inputs.map(Double.init) + t.encoder.inputs.map { Double($0) / t.encoder.theta }
            v.append(t.encoder.theta)
            for g in 0...t.layout.latency { v += t.decodedOutput(atGlobal: g).map(Double.init) }
            v += t.annOutput.map(Double.init)
            for lt in t.layers {
                let c = lt.spikeCounts(throughGlobal: s.step)
                v += [Double(c.positive), Double(c.negative)]
            }
            let slots = min(t.encoder.T, s.step + 1)
            var pos = 0, neg = 0
            for n in 0..<t.encoder.inputs.count {
                for i in 0..<slots { let x = t.encoder.spikes[n * t.encoder.T + i]; if x > 0 { pos += 1 } else if x < 0 { neg += 1 } }
            }
            v += [Double(pos), Double(neg)]
        }
        v.append(Double(s.hotspotCasesInDataSet))
        if let r = s.report {
            for l in r.layers {
                v += [l.theta, l.residualP999, l.residualMax] + [l.overOne, l.overflow, l.coupling, l.spikesPositive,
                                                                 l.spikesNegative].map(Double.init)
                v += l.violationsByStep.map(Double.init)
                v += [l.residualHistogram.lower, l.residualHistogram.upper, Double(l.residualHistogram.below),
                      Double(l.residualHistogram.above)]
            }
            for h in r.hotspots {
                v += [h.worstMargin, h.residual, Double(h.neuron), Double(h.sample), Double(h.firstViolationStep)]
            }
            v += [r.annAccuracy, r.snnAccuracy, r.agreement].compactMap { $0 }.map { $0 * 100 }
            v += [Double(r.samples), Double(r.hotspots.count), r.amplitudes.input] + r.amplitudes.layers
        }
        if let c = s.config { v += [Double(c.T), c.beta, Double(c.silent), Double(c.window)] }
        for i in s.watches.indices {
            if let w = s.watchValues(i) {
                v += [Double(w.spikeSum), Double(w.margin), w.encoded, w.residual] + [w.target].compactMap { $0 }
                if let m = w.normalizedMembrane { v.append(Double(m)) }
            }
            v.append(Double(s.watches[i].neuron))
        }
        // Structure: steps, indices, shapes, counts of things.
        v += (0...64).map(Double.init)
        if let l = s.layout {
            for info in l.layers { v += ([info.neurons] + info.shape).map(Double.init) }
            v += [Double(l.latency), Double(l.outputCount)] + l.inputShape.map(Double.init)
        }
        v += [Double(ViewState.maxWatches), Double(s.sampleCount)]
        return v.filter(\.isFinite).sorted()
    }

    func testEveryNumberOnEveryPaneParsesToItsValue() {
        for (w, h) in Self.sizes {
            var s = Self.state(width: w, height: h)
            var checked = 0
            func check(_ label: String) {
                let all = Self.values(s)
                let text = Screen.render(s).text()
                for (y, line) in text.enumerated() {
                    for tok in ScreenNumbers.tokens(line) {
                        checked += 1
                        XCTAssertTrue(ScreenNumbers.matches(tok, all),
                                      "\(w)×\(h) \(label): \"\(tok.text)\" on line \(y) matches no value\n\(line)")
                    }
                }
            }
            // Every pane: the default layout, the lower panes of a small screen, the neuron of
            // every magnitude, hotspots, the watch pane.
            for n in 0..<8 {
                s = update(s, .key(.char("l"))).0
                check("neuron \(n + 1)")
            }
            s = press(s, chars("jj")).0
            check("layer 2")
            s = press(s, chars(":watch 1 1") + [.enter] + chars(":watch 2 5") + [.enter] + chars(":watch 3 13") + [.enter]).0
            s = press(s, chars("nnn")).0
            check("watches")
            s = press(s, chars(":focus histogram") + [.enter]).0
            check("histogram")
            XCTAssertGreaterThan(checked, 100)
        }
    }

    func testSweepTableNumbersAreWhole() {
        var rows: [SweepRow] = []
        for (i, n) in [7, 86, 975, 9886, 97_531, 864_209, 9_753_108].enumerated() {
            rows.append(SweepRow(config: ConversionConfig(T: 4 + i, beta: 1.5, silent: i % 2, negative: true),
                                 latency: 10 + i, annAccuracy: 0.975, snnAccuracy: 0.9 + 0.01 * Double(i),
                                 agreement: 0.95, residualP999Max: [0.0004, 44.6, 12_345.6][i % 3],
                                 overflow: n, coupling: 9_999_999 - n, pareto: i % 2 == 0))
        }
        let result = SweepResult(rows: rows, samples: 48, rounds: 0)
        for (w, h) in Self.sizes {
            var s = Self.state(width: w, height: h)
            s.hostCommands += ["sweep"]
            s = press(s, chars(":sweep -T 4") + [.enter]).0
            s = update(s, .hostReply(HostReply(message: "sweep: 7 points", sweep: result))).0
            var all = Self.values(s)
            for r in rows {
                all += [Double(r.overflow), Double(r.coupling), r.residualP999Max, Double(r.latency), r.config.beta, 97.5, 95]
                all += [r.snnAccuracy! * 100]
            }
            all.sort()
            let text = Screen.render(s).text()
            XCTAssertTrue(text.joined().contains("Sweep"), text.joined(separator: "\n"))
            for (y, line) in text.enumerated() {
                for tok in ScreenNumbers.tokens(line) {
                    XCTAssertTrue(ScreenNumbers.matches(tok, all), "\(w)×\(h) sweep: \"\(tok.text)\" on line \(y)\n\(line)")
                }
            }
        }
    }

    /// Coupling and θ, the tool's main numbers, stay in the layer list at 80×24 with ResNet-like
    /// names (other columns give way); at 160 columns the counts are exact.
    func testCouplingAndThetaAlwaysShownAndCountsExactWhenWide() {
        let narrow = Screen.render(Self.state(width: 80, height: 24)).text()
        let header = narrow.first { $0.contains("│ layer") }!
        XCTAssertTrue(header.contains(" cpl") && header.contains(" θ"), header)
        let wide = Screen.render(Self.state(width: 160, height: 48)).text()
        guard let row = wide.first(where: { $0.contains("│▸b1.downsample.conv.relu1") }) else {
            return XCTFail("no selected row: " + wide.filter { $0.contains("block1") }.joined(separator: " / "))
        }
        XCTAssertTrue(row.contains(" 97531 ") && row.contains(" 9753108 "), row)
    }

    /// The inspector's X row keeps the sign of a small negative value at every width.
    func testSmallNegativeInputKeepsItsSign() {
        for (w, h) in Self.sizes {
            var s = Self.state(width: w, height: h)
            s = update(s, .key(.char("l"))).0  // neuron 1: values × −0.0004
            let text = Screen.render(s).text()
            let x = text.first { $0.contains("│X ") }!
            let inspector = String(x.split(separator: "││").last ?? "")
            XCTAssertFalse(inspector.contains(" 0.0 "), inspector)
            XCTAssertFalse(inspector.contains(" .0 "), inspector)
        }
    }

    func testTokenizer() {
        let toks = ScreenNumbers.tokens("│▸ovf b2.relu1 n 211 s 350 k0 0 m -44.6 |u| 24.0 x 12k −3.5e-2 99.7% c0 0-3/16")
        XCTAssertEqual(toks.map(\.text), ["211", "350", "0", "-44.6", "24.0", "12k", "−3.5e-2", "99.7%", "0", "3", "16"])
        XCTAssertEqual(toks[5].value, 12_000)
        XCTAssertEqual(toks[5].tolerance, 500)
        XCTAssertEqual(toks[6].value, -0.035, accuracy: 1e-12)
        XCTAssertEqual(toks[6].tolerance, 0.0005, accuracy: 1e-12)
        XCTAssertTrue(ScreenNumbers.matches(toks[3], [-44.6]))
        XCTAssertFalse(ScreenNumbers.matches(ScreenNumbers.tokens("m -4")[0], [-44.6]))
        XCTAssertFalse(ScreenNumbers.matches(ScreenNumbers.tokens("12")[0], [12_345]))
        XCTAssertFalse(ScreenNumbers.matches(ScreenNumbers.tokens("0.04")[0], [-0.036]))
    }
}

/// Reads numbers from screen text: a token is a number standing alone (not part of a name such
/// as `conv1`, `k0` or `p99.9`), with an optional sign, decimals, exponent, k/M/G/T unit or `%`.
enum ScreenNumbers {
    struct Token {
        var text: String
        var value: Double
        /// Half a unit of its last shown digit.
        var tolerance: Double
    }

    static func tokens(_ line: String) -> [Token] {
        let c = Array(line)
        var out: [Token] = []
        var i = 0
        func isWord(_ ch: Character) -> Bool { ch.isLetter || ch.isNumber || ch == "_" || ch == "." }
        while i < c.count {
            let prev: Character? = i > 0 ? c[i - 1] : nil
            var j = i
            var negative = false
            if c[j] == "-" || c[j] == "−" || c[j] == "+" {
                if let p = prev, isWord(p) { i += 1; continue }
                negative = c[j] != "+"
                j += 1
            } else if let p = prev, isWord(p) {
                // Inside a word: skip to its end.
                while i < c.count, isWord(c[i]) { i += 1 }
                if i == j { i += 1 }
                continue
            }
            guard j < c.count, c[j].isNumber || (c[j] == "." && j + 1 < c.count && c[j + 1].isNumber) else {
                i += 1
                continue
            }
            if c[j] == "0", j + 1 < c.count, c[j + 1].isNumber {
                // A ruler of column digits (`012345`), not a number: no number has a leading zero.
                while j < c.count, isWord(c[j]) { j += 1 }
                i = j
                continue
            }
            var digits = ""
            while j < c.count, c[j].isNumber { digits.append(c[j]); j += 1 }
            var decimals = 0
            if j + 1 < c.count, c[j] == ".", c[j + 1].isNumber {
                digits.append(".")
                j += 1
                while j < c.count, c[j].isNumber { digits.append(c[j]); decimals += 1; j += 1 }
            }
            var exponent = 0
            if j + 1 < c.count, c[j] == "e", c[j + 1].isNumber || ((c[j + 1] == "-" || c[j + 1] == "+") && j + 2 < c.count && c[j + 2].isNumber) {
                var e = ""
                j += 1
                if c[j] == "-" || c[j] == "+" { e.append(c[j]); j += 1 }
                while j < c.count, c[j].isNumber { e.append(c[j]); j += 1 }
                exponent = Int(e) ?? 0
            }
            var unit = 1.0
            if j < c.count, let u = ["k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "%": 1.0][String(c[j])],
               j + 1 >= c.count || !(c[j + 1].isLetter || c[j + 1].isNumber) {
                unit = u
                j += 1
            }
            if j < c.count, c[j].isLetter || c[j].isNumber || c[j] == "_" {
                // A name that starts with digits (`3x3`): not a number.
                while j < c.count, isWord(c[j]) { j += 1 }
                i = j
                continue
            }
            let magnitude = Double(digits.hasPrefix(".") ? "0" + digits : digits) ?? 0
            var p10 = 1.0
            for _ in 0..<abs(exponent) { p10 *= 10 }
            let scale = (exponent >= 0 ? p10 : 1 / p10) * unit
            var half = 0.5
            for _ in 0..<decimals { half /= 10 }
            out.append(Token(text: String(c[i..<j]), value: (negative ? -1 : 1) * magnitude * scale,
                             tolerance: half * scale))
            i = j
        }
        return out
    }

    /// Whether one of `sorted` is the token's value within its precision, with the same sign.
    static func matches(_ t: Token, _ sorted: [Double]) -> Bool {
        let tol = t.tolerance * (1 + 1e-6) + 1e-9
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] < t.value - tol { lo = mid + 1 } else { hi = mid }
        }
        var k = lo
        while k < sorted.count, sorted[k] <= t.value + tol {
            let v = sorted[k]
            // A shown sign is the value's sign; a negative value never reads as non-negative
            // unless it is exactly what is shown.
            if t.value < 0 || t.text.hasPrefix("-") || t.text.hasPrefix("−") { if v <= 0 { return true } } else if v >= 0 { return true }
            k += 1
        }
        return false
    }
}
