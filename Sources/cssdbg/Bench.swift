import ArgumentParser
import CSSCore
import CSSImport
import CSSView
import Foundation

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure SNN simulation and ANN forward throughput (VGG-16, ResNet-18 at 32 or 224 pixels, or a model file).")

    @Option(help: "vgg16, resnet18, resnet18-imagenet (3×224×224) or a path to an .onnx model / bundle.") var model = "vgg16"
    @Option(parsing: .unconditional, help: "Samples per batch.") var batch = 16
    @Option(name: .customShort("T"), parsing: .unconditional, help: "Coding time steps.") var steps = 10
    @Option(parsing: .unconditional, help: "Amplification factor β.") var beta = 1.5
    @Option(parsing: .unconditional, help: "Silent-period length L.") var silent = 1
    @Option(parsing: .unconditional, help: "Threads (default: all cores).") var threads: Int?
    @Option(parsing: .unconditional, help: "Timed iterations (median reported).") var iters = 3
    @Option(help: "3×3 stride-1 convolutions: winograd (default, as in eval, tune and the debugger: F(2×2,3×3)), auto (F(4×4,3×3) on maps of 4×4 and more, F(2×2) below), winograd4 (F(4×4) everywhere) or im2col (plain GEMM), to compare.")
    var conv = WinogradTiles.standard.rawValue
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Also measure the debugger's latencies: focused-sample trace, re-trace after a θ change, frame render.")
    var ui = false
    @Flag(help: "Also print where the time goes: milliseconds per batch for every graph node, SNN and ANN.")
    var profile = false

    static let convChoices = RunOptions.convChoices

    /// Usage errors before any work: the model is a built-in name or an existing path, the flags
    /// are in range.
    func validate() throws {
        let builtIn = ReferenceNetworks.names
        if !builtIn.contains(model), !FileManager.default.fileExists(atPath: model) {
            throw Usage.error("--model", model, "not a built-in model (\(builtIn.joined(separator: ", "))) nor an existing .onnx file or bundle")
        }
        guard Self.convChoices.contains(conv) else {
            throw Usage.error("--conv", conv, "must be one of \(Self.convChoices.joined(separator: ", "))")
        }
        if batch <= 0 { throw Usage.error("--batch", String(batch), "must be 1 or more") }
        if iters <= 0 { throw Usage.error("--iters", String(iters), "must be 1 or more") }
        if let threads, threads <= 0 { throw Usage.error("--threads", String(threads), "must be 1 or more") }
        do {
            try ConversionConfig(T: steps, beta: beta, silent: silent).validate()
        } catch let e as ConfigError {
            let flag = switch e.setting {
            case .T: "-T \(steps)"
            case .beta: "--beta \(beta)"
            case .silent, .percentile: "--silent \(silent)"  // bench has no --percentile
            }
            throw ValidationError("\(flag): \(e.description)")
        }
    }

    func run() async throws {
        try await reportingErrors {
            if let threads { ComputeThreads.set(threads) }
            let graph: Graph
            if let builtIn = ReferenceNetworks.named(model) {
                graph = builtIn
            } else {
                let bundle = try ModelBundle.resolve(path: model, data: nil, labels: nil, calib: nil, theta: nil)
                graph = try bundle.loadModel()
            }
            // The name every other command prints (the bundle's or file's, not the ONNX graph's).
            let modelName = ReferenceNetworks.named(model) != nil ? model : LoadedModel.modelName(model)
            // (`--conv` is checked in `validate`.)
            let network = try Network(graph, winograd: conv != "im2col", winogradTiles: WinogradTiles(rawValue: conv) ?? .standard)
            let config = ConversionConfig(T: steps, beta: beta, silent: silent)
            try config.validate()
            let size = network.inputShape.reduce(1, *)
            var rng = SystemRandomNumberGenerator()
            // Standard-normal inputs, like normalised images.
            let inputs = (0..<(batch * size)).map { _ in
                Float((-2 * Foundation.log(Double.random(in: 1e-12..<1, using: &rng))).squareRoot()
                      * Foundation.cos(2 * Double.pi * Double.random(in: 0..<1, using: &rng)))
            }
            let data = SampleSet(inputs: inputs, count: batch, sampleShape: network.inputShape)
            let evaluator = Evaluator(network: network, batchSize: batch)
            let theta = try evaluator.calibrate(data.prefix(min(batch, 4)), config: config)
            let snnProfile = OpProfile(), annProfile = OpProfile()
            let sim = profile ? Simulator(network: network, profile: snnProfile) : evaluator.simulator
            let annSim = profile ? Simulator(network: network, profile: annProfile) : evaluator.simulator
            let x = inputs[...]
            func median(_ body: () throws -> Void) rethrows -> Double {
                try body()  // warm-up
                var times: [Double] = []
                for _ in 0..<max(1, iters) {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    try body()
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                }
                return times.sorted()[times.count / 2]
            }
            let snnTime = try median {
                _ = try sim.simulate(x, count: batch, amplitudes: theta, config: config, ann: nil, sampleOffset: 0)
            }
            let annTime = try median { _ = try annSim.annForward(x, count: batch) }
            let snnRate = Double(batch) / snnTime, annRate = Double(batch) / annTime
            let gflops = ReferenceNetworks.flops(network) * Double(steps) * snnRate / 1e9
            var uiFields: [(String, JSONValue)] = []
            if ui {
                uiFields = try await measureUI(network: network, data: data, theta: theta, config: config)
            }
            let rss = peakRSSMegabytes()
            let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
            if json {
                let doc: JSONValue = .object([
                    ("model", .string(modelName)), ("batch", .integer(batch)), ("T", .integer(steps)),
                    ("silent", .integer(silent)), ("threads", .integer(threadCount)), ("conv", .string(conv)),
                    ("snn_samples_per_s", .number(round3(snnRate))), ("ann_samples_per_s", .number(round3(annRate))),
                    ("dense_gflops", .number(round3(gflops))), ("peak_rss_mb", .number(round3(rss))),
                ] + uiFields)
                print(doc.rendered())
            } else {
                print("model \(modelName)  batch \(batch)  T=\(steps) β=\(beta) L=\(silent)  threads \(threadCount)  conv \(conv)")
                print("SNN simulation  \(fmt(snnRate, 2)) samples/s  (\(fmt(gflops, 1)) dense-equivalent GFLOP/s)")
                print("ANN forward     \(fmt(annRate, 2)) samples/s")
                print("peak RSS        \(fmt(rss, 1)) MB")
                for (k, v) in uiFields {
                    let unit = k.hasSuffix("_ms") ? " ms" : k.hasSuffix("_mib") ? " MiB" : ""
                    print("\(pad(k, 15)) \(v.rendered())\(unit)")
                }
            }
            if profile {
                let table = profileTable(network: network, snn: snnProfile, ann: annProfile)
                if json { FileHandle.standardError.write(Data(table.utf8)) } else { print(table, terminator: "") }
            }
        }
    }
}

/// Milliseconds per batch for every node that took time, heaviest first, SNN and ANN side by side.
func profileTable(network: Network, snn: OpProfile, ann: OpProfile) -> String {
    let annTimes = Dictionary(uniqueKeysWithValues: ann.entries.map { ($0.node, $0.seconds / Double($0.calls)) })
    let rows = snn.entries.map { (node: $0.node, snn: $0.seconds / Double($0.calls) * 1000,
                                  ann: (annTimes[$0.node] ?? 0) * 1000) }
    let total = rows.reduce(0) { $0 + $1.snn }, annTotal = rows.reduce(0) { $0 + $1.ann }
    let density = snn.inputDensity
    var out = "\n\(pad("node", 28)) \(pad("op", 10)) \(pad("output", 14)) \(lpad("SNN ms", 9)) \(lpad("%", 6)) \(lpad("ANN ms", 9))"
        + " \(lpad("SNN in nz", 9))\n"
    // Nodes under 0.05 ms are left out; the encoder, which is no node of the graph, always shows.
    for r in rows.sorted(by: { $0.snn > $1.snn }) where r.snn >= 0.05 || r.node == OpProfile.encoderNode {
        let name: String, op: String, shape: String
        if r.node == OpProfile.encoderNode {
            (name, op) = ("(encoder)", "Encode")
            shape = network.inputShape.map(String.init).joined(separator: "×")
        } else {
            let node = network.graph.nodes[r.node]
            name = String(node.output.suffix(28))
            op = node.op.kind + (network.winograd[r.node].map { $0.tile == 4 ? " (W4)" : " (W2)" } ?? "")
            shape = (network.shapes[node.output] ?? []).map(String.init).joined(separator: "×")
        }
        out += "\(pad(name, 28)) \(pad(op, 10)) \(pad(shape, 14)) \(lpad(fmt(r.snn, 2), 9)) "
            + "\(lpad(fmt(100 * r.snn / max(total, 1e-9), 1), 6)) \(lpad(fmt(r.ann, 2), 9))"
            + " \(lpad(density[r.node].map { fmt(100 * $0, 1) + "%" } ?? "", 9))\n"
    }
    out += "\(pad("total", 28)) \(pad("", 10)) \(pad("", 14)) \(lpad(fmt(total, 2), 9)) \(lpad("100", 6)) \(lpad(fmt(annTotal, 2), 9))\n"
    out += "(W2), (W4): Winograd F(2×2, 3×3), F(4×4, 3×3). Spiking layers (Relu) include the TSA recurrence and statistics.\n"
        + "(encoder): the input encoder (docs/numerics.md §4), SNN only.\n"
        + "SNN in nz: non-zero values of the node's input in the SNN (spike density of its T·B columns).\n"
    return out
}

func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

/// Peak resident set size of this process (VmHWM from /proc, in MiB).
func peakRSSMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kb / 1024
}

/// The debugger's latencies on this network: what a user waits for after a key.
func measureUI(network: Network, data: SampleSet, theta: Amplitudes, config: ConversionConfig) async throws
    -> [(String, JSONValue)]
{
    let p = CalibrationPercentiles(percentile: config.percentile, input: theta.input * config.sumWeights,
                                   layers: theta.layers.map { $0 * config.sumWeights })
    let backend = try LocalBackend(network: network, data: data, calib: data.prefix(4),
                                   start: TuningState(config: config, amplitudes: theta), percentiles: p)
    func ms(_ body: () async throws -> Void) async rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try await body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
    }
    var trace: SampleTrace? = nil
    let first = try await ms { trace = try await backend.trace(sample: 0) }
    let last = network.layerCount - 1
    _ = try await backend.apply(.scaleTheta(layer: last, factor: 1.05))
    let lastLayer = try await ms { trace = try await backend.trace(sample: 0) }
    _ = try await backend.apply(.scaleTheta(layer: 0, factor: 1.05))
    let firstLayer = try await ms { trace = try await backend.trace(sample: 0) }
    var state = ViewState(width: 200, height: 60)
    state = update(state, .layoutArrived(await backend.layout(), sampleCount: data.count)).0
    // What a trace costs after it arrives: its summary (computed where it arrives, off the UI
    // thread) and the update on the UI thread.
    var summary: TraceSummary? = nil
    let summarise = await ms { summary = TraceSummary(trace!) }
    let arrivedState = state
    let arrival = await ms { state = update(arrivedState, .summarisedTraceArrived(trace!, summary!)).0 }
    state = update(state, .key(.char("j"))).0
    _ = Screen.render(state)
    var renders: [Double] = []
    for _ in 0..<20 { renders.append(await ms { _ = Screen.render(state) }) }
    let render = renders.sorted()[renders.count / 2]
    let plan = try await backend.plan()
    let mib = { (b: Int) -> JSONValue in .number(round3(Double(b) / Double(1 << 20))) }
    return [("ui_trace_ms", .number(round3(first))), ("ui_retrace_last_layer_ms", .number(round3(lastLayer))),
            ("ui_retrace_first_layer_ms", .number(round3(firstLayer))), ("ui_trace_summary_ms", .number(round3(summarise))),
            ("ui_trace_arrival_ms", .number(round3(arrival))), ("ui_render_200x60_ms", .number(round3(render))),
            ("memory_budget_mib", mib(plan.budget)), ("memory_planned_mib", mib(plan.total)),
            ("memory_batch", .integer(plan.batchSize)), ("memory_trace_cache", .bool(plan.traceCache)),
            ("memory_trace_cache_mib", mib(plan.traceCacheCost)),
            ("memory_data_cache_mib", mib(plan.dataCache)), ("backend_held_mib", mib(await backend.heldBytes()))]
}
