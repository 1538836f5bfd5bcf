import ArgumentParser
import CSSCore
import CSSImport
import CSSView
import Foundation

/// What to load: the model and its data (shared by every command, `sweep` included).
struct SourceOptions: ParsableArguments {
    @Argument(help: "Bundle directory or .onnx file.")
    var model: String

    @Option(help: "Inputs as .npy ([N, ...input shape]).") var data: String?
    @Option(help: "Integer labels as .npy ([N]).") var labels: String?
    @Option(help: "Calibration inputs as .npy (default: the bundle's calib.npy, else the data).") var calib: String?
    @Option(help: "Start from a cssdbg-theta/1 file instead of calibrating.") var theta: String?
}

/// How to run: calibration percentile, how much data, threads and memory (shared by every command).
struct RunOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Calibration percentile of non-zero activations (default 99.99).") var percentile: Double?
    @Option(parsing: .unconditional, help: "Use only the first N samples of the data.") var limit: Int?
    @Option(parsing: .unconditional, help: "Worker threads (default: all cores).") var threads: Int?
    @Option(parsing: .unconditional, help: "Memory the session may use in all, e.g. 2G, 1500M (default 2G): batches shrink and caches are dropped to fit.")
    var memory: String?
    @Option(help: "3×3 stride-1 convolutions: winograd (default: F(2×2,3×3)), auto (F(4×4,3×3) on maps of 4×4 and more, F(2×2) below: outside docs/numerics.md §9 on one sample model, and not measurably faster on a lightly loaded machine), winograd4 (F(4×4) everywhere) or im2col (plain GEMM).")
    var conv: String?

    /// The `--conv` names, as `cssdbg bench` takes them.
    static let convChoices = ["auto", "winograd4", "winograd", "im2col"]

    func validate() throws {
        if let conv, !Self.convChoices.contains(conv) {
            throw Usage.error("--conv", conv, "must be one of \(Self.convChoices.joined(separator: ", "))")
        }
        if let limit, limit <= 0 { throw Usage.error("--limit", String(limit), "must be 1 or more") }
        if let threads, threads <= 0 { throw Usage.error("--threads", String(threads), "must be 1 or more") }
        _ = try memoryBudget()
    }

    /// The `--memory` budget (default 2 GiB).
    func memoryBudget() throws -> MemoryBudget {
        guard let memory else { return .default }
        guard let b = MemoryBudget.parse(memory) else {
            throw Usage.error("--memory", memory, "not an amount of memory; give e.g. 2G, 1500M or 1.5GiB")
        }
        return b
    }

    /// Model, data and θ file as the flags say (`calibrationSuffices`: the calibration set stands
    /// in for missing data).
    func load(_ source: SourceOptions, calibrationSuffices: Bool = false) throws -> LoadedModel {
        if let threads { ComputeThreads.set(threads) }
        return try LoadedModel.load(path: source.model, data: source.data, labels: source.labels, calib: source.calib,
                                    theta: source.theta, limit: limit, calibrationSuffices: calibrationSuffices,
                                    winograd: conv != "im2col", winogradTiles: conv.flatMap(WinogradTiles.init(rawValue:)) ?? .standard)
    }

    /// Batches of the headless commands sized to `--memory` (one job, no focused trace).
    func headlessPlan(_ m: LoadedModel, config: ConversionConfig, model: String) throws -> MemoryPlan {
        do {
            return try MemoryPlan.of(network: m.network, config: config, memory: try memoryBudget(), data: m.data,
                                     calib: m.calib, interactive: false)
        } catch let e as GraphError {
            throw ImportError(file: model, problem: e.description)
        }
    }
}

/// Options every command but `sweep` shares: what to load and how to convert it.
struct ModelOptions: ParsableArguments {
    @OptionGroup var source: SourceOptions

    @Option(name: .customShort("T"), parsing: .unconditional, help: "Coding time steps (default 10).") var steps: Int?
    @Option(parsing: .unconditional, help: "Amplification factor β (default 1.5).") var beta: Double?
    @Option(parsing: .unconditional, help: "Silent-period length L (default 1; 0 disables it).") var silent: Int?
    @Flag(name: .customLong("no-negative"), help: "Positive spikes only (full threshold).") var noNegative = false
    @Flag(help: "Rate-coding preset: β = 1, L = 0, no negative spikes.") var rate = false

    @OptionGroup var running: RunOptions

    var model: String { source.model }
    var theta: String? { source.theta }
    var percentile: Double? { running.percentile }

    /// Values are checked before anything is loaded (negative numbers parse as values:
    /// `--silent -1` is a value out of range, not a missing one).
    func validate() throws {
        try running.validate()
        if rate {
            // The preset fixes β, L and the sign; a flag that says otherwise is a contradiction.
            let clashes = [beta.map { "--beta \(plainNumber($0))" }, silent.map { "--silent \($0)" },
                           noNegative ? "--no-negative" : nil].compactMap { $0 }
            if !clashes.isEmpty {
                throw ValidationError("--rate sets β = 1, L = 0 and positive spikes only; it cannot be combined with "
                                      + clashes.joined(separator: ", "))
            }
        }
        _ = try config(base: nil)
    }

    /// The `--memory` budget (default 2 GiB).
    func memoryBudget() throws -> MemoryBudget { try running.memoryBudget() }

    /// Defaults, overridden by the θ file's config, overridden by flags. A value out of range is
    /// a usage error naming its flag; a θ file's config out of range is an error naming the file.
    func config(base: ConversionConfig?) throws -> ConversionConfig {
        var c = base ?? .default
        if let steps { c.T = steps }
        if let beta { c.beta = beta }
        if let silent { c.silent = silent }
        if noNegative { c.negative = false }
        if let percentile { c.percentile = percentile }
        if rate { c = .rate(T: c.T, percentile: c.percentile) }
        do {
            try c.validate()
        } catch let e as ConfigError {
            let text = e.description
            let given: [(flag: String, value: String?, setting: ConfigError.Setting)] = [
                ("-T", steps.map(String.init), .T),
                ("--beta", beta.map { plainNumber($0) }, .beta),
                ("--silent", silent.map(String.init), .silent),
                ("--percentile", percentile.map { plainNumber($0) }, .percentile),
            ]
            if let g = given.first(where: { $0.setting == e.setting }), let v = g.value {
                throw Usage.error(g.flag, v, text)
            }
            if let theta, base != nil { throw ImportError(file: theta, problem: text) }
            let flags = given.compactMap { g in g.value.map { "\(g.flag) \($0)" } }
            throw ValidationError((flags.isEmpty ? "" : flags.joined(separator: " ") + ": ") + text)
        }
        return c
    }

    /// Loads model, data and θ, and settles the config: defaults, then the θ file's, then flags.
    /// `interactive`: the debugger sizes its own batches (`LocalBackend`); else `eval`/`tune`'s.
    func load(interactive: Bool = false, calibrationSuffices: Bool = false) throws -> ConfiguredModel {
        let m = try running.load(source, calibrationSuffices: calibrationSuffices)
        let config = try self.config(base: m.thetaFile?.config)
        var evaluator = Evaluator(network: m.network)
        if !interactive { evaluator.batchSize = try running.headlessPlan(m, config: config, model: model).batchSize }
        return ConfiguredModel(model: m, config: config, evaluator: evaluator)
    }
}

/// Progress on stderr, only when stderr is a terminal: one line, rewritten, with the time spent
/// and an estimate of the time left (`ProgressEstimate`). Every headless command's progress.
enum Progress {
    static let enabled = isatty(2) == 1

    /// Seconds since `start` (a `DispatchTime` in nanoseconds).
    static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// A reporter of the fraction done (nil when stderr is no terminal); the clock starts now.
    static func reporter(_ label: String) -> (@Sendable (Double) -> Void)? {
        guard enabled else { return nil }
        let start = DispatchTime.now().uptimeNanoseconds
        return { f in show(ProgressEstimate.line(label, fraction: f, elapsed: seconds(since: start))) }
    }

    /// Rewrites the progress line with `text`.
    static func show(_ text: String) {
        if enabled { writeStderr("\r\u{1B}[K" + text) }
    }

    static func finish() {
        if enabled { writeStderr("\r\u{1B}[K") }
    }
}

func writeStderr(_ s: String) {
    FileHandle.standardError.write(Data(s.utf8))
}
