import CBLAS
import Dispatch

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
/// count, so reductions merged in block order are deterministic.
@inline(__always)
func parallelBlocks(_ count: Int, blockSize: Int, _ body: (Range<Int>) -> Void) {
    let blocks = (count + blockSize - 1) / blockSize
    if blocks <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    // Blocks touch disjoint memory by construction; the box only carries the closure across.
    withoutActuallyEscaping(body) { body in
        let box = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: blocks) { b in
            let lo = b * blockSize
            box.value(lo..<min(count, lo + blockSize))
        }
    }
}

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Sets how many threads the BLAS and our own loops may use.
public enum ComputeThreads {
    public static func set(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }
}

/// `C[m×n] (ldc) = A[m×k] · B[k×n] (+ C if accumulate)`, all row-major.
@inline(__always)
func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transA: Bool = false,
           b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false) {
    guard m > 0, n > 0, k > 0 else { return }
    cblas_sgemm(CSS_ROW_MAJOR, transA ? CSS_TRANS : CSS_NO_TRANS, CSS_NO_TRANS,
                Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), accumulate ? 1 : 0, c, Int32(ldc))
}
