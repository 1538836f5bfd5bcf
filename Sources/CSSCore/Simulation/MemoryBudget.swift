import CSSSnapshots
import Foundation

/// How much memory a session may use in all (`--memory`): the data set, the weights, the
/// focused sample's trace, the batches of the data-set report and the caches that make θ
/// changes incremental. `MemoryPlan` splits it; the simulator's allocations are known from the
/// network's shapes, so the split is computed, not guessed.
public struct MemoryBudget: Sendable, Equatable {
    public var bytes: Int

    public init(bytes: Int) { self.bytes = bytes }

    /// 2 GiB: an ImageNet-size ResNet-18 with 1000 samples fits (batches shrink to what is left).
    public static let `default` = MemoryBudget(bytes: 2 << 30)

    /// `2G`, `1.5GiB`, `1536M`, `800MB`, `512m`, or plain bytes. Nil for anything else,
    /// including zero, negative and absurd (above 1 PiB) values.
    public static func parse(_ text: String) -> MemoryBudget? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let k = 1024.0, m = k * k, g = m * k, tb = g * k
        let units: [(String, Double)] = [("tib", tb), ("tb", tb), ("t", tb), ("gib", g), ("gb", g), ("g", g),
                                         ("mib", m), ("mb", m), ("m", m), ("kib", k), ("kb", k), ("k", k), ("b", 1)]
        var number = Substring(t), scale = 1.0
        for (suffix, s) in units where t.hasSuffix(suffix) {
            number = t.dropLast(suffix.count)
            scale = s
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }),
              let v = Double(number), v.isFinite, v > 0, v * scale <= Double(1 << 50), v * scale >= 1 else { return nil }
        return MemoryBudget(bytes: Int(v * scale))
    }

    /// `1.5 GiB`, `640 MiB`, `64 KiB`, `512 bytes`: sizes below 1 MiB in KiB (so `--memory 1K`
    /// reads back as `1 KiB`), rounded up.
    public static func describe(_ bytes: Int) -> String {
        let b = Double(bytes)
        if b >= Double(1 << 30) { return "\(round2(b / Double(1 << 30))) GiB" }
        if b >= Double(1 << 20) { return "\(Int((b / Double(1 << 20)).rounded(.up))) MiB" }
        if b >= 1024 { return "\(Int((b / 1024).rounded(.up))) KiB" }
        return "\(bytes) bytes"
    }

    static func round2(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}

/// Bytes the simulator allocates for one network and config, from its shapes: the same walk as
/// `Simulator.execute` (a tensor lives until its last reader), so the estimates follow the code.
public struct MemoryNeeds: Sendable {
    /// The most kernel scratch a job takes beyond the tensors: im2col blocks (≤ 32 MB,
    /// `AffineOps.im2colBudget`), Winograd chunks, TSA block buffers, statistics partials.
    /// A small network takes less (`jobScratch`).
    public static let jobScratchBound = 48 << 20
    /// The fixed runtime overhead, there before any model is read: the binary, the Swift
    /// runtime, OpenBLAS and the thread stacks. Measured: `cssdbg eval samples/coupling` (a
    /// 289-byte model, so nearly all of its memory is this overhead) peaks at 33 MB resident on
    /// Linux x86-64 with 1 to 8 threads; 40 MiB leaves room for the debugger's cell grids.
    public static let runtime = 40 << 20

    /// Kernel scratch per job for this network: its largest im2col block (whole-window GEMMs
    /// over T columns, at most `AffineOps.im2colBudget` floats) and room for Winograd chunks and
    /// TSA block buffers the size of its largest live tensors, at most `jobScratchBound`.
    public let jobScratch: Int

    /// Weights, including Winograd's transformed filters.
    public let weights: Int
    /// One sample's share of a data-set batch: the live SNN tensors at their peak over T columns,
    /// the ANN's ReLU outputs (kept for the RMSE), the encoder's spikes.
    public let batchPerSample: Int
    /// A batch's cache per sample (every tensor of the run, kept for incremental θ changes).
    public let cachePerSample: Int
    /// The data-set report's running statistics at their largest (bounded quantile
    /// accumulators, hotspots), whatever the data set's size; see `reportStatistics(samples:)`.
    public var reportStatistics: Int { reportStatistics(samples: .max) }
    /// Residual pairs one sample adds to each spiking layer's quantile accumulator.
    let pairsPerSample: [Int]
    /// The focused sample's trace (every layer's o, X, spikes, margins, target, encoded value).
    public let trace: Int
    /// Computing a trace without a cache: live tensors at one column per step, the recorder of
    /// the largest layer and the ANN's outputs.
    public let traceWork: Int
    /// The focused sample's cache (every tensor, T columns): what makes a θ change incremental.
    public let traceCache: Int
    /// The most a trace computation holds at once, the new trace included: the same walk as
    /// `Simulator.execute` at T columns, adding at each node the live tensors, the layer traces
    /// already recorded and, at a spiking layer, its recorder and the copy into its trace; plus
    /// the ANN's outputs and the encoder's record. Layers are recorded one after the other, so
    /// this is far below `trace + traceWork` at 224×224, where the first layers' tensors are
    /// the largest while few layer traces exist yet.
    public let traceRun: Int
    /// The same with `keepCache`: every tensor stays until the run ends (the new cache).
    public let traceRunKeeping: Int
    /// The focused sample's ANN pass (its ReLU outputs and outputs, one column), kept between
    /// re-traces of that sample since θ does not change it. While a trace runs it is the ANN
    /// share of `traceRun`, so the plan needs no term of its own; between requests it is held.
    public let focusedANN: Int

    public init(network: Network, config: ConversionConfig) {
        let T = config.T, window = config.window
        let g = network.graph
        func floats(_ name: String) -> Int { network.shapes[name]!.reduce(1, *) }
        var weights = 0, im2col = 0
        var reluFloats = 0, allFloats = floats(g.input), largestLayer = 0
        var layerSizes: [Int] = []
        var live = floats(g.input), peak = live
        var alive: [String: Int] = [g.input: live]
        for (i, node) in g.nodes.enumerated() {
            switch node.op {
            case .conv(let c):
                weights += c.weight.count + (c.bias?.count ?? 0)
                let positions = floats(node.output) / max(1, c.outChannels)
                im2col = max(im2col, min(AffineOps.im2colBudget, c.inChannels * c.kernel.h * c.kernel.w * positions * T))
            case .dense(let w, let b, _, _): weights += w.count + (b?.count ?? 0)
            case .affine(let s, _, let h, _): weights += (s?.count ?? 0) + (h?.count ?? 0)
            default: break
            }
            let out = floats(node.output)
            if case .relu = node.op {
                reluFloats += out
                largestLayer = max(largestLayer, out)
                layerSizes.append(out)
            }
            allFloats += out
            peak = max(peak, live + out)
            live += out
            alive[node.output] = out
            for name in Set(node.inputs) where network.lastUse[name] == i && name != g.output {
                live -= alive.removeValue(forKey: name) ?? 0
            }
        }
        for f in network.winograd.values { weights += f.u.count }
        let size = network.inputShape.reduce(1, *)
        // o [window], X [T], margins [window + 1], target, encoded, ANN as floats; spikes [T] bytes.
        let perNeuron = 4 * (window + T + window + 1 + 3) + T
        // The trace computation's walk (batch of one, T columns), without and with kept tensors.
        func traceWalk(keeping: Bool) -> Int {
            var live = floats(g.input), traced = 0, most = 4 * T * live
            var alive: [String: Int] = [g.input: live]
            for (i, node) in g.nodes.enumerated() {
                let out = floats(node.output)
                var here = 4 * T * (live + out) + traced
                if case .relu = node.op {
                    here += 2 * out * perNeuron  // the recorder and the layer trace copied from it
                    traced += out * perNeuron
                }
                most = max(most, here)
                live += out
                alive[node.output] = out
                if !keeping {
                    for name in Set(node.inputs) where network.lastUse[name] == i && name != g.output {
                        live -= alive.removeValue(forKey: name) ?? 0
                    }
                }
            }
            // + the ANN's outputs (one column, kept for the trace) and the encoder's record.
            return most + 4 * reluFloats + 4 * size * (T + 1) + T * size
        }
        self.weights = 4 * weights
        // ANN ReLU outputs (kept for the RMSE) and the batch's exact residuals per layer (the
        // TSA blocks' partial statistics, then their merge): three floats per neuron; the
        // batch's inputs as read from the data file (data sets are read a batch at a time).
        batchPerSample = 4 * (T * peak + 3 * reluFloats + size) + T * size
        cachePerSample = 4 * (T * allFloats + reluFloats) + T * size
        // One residual per neuron and window step (and the final one) per sample.
        pairsPerSample = layerSizes.map { $0 * (window + 1) }
        jobScratch = min(Self.jobScratchBound, 4 * (im2col + 2 * T * peak) + (1 << 20))
        trace = reluFloats * perNeuron + 4 * size * (T + 1)
        traceWork = 4 * (T * peak + reluFloats) + largestLayer * perNeuron
        traceCache = 4 * T * allFloats
        // The ANN's own forward pass for the focused sample (one column) comes first and is
        // smaller than the SNN's walk at T columns; it is covered by the max.
        traceRun = max(traceWalk(keeping: false), 4 * (peak + reluFloats))
        traceRunKeeping = max(traceWalk(keeping: true), traceRun)
        focusedANN = 4 * (reluFloats + floats(g.output))
    }

    /// The data-set report's running statistics for `samples` samples: per spiking layer, the
    /// exact quantile buffer (its residuals, at most 2^21 floats) and the log histogram it
    /// folds into beyond that (2^16 bins), the signed histogram and the hotspots.
    public func reportStatistics(samples: Int) -> Int {
        pairsPerSample.reduce(0) { total, pairs in
            let values = pairs.multipliedReportingOverflow(by: max(1, samples))
            let exact = values.overflow ? QuantileAccumulator.defaultCapacity : min(QuantileAccumulator.defaultCapacity, values.partialValue)
            let folded = exact == QuantileAccumulator.defaultCapacity ? 4 * (1 << 16) : 0
            return total + 4 * exact + folded + 4 * 1024 + (64 << 10)
        }
    }
}

/// How a budget is spent for one network, config and data set.
public struct MemoryPlan: Sendable, Equatable {
    public let budget: Int
    /// The fixed runtime overhead (`MemoryNeeds.runtime`): there before any model is read.
    public let runtime: Int
    /// What the data and calibration sets keep in memory (their labels and a descriptor when read
    /// on demand, every value when held) and the weights: there whatever the plan.
    public let dataAndWeights: Int
    /// `runtime + dataAndWeights`.
    public var fixed: Int { runtime + dataAndWeights }
    /// The trace on screen while the next is computed (`MemoryNeeds.traceRun`, the new trace
    /// included), and kernel scratch.
    public let focused: Int
    /// Samples per data-set batch (at most `Evaluator`'s usual 16).
    public let batchSize: Int
    /// Whether the focused sample keeps its tensors for incremental re-traces.
    public let traceCache: Bool
    /// What keeping the focused sample's tensors costs (`traceCache` says whether it fits).
    public let traceCacheCost: Int
    /// Bytes the data-set cache may hold (whole batches only).
    public let dataCache: Int
    /// Upper bound of what the plan allocates (≤ budget).
    public let total: Int

    public static let maxBatch = 16
    /// Data-set jobs that may hold batches at once (see `LocalBackend`).
    public static let datasetJobs = 2

    /// The plan of a session: every caller (the debugger's backend and its jobs, the headless
    /// commands, the checks before calibrating) sizes its batches here.
    /// - Parameter interactive: the debugger (a focused trace, two data-set jobs at once); false
    ///   for the headless commands (one job, no trace).
    public static func of(network: Network, config: ConversionConfig, memory: MemoryBudget, data: SampleSet,
                          calib: SampleSet, interactive: Bool) throws -> MemoryPlan {
        try MemoryPlan(budget: memory, needs: MemoryNeeds(network: network, config: config),
                       dataBytes: data.residentBytes + calib.residentBytes, samples: data.count,
                       limitableBytes: data.residentBytes, interactive: interactive)
    }

    /// - Parameters:
    ///   - dataBytes: the data and calibration sets as held in memory.
    ///   - samples: the data set's size (the report's statistics grow with it, to a bound).
    ///   - limitableBytes: the part of `dataBytes` that `--limit` shrinks (the data set's).
    ///   - interactive: see `of`.
    public init(budget: MemoryBudget, needs: MemoryNeeds, dataBytes: Int, samples: Int = .max,
                limitableBytes: Int = 0, interactive: Bool = true) throws {
        self.budget = budget.bytes
        runtime = MemoryNeeds.runtime
        dataAndWeights = dataBytes + needs.weights
        let focused = interactive ? needs.trace + needs.traceRun + needs.jobScratch : 0
        self.focused = focused
        let jobs = interactive ? Self.datasetJobs : 1
        func minimum(dataBytes: Int, samples: Int) -> (jobs: Int, total: Int) {
            let j = jobs * (needs.reportStatistics(samples: samples) + needs.jobScratch + needs.batchPerSample)
            return (j, MemoryNeeds.runtime + dataBytes + needs.weights + focused + j)
        }
        let least = minimum(dataBytes: dataBytes, samples: samples)
        guard least.total <= budget.bytes else {
            let d = MemoryBudget.describe
            // --limit helps only when one sample's data and statistics would fit.
            let perSample = limitableBytes / max(1, samples == .max ? 1 : samples)
            let limited = minimum(dataBytes: dataBytes - limitableBytes + perSample, samples: 1).total
            let hint = limited <= budget.bytes && samples > 1 ? ", or fewer samples with --limit" : ""
            throw GraphError("a memory budget of \(d(budget.bytes)) is too small for this model and data: "
                + "the runtime takes \(d(MemoryNeeds.runtime)), data and weights \(d(dataBytes + needs.weights))"
                + (interactive ? ", the focused sample \(d(focused))" : "")
                + ", data-set jobs at one sample per batch \(d(least.jobs)); "
                + "use --memory \(d(least.total).replacingOccurrences(of: " ", with: "")) or more\(hint)")
        }
        let report = jobs * (needs.reportStatistics(samples: samples) + needs.jobScratch)
        var left = budget.bytes - MemoryNeeds.runtime - dataBytes - needs.weights - focused - report
        // Keeping the focused sample's tensors costs the cache, and while a re-trace runs, the
        // old cache and the new one's tensors at once (a first-layer change recomputes them all).
        let cacheCost = needs.traceCache + (needs.traceRunKeeping - needs.traceRun)
        traceCacheCost = cacheCost
        func batches(_ bytes: Int) -> Int { max(1, min(Self.maxBatch, bytes / (jobs * needs.batchPerSample))) }
        let without = batches(left)
        // The cache first when the batches beside it keep a quarter of their samples: a θ change
        // then re-simulates only the layers from the changed one on (what a user waits for),
        // while a data-set batch's speed hardly depends on its size at the sizes where memory is
        // short (ResNet-18 at 224×224: the same samples/s at batch 1, 2 and 4, docs/performance.md).
        let cacheFirst = interactive && left - cacheCost >= jobs * max(1, without / 4) * needs.batchPerSample
        batchSize = cacheFirst ? batches(left - cacheCost) : without
        left -= jobs * batchSize * needs.batchPerSample
        traceCache = interactive && cacheCost <= left
        if traceCache { left -= cacheCost }
        // Cache whole batches only; less than one batch is worth nothing.
        dataCache = left >= batchSize * needs.cachePerSample ? left : 0
        total = budget.bytes - left + dataCache
    }
}
