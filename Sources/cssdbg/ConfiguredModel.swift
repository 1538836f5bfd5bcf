import CSSCore
import CSSImport

/// What `eval`, `tune`, `find` and `tui` run: the `LoadedModel`, the conversion config settled
/// from the defaults, its θ file and the flags (`ModelOptions.load`), and the evaluator that runs
/// it. θ is calibrated lazily, only when no θ file gives it.
struct ConfiguredModel {
    var model: LoadedModel
    var config: ConversionConfig
    var evaluator: Evaluator

    var name: String { model.name }
    var network: Network { model.network }
    var data: SampleSet { model.data }
    var calib: SampleSet { model.calib }

    func percentiles() throws -> CalibrationPercentiles {
        let p = try evaluator.calibrationPercentiles(calib, percentile: config.percentile,
                                                     progress: Progress.reporter("calibrating"))
        Progress.finish()
        return p
    }

    /// θ from the θ file, else from calibration.
    func amplitudes() throws -> Amplitudes {
        if let t = model.thetaFile { return t.amplitudes }
        return try percentiles().amplitudes(config)
    }
}

/// How the CLI names where θ comes from.
extension LoadedModel {
    /// For output: "calibration", "bundle" (its theta.json) or "--theta".
    var thetaSource: String { thetaFile == nil ? "calibration" : (thetaFromBundle ? "bundle" : "--theta") }

    /// One line saying which θ file is in use, nil when θ is calibrated.
    var thetaNotice: String? {
        guard let path = thetaPath else { return nil }
        return thetaFromBundle
            ? "theta  \(path) (the bundle's: θ and config from it, not calibrated; --theta FILE for another)"
            : "theta  \(path)"
    }
}
