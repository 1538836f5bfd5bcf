import ArgumentParser
import CSSCore
import CSSImport
#if canImport(Glibc)
import Glibc
#endif

/// Runs a command body and turns known errors into one line on stderr and exit status 1 (usage
/// errors found late, e.g. `--sample` beyond the data, pass through and exit 64).
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let e as ImportError {
        writeStderr("cssdbg: \(e.description)\n")
        throw ExitCode(1)
    } catch let e as GraphError {
        writeStderr("cssdbg: \(e.description)\n")
        throw ExitCode(1)
    }
}

struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert, simulate the data set and report accuracy, residuals and coupling per layer.")

    @OptionGroup var options: ModelOptions
    @Flag(help: "Print one JSON object (schema in the README).") var json = false

    func run() async throws {
        try await reportingErrors {
            let m = try options.load()
            let report = try m.evaluator.evaluate(m.data, amplitudes: try m.amplitudes(), config: m.config,
                                                  progress: Progress.reporter("simulating"))
            Progress.finish()
            if json {
                print(report.json().rendered())
            } else {
                print(ReportTable.render(report, model: m.name))
            }
        }
    }
}

struct Tune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run A.3 amplitude-adjustment rounds on the calibration set and write a θ file.")

    @OptionGroup var options: ModelOptions
    @Option(parsing: .unconditional, help: "Adjustment rounds (1 to 100, like :adjust).") var rounds = 5
    @Option(help: "Where to write the θ file.") var out = "theta.json"
    @Flag(help: "Print one JSON object instead of the table.") var json = false

    func validate() throws {
        // The same range as the debugger's `:adjust LAYER ROUNDS`.
        if !(1...100).contains(rounds) { throw Usage.error("--rounds", String(rounds), "must be between 1 and 100") }
    }

    func run() async throws {
        try await reportingErrors {
            let m = try options.load()
            let start = try m.amplitudes()
            let before = try m.evaluator.evaluate(m.data, amplitudes: start, config: m.config)
            let (theta, steps) = try AmplitudeAdjustment.adjust(m.evaluator, calib: m.calib, amplitudes: start,
                                                                config: m.config, rounds: rounds,
                                                                progress: Progress.reporter("adjusting"))
            Progress.finish()
            let after = try m.evaluator.evaluate(m.data, amplitudes: theta, config: m.config)
            let file = ThetaFile(model: m.name, config: m.config, amplitudes: theta, tensors: m.network.layerTensors)
            try file.write(to: out)
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
                    ("before", summary(before)),
                    ("after", summary(after)),
                    ("out", .string(out)),
                    ("theta", file.json().objectValue("theta")),
                ])
                print(doc.rendered())
            } else {
                print("round  layer                  residual p99.9    factor          θ")
                for s in steps {
                    print("\(pad(String(s.round), 5))  \(pad(layout.layers[s.layer].name, 20))  \(lpad(fmt(s.residualP999, 4), 14))  \(lpad(fmt(s.factor, 5), 8))  \(lpad(fmt(s.theta, 6), 9))")
                }
                print("")
                print("before: \(summaryText(before))")
                print("after:  \(summaryText(after))")
                print("wrote \(out)")
            }
        }
    }

    func summary(_ r: DatasetReport) -> JSONValue {
        .object([("snn_accuracy", r.snnAccuracy.map { .number($0) } ?? .null), ("agreement", .number(r.agreement)),
                 ("overflow", .integer(r.layers.map(\.overflow).reduce(0, +))),
                 ("coupling", .integer(r.layers.map(\.coupling).reduce(0, +)))])
    }

    func summaryText(_ r: DatasetReport) -> String {
        let acc = r.snnAccuracy.map { percent($0) } ?? "n/a"
        return "SNN accuracy \(acc)  agreement \(percent(r.agreement))  overflow \(r.layers.map(\.overflow).reduce(0, +))  coupling \(r.layers.map(\.coupling).reduce(0, +))"
    }
}

extension JSONValue {
    func objectValue(_ key: String) -> JSONValue {
        if case .object(let pairs) = self, let v = pairs.first(where: { $0.0 == key }) { return v.1 }
        return .null
    }
}
