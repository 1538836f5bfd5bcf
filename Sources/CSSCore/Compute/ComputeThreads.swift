import CSSSnapshots
import Dispatch
import Foundation

/// How many threads the simulator's loops and GEMM tiles may use (default: all cores).
/// OpenBLAS itself runs single-threaded: we tile GEMMs ourselves so results are bitwise the
/// same whatever the thread count.
public enum ComputeThreads {
    private static let setting = Locked(0)

    public static var count: Int {
        let n = setting.value
        return n > 0 ? n : ProcessInfo.processInfo.activeProcessorCount
    }

    public static func set(_ n: Int) {
        setting.value = max(1, n)
    }
}

/// Splits `count` items into contiguous blocks whose boundaries do not depend on the thread
/// count, so reductions merged in block order are deterministic. At most
/// `ComputeThreads.count` workers take blocks in turn. Called from a compute thread with a gate
/// (a data-set job), every worker waits before its next block while the gate is held: the
/// focused trace then has the cores within a block, not only after the job's current graph node.
@inline(__always)
func parallelBlocks(_ count: Int, blockSize: Int, _ body: (Range<Int>) -> Void) {
    let blocks = (count + blockSize - 1) / blockSize
    let workers = min(blocks, ComputeThreads.count)
    let gate = ComputeContext.current?.gate
    if workers <= 1 {
        var lo = 0
        while lo < count {
            gate?.waitWhileHeld()
            body(lo..<min(count, lo + blockSize))
            lo += blockSize
        }
        return
    }
    // Blocks touch disjoint memory by construction; the box only carries the closure across.
    withoutActuallyEscaping(body) { body in
        let box = UncheckedSendable(body)
        let next = Locked(0)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                gate?.waitWhileHeld()
                let b = next.withLock { n in defer { n += 1 }; return n }
                if b >= blocks { break }
                let lo = b * blockSize
                box.value(lo..<min(count, lo + blockSize))
            }
        }
    }
}
