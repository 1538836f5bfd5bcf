import CSSCore
import Foundation

/// A model with its data, checked against each other: what every command starts from.
public struct LoadedModel: Sendable {
    public var name: String
    public var bundle: ModelBundle
    public var network: Network
    public var data: SampleSet
    /// Calibration inputs: calib.npy, else the data.
    public var calib: SampleSet
    public var thetaFile: ThetaFile?
    /// Where `thetaFile` was read, as the user would type it: the `--theta` path, or the bundle
    /// path plus `theta.json`; nil when θ is calibrated.
    public var thetaPath: String?
    /// True when θ (and config) come from the bundle's own `theta.json`, not `--theta`.
    public var thetaFromBundle: Bool
    /// True when there was no data and `data` is the calibration set (unlabelled); `tune` only.
    public var dataIsCalibration: Bool
    /// True when there was no calibration set and `calib` is the data.
    public var calibrationIsData = false

    /// Loads a bundle directory or .onnx file; explicit paths override the bundle's files.
    /// With `calibrationSuffices`, a model without data but with calibration inputs loads, the
    /// calibration set standing in for the data (A.3 needs nothing else). `winograd` and
    /// `winogradTiles` choose the convolution path as in `Network.init` (`--conv`).
    public static func load(path: String, data: String? = nil, labels: String? = nil, calib: String? = nil,
                            theta: String? = nil, limit: Int? = nil, calibrationSuffices: Bool = false,
                            winograd: Bool = true, winogradTiles: WinogradTiles = .standard) throws -> LoadedModel {
        let bundle = try ModelBundle.resolve(path: path, data: data, labels: labels, calib: calib, theta: theta)
        let name = modelName(path)
        var graph = try bundle.loadModel()
        graph.name = name
        let network: Network
        do { network = try Network(graph, winograd: winograd, winogradTiles: winogradTiles) } catch let e as GraphError {
            throw ImportError(file: bundle.modelURL.path, problem: e.description)
        }
        let loadedData = try bundle.loadData(for: graph)
        let loadedCalib = try bundle.loadCalibration(for: graph)
        guard var dataSet = loadedData ?? (calibrationSuffices ? loadedCalib : nil) else {
            throw ImportError(file: path, problem: "no input data",
                              hint: calibrationSuffices ? "put data.npy or calib.npy in the bundle, or pass --data X.npy or --calib C.npy"
                                  : "put data.npy in the bundle or pass --data X.npy")
        }
        if let limit { dataSet = dataSet.prefix(limit) }
        let calibSet = loadedCalib ?? dataSet
        let thetaFile = try bundle.thetaURL.map { try ThetaFile.read(path: $0.path, tensors: network.layerTensors) }
        let thetaPath = thetaFile == nil ? nil : theta ?? (path.hasSuffix("/") ? path : path + "/") + ModelBundle.thetaFile
        var m = LoadedModel(name: name, bundle: bundle, network: network, data: dataSet, calib: calibSet, thetaFile: thetaFile,
                            thetaPath: thetaPath, thetaFromBundle: theta == nil && thetaFile != nil,
                            dataIsCalibration: loadedData == nil)
        m.calibrationIsData = loadedCalib == nil
        return m
    }

    /// The bundle directory's name, or the .onnx file's name without its extension.
    public static func modelName(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        return url.pathExtension == "onnx" ? url.deletingPathExtension().lastPathComponent : url.lastPathComponent
    }
}
