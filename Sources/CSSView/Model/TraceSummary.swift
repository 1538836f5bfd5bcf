import CSSSnapshots
import Dispatch

/// Per-sample numbers the layer list needs at every step, computed once when a trace arrives.
public struct TraceSummary: Sendable {
    /// `[layer][slot]` cumulative positive / negative spikes through slot.
    public var cumulativePositive: [[Int]]
    public var cumulativeNegative: [[Int]]
    /// Per layer, neurons of this sample that overflow / couple (docs/numerics.md §6).
    public var overflow: [Int]
    public var coupling: [Int]
    /// Per layer, 99.9th percentile of |u[T]| over this sample's neurons.
    public var residualP999: [Double]
    /// Encoder cumulative spikes by slot.
    public var encoderPositive: [Int]
    public var encoderNegative: [Int]

    public init(_ trace: SampleTrace) { self.init(trace, reusing: nil) }

    /// With `previous`, the summary of the trace before: layers whose arrays are the very same
    /// storage (a θ change's re-trace takes the layers before the changed one from its cache)
    /// keep their numbers instead of being summarised again; the same storage is the same
    /// values, so the result is the same as summarising everything.
    public init(_ trace: SampleTrace, reusing previous: (trace: SampleTrace, summary: TraceSummary)?) {
        cumulativePositive = []
        cumulativeNegative = []
        overflow = []
        coupling = []
        residualP999 = []
        // Layers in parallel: this runs on the trace's task, and the cores are free while the
        // user waits for the trace to show.
        let layers = trace.layers
        let parts = Locked([(p: [Int], m: [Int], ovf: Int, cpl: Int, p999: Double)?](repeating: nil, count: layers.count))
        if let previous, previous.summary.overflow.count == previous.trace.layers.count {
            parts.withLock { parts in
                for l in 0..<min(layers.count, previous.trace.layers.count)
                where Self.sameStorage(layers[l], previous.trace.layers[l]) {
                    let s = previous.summary
                    parts[l] = (s.cumulativePositive[l], s.cumulativeNegative[l], s.overflow[l], s.coupling[l],
                                s.residualP999[l])
                }
            }
        }
        let todo = parts.withLock { parts in layers.indices.filter { parts[$0] == nil } }
        DispatchQueue.concurrentPerform(iterations: todo.count) { i in
            let l = todo[i]
            let (p, m, ovf, cpl, res) = Self.summarise(layers[l])
            let part = (p: p, m: m, ovf: ovf, cpl: cpl, p999: percentile(res, 99.9))
            parts.withLock { $0[l] = part }
        }
        for part in parts.withLock({ $0 }) {
            cumulativePositive.append(part!.p)
            cumulativeNegative.append(part!.m)
            overflow.append(part!.ovf)
            coupling.append(part!.cpl)
            residualP999.append(part!.p999)
        }
        let et = trace.encoder
        var p = [Int](repeating: 0, count: et.T), m = p
        if et.T > 0 {
            for (j, s) in et.spikes.enumerated() {
                if s > 0 { p[j % et.T] += 1 } else if s < 0 { m[j % et.T] += 1 }
            }
            for i in stride(from: 1, to: et.T, by: 1) { p[i] += p[i - 1]; m[i] += m[i - 1] }
        }
        encoderPositive = p
        encoderNegative = m
    }

    /// Whether two layer traces hold the same arrays (not equal copies: the same buffers).
    public static func sameStorage(_ a: LayerTrace, _ b: LayerTrace) -> Bool {
        func same<T>(_ x: [T], _ y: [T]) -> Bool {
            x.count == y.count && x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { yp in xp.baseAddress == yp.baseAddress } }
        }
        return a.neurons == b.neurons && a.T == b.T && a.window == b.window && same(a.spikes, b.spikes)
            && same(a.margins, b.margins) && same(a.target, b.target) && same(a.encoded, b.encoded)
    }

    /// One layer: cumulative spikes by sign per slot, overflow and coupling neurons (the same
    /// verdict as `MarginVerdict`), |u[T]| per neuron. Raw loops over the trace's buffers: at
    /// 224×224 a ResNet-18 sample has 2.3 M neurons (the per-neuron accessors took 0.25 s).
    static func summarise(_ lt: LayerTrace) -> ([Int], [Int], Int, Int, [Float]) {
        let T = lt.T, N = lt.neurons, stride = lt.window + 1
        var p = [Int](repeating: 0, count: T), m = p
        if T > 0, lt.spikes.count >= N * T {
            var pos = [Int32](repeating: 0, count: T), neg = pos
            lt.spikes.withUnsafeBufferPointer { sp in
                pos.withUnsafeMutableBufferPointer { pc in
                    neg.withUnsafeMutableBufferPointer { nc in
                        for n in 0..<N {
                            let row = sp.baseAddress! + n * T
                            for i in 0..<T {
                                pc[i] &+= row[i] > 0 ? 1 : 0
                                nc[i] &+= row[i] < 0 ? 1 : 0
                            }
                        }
                    }
                }
            }
            var run = 0, runNeg = 0
            for i in 0..<T {
                run += Int(pos[i]); runNeg += Int(neg[i])
                p[i] = run; m[i] = runNeg
            }
        }
        var ovf = 0, cpl = 0
        let withMargins = min(N, lt.margins.count / stride)  // neurons without margins are fine
        if withMargins > 0 {
            lt.margins.withUnsafeBufferPointer { mg in
                for n in 0..<withMargins {
                    let row = mg.baseAddress! + n * stride
                    if row[0] <= 0 { ovf += 1; continue }
                    for k in 1..<stride where row[k] <= 0 {
                        cpl += 1
                        break
                    }
                }
            }
        }
        let count = min(N, lt.target.count, lt.encoded.count)
        let res = [Float](unsafeUninitializedCapacity: count) { r, initialised in
            lt.target.withUnsafeBufferPointer { t in
                lt.encoded.withUnsafeBufferPointer { e in
                    for n in 0..<count { r[n] = abs(t[n] - e[n]) }
                }
            }
            initialised = count
        }
        return (p, m, ovf, cpl, res)
    }

    /// Spikes (positive, negative) of spiking layer `layer` in its first `slots` slots.
    public func spikes(layer: Int, slots: Int) -> (Int, Int) {
        guard layer < cumulativePositive.count, slots > 0 else { return (0, 0) }
        let i = min(slots, cumulativePositive[layer].count) - 1
        return i < 0 ? (0, 0) : (cumulativePositive[layer][i], cumulativeNegative[layer][i])
    }

    public func encoderSpikes(slots: Int) -> (Int, Int) {
        let i = min(slots, encoderPositive.count) - 1
        return i < 0 ? (0, 0) : (encoderPositive[i], encoderNegative[i])
    }
}
