import CSSCore
import Foundation

/// Inputs (and optional labels) for a model; the simulator's own sample set.
public typealias Dataset = SampleSet

/// Where a model and its data live. A bundle is a directory holding `model.onnx` and optionally
/// `data.npy`, `labels.npy`, `calib.npy` and `theta.json`; a bare `.onnx` file is a bundle of
/// one. Explicit paths override the bundle's own files.
public struct ModelBundle: Sendable, Equatable {
    public var modelURL: URL
    public var dataURL: URL?
    public var labelsURL: URL?
    public var calibURL: URL?
    public var thetaURL: URL?

    public init(modelURL: URL, dataURL: URL? = nil, labelsURL: URL? = nil, calibURL: URL? = nil, thetaURL: URL? = nil) {
        self.modelURL = modelURL
        self.dataURL = dataURL
        self.labelsURL = labelsURL
        self.calibURL = calibURL
        self.thetaURL = thetaURL
    }

    public static let modelFile = "model.onnx"
    public static let dataFile = "data.npy"
    public static let labelsFile = "labels.npy"
    public static let calibFile = "calib.npy"
    public static let thetaFile = "theta.json"

    /// Resolves `path` (a bundle directory or an `.onnx` file) and the explicit overrides.
    /// Every explicit file must exist; bundle files are picked up only when present.
    public static func resolve(path: String, data: String? = nil, labels: String? = nil,
                               calib: String? = nil, theta: String? = nil) throws -> ModelBundle {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ImportError(file: path, problem: "no such file or directory",
                              hint: "pass a bundle directory containing model.onnx, or an .onnx file")
        }
        var bundle: ModelBundle
        if isDir.boolValue {
            let dir = URL(fileURLWithPath: path, isDirectory: true)
            let model = dir.appendingPathComponent(modelFile)
            guard isRegularFile(model.path) else {
                throw ImportError(file: path, problem: "directory has no \(modelFile)",
                                  hint: "a bundle is a directory with model.onnx and optionally data.npy, labels.npy, calib.npy, theta.json")
            }
            func optional(_ name: String) -> URL? {
                let u = dir.appendingPathComponent(name)
                return isRegularFile(u.path) ? u : nil
            }
            bundle = ModelBundle(modelURL: model, dataURL: optional(dataFile), labelsURL: optional(labelsFile),
                                 calibURL: optional(calibFile), thetaURL: optional(thetaFile))
        } else {
            bundle = ModelBundle(modelURL: URL(fileURLWithPath: path))
        }
        func explicit(_ p: String?, _ what: String) throws -> URL? {
            guard let p else { return nil }
            guard isRegularFile(p) else {
                throw ImportError(file: p, problem: fm.fileExists(atPath: p) ? "is not a regular file" : "no such file",
                                  hint: "given as the \(what) file")
            }
            return URL(fileURLWithPath: p)
        }
        if let u = try explicit(data, "data") { bundle.dataURL = u }
        if let u = try explicit(labels, "labels") { bundle.labelsURL = u }
        if let u = try explicit(calib, "calibration") { bundle.calibURL = u }
        if let u = try explicit(theta, "θ") { bundle.thetaURL = u }
        return bundle
    }

    static func isRegularFile(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
    }

    /// Imports the model.
    public func loadModel() throws -> Graph {
        try ONNXModelLoader.load(path: modelURL.path)
    }

    /// The data set (with labels when present) checked against the model, or nil without data.
    public func loadData(for graph: Graph) throws -> Dataset? {
        guard let dataURL else {
            if let labelsURL {
                throw ImportError(file: labelsURL.path, problem: "labels given without a data file", hint: "pass --data too")
            }
            return nil
        }
        var classes: Int?
        if let shapes = try? graph.inferShapes(), let out = shapes[graph.output] { classes = out.reduce(1, *) }
        return try DatasetLoader.load(data: dataURL.path, labels: labelsURL?.path, inputShape: graph.inputShape,
                                      classes: classes)
    }

    /// The calibration inputs checked against the model, or nil when the bundle has none.
    public func loadCalibration(for graph: Graph) throws -> Dataset? {
        guard let calibURL else { return nil }
        return try DatasetLoader.load(data: calibURL.path, labels: nil, inputShape: graph.inputShape, classes: nil)
    }
}

public enum DatasetLoader {
    /// Reads `data` (shape `[N, ...inputShape]`) and optional `labels` (`[N]` or `[N, 1]` class
    /// indices below `classes` when given).
    public static func load(data: String, labels: String?, inputShape: [Int], classes: Int? = nil) throws -> Dataset {
        // Read on demand: only the header now (and one validating pass a chunk at a time).
        let file = try NumPySampleFile(path: data)
        let shape = file.header.shape
        let sampleSize = inputShape.reduce(1, *)
        guard let n = shape.first, shape.count >= 1 else {
            throw ImportError(file: data, problem: "holds a scalar; expected shape [N, \(dims(inputShape))]")
        }
        let rest = Array(shape.dropFirst())
        let squeezed = { (s: [Int]) in s.filter { $0 != 1 } }
        guard rest == inputShape || (rest.reduce(1, *) == sampleSize && squeezed(rest) == squeezed(inputShape)) else {
            throw ImportError(file: data, problem: "has shape \(shape) but the model expects [N, \(dims(inputShape))]",
                              hint: "save the inputs as an array of shape (N, \(dims(inputShape)))")
        }
        guard n > 0 else { throw ImportError(file: data, problem: "holds no samples (shape \(shape))") }
        try file.validate()
        var ds = Dataset(source: file, count: n, sampleShape: inputShape)
        if let labels {
            let (ls, lv) = try NumPyFile.readInts(path: labels)
            guard ls == [n] || ls == [n, 1] else {
                throw ImportError(file: labels, problem: "has shape \(ls) but the data has \(n) samples",
                                  hint: "labels must be a vector of \(n) class indices")
            }
            if let bad = lv.firstIndex(where: { v in v < 0 || (classes.map { v >= $0 } ?? false) }) {
                throw ImportError(file: labels, problem: "label \(lv[bad]) at index \(bad) is not a class index"
                                  + (classes.map { " of the model's \($0) outputs" } ?? ""))
            }
            ds.labels = lv
        }
        return ds
    }

    static func dims(_ s: [Int]) -> String { s.map(String.init).joined(separator: ", ") }
}
