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

    /// Same result as adding each element in order: appends in bulk while the values stay exact;
    /// past the capacity, folds what it has and bins the rest in bulk (the histogram holds
    /// counts, so when the values cross the capacity does not matter).
    public mutating func add(contentsOf xs: UnsafeBufferPointer<Float>) {
        var m = maximum
        for x in xs where x > m { m = x }
        maximum = m
        count += xs.count
        if histogram == nil && values.count + xs.count <= exactCapacity {
            values.append(contentsOf: xs)
            return
        }
        if histogram == nil { fold() }
        zeros += histogram!.withUnsafeMutableBufferPointer { Self.binAll(xs, into: $0) }
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
        histogram!.withUnsafeMutableBufferPointer { h in
            other.histogram!.withUnsafeBufferPointer { o in
                for i in 0..<h.count { h[i] += o[i] }
            }
        }
    }

    /// Folds the values into the histogram now. The result of any sequence of adds and merges
    /// depends only on the values and on whether their total exceeds the capacity, so a caller
    /// that knows the total will exceed it can fold parts in parallel before merging them.
    public mutating func foldNow() {
        if histogram == nil { fold() }
    }

    private mutating func fold() {
        var bins = [Int32](repeating: 0, count: Self.octaves * Int(Self.binsPerOctave))
        zeros += bins.withUnsafeMutableBufferPointer { h in values.withUnsafeBufferPointer { Self.binAll($0, into: h) } }
        histogram = bins
        values = []
    }

    /// `bin` for every value of `xs` into `h`, on raw buffers (no optional unwrapped per value);
    /// returns how many were zero (counted apart).
    private static func binAll(_ xs: UnsafeBufferPointer<Float>, into h: UnsafeMutableBufferPointer<Int32>) -> Int {
        var zeros = 0
        for x in xs {
            if let i = fastSlot(x, bins: h.count) { h[i] += 1 } else { zeros += 1 }
        }
        return zeros
    }

    /// The histogram bin of a positive value among `bins`; nil for zero (counted apart).
    @inline(__always)
    static func slot(_ x: Float, bins: Int) -> Int? {
        guard x > 0 else { return nil }
        return max(0, min(bins - 1, Int((log2(Double(x)) - minExponent) * binsPerOctave)))
    }

    /// `slot`, without a logarithm per value: log2 was most of the statistics of a layer that
    /// folds (a 224×224 layer folds 12.8 million residuals a batch). The float's exponent gives
    /// the octave and the top 16 bits of its mantissa the bin within it, except in the ranges
    /// of those bits that hold a bin boundary (about 1 in 128), subnormals and infinities,
    /// where `slot` decides. The same bin as `slot` for every float (tested).
    @inline(__always)
    static func fastSlot(_ x: Float, bins: Int) -> Int? {
        guard x > 0 else { return nil }
        let bits = x.bitPattern
        let biased = Int(bits >> 23)  // x > 0: no sign bit
        let inOctave = Int(mantissaBins[Int((bits >> 7) & 0xFFFF)])
        guard biased > 0, biased < 255, inOctave >= 0 else { return slot(x, bins: bins) }
        let octave = biased - 127 - Int(minExponent)
        return max(0, min(bins - 1, octave * Int(binsPerOctave) + inOctave))
    }

    /// For each value r of a float's top 16 mantissa bits (mantissas m in [1 + r/2^16,
    /// 1 + (r+1)/2^16)): the bin within the octave, ⌊512·log2 m⌋, that all of them fall in, or −1
    /// where a boundary lies within 1e-6 of the range (slot's rounding error is about 1e-11).
    static let mantissaBins: [Int16] = (0..<65536).map { r in
        let lo = log2(1 + Double(r) / 65536) * binsPerOctave
        let hi = log2(1 + Double(r + 1) / 65536) * binsPerOctave
        let bin = lo.rounded(.down)
        // r = 0 starts at m = 1 exactly, where log2 is exact: bin 0.
        let clearBelow = r == 0 || lo - bin > 1e-6
        return clearBelow && bin + 1 - hi > 1e-6 ? Int16(bin) : -1
    }

    private mutating func bin(_ x: Float) {
        if let i = Self.fastSlot(x, bins: histogram!.count) { histogram![i] += 1 } else { zeros += 1 }
    }

    /// The q-th percentile (0...100); 0 when empty.
    public func percentile(_ q: Double) -> Double {
        guard count > 0 else { return 0 }
        if histogram == nil {
            var v = values
            return v.withUnsafeMutableBufferPointer { interpolatedPercentile($0, q) }
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

/// NumPy-style percentile of an array (linear interpolation); 0 when empty.
public func percentile(_ values: [Float], _ q: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    var v = values
    return v.withUnsafeMutableBufferPointer { interpolatedPercentile($0, q) }
}

/// NumPy's linear interpolation between the two order statistics around rank q/100·(n − 1),
/// found by selection instead of a sort: the same two values a sort gives, so the same result,
/// in O(n) — a sample's residual p99.9 over 800 000 neurons of a 224×224 layer was a sort on
/// the UI thread. Reorders `b`; `b` must not be empty.
func interpolatedPercentile(_ b: UnsafeMutableBufferPointer<Float>, _ q: Double) -> Double {
    let n = b.count
    let rank = q / 100 * Double(n - 1)
    let lo = Int(rank.rounded(.down))
    let hi = min(lo + 1, n - 1)
    let frac = rank - Double(lo)
    selectOrderStatistic(b, lo)
    let a = b[lo]
    // After the selection everything past `lo` is ≥ b[lo]: the next order statistic is their minimum.
    var c = a
    if hi > lo {
        c = b[hi]
        for i in hi..<n where b[i] < c { c = b[i] }
    }
    return Double(a) + frac * (Double(c) - Double(a))
}

/// Reorders `b` so that `b[k]` is its k-th smallest value (from 0), nothing before it larger and
/// nothing after it smaller (Hoare's selection, median-of-three pivots; runs of equal values,
/// common here — many residuals are exactly 0 — split evenly).
func selectOrderStatistic(_ b: UnsafeMutableBufferPointer<Float>, _ k: Int) {
    var left = 0, right = b.count - 1
    while right > left {
        let mid = left + (right - left) / 2
        if b[mid] < b[left] { b.swapAt(mid, left) }
        if b[right] < b[left] { b.swapAt(right, left) }
        if b[right] < b[mid] { b.swapAt(right, mid) }
        let pivot = b[mid]
        var i = left, j = right
        while i <= j {
            while b[i] < pivot { i += 1 }
            while b[j] > pivot { j -= 1 }
            if i <= j {
                b.swapAt(i, j)
                i += 1
                j -= 1
            }
        }
        // [left, j] ≤ pivot, [i, right] ≥ pivot, and anything strictly between equals it.
        if k <= j { right = j } else if k >= i { left = i } else { return }
    }
}
