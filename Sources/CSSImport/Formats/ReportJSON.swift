import CSSCore

extension DatasetReport {
    /// The `eval --json` object (schema: docs/headless.md). `energy` prices the operation counts.
    public func json(energy: EnergyCosts = .standard) -> JSONValue {
        func optional(_ d: Double?) -> JSONValue { d.map { .number($0) } ?? .null }
        func numbers(_ v: [Double]?) -> JSONValue { v.map { .array($0.map { .number($0) }) } ?? .null }
        var top: [(String, JSONValue)] = [
            ("model", .string(layout.modelName)),
            ("config", layout.config.json()),
            ("samples", .integer(samples)),
            ("latency", .integer(layout.latency)),
            ("ann_accuracy", optional(annAccuracy)),
            ("snn_accuracy", optional(snnAccuracy)),
            ("agreement", .number(agreement)),
            ("layers", .array(layers.enumerated().map { l, layer in
                guard case .object(var pairs) = layer.json() else { return layer.json() }
                if let operations {
                    let c = operations.counts(layer: l)
                    pairs += [("macs", .integer(c.macs)), ("synaptic_ops", .number(c.synapticOps)),
                              ("neuron_steps", .integer(c.neuronSteps))]
                }
                if let attribution {
                    pairs += [("decoupled_accuracy", optional(attribution.decoupledAccuracy?[l])),
                              ("decoupled_agreement", .number(attribution.decoupledAgreement[l])),
                              ("culprit_samples", .integer(attribution.culpritSamples[l]))]
                }
                return .object(pairs)
            })),
        ]
        if let anytime {
            top += [("anytime_accuracy", numbers(anytime.accuracy)),
                    ("anytime_agreement", numbers(anytime.agreement)),
                    ("settled_by_slot", .array(anytime.settledBySlot.map { .integer($0) }))]
        }
        if let operations {
            let total = operations.total, output = operations.counts(layer: nil)
            let (ann, snn) = total.energy(energy)
            top += [("macs", .integer(total.macs)), ("synaptic_ops", .number(total.synapticOps)),
                    ("neuron_steps", .integer(total.neuronSteps)),
                    ("e_mac_pj", .number(energy.mac)), ("e_ac_pj", .number(energy.accumulate)),
                    ("energy_pj", .object([("ann", .number(ann)), ("snn", .number(snn))])),
                    ("output", .object([("macs", .integer(output.macs)), ("synaptic_ops", .number(output.synapticOps))]))]
        }
        if let attribution {
            top += [("exact_prefix_accuracy", numbers(attribution.exactPrefixAccuracy)),
                    ("exact_prefix_agreement", numbers(attribution.exactPrefixAgreement)),
                    ("culprit_basis", .string(attribution.byLabels ? "accuracy" : "agreement")),
                    ("culprit_unresolved", .integer(attribution.unresolved))]
        }
        return .object(top)
    }
}

extension LayerReport {
    public func json() -> JSONValue {
        .object([
            ("name", .string(info.name)),
            ("tensor", .string(info.tensor)),
            ("neurons", .integer(info.neurons)),
            ("window_start", .integer(info.windowStart)),
            ("theta", .number(theta)),
            ("residual_p999", .number(residualP999)),
            ("residual_max", .number(residualMax)),
            ("over_one", .integer(overOne)),
            ("overflow", .integer(overflow)),
            ("coupling", .integer(coupling)),
            ("violations_by_step", .array(violationsByStep.map { .integer($0) })),
            ("first_violation_by_step", .array(firstViolationByStep.map { .integer($0) })),
            ("spikes_positive", .integer(spikesPositive)),
            ("spikes_negative", .integer(spikesNegative)),
            ("activation_rmse", .number(activationRMSE)),
        ])
    }
}
