import CBLAS
import Dispatch
import Foundation
import Synchronization

/// A batch of tensors in channel-major layout `[C][columns][H·W]`: for a fixed channel every
/// column's spatial block is contiguous, so a layer's whole coding window (columns = T × batch)
/// is one GEMM operand and the TSA recurrence reads contiguous runs. Vectors `[N]` are `[N][columns]`.
public struct Activation: Sendable {
    /// Per-sample shape (no batch).
    public var shape: [Int]
    public var columns: Int
    public var data: [Float]

    public init(shape: [Int], columns: Int, data: [Float]) {
        precondition(data.count == shape.reduce(1, *) * columns)
        self.shape = shape
        self.columns = columns
        self.data = data
    }

    public init(zeros shape: [Int], columns: Int) {
        self.init(shape: shape, columns: columns, data: [Float](repeating: 0, count: shape.reduce(1, *) * columns))
    }

    public var channels: Int { shape.first ?? 1 }
    /// Elements per channel per column (H·W, or 1 for vectors).
    public var spatial: Int { shape.dropFirst().reduce(1, *) }
    public var sampleSize: Int { shape.reduce(1, *) }

    /// Builds the layout from sample-major data (`[columns][sampleSize]`, as NumPy stores a batch).
    public init(sampleMajor: UnsafeBufferPointer<Float>, shape: [Int], columns: Int) {
        let c = shape.first ?? 1
        let hw = shape.dropFirst().reduce(1, *)
        let size = c * hw
        var out = [Float](repeating: 0, count: size * columns)
        out.withUnsafeMutableBufferPointer { o in
            for j in 0..<columns {
                for ch in 0..<c {
                    let src = j * size + ch * hw
                    let dst = (ch * columns + j) * hw
                    for p in 0..<hw { o[dst + p] = sampleMajor[src + p] }
                }
            }
        }
        self.init(shape: shape, columns: columns, data: out)
    }

    /// One column's elements in per-sample row-major order (the order ONNX flattens in).
    public func sample(_ j: Int) -> [Float] {
        let c = channels, hw = spatial
        var out = [Float](repeating: 0, count: c * hw)
        for ch in 0..<c {
            let src = (ch * columns + j) * hw
            for p in 0..<hw { out[ch * hw + p] = data[src + p] }
        }
        return out
    }
}

/// Splits `count` items into contiguous blocks whose boundaries do not depend on the thread
/// count, so reductions merged in block order are deterministic. At most
/// `ComputeThreads.count` workers take blocks in turn.
@inline(__always)
func parallelBlocks(_ count: Int, blockSize: Int, _ body: (Range<Int>) -> Void) {
    let blocks = (count + blockSize - 1) / blockSize
    let workers = min(blocks, ComputeThreads.count)
    if workers <= 1 {
        var lo = 0
        while lo < count {
            body(lo..<min(count, lo + blockSize))
            lo += blockSize
        }
        return
    }
    // Blocks touch disjoint memory by construction; the box only carries the closure across.
    withoutActuallyEscaping(body) { body in
        let box = UncheckedSendable(body)
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let b = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if b >= blocks { break }
                let lo = b * blockSize
                box.value(lo..<min(count, lo + blockSize))
            }
        }
    }
}

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// How many threads the simulator's loops and GEMM tiles may use (default: all cores).
/// OpenBLAS itself runs single-threaded: we tile GEMMs ourselves so results are bitwise the
/// same whatever the thread count.
public enum ComputeThreads {
    private static let setting = Atomic<Int>(0)

    public static var count: Int {
        let n = setting.load(ordering: .relaxed)
        return n > 0 ? n : ProcessInfo.processInfo.activeProcessorCount
    }

    public static func set(_ n: Int) {
        setting.store(max(1, n), ordering: .relaxed)
    }
}

/// Output tile sizes for GEMMs; fixed, so the partition never depends on the thread count.
let gemmColumnTile = 1024
let gemmRowTile = 64

/// `C[m×n] (ldc) = A[m×k] · B[k×n] (+ C if accumulate)`, all row-major, tiled over threads.
func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transA: Bool = false,
           b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false) {
    guard m > 0, n > 0, k > 0 else { return }
    openblasSingleThreaded
    let box = UncheckedSendable((a, b, c))
    func call(_ rows: Range<Int>, _ cols: Range<Int>) {
        let (a, b, c) = box.value
        let aOffset = transA ? rows.lowerBound : rows.lowerBound * lda
        cblas_sgemm(CSS_ROW_MAJOR, transA ? CSS_TRANS : CSS_NO_TRANS, CSS_NO_TRANS,
                    Int32(rows.count), Int32(cols.count), Int32(k), 1, a + aOffset, Int32(lda),
                    b + cols.lowerBound, Int32(ldb), accumulate ? 1 : 0,
                    c + rows.lowerBound * ldc + cols.lowerBound, Int32(ldc))
    }
    if n >= 2 * gemmColumnTile {
        parallelBlocks(n, blockSize: gemmColumnTile) { cols in call(0..<m, cols) }
    } else {
        parallelBlocks(m, blockSize: gemmRowTile) { rows in call(rows, 0..<n) }
    }
}

/// Set once, on first use: OpenBLAS must not spawn its own threads under ours.
let openblasSingleThreaded: Void = { openblas_set_num_threads(1) }()
