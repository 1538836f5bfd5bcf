import CSSCore

extension DatasetReport {
    /// The `eval --json` object (schema in docs/headless.md, "JSON schema").
    public func json() -> JSONValue {
        func optional(_ d: Double?) -> JSONValue { d.map { .number($0) } ?? .null }
        return .object([
            ("model", .string(layout.modelName)),
            ("config", layout.config.json()),
            ("samples", .integer(samples)),
            ("latency", .integer(layout.latency)),
            ("ann_accuracy", optional(annAccuracy)),
            ("snn_accuracy", optional(snnAccuracy)),
            ("agreement", .number(agreement)),
            ("layers", .array(layers.map { $0.json() })),
        ])
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
