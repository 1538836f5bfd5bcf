import ArgumentParser
import CSSCore
import CSSImport
import CSSView
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `cssdbg doctor`: why the given conversion loses accuracy, and the lowest-latency lossless
/// conversion of the model (docs/numerics.md §15), found, explained and written as a θ file.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Diagnose a conversion and find the lowest-latency lossless one (T, L, negative spikes, A.3 rounds).",
        discussion: """
        Lossless: SNN accuracy at least the ANN's minus --tolerance percentage points (agreement with the \
        ANN without labels). Best: lowest latency T + (n+1)·L, then lowest T, then fewest synaptic operations. \
        The search covers T 1 to the largest exact T of β, L 0 to 3, negative spikes on and off and 0 to \
        --max-rounds A.3 rounds at β 1.5 (plus --beta values), latency by latency; the first lossless latency \
        ends it. Ctrl-C or --budget stop early and report the best found so far.
        """)

    @OptionGroup var source: SourceOptions
    @Option(name: .customShort("T"), parsing: .unconditional, help: "T of the configuration to diagnose (default 10, or the θ file's).") var steps: Int?
    @Option(parsing: .unconditional, help: "Silent period L of the configuration to diagnose (default 1, or the θ file's).") var silent: Int?
    @Flag(name: .customLong("no-negative"), help: "Diagnose the configuration with positive spikes only.") var noNegative = false
    @OptionGroup var running: RunOptions
    @OptionGroup var energy: EnergyOptions
    @Option(parsing: .unconditional, help: "Accuracy the conversion may lose, in percentage points (default 0.5).") var tolerance: Double = 0.5
    @Option(parsing: .unconditional, help: "More β values to search besides 1.5, e.g. 2,1.25.") var beta: String?
    @Option(name: .customLong("max-rounds"), parsing: .unconditional, help: "A.3 rounds to try, 0 to N (default 3).") var maxRounds = 3
    @Option(name: .customLong("max-T"), parsing: .unconditional, help: "Largest T to search (default: the precision limit of each β).") var maxT: Int?
    @Option(parsing: .unconditional, help: "Stop after this many seconds with the best found so far.") var budget: Double?
    @Option(help: "Write the recommended θ (and its config) to this cssdbg-theta/1 file.") var out: String?
    @Flag(help: "Replace the --out file even when it holds θ of another model or config.") var force = false
    @Option(help: "Also write an SVG chart of accuracy against latency of the configurations tried.") var svg: String?
    @Option(help: "What the Pareto front weighs against accuracy: latency (default), energy (synaptic operations) or latency,energy.")
    var pareto: String?
    @Flag(help: "Print one JSON object (schema in docs/headless.md).") var json = false

    func validate() throws {
        if !(tolerance >= 0 && tolerance <= 100) {
            throw Usage.error("--tolerance", plainNumber(tolerance), "must be between 0 and 100 percentage points")
        }
        if !(0...20).contains(maxRounds) { throw Usage.error("--max-rounds", String(maxRounds), "must be between 0 and 20") }
        if let maxT, maxT < 1 { throw Usage.error("--max-T", String(maxT), "must be 1 or more") }
        if let budget, !(budget > 0) { throw Usage.error("--budget", plainNumber(budget), "must be a positive number of seconds") }
        if let svg, svg.isEmpty { throw Usage.error("--svg", "''", "give a file name") }
        if let out, out.isEmpty { throw Usage.error("--out", "''", "give a file name") }
        if let pareto, ConversionSweep.Criteria(rawValue: pareto) == nil {
            throw Usage.error("--pareto", pareto, "must be one of latency, energy, latency,energy")
        }
        _ = try betas()
        _ = try diagnosedConfig(base: nil)
    }

    /// 1.5 and the --beta values, each checked like `sweep`'s.
    func betas() throws -> [Double] {
        guard let beta else { return [1.5] }
        do {
            let extra = try SweepSpec.parseBeta(beta)
            for b in extra where !(b > 1) {
                throw Usage.error("--beta", beta, "β must be more than 1, got \(plainNumber(b))")
            }
            return [1.5] + extra.filter { $0 != 1.5 }
        } catch let p as SweepSpec.Problem {
            throw Usage.error(p.flag, p.value.isEmpty ? nil : p.value, p.reason)
        }
    }

    func diagnosedConfig(base: ConversionConfig?) throws -> ConversionConfig {
        var c = base ?? .default
        if let steps { c.T = steps }
        if let silent { c.silent = silent }
        if noNegative { c.negative = false }
        if let p = running.percentile { c.percentile = p }
        do { try c.validate() } catch let e as ConfigError {
            let flag = e.setting == .T ? "-T" : (e.setting == .silent ? "--silent" : "--percentile")
            throw Usage.error(flag, nil, e.description)
        }
        return c
    }

    func run() async throws {
        try await reportingErrors {
            let m = try running.load(source)
            if m.data.labels == nil && (m.calibrationIsData || m.dataIsCalibration) {
                throw ImportError(file: source.model, problem: "has no labels and no calibration set of its own",
                                  hint: "give --labels (accuracy) or --calib (then lossless means agreement with the ANN on the data)")
            }
            let config = try diagnosedConfig(base: m.thetaFile?.config)
            // Refused before any work when the file holds θ of another model or other layers.
            if let out {
                _ = try ThetaFile.checkReplacing(out, model: m.name, tensors: m.network.layerTensors, config: nil,
                                                 force: force, howToForce: "pass --force")
            }
            let space = LosslessSearch.Space(betas: try betas(), maxRounds: maxRounds, maxT: maxT,
                                             percentile: config.percentile)
            var evaluator = Evaluator(network: m.network)
            let widest = ConversionConfig(T: min(maxT ?? 64, ConversionConfig.maxT(beta: space.betas.min()!)),
                                          beta: space.betas.min()!, silent: 3)
            evaluator.batchSize = try running.headlessPlan(m, config: widest, model: source.model).batchSize

            // 1. Diagnose the given configuration.
            let theta = try m.thetaFile?.amplitudes
                ?? evaluator.calibrate(m.calib, config: config, progress: Progress.reporter("calibrating"))
            var report = try evaluator.evaluate(m.data, amplitudes: theta, config: config,
                                                progress: Progress.reporter("diagnosing"))
            report.attribution = try evaluator.attribution(
                m.data, amplitudes: theta, config: config, snnPredictions: report.snnPredictions,
                progress: Progress.reporter("attributing (\(2 * m.network.layerCount + 1) simulations)"))
            let (_, steps) = try AmplitudeAdjustment.adjust(evaluator, calib: m.calib, amplitudes: theta, config: config,
                                                           rounds: 1)
            Progress.finish()
            let diagnosis = Diagnosis(report: report, a3: steps, tolerance: tolerance)

            // 2. Search, unless the ANN itself fails.
            var outcome: LosslessSearch.Outcome? = nil
            var written: String? = nil
            if !diagnosis.annFails {
                outcome = try await search(evaluator, m, space: space)
                if let best = outcome?.best, let out, let r = best.report {
                    let file = ThetaFile(model: m.name, config: best.config, amplitudes: r.amplitudes,
                                         tensors: m.network.layerTensors)
                    _ = try file.checkReplacing(out, force: force, howToForce: "pass --force")
                    try file.write(to: out)
                    written = out
                }
                if let svg, let outcome {
                    try AtomicFile.write(Array(DoctorReport.svg(outcome, model: m.name).utf8), to: svg)
                }
            }
            let doc = DoctorReport(model: m.name, modelPath: source.model, samples: m.data.count, diagnosis: diagnosis,
                                   outcome: outcome, energy: energy.costs, thetaFile: written, layout: report.layout,
                                   sourceFlags: sourceFlags(),
                                   criteria: pareto.flatMap(ConversionSweep.Criteria.init(rawValue:)) ?? .latency)
            print(json ? doc.json().rendered() : doc.text())
        }
    }

    /// The data flags as given, for the reproduce lines.
    func sourceFlags() -> String {
        [("--data", source.data), ("--labels", source.labels), ("--calib", source.calib),
         ("--limit", running.limit.map(String.init))].compactMap { f, v in v.map { "\(f) \($0)" } }.joined(separator: " ")
    }

    /// Runs the search on a compute thread; Ctrl-C (SIGINT) ends it with what was found so far.
    func search(_ evaluator: Evaluator, _ m: LoadedModel, space: LosslessSearch.Space) async throws -> LosslessSearch.Outcome {
        let start = DispatchTime.now().uptimeNanoseconds
        let budget = self.budget
        let interrupted = Locked(false)
        let tolerance = self.tolerance
        let data = m.data, calib = m.calib
        let reporter = Progress.enabled
        let task = Task {
            try await ComputeThread.run(name: "cssdbg doctor") {
                try LosslessSearch.run(evaluator, data: data, calib: calib, space: space, tolerance: tolerance, stop: {
                    if interrupted.value { return .interrupted }
                    if let budget, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 >= budget { return .budget }
                    return nil
                }, progress: { done, k, n, latency in
                    guard reporter else { return }
                    // The time left at this latency: its configurations go as fast as those tried.
                    let elapsed = Progress.seconds(since: start)
                    let left = done > 0 ? elapsed / Double(done) * Double(n - k) : nil
                    Progress.show(ProgressEstimate.line("searching latency \(latency): \(k + 1) of \(n) configurations, \(done) tried",
                                                        fraction: nil, elapsed: elapsed, remaining: left))
                })
            }
        }
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            interrupted.value = true
            task.cancel()
        }
        source.resume()
        defer {
            source.cancel()
            signal(SIGINT, SIG_DFL)
        }
        let outcome = try await task.value
        Progress.finish()
        return outcome
    }
}
