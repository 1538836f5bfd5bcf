/// What the ANN and the SNN cost to run (docs/numerics.md §13), per sample.

/// One Conv, Gemm or MatMul node.
public struct NodeOperations: Sendable, Equatable {
    public var name: String
    /// The spiking layer the node feeds (nil: the output integrator).
    public var layer: Int?
    /// ANN multiply-accumulates per sample.
    public var macs: Int
    /// SNN synaptic operations per sample: input events over the T slots × mean fan-out.
    public var synapticOps: Double

    public init(name: String, layer: Int?, macs: Int, synapticOps: Double) {
        self.name = name
        self.layer = layer
        self.macs = macs
        self.synapticOps = synapticOps
    }
}

/// Sums of nodes: a spiking layer's, the output's or the whole network's.
public struct OperationCounts: Sendable, Equatable {
    public var macs: Int
    public var synapticOps: Double
    /// Neuron updates, neurons × (T + L); zero for the output and for the nodes alone.
    public var neuronSteps: Int

    public init(macs: Int = 0, synapticOps: Double = 0, neuronSteps: Int = 0) {
        self.macs = macs
        self.synapticOps = synapticOps
        self.neuronSteps = neuronSteps
    }

    /// Energy estimates in pJ: the ANN's MACs and the SNN's synaptic operations.
    public func energy(_ costs: EnergyCosts) -> (ann: Double, snn: Double) {
        (Double(macs) * costs.mac, synapticOps * costs.accumulate)
    }
}

/// Energy per operation in pJ: the 45 nm figures SNN papers use (Horowitz 2014).
public struct EnergyCosts: Sendable, Equatable {
    /// Per multiply-accumulate of the ANN.
    public var mac: Double
    /// Per synaptic operation (accumulate) of the SNN.
    public var accumulate: Double

    public static let standard = EnergyCosts(mac: 4.6, accumulate: 0.9)

    public init(mac: Double, accumulate: Double) {
        self.mac = mac
        self.accumulate = accumulate
    }
}

public struct OperationReport: Sendable, Equatable {
    public var nodes: [NodeOperations]
    /// Per spiking layer, neurons × (T + L).
    public var neuronSteps: [Int]

    public init(nodes: [NodeOperations], neuronSteps: [Int]) {
        self.nodes = nodes
        self.neuronSteps = neuronSteps
    }

    /// The nodes that feed spiking layer `l` (nil: the output), with the layer's neuron steps.
    public func counts(layer l: Int?) -> OperationCounts {
        var c = OperationCounts(neuronSteps: l.map { neuronSteps[$0] } ?? 0)
        for n in nodes where n.layer == l {
            c.macs += n.macs
            c.synapticOps += n.synapticOps
        }
        return c
    }

    public var total: OperationCounts {
        OperationCounts(macs: nodes.reduce(0) { $0 + $1.macs }, synapticOps: nodes.reduce(0) { $0 + $1.synapticOps },
                        neuronSteps: neuronSteps.reduce(0, +))
    }
}

/// Accuracy against the output slots that have arrived (docs/numerics.md §14).
public struct AnytimeReport: Sendable, Equatable {
    /// Per output slot k = 0..T−1, the accuracy of the prediction from slots 0..k (nil: no labels).
    public var accuracy: [Double]?
    /// The same for agreement with the ANN (empty when the ANN was not run).
    public var agreement: [Double]
    /// Per slot k, the samples whose prediction from slots 0..j is the final one for every j ≥ k.
    public var settledBySlot: [Int]

    public init(accuracy: [Double]?, agreement: [Double], settledBySlot: [Int]) {
        self.accuracy = accuracy
        self.agreement = agreement
        self.settledBySlot = settledBySlot
    }
}

/// Which layer's coding costs the accuracy (docs/numerics.md §12).
public struct AttributionReport: Sendable, Equatable {
    /// Per spiking layer: accuracy with that one layer decoupled (nil: no labels).
    public var decoupledAccuracy: [Double]?
    public var decoupledAgreement: [Double]
    /// j = 0..n: accuracy with the first j spiking layers exact (nil: no labels).
    public var exactPrefixAccuracy: [Double]?
    public var exactPrefixAgreement: [Double]
    /// Per spiking layer: samples whose culprit it is.
    public var culpritSamples: [Int]
    /// Samples wrong (or disagreeing) even with every layer exact: no layer is their culprit.
    public var unresolved: Int
    /// Whether culprits are judged by the labels or, without labels, by agreement with the ANN.
    public var byLabels: Bool

    public init(decoupledAccuracy: [Double]?, decoupledAgreement: [Double], exactPrefixAccuracy: [Double]?,
                exactPrefixAgreement: [Double], culpritSamples: [Int], unresolved: Int, byLabels: Bool) {
        self.decoupledAccuracy = decoupledAccuracy
        self.decoupledAgreement = decoupledAgreement
        self.exactPrefixAccuracy = exactPrefixAccuracy
        self.exactPrefixAgreement = exactPrefixAgreement
        self.culpritSamples = culpritSamples
        self.unresolved = unresolved
        self.byLabels = byLabels
    }

    /// The culprit of one sample: the smallest prefix j from which `right[j']` holds for every
    /// j' ≥ j (0: right throughout; nil: wrong even with every layer exact).
    public static func culprit(_ right: [Bool]) -> Int? {
        guard right.last == true else { return nil }
        var j = right.count - 1
        while j > 0, right[j - 1] { j -= 1 }
        return j
    }
}

extension AnytimeReport {
    /// From `slotPredictions` (`[samples][T]`, the prediction from slots 0..k) and the labels and
    /// ANN predictions of the same samples (`ann` empty when the ANN was not run).
    public init(slotPredictions p: [Int], T: Int, labels: [Int]?, ann: [Int]) {
        let samples = T > 0 ? p.count / T : 0
        var correct = [Int](repeating: 0, count: T), agree = correct, settled = correct
        for s in 0..<samples {
            let row = p[(s * T)..<((s + 1) * T)]
            let final = row.last!
            var settledFrom = T - 1
            while settledFrom > 0, row[row.startIndex + settledFrom - 1] == final { settledFrom -= 1 }
            for k in 0..<T {
                let v = row[row.startIndex + k]
                if let labels, v == labels[s] { correct[k] += 1 }
                if !ann.isEmpty, v == ann[s] { agree[k] += 1 }
                if k >= settledFrom { settled[k] += 1 }
            }
        }
        let n = Double(max(1, samples))
        self.init(accuracy: labels.map { _ in correct.map { Double($0) / n } },
                  agreement: ann.isEmpty ? [] : agree.map { Double($0) / n }, settledBySlot: settled)
    }
}

/// One finding of `cssdbg doctor` about a conversion, in plain words.
public struct DoctorFinding: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case ann, summary, overflow, coupling, layerLoss = "layer_loss", unresolved
    }
    public var kind: Kind
    /// The spiking layer it is about (its worst hotspot is where to look), if one.
    public var layer: Int?
    public var text: String

    public init(kind: Kind, layer: Int?, text: String) {
        self.kind = kind
        self.layer = layer
        self.text = text
    }
}
