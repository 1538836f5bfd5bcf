import CSSCore
import Foundation

func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
func percent(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }

/// The human-readable form of `eval`.
enum ReportTable {
    static func render(_ r: DatasetReport, model: String, energy: EnergyCosts = .standard) -> String {
        let c = r.layout.config
        var lines: [String] = []
        lines.append("model \(model)  T=\(c.T) β=\(plainNumber(c.beta)) L=\(c.silent) negative=\(c.negative ? "on" : "off") percentile=\(plainNumber(c.percentile))")
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
        lines += operations(r, energy: energy) + anytime(r) + attribution(r)
        return lines.joined(separator: "\n")
    }

    /// Whole numbers in columns as wide as the widest (no number is cut).
    static func table(_ header: [String], _ rows: [[String]], nameWidth: Int) -> [String] {
        let widths = header.indices.dropFirst().map { i in max(header[i].count, rows.map { $0[i].count }.max() ?? 0) }
        let nameWidth = max(nameWidth, rows.map { $0[0].count }.max() ?? 0)
        func line(_ cells: [String]) -> String {
            "  " + pad(cells[0], nameWidth) + zip(cells.dropFirst(), widths).map { "  " + lpad($0, $1) }.joined()
        }
        return [line(header)] + rows.map(line)
    }

    static func operations(_ r: DatasetReport, energy: EnergyCosts) -> [String] {
        guard let ops = r.operations else { return [] }
        let nameW = max(20, r.layers.map { $0.info.name.count }.max() ?? 0)
        func row(_ name: String, _ c: OperationCounts, steps: Bool) -> [String] {
            [name, String(c.macs), String(format: "%.1f", c.synapticOps),
             c.macs > 0 ? String(format: "%.3f", c.synapticOps / Double(c.macs)) : "-", steps ? String(c.neuronSteps) : "-"]
        }
        // Each layer, then the Conv/Gemm/MatMul nodes that feed it when there are several.
        var rows: [[String]] = []
        for l in Array(r.layers.indices) + [nil] {
            rows.append(row(l.map { r.layers[$0].info.name } ?? "output", ops.counts(layer: l), steps: l != nil))
            let feeding = ops.nodes.filter { $0.layer == l }
            if feeding.count > 1 {
                for n in feeding {
                    rows.append(row("  " + n.name, OperationCounts(macs: n.macs, synapticOps: n.synapticOps), steps: false))
                }
            }
        }
        rows.append(row("total", ops.total, steps: true))
        let (ann, snn) = ops.total.energy(energy)
        return ["", "operations per sample (MACs feeding each layer; synaptic ops = input events × fan-out over the T slots):"]
            + table(["layer", "ANN MACs", "SNN synaptic ops", "ops/MAC", "neuron steps"], rows, nameWidth: nameW)
            + [String(format: "energy per sample: ANN %@  SNN %@  (SNN/ANN %.3f; E_MAC %@ pJ, E_AC %@ pJ)",
                      picojoules(ann), picojoules(snn), ann > 0 ? snn / ann : 0,
                      plainNumber(energy.mac), plainNumber(energy.accumulate))]
    }

    /// pJ with a unit that keeps three significant digits.
    static func picojoules(_ pj: Double) -> String {
        if pj >= 1e6 { return String(format: "%.3g µJ", pj / 1e6) }
        if pj >= 1e3 { return String(format: "%.3g nJ", pj / 1e3) }
        return String(format: "%.3g pJ", pj)
    }

    static func anytime(_ r: DatasetReport) -> [String] {
        guard let a = r.anytime, !a.settledBySlot.isEmpty else { return [] }
        let T = a.settledBySlot.count
        var rows: [[String]] = []
        if let acc = a.accuracy { rows.append(["accuracy %"] + acc.map { String(format: "%.2f", $0 * 100) }) }
        if !a.agreement.isEmpty { rows.append(["agreement %"] + a.agreement.map { String(format: "%.2f", $0 * 100) }) }
        rows.append(["settled"] + a.settledBySlot.map(String.init))
        return ["", "anytime: prediction from output slots 0..k (slot k arrives at global step \(r.layout.outputStart)+k; latency \(r.layout.latency)):"]
            + table(["slot k"] + (0..<T).map(String.init), rows, nameWidth: 12)
    }

    static func attribution(_ r: DatasetReport) -> [String] {
        guard let a = r.attribution else { return [] }
        let nameW = max(20, r.layers.map { $0.info.name.count }.max() ?? 0)
        let byLabels = a.exactPrefixAccuracy != nil
        let prefix = a.exactPrefixAccuracy ?? a.exactPrefixAgreement
        let decoupled = a.decoupledAccuracy ?? a.decoupledAgreement
        let plain = prefix[0]
        let what = byLabels ? "accuracy" : "agreement with the ANN (no labels)"
        var rows: [[String]] = [["none (the SNN)", "-", "-", String(format: "%.2f", plain * 100), "-", "-"]]
        for (l, layer) in r.layers.enumerated() {
            rows.append([layer.info.name, String(format: "%.2f", decoupled[l] * 100),
                         String(format: "%+.2f", (decoupled[l] - plain) * 100),
                         String(format: "%.2f", prefix[l + 1] * 100),
                         String(format: "%+.2f", (prefix[l + 1] - prefix[l]) * 100), String(a.culpritSamples[l])])
        }
        return ["", "attribution (\(what) in %): layer decoupled alone, and the first layers up to it exact:"]
            + table(["layer", "decoupled", "gain", "exact up to here", "step", "culprit of"], rows, nameWidth: nameW)
            + ["  \(a.unresolved) samples stay \(byLabels ? "wrong" : "in disagreement") with every layer exact (no culprit layer)"]
    }
}
