import CSSSnapshots
import Dispatch

/// Wall time per graph node, summed over runs: where a simulation spends its time
/// (`cssdbg bench --profile`). Shared by the simulator's callers, hence the lock.
public final class OpProfile: Sendable {
    private struct Totals {
        var seconds: [Int: Double] = [:]
        var calls: [Int: Int] = [:]
        var nonzero: [Int: (nonzero: Int, total: Int)] = [:]
    }

    private let totals = Locked(Totals())

    /// The entry of the input encoder, which is no graph node: it runs before the first one.
    public static let encoderNode = -1

    public init() {}

    func record(node: Int, since start: UInt64) {
        let s = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        totals.withLock { t in
            t.seconds[node, default: 0] += s
            t.calls[node, default: 0] += 1
        }
    }

    /// Counts the non-zero values of a node's first input: the density a sparse kernel would see
    /// (for spike inputs, the fraction of slots that carry a spike).
    func recordDensity(node: Int, of x: Activation) {
        let nz = x.data.withUnsafeBufferPointer { xp in
            var count = 0
            for v in xp where v != 0 { count += 1 }
            return count
        }
        totals.withLock { t in
            let old = t.nonzero[node] ?? (0, 0)
            t.nonzero[node] = (old.nonzero + nz, old.total + x.data.count)
        }
    }

    /// Fraction of non-zero input values per node (conv and dense nodes), summed over runs.
    public var inputDensity: [Int: Double] {
        totals.withLock { $0.nonzero.mapValues { $0.total > 0 ? Double($0.nonzero) / Double($0.total) : 0 } }
    }

    /// `(node index, seconds, calls)` in graph order, the encoder (`encoderNode`) first.
    public var entries: [(node: Int, seconds: Double, calls: Int)] {
        totals.withLock { t in t.seconds.keys.sorted().map { ($0, t.seconds[$0]!, t.calls[$0]!) } }
    }
}
