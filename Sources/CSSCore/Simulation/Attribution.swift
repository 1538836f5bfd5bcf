import CSSSnapshots

/// Spiking layers whose TSA neurons get another input schedule (docs/numerics.md §12): the
/// neuron, its timing and every other layer stay as they are.
public struct LayerSubstitution: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// The whole window's input in the first step: same target, no temporal coupling.
        case decoupled
        /// The exact ANN target in the first step: also discards the error that reached the layer.
        case exact
    }

    public var modes: [Int: Mode]

    public init(_ modes: [Int: Mode] = [:]) { self.modes = modes }

    public static let none = LayerSubstitution()

    public static func decoupled(_ layer: Int) -> LayerSubstitution { LayerSubstitution([layer: .decoupled]) }

    /// The first `j` spiking layers exact.
    public static func exactPrefix(_ j: Int) -> LayerSubstitution {
        LayerSubstitution(Dictionary(uniqueKeysWithValues: (0..<j).map { ($0, Mode.exact) }))
    }

    public var isEmpty: Bool { modes.isEmpty }
    var needsANN: Bool { modes.values.contains(.exact) }

    /// The input of layer `l` after the substitution, in ANN units like `z` (T·B columns slot-major):
    /// slot 0 carries `(Σ_k w_k z[k]) / w_0` (decoupled) or `ann / w_0` (exact), the other slots 0.
    /// Dividing by θ afterwards, as the layer does, gives the X'[0] of §12.
    func input(of l: Int, _ z: Activation, ann: Activation?, batch B: Int, config: ConversionConfig) -> Activation {
        guard let mode = modes[l] else { return z }
        let T = config.T, run = B * z.spatial
        let w = config.slotWeights
        var out = Activation(zeros: z.shape, columns: z.columns)
        z.data.withUnsafeBufferPointer { zp in
            out.data.withUnsafeMutableBufferPointer { op in
                for c in 0..<z.channels {
                    let base = c * T * run
                    switch mode {
                    case .decoupled:
                        for e in 0..<run {
                            var sum = 0.0
                            for k in 0..<T { sum += w[k] * Double(zp[base + k * run + e]) }
                            op[base + e] = Float(sum / w[0])
                        }
                    case .exact:
                        let a = ann!
                        for e in 0..<run { op[base + e] = Float(Double(a.data[c * run + e]) / w[0]) }
                    }
                }
            }
        }
        return out
    }
}

extension Activation {
    /// Elements that are not zero (input events, docs/numerics.md §13).
    var nonzeroCount: Int {
        data.withUnsafeBufferPointer { p in
            var n = 0
            for v in p where v != 0 { n += 1 }
            return n
        }
    }
}

extension Evaluator {
    /// The attribution of docs/numerics.md §12 over a data set: the SNN, each layer decoupled
    /// and every exact prefix — 2n+1 simulations, run batch by batch so that the ANN's pass and a
    /// batch of inputs serve all of them and memory stays one batch's. `snnPredictions`: the plain
    /// SNN's predictions when a report of the same θ and config already has them (one simulation fewer).
    public func attribution(_ data: SampleSet, amplitudes: Amplitudes, config: ConversionConfig,
                            snnPredictions: [Int]? = nil,
                            progress: (@Sendable (Double) -> Void)? = nil) throws -> AttributionReport {
        let n = network.layerCount, classes = network.outputCount
        let known = snnPredictions.flatMap { $0.count == data.count ? $0 : nil }
        // Variants: 0 the SNN (= exact prefix 0), 1...n exact prefixes, n+1...2n each layer decoupled.
        let variants: [LayerSubstitution] = [.none] + (1...n).map { .exactPrefix($0) } + (0..<n).map { .decoupled($0) }
        var predictions = [[Int]](repeating: [], count: variants.count)
        if let known { predictions[0] = known }
        var annPred: [Int] = []
        try batches(data.count, progress: progress) { offset, count in
            let x = try data.samples(offset..<(offset + count))
            let ann = try simulator.annForward(x, count: count)
            for b in 0..<count { annPred.append(argmax(ann.outputs[(b * classes)..<((b + 1) * classes)])) }
            for (v, substitution) in variants.enumerated() where v > 0 || known == nil {
                let snn = try simulator.simulate(x, count: count, amplitudes: amplitudes, config: config, ann: ann,
                                                 sampleOffset: offset, substitution: substitution)
                for b in 0..<count { predictions[v].append(argmax(snn.outputs[(b * classes)..<((b + 1) * classes)])) }
            }
        }
        let labels = data.labels
        func fraction(_ pred: [Int], _ truth: [Int]) -> Double {
            pred.isEmpty ? 0 : Double(zip(pred, truth).filter { $0 == $1 }.count) / Double(pred.count)
        }
        let prefix = Array(predictions[0...n])
        let decoupled = Array(predictions[(n + 1)...])
        let truth = labels ?? annPred
        var culprits = [Int](repeating: 0, count: n), unresolved = 0
        for s in 0..<data.count {
            switch AttributionReport.culprit(prefix.map { $0[s] == truth[s] }) {
            case nil: unresolved += 1
            case 0?: break
            case let j?: culprits[j - 1] += 1
            }
        }
        return AttributionReport(
            decoupledAccuracy: labels.map { l in decoupled.map { fraction($0, l) } },
            decoupledAgreement: decoupled.map { fraction($0, annPred) },
            exactPrefixAccuracy: labels.map { l in prefix.map { fraction($0, l) } },
            exactPrefixAgreement: prefix.map { fraction($0, annPred) },
            culpritSamples: culprits, unresolved: unresolved, byLabels: labels != nil)
    }
}
