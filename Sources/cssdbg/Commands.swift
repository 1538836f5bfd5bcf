import ArgumentParser
import CSSCore
import CSSImport
import CSSView
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a command body and turns known errors into one line on stderr and exit status 1 (usage
/// errors found late, e.g. `--sample` beyond the data, exit 64: `UsageError` here, the parser's
/// `ValidationError` passes through).
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let e as UsageError {
        writeStderr("cssdbg: \(e.description)\n")
        throw ExitCode(Usage.exitCode)
    } catch let e as ImportError {
        writeStderr("cssdbg: \(e.description)\n")
        throw ExitCode(1)
    } catch let e as GraphError {
        writeStderr("cssdbg: \(e.description)\n")
        throw ExitCode(1)
    } catch let e as ConfigError {
        writeStderr("cssdbg: \(e.description)\n")
        throw ExitCode(1)
    } catch let e as EventLogError {
        writeStderr("cssdbg: CSSDBG_EVENT_LOG: \(e.description)\n")
        throw ExitCode(1)
    }
}

struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert, simulate the data set and report accuracy, residuals and coupling per layer.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var energy: EnergyOptions
    @Flag(help: "Also attribute the accuracy to layers: each layer decoupled, every exact prefix, the culprit layer per sample (2n+1 simulations of the data; docs/numerics.md §12).")
    var attribution = false
    @Flag(help: "Print one JSON object (schema in docs/headless.md).") var json = false

    func run() async throws {
        try await reportingErrors {
            let m = try options.load()
            let theta = try m.amplitudes()
            var report = try m.evaluator.evaluate(m.data, amplitudes: theta, config: m.config,
                                                  progress: Progress.reporter("simulating"))
            Progress.finish()
            if attribution {
                if m.data.labels == nil, !json {
                    writeStderr("cssdbg: no labels: the attribution reports agreement with the ANN instead of accuracy\n")
                }
                report.attribution = try m.evaluator.attribution(m.data, amplitudes: theta, config: m.config,
                                                                 snnPredictions: report.snnPredictions,
                                                                 progress: Progress.reporter("attributing (\(2 * m.network.layerCount + 1) simulations)"))
                Progress.finish()
            }
            if json {
                print(withThetaSource(report.json(energy: energy.costs), m).rendered())
            } else {
                // The θ file in use goes right under the config line it also sets.
                var lines = ReportTable.render(report, model: m.name, energy: energy.costs).split(separator: "\n", omittingEmptySubsequences: false)
                    .map(String.init)
                if let notice = m.model.thetaNotice { lines.insert(notice, at: min(1, lines.count)) }
                print(lines.joined(separator: "\n"))
            }
        }
    }

    /// The report with `"theta_source"` ("calibration", "bundle", "--theta") and `"theta_file"`
    /// after `"config"`.
    func withThetaSource(_ doc: JSONValue, _ m: ConfiguredModel) -> JSONValue {
        guard case .object(var pairs) = doc else { return doc }
        let at = (pairs.firstIndex { $0.0 == "config" } ?? pairs.count - 1) + 1
        pairs.insert(contentsOf: [("theta_source", .string(m.model.thetaSource)),
                                  ("theta_file", m.model.thetaPath.map { .string($0) } ?? .null)], at: at)
        return .object(pairs)
    }
}

struct Tune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run A.3 amplitude-adjustment rounds on the calibration set and write a θ file.")

    @OptionGroup var options: ModelOptions
    @Option(parsing: .unconditional, help: "Adjustment rounds (1 to 100, like :adjust).") var rounds = 5
    @Option(help: "Where to write the θ file (default: MODEL.theta.json in the current directory).") var out: String?
    @Flag(help: "Replace the --out file even when it holds θ of another model or config.") var force = false
    @Flag(help: "Print one JSON object instead of the table.") var json = false

    func validate() throws {
        // The same range as the debugger's `:adjust LAYER ROUNDS`.
        if !(1...100).contains(rounds) { throw Usage.error("--rounds", String(rounds), "must be between 1 and 100") }
    }

    func run() async throws {
        try await reportingErrors {
            let m = try options.load(calibrationSuffices: true)
            let out = self.out ?? ThetaFile.defaultPath(model: m.name)
            // Refused before any work when the file holds θ of another model or config.
            _ = try ThetaFile.checkReplacing(out, model: m.name, tensors: m.network.layerTensors, config: m.config,
                                             force: force, howToForce: "pass --force")
            if !json, let notice = m.model.thetaNotice { print(notice) }
            let start = try m.amplitudes()
            let before = try m.evaluator.evaluate(m.data, amplitudes: start, config: m.config)
            let (theta, steps) = try AmplitudeAdjustment.adjust(m.evaluator, calib: m.calib, amplitudes: start,
                                                                config: m.config, rounds: rounds,
                                                                progress: Progress.reporter("adjusting"))
            Progress.finish()
            let after = try m.evaluator.evaluate(m.data, amplitudes: theta, config: m.config)
            let file = ThetaFile(model: m.name, config: m.config, amplitudes: theta, tensors: m.network.layerTensors)
            let replaced = try file.checkReplacing(out, force: force, howToForce: "pass --force")
            try file.write(to: out)
            let bundleTheta = Self.isBundleTheta(out)
            let evaluatedOn = m.model.dataIsCalibration ? "calibration" : "data"
            let layout = m.network.layout(m.config)
            if json {
                let doc: JSONValue = .object([
                    ("model", .string(m.name)),
                    ("config", m.config.json()),
                    ("rounds", .array(steps.map { s in
                        .object([("round", .integer(s.round)), ("layer", .string(layout.layers[s.layer].name)),
                                 ("tensor", .string(layout.layers[s.layer].tensor)),
                                 ("residual_p999", .number(s.residualP999)), ("factor", .number(s.factor)),
                                 ("theta", .number(s.theta))])
                    })),
                    ("theta_source", .string(m.model.thetaSource)),
                    ("theta_file", m.model.thetaPath.map { .string($0) } ?? .null),
                    ("evaluated_on", .string(evaluatedOn)),
                    ("samples", .integer(m.data.count)),
                    ("before", summary(before)),
                    ("after", summary(after)),
                    ("out", .string(out)),
                    ("replaced", .string(Self.replacedText(replaced))),
                    ("out_is_bundle_theta", .bool(bundleTheta)),
                    ("theta", file.json().objectValue("theta")),
                ])
                print(doc.rendered())
            } else {
                print("round  layer                  residual p99.9    factor          θ")
                for s in steps {
                    print("\(pad(String(s.round), 5))  \(pad(layout.layers[s.layer].name, 20))  \(lpad(fmt(s.residualP999, 4), 14))  \(lpad(fmt(s.factor, 5), 8))  \(lpad(fmt(s.theta, 6), 9))")
                }
                print("")
                if m.model.dataIsCalibration {
                    print("on the calibration set (\(m.data.count) samples, no data given: agreement with the ANN, no accuracy):")
                }
                print("before: \(summaryText(before))")
                print("after:  \(summaryText(after))")
                switch replaced {
                case .nothing: print("wrote \(out)")
                case .sameModelAndConfig: print("wrote \(out) (replaced the θ it held for this model and config)")
                case .forced(let what): print("wrote \(out) (--force: it \(what))")
                }
                if bundleTheta {
                    print("note: \(out) is a bundle's theta.json: eval and the debugger of that bundle now start from this θ and config")
                }
            }
        }
    }

    static func replacedText(_ r: ThetaFile.Replaced) -> String {
        switch r {
        case .nothing: return "nothing"
        case .sameModelAndConfig: return "same model and config"
        case .forced: return "forced"
        }
    }

    /// Whether `path` is the `theta.json` of a bundle (a directory holding model.onnx).
    static func isBundleTheta(_ path: String) -> Bool {
        let url = URL(fileURLWithPath: path)
        guard url.lastPathComponent == ModelBundle.thetaFile else { return false }
        return FileManager.default.fileExists(atPath: url.deletingLastPathComponent().appendingPathComponent(ModelBundle.modelFile).path)
    }

    func summary(_ r: DatasetReport) -> JSONValue {
        .object([("snn_accuracy", r.snnAccuracy.map { .number($0) } ?? .null), ("agreement", .number(r.agreement)),
                 ("overflow", .integer(r.layers.map(\.overflow).reduce(0, +))),
                 ("coupling", .integer(r.layers.map(\.coupling).reduce(0, +)))])
    }

    func summaryText(_ r: DatasetReport) -> String {
        let acc = r.snnAccuracy.map { "SNN accuracy " + percent($0) + "  " } ?? ""
        return "\(acc)agreement \(percent(r.agreement))  overflow \(r.layers.map(\.overflow).reduce(0, +))  coupling \(r.layers.map(\.coupling).reduce(0, +))"
    }
}

extension JSONValue {
    func objectValue(_ key: String) -> JSONValue {
        if case .object(let pairs) = self, let v = pairs.first(where: { $0.0 == key }) { return v.1 }
        return .null
    }
}
