import Dispatch
import Foundation

/// Wall time per graph node, summed over runs: where a simulation spends its time
/// (`cssdbg bench --profile`). Shared by the simulator's callers, hence the lock.
public final class OpProfile: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: [Int: Double] = [:]
    private var calls: [Int: Int] = [:]

    public init() {}

    func record(node: Int, since start: UInt64) {
        let s = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        lock.withLock {
            seconds[node, default: 0] += s
            calls[node, default: 0] += 1
        }
    }

    /// `(node index, seconds, calls)` in graph order.
    public var entries: [(node: Int, seconds: Double, calls: Int)] {
        lock.withLock { seconds.keys.sorted().map { ($0, seconds[$0]!, calls[$0]!) } }
    }
}
