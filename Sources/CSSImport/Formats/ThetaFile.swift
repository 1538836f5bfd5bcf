import CSSCore
import Foundation

/// The `cssdbg-theta/1` file: spike amplitudes keyed by the Relu output tensor names, plus the
/// conversion config they were tuned for.
public struct ThetaFile: Equatable, Sendable {
    public static let format = "cssdbg-theta/1"

    public var model: String
    public var config: ConversionConfig
    public var amplitudes: Amplitudes
    public var tensors: [String]

    public init(model: String, config: ConversionConfig, amplitudes: Amplitudes, tensors: [String]) {
        self.model = model
        self.config = config
        self.amplitudes = amplitudes
        self.tensors = tensors
    }

    public func json() -> JSONValue {
        var theta: [(String, JSONValue)] = [("input", .number(amplitudes.input))]
        for (t, v) in zip(tensors, amplitudes.layers) { theta.append((t, .number(v))) }
        return .object([
            ("format", .string(Self.format)),
            ("model", .string(model)),
            ("config", config.json()),
            ("theta", .object(theta)),
        ])
    }

    public func write(to path: String) throws {
        try AtomicFile.write(json().rendered(indent: 2) + "\n", to: path)
    }

    /// The file written when none is named (`:w`, `tune` without `--out`): `MODEL.theta.json` in
    /// the current directory, so θ of different models never share a file and a bundle's own
    /// `theta.json` (which `eval` of the bundle starts from) is only written when asked for.
    public static func defaultPath(model: String) -> String { model + ".theta.json" }

    /// What writing this file to `path` would replace.
    public enum Replaced: Equatable, Sendable {
        /// Nothing is there.
        case nothing
        /// θ of the same model, layers and config (saving again).
        case sameModelAndConfig
        /// Something else, replaced because `force` was given.
        case forced(String)
    }

    /// Checks `path` before this file is written there: a θ file of the same model, layers and
    /// config may be replaced; anything else (another model or config, a file that is not a θ
    /// file) only with `force`. The refusal is one line naming the file, what differs and
    /// `howToForce` (`pass --force`, `use :w!`).
    public func checkReplacing(_ path: String, force: Bool, howToForce: String) throws -> Replaced {
        try Self.checkReplacing(path, model: model, tensors: tensors, config: config, force: force, howToForce: howToForce)
    }

    /// `checkReplacing` before θ exists (e.g. before `tune` starts its work).
    /// `config` nil: any config may be replaced (the config is not known yet, as before `doctor`
    /// searches for one), only another model's or other layers' θ is refused.
    public static func checkReplacing(_ path: String, model: String, tensors: [String], config: ConversionConfig?,
                                      force: Bool, howToForce: String) throws -> Replaced {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return .nothing }
        if isDir.boolValue { throw ImportError(file: path, problem: "is a directory", hint: "name a file to write θ to") }
        let difference = difference(at: path, model: model, tensors: tensors, config: config)
        guard let difference else { return .sameModelAndConfig }
        if force { return .forced(difference) }
        throw ImportError(file: path, problem: difference, hint: "\(howToForce) to replace it")
    }

    /// Nil when the file at `path` holds θ of this model, layers and config; else what differs.
    static func difference(at path: String, model: String, tensors: [String], config: ConversionConfig?) -> String? {
        guard let data = FileManager.default.contents(atPath: path), data.count < 64 << 20,
              let raw = try? JSONDecoder().decode(Raw.self, from: data), raw.format == Self.format else {
            return "exists and is not a \(Self.format) file"
        }
        if let other = raw.model, other != model { return "holds θ of model '\(other)', not '\(model)'" }
        let keys = Set(raw.theta.keys), mine = Set(tensors + ["input"])
        if keys != mine {
            let example = keys.subtracting(mine).sorted().first.map { "'\($0)' is not a spiking layer of '\(model)'" }
                ?? "it lacks '\(mine.subtracting(keys).sorted()[0])'"
            return "holds θ of other layers (\(example))"
        }
        guard let theirs = try? Self.read(path: path, tensors: tensors) else { return "exists and is not a valid \(Self.format) file" }
        if let config, theirs.config != config {
            // Only the settings that differ: "holds θ for L=1, not L=0".
            let a = theirs.config.settings, b = config.settings
            let differ = a.indices.filter { a[$0] != b[$0] }
            return "holds θ for \(differ.map { a[$0] }.joined(separator: " ")), not \(differ.map { b[$0] }.joined(separator: " "))"
        }
        return nil
    }

    /// Reads a θ file and checks it against the model's spiking-layer tensors.
    public static func read(path: String, tensors expected: [String]) throws -> ThetaFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImportError(file: path, problem: "cannot read the θ file")
        }
        guard data.count < 64 << 20 else { throw ImportError(file: path, problem: "θ file is larger than 64 MiB") }
        let raw: Raw
        do {
            raw = try JSONDecoder().decode(Raw.self, from: data)
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
            let field = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            // Valid JSON of another shape (`[1, 2]`, `"theta"`): say what was expected.
            guard !field.isEmpty else {
                throw ImportError(file: path, problem: "not a θ file: expected a JSON object with \"format\", \"model\", \"config\" and \"theta\"",
                                  hint: "expected a \(format) file as written by `cssdbg tune --out` or `:w`")
            }
            throw ImportError(file: path, problem: "\"\(field)\" has the wrong type",
                              hint: field.hasPrefix("theta") ? "\"theta\" is an object of positive numbers by tensor name" : nil)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ImportError(file: path, problem: "missing \"\(key.stringValue)\"", hint: "expected a \(format) file")
        } catch {
            throw ImportError(file: path, problem: "not valid JSON", hint: "expected a \(format) file as written by `cssdbg tune --out` or `:w`")
        }
        guard raw.format == format else { throw ImportError(file: path, problem: "format is \"\(raw.format)\", expected \"\(format)\"") }
        func amplitude(_ key: String) throws -> Double {
            guard let v = raw.theta[key] else {
                throw ImportError(file: path, problem: "θ for tensor '\(key)' is missing", hint: "the file does not match this model")
            }
            guard v.isFinite, v > 0 else { throw ImportError(file: path, problem: "θ for '\(key)' must be a positive number, got \(v)") }
            return v
        }
        if let name = Set(raw.theta.keys).subtracting(expected + ["input"]).sorted().first {
            throw ImportError(file: path, problem: "tensor '\(name)' is not a spiking layer of this model",
                              hint: "the file does not match this model")
        }
        let amplitudes = Amplitudes(input: try amplitude("input"), layers: try expected.map(amplitude))
        var config = ConversionConfig.default
        if let c = raw.config {
            config.T = c.T ?? config.T
            config.beta = c.beta ?? config.beta
            config.silent = c.silent ?? config.silent
            config.negative = c.negative ?? config.negative
            config.percentile = c.percentile ?? config.percentile
            do { try config.validate() } catch let e as ConfigError { throw ImportError(file: path, problem: e.description) }
        }
        return ThetaFile(model: raw.model ?? "", config: config, amplitudes: amplitudes, tensors: expected)
    }

    struct Raw: Decodable {
        var format: String
        var model: String?
        var config: RawConfig?
        var theta: [String: Double]
    }

    struct RawConfig: Decodable {
        var T: Int?
        var beta: Double?
        var silent: Int?
        var negative: Bool?
        var percentile: Double?
    }
}

extension ConversionConfig {
    /// `["T=10", "β=1.5", "L=1", "negative=on", "percentile=99.99"]`, as `eval` prints them.
    public var settings: [String] {
        func n(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)" }
        return ["T=\(T)", "β=\(n(beta))", "L=\(silent)", "negative=\(negative ? "on" : "off")", "percentile=\(n(percentile))"]
    }

    public func json() -> JSONValue {
        .object([("T", .integer(T)), ("beta", .number(beta)), ("silent", .integer(silent)),
                 ("negative", .bool(negative)), ("percentile", .number(percentile))])
    }
}
