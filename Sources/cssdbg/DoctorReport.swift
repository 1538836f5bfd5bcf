import CSSCore
import CSSImport
import Foundation

/// What `cssdbg doctor` prints: the diagnosis, the configurations on the way, the Pareto front,
/// the recommendation and the command lines that reproduce it (table or JSON).
struct DoctorReport {
    var model: String
    var modelPath: String
    var samples: Int
    var diagnosis: Diagnosis
    var outcome: LosslessSearch.Outcome?
    var energy: EnergyCosts
    var thetaFile: String?
    var layout: NetworkLayout
    var sourceFlags: String
    /// What the Pareto front weighs against accuracy (`--pareto`).
    var criteria: ConversionSweep.Criteria = .latency

    func energyPJ(_ synapticOps: Double, macs: Int) -> JSONValue {
        let (ann, snn) = OperationCounts(macs: macs, synapticOps: synapticOps).energy(energy)
        return .object([("ann", .number(ann)), ("snn", .number(snn))])
    }

    static func stopText(_ s: LosslessSearch.Stop) -> String {
        switch s {
        case .found: "found"
        case .exhausted: "exhausted"
        case .interrupted: "interrupted"
        case .budget: "budget"
        }
    }

    func trialJSON(_ t: LosslessSearch.Trial) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("T", .integer(t.config.T)), ("beta", .number(t.config.beta)), ("silent", .integer(t.config.silent)),
            ("negative", .bool(t.config.negative)), ("rounds", .integer(t.rounds)), ("latency", .integer(t.latency)),
        ]
        if let r = t.report {
            pairs += [("snn_accuracy", r.snnAccuracy.map { .number($0) } ?? .null), ("agreement", .number(r.agreement)),
                      ("synaptic_ops", .number(r.synapticOps)), ("energy_pj", energyPJ(r.synapticOps, macs: r.macs)),
                      ("overflow", .integer(r.overflow)), ("coupling", .integer(r.coupling))]
        } else {
            pairs += [("snn_accuracy", .null), ("agreement", .null), ("synaptic_ops", .null), ("energy_pj", .null),
                      ("overflow", .null), ("coupling", .null)]
        }
        pairs += [("lossless", .bool(t.lossless)), ("pruned_by", t.prunedBy.map { .string($0) } ?? .null),
                  ("note", .string(t.note))]
        return .object(pairs)
    }

    func json() -> JSONValue {
        let r = diagnosis.report
        let total = r.operations?.total ?? OperationCounts()
        let a = r.attribution
        let prefix = a.map { $0.exactPrefixAccuracy ?? $0.exactPrefixAgreement }
        let diag: JSONValue = .object([
            ("config", r.layout.config.json()),
            ("latency", .integer(r.layout.latency)),
            ("snn_accuracy", r.snnAccuracy.map { .number($0) } ?? .null),
            ("agreement", .number(r.agreement)),
            ("synaptic_ops", .number(total.synapticOps)),
            ("energy_pj", energyPJ(total.synapticOps, macs: total.macs)),
            ("lossless", .bool(diagnosis.lossless)),
            ("ann_fails", .bool(diagnosis.annFails)),
            ("findings", .array(diagnosis.findings.map { f in
                .object([("kind", .string(f.kind.rawValue)),
                         ("layer", f.layer.map { .string(layout.layers[$0].name) } ?? .null), ("text", .string(f.text))])
            })),
            ("layers", .array(r.layers.enumerated().map { l, layer in
                .object([("name", .string(layer.info.name)), ("overflow", .integer(layer.overflow)),
                         ("coupling", .integer(layer.coupling)),
                         ("decoupled_accuracy", a?.decoupledAccuracy.map { .number($0[l]) } ?? .null),
                         ("decoupled_agreement", a.map { .number($0.decoupledAgreement[l]) } ?? .null),
                         ("exact_prefix_step", prefix.map { .number($0[l + 1] - $0[l]) } ?? .null),
                         ("culprit_samples", a.map { .integer($0.culpritSamples[l]) } ?? .null)])
            })),
        ])
        var recommended: JSONValue = .null
        if let best = outcome?.best, let b = best.report {
            recommended = .object([
                ("T", .integer(best.config.T)), ("beta", .number(best.config.beta)), ("silent", .integer(best.config.silent)),
                ("negative", .bool(best.config.negative)), ("rounds", .integer(best.rounds)), ("latency", .integer(best.latency)),
                ("snn_accuracy", b.snnAccuracy.map { .number($0) } ?? .null), ("agreement", .number(b.agreement)),
                ("synaptic_ops", .number(b.synapticOps)), ("energy_pj", energyPJ(b.synapticOps, macs: b.macs)),
                ("theta_file", thetaFile.map { .string($0) } ?? .null),
                ("theta", .object([("input", .number(b.amplitudes.input))]
                                  + zip(layout.layers, b.amplitudes.layers).map { ($0.tensor, .number($1)) })),
            ])
        }
        return .object([
            ("model", .string(model)),
            ("samples", .integer(samples)),
            ("ann_accuracy", r.annAccuracy.map { .number($0) } ?? .null),
            ("tolerance", .number(outcome?.tolerance ?? 0)),
            ("diagnosis", diag),
            ("recommended", recommended),
            ("stop", outcome.map { .string(Self.stopText($0.stop)) } ?? .string("ann_fails")),
            ("not_visited", .integer(outcome?.notVisited ?? 0)),
            ("tried", .array((outcome?.trials ?? []).map(trialJSON))),
            ("pareto_criteria", .string(criteria.rawValue)),
            ("pareto", .array((outcome?.pareto(criteria) ?? []).map(trialJSON))),
            ("reproduce", .array(reproduce().map { .string($0) })),
        ])
    }

    func pct(_ x: Double?) -> String { x.map { String(format: "%.2f", $0 * 100) } ?? "n/a" }

    /// The command lines that reproduce the recommendation.
    func reproduce() -> [String] {
        guard let best = outcome?.best else { return [] }
        let c = best.config
        var flags = "-T \(c.T) --silent \(c.silent)"
        if c.beta != 1.5 { flags += " --beta \(plainNumber(c.beta))" }
        if !c.negative { flags += " --no-negative" }
        let extra = sourceFlags.isEmpty ? "" : " " + sourceFlags
        // θ always travels in a file: a bundle's own theta.json would otherwise replace it.
        var lines: [String] = []
        let file = thetaFile ?? "THETA.json"
        if thetaFile == nil {
            lines.append("cssdbg doctor \(modelPath)\(extra) --out THETA.json   # writes the recommended θ and config (\(flags), \(best.rounds) A.3 rounds)")
        }
        lines.append("cssdbg \(modelPath)\(extra) --theta \(file)")
        lines.append("cssdbg eval \(modelPath)\(extra) --theta \(file)")
        lines.append("python -m cssdbg_torch eval \(modelPath)\(extra) --theta \(file)")
        return lines
    }

    func text() -> String {
        let r = diagnosis.report
        let c = r.layout.config
        var lines: [String] = []
        let measure = r.annAccuracy == nil ? "agreement" : "accuracy"
        lines.append("model \(model)  \(samples) samples  ANN \(measure) \(r.annAccuracy.map { pct($0) + " %" } ?? "n/a (no labels: lossless means agreement with the ANN)")")
        lines.append("")
        lines.append("diagnosis of T \(c.T), β \(plainNumber(c.beta)), L \(c.silent), negative spikes \(c.negative ? "on" : "off") (latency \(r.layout.latency)):")
        for f in diagnosis.findings { lines.append("  - \(f.text)") }
        guard let outcome else { return lines.joined(separator: "\n") }
        lines.append("")
        let evaluated = outcome.trials.filter { $0.report != nil }.count
        let pruned = outcome.trials.count - evaluated
        lines.append("search (tolerance \(plainNumber(outcome.tolerance)) points; latency by latency, the first lossless latency ends it): \(evaluated) evaluated, \(pruned) pruned, \(outcome.notVisited) not visited")
        let header = ["latency", "T", "β", "L", "neg", "A.3", "SNN %", "agree %", "syn.ops", "energy", "lossless", "what changed"]
        var rows: [[String]] = []
        // Pruned trials are counted by reason under the table (the JSON lists each).
        var prunedBy: [(String, Int)] = []
        for t in outcome.trials {
            if let why = t.prunedBy {
                let reason = why.hasPrefix("A.3 round") ? "an A.3 round that leaves θ as it was (every layer's p99.9 |u| ≤ 1 on the calibration set)" : why
                if let i = prunedBy.firstIndex(where: { $0.0 == reason }) { prunedBy[i].1 += 1 } else { prunedBy.append((reason, 1)) }
                continue
            }
            let e = t.report.map { ReportTable.picojoules($0.synapticOps * energy.accumulate) } ?? "-"
            rows.append([String(t.latency), String(t.config.T), plainNumber(t.config.beta), String(t.config.silent),
                         t.config.negative ? "on" : "off", String(t.rounds), t.report.map { pct($0.snnAccuracy) } ?? "-",
                         t.report.map { pct($0.agreement) } ?? "-",
                         t.report.map { String(format: "%.0f", $0.synapticOps) } ?? "-", e,
                         t.lossless ? "yes" : "no", t.note])
        }
        let widths = header.indices.map { i in max(header[i].count, rows.map { $0[i].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            "  " + cells.enumerated().map { i, s in
                i == cells.count - 1 ? s : (i >= 6 && i <= 9 ? lpad(s, widths[i]) : pad(s, widths[i]))
            }.joined(separator: "  ")
        }
        lines.append(line(header))
        lines += rows.map(line)
        for (why, n) in prunedBy { lines.append("  pruned, not evaluated: \(n) × \(why)") }
        lines.append("")
        var front: [String] = []
        for t in outcome.pareto(criteria).sorted(by: { ($0.latency, $0.report!.synapticOps) < ($1.latency, $1.report!.synapticOps) }) {
            let energy = criteria == .latency ? ""
                : " " + ReportTable.picojoules(t.report!.synapticOps * self.energy.accumulate)
            let point = "latency \(t.latency)\(energy) \(pct(t.report!.score)) %"
            if front.last != point { front.append(point) }
        }
        let against = ["latency": "latency", "energy": "energy", "latency,energy": "latency and energy"][criteria.rawValue]!
        lines.append("Pareto front (\(measure) against \(against)): " + front.joined(separator: ", "))
        lines.append("")
        switch outcome.stop {
        case .interrupted: lines.append("interrupted (Ctrl-C) at latency \(outcome.stoppedAtLatency ?? 0): the best found so far is below")
        case .budget: lines.append("--budget reached at latency \(outcome.stoppedAtLatency ?? 0): the best found so far is below")
        case .exhausted: lines.append("no configuration of the space is lossless; the most accurate is on the front above (try a larger --tolerance, more --max-rounds or --beta)")
        case .found: break
        }
        if let best = outcome.best, let b = best.report {
            let bc = best.config
            let (ann, snn) = OperationCounts(macs: b.macs, synapticOps: b.synapticOps).energy(energy)
            lines.append("recommended: T \(bc.T), β \(plainNumber(bc.beta)), L \(bc.silent), negative spikes \(bc.negative ? "on" : "off"), \(best.rounds) A.3 round\(best.rounds == 1 ? "" : "s")")
            lines.append("  latency \(best.latency) (was \(r.layout.latency)), SNN \(measure) \(pct(b.score)) % (was \(pct(r.snnAccuracy ?? r.agreement)) %), energy SNN \(ReportTable.picojoules(snn)) per sample against the ANN's \(ReportTable.picojoules(ann))")
            if let thetaFile { lines.append("  wrote θ to \(thetaFile)") }
            lines.append("reproduce:")
            for cmd in reproduce() { lines.append("  \(cmd)") }
        } else if outcome.stop != .exhausted {
            lines.append("no lossless configuration found up to latency \(outcome.stoppedAtLatency ?? 0)")
        }
        return lines.joined(separator: "\n")
    }

    /// The configurations tried, as the sweep chart draws them.
    static func svg(_ outcome: LosslessSearch.Outcome, model: String) -> String {
        let front = Set(outcome.pareto.map { "\($0.config)-\($0.rounds)" })
        let points = outcome.trials.compactMap { t -> SweepPoint? in
            guard let r = t.report else { return nil }
            return SweepPoint(config: t.config, rounds: t.rounds, amplitudes: r.amplitudes, latency: t.latency,
                              annAccuracy: outcome.annAccuracy, snnAccuracy: r.snnAccuracy, agreement: r.agreement,
                              residualP999Max: 0, overflow: r.overflow, coupling: r.coupling,
                              pareto: front.contains("\(t.config)-\(t.rounds)"), synapticOps: r.synapticOps, macs: r.macs)
        }
        return SweepChart.svg(points, model: model + " (doctor)", samples: 0)
    }
}
