import CSSSnapshots
import Foundation

/// Why a conversion loses accuracy, in plain words, from its data-set report with attribution
/// (docs/numerics.md §12) and one A.3 round's factors (§7).
public struct Diagnosis: Sendable {
    public var report: DatasetReport
    public var findings: [DoctorFinding]
    /// The ANN is near chance: the conversion has nothing to keep.
    public var annFails: Bool
    public var lossless: Bool

    public init(report: DatasetReport, a3: [AdjustmentStep], tolerance: Double) {
        self.report = report
        let names = report.layout.layers.map(\.name)
        let classes = max(2, report.layout.outputCount)
        var findings: [DoctorFinding] = []
        func pp(_ x: Double) -> String { String(format: "%.1f", x * 100) }
        let score = report.snnAccuracy ?? report.agreement
        let annScore = report.annAccuracy ?? 1
        let measure = report.snnAccuracy == nil ? "agreement with the ANN" : "accuracy"
        annFails = report.annAccuracy.map { $0 < 1.5 / Double(classes) } ?? false
        lossless = LosslessSearch.isLossless(snn: report.snnAccuracy, ann: report.annAccuracy,
                                             agreement: report.agreement, tolerance: tolerance)
        if annFails, let ann = report.annAccuracy {
            findings.append(DoctorFinding(kind: .ann, layer: nil,
                text: "the ANN itself gets \(pp(ann)) % (chance is \(pp(1 / Double(classes))) %): the conversion has nothing to keep; train the ANN first"))
        }
        let c = report.layout.config
        findings.append(DoctorFinding(kind: .summary, layer: nil, text: lossless
            ? "lossless: SNN \(measure) \(pp(score)) % against \(report.annAccuracy.map { pp($0) + " %" } ?? "100 %") (tolerance \(plainNumber(tolerance)) points) at latency \(report.layout.latency)"
            : "loses \(pp(annScore - score)) points: SNN \(measure) \(pp(score)) % against the ANN's \(pp(annScore)) % at latency \(report.layout.latency) (T \(c.T), L \(c.silent), negative spikes \(c.negative ? "on" : "off"))"))
        // Overflow: θ too small; what one A.3 round would do.
        for (l, layer) in report.layers.enumerated() where layer.overflow > 0 {
            let factor = a3.first { $0.layer == l }?.factor ?? 1
            let remedy = factor > 1
                ? "θ is too small (A.3 raises it ×\(String(format: "%.3g", factor)))"
                : "θ is too small for a few cases (A.3 leaves it: the layer's p99.9 |u| is \(String(format: "%.2f", layer.residualP999)), ≤ 1)"
            findings.append(DoctorFinding(kind: .overflow, layer: l,
                                          text: "\(names[l]) overflows in \(layer.overflow) cases: \(remedy)"))
        }
        if let a = report.attribution {
            let prefix = a.exactPrefixAccuracy ?? a.exactPrefixAgreement
            let decoupled = a.decoupledAccuracy ?? a.decoupledAgreement
            let plain = prefix[0]
            // Coupling that matters: layers whose decoupling alone gains more than the tolerance.
            let costly = report.layers.indices.filter {
                report.layers[$0].coupling > 0 && (decoupled[$0] - plain) * 100 > max(tolerance, 0.05)
            }
            if !costly.isEmpty {
                let remedy: String
                switch (c.negative, c.silent) {
                case (false, 0): remedy = "negative spikes or L ≥ 1 remove it"
                case (true, 0): remedy = "a silent period L ≥ 1 removes it"
                case (false, _): remedy = "negative spikes or a longer silent period remove it"
                default: remedy = "a longer silent period or more T reduce it"
                }
                let where_ = costly.count == 1 ? names[costly[0]]
                    : (costly.count == report.layers.count ? "every layer"
                        : "\(costly.count) layers (\(costly.map { names[$0] }.joined(separator: ", ")))")
                let gains = costly.map { "\(names[$0]) +\(pp(decoupled[$0] - plain))" }.joined(separator: ", ")
                findings.append(DoctorFinding(kind: .coupling, layer: costly.max { decoupled[$0] < decoupled[$1] },
                    text: "coupling in \(where_) costs up to \(pp(prefix.last! - plain)) points (decoupled alone: \(gains)): \(remedy)"))
            }
            // The exact-prefix step of each layer that loses more than the tolerance.
            for l in report.layers.indices where (prefix[l + 1] - prefix[l]) * 100 > max(tolerance, 0.05) {
                findings.append(DoctorFinding(kind: .layerLoss, layer: l,
                    text: "\(names[l]) loses \(pp(prefix[l + 1] - prefix[l])) points (exact-prefix step) and is the culprit of \(a.culpritSamples[l]) samples"))
            }
            if a.unresolved > 0 {
                findings.append(DoctorFinding(kind: .unresolved, layer: nil,
                    text: "\(a.unresolved) samples stay \(a.byLabels ? "wrong" : "in disagreement") with every layer exact: the ANN's own errors, or more than T = \(c.T) slots can carry"))
            }
        }
        self.findings = findings
    }
}
