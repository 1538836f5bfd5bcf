#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The conversion settings of docs/numerics.md §1 and §5 (T, β, L, negative spikes, calibration percentile).
public struct ConversionConfig: Sendable, Codable, Equatable, Hashable {
    /// Coding time steps.
    public var T: Int
    /// Amplification factor β.
    public var beta: Double
    /// Silent-period length L (0 disables it).
    public var silent: Int
    /// Ternary spikes (true) or positive-only spikes with a full threshold (false).
    public var negative: Bool
    /// Calibration percentile of the non-zero activations.
    public var percentile: Double

    public init(T: Int = 10, beta: Double = 1.5, silent: Int = 1, negative: Bool = true, percentile: Double = 99.99) {
        self.T = T
        self.beta = beta
        self.silent = silent
        self.negative = negative
        self.percentile = percentile
    }

    public static let `default` = ConversionConfig()

    /// Rate coding is the same code with β = 1, L = 0 and no negative spikes (docs/numerics.md §5).
    public static func rate(T: Int, percentile: Double = 99.99) -> ConversionConfig {
        ConversionConfig(T: T, beta: 1, silent: 0, negative: false, percentile: percentile)
    }

    public var isRate: Bool { beta == 1 && silent == 0 && !negative }

    /// Slot weights `w_i = β^(T-1-i)`.
    public var slotWeights: [Double] { (0..<T).map { pow(beta, Double(T - 1 - $0)) } }

    /// `Σw = Σ_{t<T} β^t`.
    public var sumWeights: Double { slotWeights.reduce(0, +) }

    /// Window length in local steps.
    public var window: Int { T + silent }

    /// Firing threshold in membrane units: β^L/2 with ternary spikes, β^L without.
    public var threshold: Double {
        let full = pow(beta, Double(silent))
        return negative ? full / 2 : full
    }

    /// Reset applied by a spike: β^L.
    public var reset: Double { pow(beta, Double(silent)) }

    /// The largest Σw the Float32 layers handle within docs/numerics.md §9 of the Float64
    /// reference: membrane values, targets and margins are differences of numbers as large as Σw,
    /// and 2^16 leaves 8 of Float32's 24 bits below one spike (measured: docs/numerics.md §10).
    public static let maxSumWeights: Double = 65536

    /// The largest T (at most 64) whose Σw stays within `maxSumWeights` for this β.
    public static func maxT(beta: Double) -> Int {
        var sum = 0.0, t = 0
        while t < 64, sum + pow(beta, Double(t)) <= maxSumWeights {
            sum += pow(beta, Double(t))
            t += 1
        }
        return max(t, 1)
    }

    /// Checks the ranges the simulator supports; the error says which setting and its range.
    public func validate() throws {
        guard beta >= 1, beta <= 4, beta.isFinite else { throw ConfigError(.beta, "beta must be between 1 and 4, got \(beta)") }
        // The β's own limit at once (64 at β = 1, fewer for larger β), not 64 and then the β's.
        let limit = Self.maxT(beta: beta)
        let b = beta == beta.rounded() ? String(Int(beta)) : "\(beta)"
        guard T >= 1 else { throw ConfigError(.T, "T must be between 1 and \(limit) for beta \(b), got \(T)") }
        guard T <= limit else {
            throw ConfigError(.T, "T must be at most \(limit) for beta \(b) (Float32 precision, docs/numerics.md §10), got \(T)")
        }
        guard (0...16).contains(silent) else { throw ConfigError(.silent, "silent period L must be between 0 and 16, got \(silent)") }
        guard percentile > 0, percentile <= 100 else {
            throw ConfigError(.percentile, "percentile must be in (0, 100], got \(percentile)")
        }
    }
}
