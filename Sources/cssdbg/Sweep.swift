import ArgumentParser
import CSSCore
import CSSImport

/// `cssdbg sweep`: which T, β, L and spike sign a model needs — every combination converted,
/// optionally tuned, evaluated, with the Pareto front of accuracy against latency.
struct Sweep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate every combination of T, β, L and negative spikes; table, JSON or an SVG chart.",
        discussion: """
        Lists are comma-separated (-T 4,6,8 --silent 0,1,2 --negative on,off --beta 1.5,2); a setting \
        not given keeps its default. θ is calibrated for every point (a θ file is not used), then \
        --rounds N A.3 rounds run on the calibration set, as `cssdbg tune` does.
        """)

    @OptionGroup var source: SourceOptions
    @Option(name: .customShort("T"), parsing: .unconditional, help: "Coding time steps to try, e.g. 4,6,8 (default 10).") var steps: String?
    @Option(parsing: .unconditional, help: "Amplification factors β to try, each above 1, e.g. 1.5,2 (default 1.5).") var beta: String?
    @Option(parsing: .unconditional, help: "Silent-period lengths L to try, e.g. 0,1,2 (default 1).") var silent: String?
    @Option(parsing: .unconditional, help: "Spike signs to try: on (ternary), off (positive only), or on,off (default on).") var negative: String?
    @OptionGroup var running: RunOptions
    @Option(parsing: .unconditional, help: "A.3 adjustment rounds per point before it is evaluated (1 to 100).") var rounds: Int?
    @OptionGroup var energy: EnergyOptions
    @Option(help: "What the Pareto front weighs against accuracy: latency (default), energy (synaptic operations) or latency,energy.")
    var pareto: String?
    @Option(name: .customLong("chart-x"), help: "The --svg chart's horizontal axis: latency (default) or energy (the SNN's, per sample).")
    var chartX: String?
    @Flag(help: "Print one JSON object (schema in docs/headless.md).") var json = false
    @Option(help: "Also write an SVG chart of accuracy against latency to FILE.") var svg: String?

    func validate() throws {
        if let rounds, !(1...100).contains(rounds) { throw Usage.error("--rounds", String(rounds), "must be between 1 and 100") }
        if source.theta != nil {
            throw ValidationError("--theta: sweep calibrates θ for every combination; it takes no θ file")
        }
        if let svg, svg.isEmpty { throw Usage.error("--svg", "''", "give a file name") }
        if let chartX, !["latency", "energy"].contains(chartX) {
            throw Usage.error("--chart-x", chartX, "must be latency or energy")
        }
        if let pareto, ConversionSweep.Criteria(rawValue: pareto) == nil {
            throw Usage.error("--pareto", pareto, "must be one of latency, energy, latency,energy")
        }
        _ = try configs()
    }

    /// Every combination, each checked like a single config (a T beyond the limit of its β
    /// names -T and that T). The lists are parsed by `SweepSpec`, as the debugger's `:sweep` does.
    func configs() throws -> [ConversionConfig] {
        do {
            let spec = SweepSpec(T: try steps.map(SweepSpec.parseT), beta: try beta.map(SweepSpec.parseBeta),
                                 silent: try silent.map(SweepSpec.parseSilent),
                                 negative: try negative.map(SweepSpec.parseNegative))
            for b in spec.beta ?? [] where !(b > 1) {
                throw Usage.error("--beta", beta, "β must be more than 1, got \(plainNumber(b)) (β = 1 is rate coding: cssdbg eval --rate)")
            }
            var base = ConversionConfig.default
            if let p = running.percentile { base.percentile = p }
            return try spec.configurations(base: base)
        } catch let p as SweepSpec.Problem {
            throw Usage.error(p.flag, p.value.isEmpty ? nil : p.value, p.reason)
        }
    }

    func run() async throws {
        try await reportingErrors {
            let configs = try self.configs()
            let m = try running.load(source)
            var evaluator = Evaluator(network: m.network)
            // Batches sized for the most demanding point (the longest window).
            let widest = configs.max { $0.window < $1.window } ?? .default
            evaluator.batchSize = try running.headlessPlan(m, config: widest, model: source.model).batchSize
            let percentile = configs.first?.percentile ?? ConversionConfig.default.percentile
            let p = try evaluator.calibrationPercentiles(m.calib, percentile: percentile, progress: Progress.reporter("calibrating"))
            var points = try ConversionSweep.run(evaluator, data: m.data, calib: m.calib, percentiles: p, configs: configs,
                                                       rounds: rounds ?? 0, progress: Progress.reporter("sweeping \(configs.count) points"))
            let criteria = pareto.flatMap(ConversionSweep.Criteria.init(rawValue:)) ?? .latency
            ConversionSweep.markParetoFront(&points, criteria: criteria)
            Progress.finish()
            if let svg {
                try AtomicFile.write(Array(SweepChart.svg(points, model: m.name, samples: m.data.count, energy: chartX == "energy" ? energy.costs : nil).utf8), to: svg)
            }
            if json {
                print(Self.json(points, model: m.name, samples: m.data.count, energy: energy.costs, criteria: criteria).rendered())
            } else {
                if m.thetaFile != nil { print("θ calibrated for every point (the bundle's theta.json is not used)") }
                print(Self.table(points, model: m.name, samples: m.data.count, energy: energy.costs, criteria: criteria))
                if let svg { print("wrote \(svg)") }
            }
        }
    }

    static func json(_ points: [SweepPoint], model: String, samples: Int, energy: EnergyCosts = .standard,
                     criteria: ConversionSweep.Criteria = .latency) -> JSONValue {
        .object([
            ("model", .string(model)),
            ("samples", .integer(samples)),
            ("pareto_criteria", .string(criteria.rawValue)),
            ("points", .array(points.map { p in
                .object([("T", .integer(p.config.T)), ("beta", .number(p.config.beta)), ("silent", .integer(p.config.silent)),
                         ("negative", .bool(p.config.negative)), ("rounds", .integer(p.rounds)), ("latency", .integer(p.latency)),
                         ("ann_accuracy", p.annAccuracy.map { .number($0) } ?? .null),
                         ("snn_accuracy", p.snnAccuracy.map { .number($0) } ?? .null),
                         ("agreement", .number(p.agreement)), ("residual_p999_max", .number(p.residualP999Max)),
                         ("overflow", .integer(p.overflow)), ("coupling", .integer(p.coupling)),
                         ("synaptic_ops", .number(p.synapticOps)),
                         ("energy_pj", .object([("ann", .number(Double(p.macs) * energy.mac)),
                                                ("snn", .number(p.synapticOps * energy.accumulate))])),
                         ("pareto", .bool(p.pareto))])
            })),
        ])
    }

    static func table(_ points: [SweepPoint], model: String, samples: Int, energy: EnergyCosts = .standard,
                      criteria: ConversionSweep.Criteria = .latency) -> String {
        let rounds = points.first?.rounds ?? 0
        let against = ["latency": "latency", "energy": "energy", "latency,energy": "latency and energy"][criteria.rawValue]!
        var lines = ["model \(model)  \(samples) samples  \(points.count) points  A.3 rounds \(rounds)  (* Pareto front of \(points.first?.snnAccuracy == nil ? "agreement" : "SNN accuracy") against \(against))"]
        lines.append("")
        // (title, width, right-aligned): header and rows from one list.
        let columns: [(String, Int, Bool)] = [("T", 3, true), ("β", 4, true), ("L", 2, true), ("negative", 8, false),
                                              ("latency", 7, true), ("ANN acc", 7, true), ("SNN acc", 7, true),
                                              ("agreement", 9, true), ("p99.9|u| max", 12, true), ("overflow", 8, true),
                                              ("coupling", 8, true),
                                              ("syn.ops", max(7, points.map { String(Int($0.synapticOps.rounded())).count }.max() ?? 0), true),
                                              ("SNN energy", 10, true), ("front", 5, false)]
        func row(_ cells: [String]) -> String {
            zip(cells, columns).map { c, col in col.2 ? lpad(c, col.1) : pad(c, col.1) }.joined(separator: "  ")
                .trimmingTrailingSpaces()
        }
        lines.append(row(columns.map(\.0)))
        for p in points {
            let c = p.config
            lines.append(row([String(c.T), plainNumber(c.beta), String(c.silent), c.negative ? "on" : "off",
                              String(p.latency), p.annAccuracy.map(percent) ?? "n/a", p.snnAccuracy.map(percent) ?? "n/a",
                              percent(p.agreement), fmt(p.residualP999Max, 3), String(p.overflow), String(p.coupling),
                              String(Int(p.synapticOps.rounded())), ReportTable.picojoules(p.synapticOps * energy.accumulate),
                              p.pareto ? "  *" : ""]))
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
