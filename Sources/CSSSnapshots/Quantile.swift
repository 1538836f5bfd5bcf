#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Collects non-negative values and answers percentiles the way NumPy does (linear interpolation
/// between order statistics). Exact while the values fit in `exactCapacity`; beyond that it folds
/// them into a log-spaced histogram (relative resolution 2^(1/512), about 0.14%) so memory stays
/// bounded on large data sets.
public struct QuantileAccumulator: Sendable {
    public static let defaultCapacity = 1 << 21
    static let binsPerOctave = 512.0
    static let minExponent = -64.0
    static let octaves = 128

    public let exactCapacity: Int
    private var values: [Float] = []
    private var zeros = 0
    private var histogram: [Int32]? = nil
    public private(set) var count = 0
    public private(set) var maximum: Float = 0

    public init(exactCapacity: Int = QuantileAccumulator.defaultCapacity) {
        self.exactCapacity = exactCapacity
    }

    public var isExact: Bool { histogram == nil }

    public mutating func add(_ x: Float) {
        count += 1
        if x > maximum { maximum = x }
        if histogram == nil {
            values.append(x)
            if values.count > exactCapacity { fold() }
        } else {
            bin(x)
        }
    }

    public mutating func add<S: Sequence>(contentsOf xs: S) where S.Element == Float {
        for x in xs { add(x) }
    }

    /// Same result as adding each element in order; appends in bulk while the values stay exact.
    public mutating func add(contentsOf xs: UnsafeBufferPointer<Float>) {
        guard histogram == nil, values.count + xs.count <= exactCapacity else {
            for x in xs { add(x) }
            return
        }
        values.append(contentsOf: xs)
        count += xs.count
        var m = maximum
        for x in xs where x > m { m = x }
        maximum = m
    }

    public mutating func merge(_ other: QuantileAccumulator) {
        if other.histogram == nil {
            other.values.withUnsafeBufferPointer { add(contentsOf: $0) }
            return
        }
        if histogram == nil { fold() }
        count += other.count
        maximum = max(maximum, other.maximum)
        zeros += other.zeros
        for i in histogram!.indices { histogram![i] += other.histogram![i] }
    }

    private mutating func fold() {
        histogram = [Int32](repeating: 0, count: Self.octaves * Int(Self.binsPerOctave))
        let vs = values
        values = []
        for v in vs { bin(v) }
    }

    private mutating func bin(_ x: Float) {
        guard x > 0 else { zeros += 1; return }
        let i = Int((log2(Double(x)) - Self.minExponent) * Self.binsPerOctave)
        histogram![max(0, min(histogram!.count - 1, i))] += 1
    }

    /// The q-th percentile (0...100); 0 when empty.
    public func percentile(_ q: Double) -> Double {
        guard count > 0 else { return 0 }
        if histogram == nil {
            let sorted = values.sorted()
            let rank = q / 100 * Double(sorted.count - 1)
            let lo = Int(rank.rounded(.down))
            let hi = min(lo + 1, sorted.count - 1)
            let frac = rank - Double(lo)
            return Double(sorted[lo]) + frac * (Double(sorted[hi]) - Double(sorted[lo]))
        }
        let target = q / 100 * Double(count - 1)
        var seen = Double(zeros)
        if target < seen { return 0 }
        for (i, c) in histogram!.enumerated() where c > 0 {
            seen += Double(c)
            if target < seen {
                let mid = (Double(i) + 0.5) / Self.binsPerOctave + Self.minExponent
                return min(Double(maximum), pow(2, mid))
            }
        }
        return Double(maximum)
    }
}

/// NumPy-style percentile of a small array (linear interpolation).
public func percentile(_ values: [Float], _ q: Double) -> Double {
    var acc = QuantileAccumulator(exactCapacity: Int.max)
    acc.add(contentsOf: values)
    return acc.percentile(q)
}
