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
            throw ImportError(file: path, problem: "\(ctx.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type")
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
            do { try config.validate() } catch let e as GraphError { throw ImportError(file: path, problem: e.description) }
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
    public func json() -> JSONValue {
        .object([("T", .integer(T)), ("beta", .number(beta)), ("silent", .integer(silent)),
                 ("negative", .bool(negative)), ("percentile", .number(percentile))])
    }
}
