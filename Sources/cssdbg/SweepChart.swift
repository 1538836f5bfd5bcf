import CSSCore
import Foundation

/// The sweep as a self-contained SVG: accuracy against latency, one series per (L, negative),
/// the Pareto front drawn and its points ringed, labelled axes and a legend. No scripts, no
/// external fonts or styles, so it opens in any browser and drops into a paper.
enum SweepChart {
    static let width = 760.0, height = 480.0
    static let left = 70.0, right = 200.0, top = 50.0, bottom = 60.0
    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]

    /// `energy`: draw against the SNN's energy per sample (nJ at these costs) instead of latency.
    static func svg(_ points: [SweepPoint], model: String, samples: Int, energy: EnergyCosts? = nil) -> String {
        func xv(_ p: SweepPoint) -> Double { energy.map { p.synapticOps * $0.accumulate / 1000 } ?? Double(p.latency) }
        let axisName = energy == nil ? "latency" : "energy"
        let labelled = points.first?.snnAccuracy != nil
        let what = labelled ? "SNN accuracy" : "agreement with the ANN"
        let latencies = points.map(xv), scores = points.map { $0.score * 100 }
        let (x0, x1) = range(latencies, minimumSpan: 4)
        let (y0, y1) = range(scores, minimumSpan: 2, clamp: 0...100)
        let pw = width - left - right, ph = height - top - bottom
        func x(_ v: Double) -> Double { left + (v - x0) / (x1 - x0) * pw }
        func y(_ v: Double) -> Double { top + (1 - (v - y0) / (y1 - y0)) * ph }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var out: [String] = []
        out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">")
        out.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>")
        out.append("<text x=\"\(f(left))\" y=\"28\" font-size=\"15\">\(escape(model)): \(what) against \(axisName) (\(samples) samples)</text>")
        // Axes with ticks and grid lines.
        out.append("<g stroke=\"#ccc\" stroke-width=\"1\">")
        for t in ticks(x0, x1) { out.append("<line x1=\"\(f(x(t)))\" y1=\"\(f(top))\" x2=\"\(f(x(t)))\" y2=\"\(f(top + ph))\"/>") }
        for t in ticks(y0, y1) { out.append("<line x1=\"\(f(left))\" y1=\"\(f(y(t)))\" x2=\"\(f(left + pw))\" y2=\"\(f(y(t)))\"/>") }
        out.append("</g>")
        out.append("<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"black\"/>")
        for t in ticks(x0, x1) {
            out.append("<text x=\"\(f(x(t)))\" y=\"\(f(top + ph + 18))\" text-anchor=\"middle\">\(tickLabel(t, x0, x1))</text>")
        }
        for t in ticks(y0, y1) {
            out.append("<text x=\"\(f(left - 8))\" y=\"\(f(y(t) + 4))\" text-anchor=\"end\">\(tickLabel(t, y0, y1))</text>")
        }
        out.append("<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 18))\" text-anchor=\"middle\">\(energy == nil ? "latency (global steps, T + (depth + 1)·L)" : "SNN energy per sample (nJ; synaptic operations × \(plainNumber(energy!.accumulate)) pJ)")</text>")
        out.append("<text transform=\"translate(20 \(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(what) (%)</text>")
        // The front as a dashed step line, under the series.
        let front = points.filter(\.pareto).sorted { (xv($0), $0.score) < (xv($1), $1.score) }
        if front.count > 1 {
            let path = front.map { "\(f(x(xv($0)))),\(f(y($0.score * 100)))" }.joined(separator: " ")
            out.append("<polyline points=\"\(path)\" fill=\"none\" stroke=\"black\" stroke-width=\"1\" stroke-dasharray=\"4 3\"/>")
        }
        // One series per (L, negative): a line through its points in latency order.
        var series: [(L: Int, negative: Bool)] = []
        for p in points where !series.contains(where: { $0.L == p.config.silent && $0.negative == p.config.negative }) {
            series.append((p.config.silent, p.config.negative))
        }
        // Points that would fall on one another (same latency, same score to the plot's
        // resolution) are spread sideways around their place and their tooltips say so.
        func id(_ p: SweepPoint) -> String {
            "\(p.config.T) \(p.config.beta) \(p.config.silent) \(p.config.negative)"
        }
        func place(_ p: SweepPoint) -> String { "\(f(x(xv(p)))) \(f(y(p.score * 100)))" }
        var together: [String: [String]] = [:]
        for s in series {
            for p in points where p.config.silent == s.L && p.config.negative == s.negative {
                together[place(p), default: []].append(id(p))
            }
        }
        func dx(_ p: SweepPoint) -> Double {
            guard let group = together[place(p)], group.count > 1, let j = group.firstIndex(of: id(p)) else { return 0 }
            return (Double(j) - Double(group.count - 1) / 2) * 7
        }
        func px(_ p: SweepPoint) -> Double { x(xv(p)) + dx(p) }
        for (i, s) in series.enumerated() {
            let color = colors[i % colors.count]
            let own = points.filter { $0.config.silent == s.L && $0.config.negative == s.negative }
                .sorted { (xv($0), $0.score) < (xv($1), $1.score) }
            let path = own.map { "\(f(px($0))),\(f(y($0.score * 100)))" }.joined(separator: " ")
            out.append("<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>")
            for p in own {
                let cx = f(px(p)), cy = f(y(p.score * 100))
                let shared = together[place(p)]!.count
                let tip = "T \(p.config.T), β \(plainNumber(p.config.beta)), L \(p.config.silent), negative \(p.config.negative ? "on" : "off"): \(String(format: "%.2f", p.score * 100)) % at latency \(p.latency), \(String(format: "%.0f", p.synapticOps)) synaptic ops\(p.pareto ? " (Pareto front)" : "")"
                    + (shared > 1 ? " (one of \(shared) points here, spread sideways)" : "")
                out.append("<circle cx=\"\(cx)\" cy=\"\(cy)\" r=\"4\" fill=\"\(color)\"><title>\(escape(tip))</title></circle>")
                if p.pareto {
                    out.append("<circle cx=\"\(cx)\" cy=\"\(cy)\" r=\"8\" fill=\"none\" stroke=\"black\" stroke-width=\"1.5\"/>")
                    out.append("<text x=\"\(cx)\" y=\"\(f(y(p.score * 100) - 11))\" text-anchor=\"middle\" font-size=\"10\">T\(p.config.T) β\(plainNumber(p.config.beta))</text>")
                }
            }
        }
        // Legend, right of the plot.
        let lx = left + pw + 20
        out.append("<text x=\"\(f(lx))\" y=\"\(f(top + 4))\" font-weight=\"bold\">series</text>")
        for (i, s) in series.enumerated() {
            let ly = top + 24 + Double(i) * 20
            out.append("<line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 22))\" y2=\"\(f(ly))\" stroke=\"\(colors[i % colors.count])\" stroke-width=\"1.5\"/>")
            out.append("<circle cx=\"\(f(lx + 11))\" cy=\"\(f(ly))\" r=\"4\" fill=\"\(colors[i % colors.count])\"/>")
            out.append("<text x=\"\(f(lx + 30))\" y=\"\(f(ly + 4))\">L = \(s.L), negative \(s.negative ? "on" : "off")</text>")
        }
        let ly = top + 24 + Double(series.count) * 20
        out.append("<circle cx=\"\(f(lx + 11))\" cy=\"\(f(ly))\" r=\"8\" fill=\"none\" stroke=\"black\" stroke-width=\"1.5\"/>")
        out.append("<text x=\"\(f(lx + 30))\" y=\"\(f(ly + 4))\">Pareto front</text>")
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// A padded axis range that shows every value.
    static func range(_ values: [Double], minimumSpan: Double, clamp: ClosedRange<Double>? = nil) -> (Double, Double) {
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if hi - lo < minimumSpan {
            let mid = (lo + hi) / 2
            lo = mid - minimumSpan / 2
            hi = mid + minimumSpan / 2
        }
        let padding = (hi - lo) * 0.08
        lo -= padding
        hi += padding
        if let clamp {
            lo = max(clamp.lowerBound, lo)
            hi = min(clamp.upperBound, hi)
        }
        return (lo, hi)
    }

    /// Round tick values (1, 2 or 5 × 10^k apart), about six of them.
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        let raw = (hi - lo) / 6
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var t = ceil(lo / step) * step, out: [Double] = []
        while t <= hi + step * 1e-9 {
            out.append((t / step).rounded() * step)
            t += step
        }
        return out
    }

    /// A tick value with as many decimals as the tick spacing needs.
    static func tickLabel(_ t: Double, _ lo: Double, _ hi: Double) -> String {
        let ts = ticks(lo, hi)
        let step = ts.count > 1 ? ts[1] - ts[0] : 1
        let decimals = max(0, Int(-floor(log10(step)) + 0.5))
        return String(format: "%.\(decimals)f", t)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
