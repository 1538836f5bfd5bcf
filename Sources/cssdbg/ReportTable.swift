import CSSCore
import Foundation

func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
func percent(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }

/// The human-readable form of `eval`.
enum ReportTable {
    static func render(_ r: DatasetReport, model: String) -> String {
        let c = r.layout.config
        var lines: [String] = []
        lines.append("model \(model)  T=\(c.T) β=\(JSONFormat.number(c.beta)) L=\(c.silent) negative=\(c.negative ? "on" : "off") percentile=\(JSONFormat.number(c.percentile))")
        lines.append("samples \(r.samples)  latency \(r.layout.latency) steps  ANN accuracy \(r.annAccuracy.map(percent) ?? "n/a")  SNN accuracy \(r.snnAccuracy.map(percent) ?? "n/a")  agreement \(percent(r.agreement))")
        lines.append("")
        lines.append("layer                 neurons start         θ  p99.9|u|  max|u|    ≥1  overflow  coupling   spikes +/-      rmse")
        for l in r.layers {
            let spikes = "\(l.spikesPositive)/\(l.spikesNegative)"
            lines.append("\(pad(String(l.info.name.prefix(20)), 20)) \(lpad(String(l.info.neurons), 8)) \(lpad(String(l.info.windowStart), 5)) \(lpad(String(format: "%.4g", l.theta), 9)) \(lpad(fmt(l.residualP999, 3), 9)) \(lpad(fmt(l.residualMax, 3), 7)) \(lpad(String(l.overOne), 5)) \(lpad(String(l.overflow), 9)) \(lpad(String(l.coupling), 9)) \(lpad(spikes, 12)) \(lpad(String(format: "%.4f", l.activationRMSE), 9))")
        }
        let hot = r.layers.enumerated().filter { $0.element.overflow + $0.element.coupling > 0 }
        if !hot.isEmpty {
            lines.append("")
            lines.append("violations by k0 (decoupling margin ≤ 0; k0 = T+L is the end of the window):")
            // Whole names and whole counts: columns as wide as the widest of either.
            let nameW = max(20, hot.map { $0.element.info.name.count }.max() ?? 0)
            let cw = max(6, 1 + (hot.flatMap { $0.element.violationsByStep }.map { String($0).count }.max() ?? 0))
            let steps = hot.first?.element.violationsByStep.count ?? 0
            lines.append("  \(pad("k0", nameW)) " + (0..<steps).map { lpad($0 == steps - 1 ? "end" : String($0), cw) }.joined())
            for (_, l) in hot {
                lines.append("  \(pad(l.info.name, nameW)) " + l.violationsByStep.map { lpad(String($0), cw) }.joined())
            }
        }
        return lines.joined(separator: "\n")
    }
}

enum JSONFormat {
    static func number(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)" }
}
