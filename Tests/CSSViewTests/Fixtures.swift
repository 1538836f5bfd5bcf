import CSSSnapshots
import CSSView
import TestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small hand-built network whose traces follow docs/numerics.md §4–§6 exactly (the neuron model is
/// re-implemented here in a few lines), so the view is tested on realistic snapshots.
enum Fixture {
    static let config = ConversionConfig(T: 6, beta: 1.5, silent: 1, negative: true)

    static func layout(wideName: Bool = false) -> NetworkLayout {
        let c = config
        let shapes: [(String, [Int])] = [
            ("conv1", [4, 6, 6]),
            (wideName ? "卷积层二号很长的名字" : "conv2", [3, 3, 3]),
            ("fc1", [40]),
        ]
        var layers: [SpikingLayerInfo] = []
        for (i, (name, shape)) in shapes.enumerated() {
            layers.append(SpikingLayerInfo(index: i, name: name, tensor: "\(name)_out", shape: shape,
                                           neurons: shape.reduce(1, *), windowStart: i * c.silent, depth: i + 1))
        }
        let depth = layers.count
        return NetworkLayout(modelName: "digits-cnn", config: c, inputShape: [1, 6, 6], layers: layers,
                             outputStart: depth * c.silent, latency: c.T + (depth + 1) * c.silent, outputCount: 10)
    }

    /// TSA-ReLU over one window (docs/numerics.md §5): membrane o, spikes, target, encoded, margins.
    static func neuron(_ X: [Double], c: ConversionConfig)
        -> (o: [Float], s: [Int8], a: Float, e: Float, m: [Float]) {
        let beta = c.beta, L = c.silent, T = c.T
        let v = c.threshold, reset = c.reset
        var h = 0.0, G = 0.0
        var o = [Float](), s = [Int8](repeating: 0, count: T)
        for k in 0..<(T + L) {
            h = beta * h + (k < T ? X[k] : 0)
            G = beta * G
            let ok = h >= 0 ? h - G : -G
            o.append(Float(ok))
            if k >= L {
                var sp: Int8 = 0
                if ok >= v { sp = 1 } else if c.negative && ok <= -v { sp = -1 }
                s[k - L] = sp
                G += reset * Double(sp)
            }
        }
        let a = max(h, 0) / reset
        let w = c.slotWeights
        var e = 0.0
        for i in 0..<T { e += w[i] * Double(s[i]) }
        var m = [Float]()
        for k0 in 0...(T + L) {
            var fired = 0.0, cap = 1.0
            for i in 0..<T {
                if L + i < k0 { fired += w[i] * Double(s[i]) } else { cap += w[i] }
            }
            m.append(Float(cap - abs(a - fired)))
        }
        return (o, s, Float(a), Float(e), m)
    }

    static func trace(sample: Int, wideName: Bool = false) -> SampleTrace {
        let l = layout(wideName: wideName)
        let c = l.config
        var rng = SplitMix(UInt64(sample) &* 7919 &+ 17)
        // Encoder (docs/numerics.md §4).
        let inputs = (0..<36).map { _ in Float(rng.signed() * 2) }
        let theta0 = 2.0 / c.sumWeights
        var encSpikes = [Int8]()
        for x in inputs {
            var u = Double(x) / theta0 / pow(c.beta, Double(c.T))
            for _ in 0..<c.T {
                u *= c.beta
                let sp: Int8 = u >= 1 ? 1 : (u <= -1 ? -1 : 0)
                encSpikes.append(sp)
                u -= Double(sp)
            }
        }
        var layers: [LayerTrace] = []
        for (li, info) in l.layers.enumerated() {
            var membrane = [Float](), input = [Float](), spikes = [Int8](), target = [Float]()
            var encoded = [Float](), ann = [Float](), margins = [Float]()
            for n in 0..<info.neurons {
                // Mostly early input; a few neurons get a late burst (coupling) or a big drive (overflow).
                var X = (0..<c.T).map { k in rng.signed() * 0.5 + (k == 0 ? 0.3 : 0) }
                if n % 11 == 3 { X[c.T - 1] += 4 }
                if n % 17 == 5 && li == 0 { X[0] += 6 }
                let r = neuron(X, c: c)
                membrane += r.o
                input += X.map(Float.init)
                spikes += r.s
                target.append(r.a)
                encoded.append(r.e)
                ann.append(r.a * 0.1)
                margins += r.m
            }
            layers.append(LayerTrace(info: info, theta: 0.1 * Double(li + 1), T: c.T, silent: c.silent,
                                     threshold: c.threshold, membrane: membrane, input: input, spikes: spikes,
                                     target: target, encoded: encoded, annActivation: ann, margins: margins))
        }
        var outputSlots = [Float]()
        let w = c.slotWeights
        for k in 0..<c.T {
            for cls in 0..<l.outputCount {
                let base = cls == sample % 10 ? 1.0 : (cls == (sample + 3) % 10 ? 0.9 : 0.3)
                outputSlots.append(Float(w[k] * (base + rng.signed() * 0.2)))
            }
        }
        var annOut = [Float](repeating: 0, count: l.outputCount)
        annOut[sample % 10] = 5
        return SampleTrace(layout: l, sample: sample, label: sample % 10, annOutput: annOut,
                           encoder: EncoderTrace(theta: theta0, T: c.T, spikes: encSpikes, inputs: inputs),
                           layers: layers, outputSlots: outputSlots)
    }

    static func report(samples: Int = 4, wideName: Bool = false) -> DatasetReport {
        let l = layout(wideName: wideName)
        let c = l.config
        let traces = (0..<samples).map { trace(sample: $0, wideName: wideName) }
        var layerReports: [LayerReport] = []
        var hotspots: [Hotspot] = []
        for (li, info) in l.layers.enumerated() {
            var hist = Histogram(lower: -2, upper: 2, binCount: 40)
            var res = [Float]()
            var ovf = 0, cpl = 0, over = 0, pos = 0, neg = 0
            var byStep = [Int](repeating: 0, count: c.window + 1), first = byStep
            for t in traces {
                let lt = t.layers[li]
                for n in 0..<lt.neurons {
                    let u = lt.residual(neuron: n)
                    hist.add(Double(u))
                    res.append(abs(u))
                    if abs(u) >= 1 { over += 1 }
                    for i in 0..<lt.T { let s = lt.spike(neuron: n, slot: i); if s > 0 { pos += 1 } else if s < 0 { neg += 1 } }
                    var fv: Int? = nil
                    var worst = Float.infinity
                    for k0 in 0...lt.window {
                        let m = lt.margin(neuron: n, k0: k0)
                        worst = min(worst, m)
                        if m <= 0 { byStep[k0] += 1; if fv == nil { fv = k0 } }
                    }
                    if let fv {
                        first[fv] += 1
                        let kind: ViolationKind = fv == 0 ? .overflow : .coupling
                        if kind == .overflow { ovf += 1 } else { cpl += 1 }
                        hotspots.append(Hotspot(layer: li, neuron: n, sample: t.sample, kind: kind,
                                                firstViolationStep: fv, worstMargin: Double(worst), residual: Double(abs(u))))
                    }
                }
            }
            layerReports.append(LayerReport(info: info, theta: 0.1 * Double(li + 1),
                                            residualP999: percentile(res, 99.9),
                                            residualMax: Double(res.max() ?? 0), overOne: over, overflow: ovf,
                                            coupling: cpl, violationsByStep: byStep, firstViolationByStep: first,
                                            spikesPositive: pos, spikesNegative: neg, activationRMSE: 0.01,
                                            residualHistogram: hist))
        }
        hotspots.sort(by: Hotspot.bySeverity)
        let snn = traces.map { $0.snnPrediction }
        let ann = traces.map { $0.annPrediction }
        let agree = Double(zip(snn, ann).filter { $0 == $1 }.count) / Double(samples)
        return DatasetReport(layout: l, amplitudes: Amplitudes(input: 2.0 / c.sumWeights, layers: [0.1, 0.2, 0.3]),
                             samples: samples, annAccuracy: 1.0, snnAccuracy: agree, agreement: agree,
                             layers: layerReports, hotspots: Array(hotspots.prefix(50)), annPredictions: ann,
                             snnPredictions: snn)
    }
}

/// A backend that serves the fixture (optionally failing a given sample).
struct FixtureBackend: SimulationBackend {
    var samples = 4
    var wideName = false
    var failingSample: Int? = nil

    struct Failure: Error, CustomStringConvertible { var description: String }

    func layout() async -> NetworkLayout { Fixture.layout(wideName: wideName) }
    func sampleCount() async -> Int { samples }
    func trace(sample: Int) async throws -> SampleTrace {
        if sample == failingSample { throw Failure(description: "simulated failure on sample \(sample)") }
        return Fixture.trace(sample: sample, wideName: wideName)
    }
    func report(progress: @escaping @Sendable (Double) -> Void) async throws -> DatasetReport {
        progress(0.5)
        progress(1)
        return Fixture.report(samples: samples, wideName: wideName)
    }
}
