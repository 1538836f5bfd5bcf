import CSSSnapshots
import CBLAS
import Dispatch
import Foundation

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

    /// Storage left uninitialised, for results that overwrite every element.
    init(uninitialized shape: [Int], columns: Int) {
        let count = shape.reduce(1, *) * columns
        self.init(shape: shape, columns: columns,
                  data: [Float](unsafeUninitializedCapacity: count) { _, n in n = count })
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

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

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

/// Output tiles of a GEMM, chosen from its shape only, so the partition (and with it every bit of
/// the result) never depends on the thread count. Column tiles of 1024 when N is wide; otherwise
/// a few large tiles, split first over columns and then over rows: every tile makes OpenBLAS pack
/// its whole share of both operands again, so narrow row tiles (which repack all of B) are avoided.
func gemmTiles(m: Int, n: Int, k: Int) -> (rows: Int, columns: Int) {
    func roundUp(_ x: Int, _ q: Int) -> Int { (x + q - 1) / q * q }
    if 2 * m * n * k < 1 << 22 { return (m, n) }
    var colTiles: Int
    var columns: Int
    if n >= 2048 {
        columns = 1024
        colTiles = (n + columns - 1) / columns
    } else if n >= 512 {
        colTiles = 2
        columns = roundUp((n + 1) / 2, 16)
    } else {
        colTiles = 1
        columns = n
    }
    var rowSplit = 1
    while colTiles * rowSplit < 4 && m / (2 * rowSplit) >= 64 { rowSplit *= 2 }
    return (roundUp((m + rowSplit - 1) / rowSplit, 16), columns)
}

/// `C[m×n] (ldc) = A[m×k] · B[k×n] (+ C if accumulate)`, all row-major, tiled over threads.
func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transA: Bool = false,
           b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false) {
    guard m > 0, n > 0, k > 0 else { return }
    let (rowTile, colTile) = gemmTiles(m: m, n: n, k: k)
    let rowTiles = (m + rowTile - 1) / rowTile, colTiles = (n + colTile - 1) / colTile
    let box = UncheckedSendable((a, b, c))
    parallelBlocks(rowTiles * colTiles, blockSize: 1) { tiles in
        let (a, b, c) = box.value
        for t in tiles {
            let r0 = (t / colTiles) * rowTile, c0 = (t % colTiles) * colTile
            let rows = min(m, r0 + rowTile) - r0, cols = min(n, c0 + colTile) - c0
            sgemmSerial(m: rows, n: cols, k: k, a: a + (transA ? r0 : r0 * lda), lda: lda, transA: transA,
                        b: b + c0, ldb: ldb, c: c + r0 * ldc + c0, ldc: ldc, accumulate: accumulate)
        }
    }
}

/// One single-threaded OpenBLAS call (no tiling).
@inline(__always)
func sgemmSerial(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transA: Bool = false,
                 b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                 accumulate: Bool = false) {
    guard m > 0, n > 0, k > 0 else { return }
    openblasSingleThreaded
    cblas_sgemm(CSS_ROW_MAJOR, transA ? CSS_TRANS : CSS_NO_TRANS, CSS_NO_TRANS,
                Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), accumulate ? 1 : 0, c, Int32(ldc))
}

/// Reusable uninitialised Float buffers (im2col tiles), so hot loops do not allocate, fault in
/// and free megabytes per call. Keeps at most `limit` buffers and `floatLimit` floats (64 MiB).
final class ScratchPool: Sendable {
    static let limit = 4
    static let floatLimit = 1 << 24

    struct Buffer: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Float>
        let capacity: Int
    }

    private let free = Locked<[Buffer]>([])

    deinit {
        for b in free.value { b.pointer.deallocate() }
    }

    /// A buffer of at least `count` floats (contents undefined).
    func take(_ count: Int) -> Buffer {
        let found: Buffer? = free.withLock { free in
            guard let i = free.indices.filter({ free[$0].capacity >= count })
                .min(by: { free[$0].capacity < free[$1].capacity }) else { return nil }
            return free.remove(at: i)
        }
        if let found { return found }
        let capacity = max(1, count)
        return Buffer(pointer: .allocate(capacity: capacity), capacity: capacity)
    }

    func give(_ b: Buffer) {
        let dropped: [Buffer] = free.withLock { free in
            free.append(b)
            var out: [Buffer] = []
            // Drop the smallest until both limits hold (a buffer above the float limit alone goes too).
            while free.count > Self.limit || free.reduce(0, { $0 + $1.capacity }) > Self.floatLimit {
                let i = free.indices.min { free[$0].capacity < free[$1].capacity }!
                out.append(free.remove(at: i))
            }
            return out
        }
        for d in dropped { d.pointer.deallocate() }
    }
}

/// Set once, on first use: OpenBLAS must not spawn its own threads under ours.
let openblasSingleThreaded: Void = { openblas_set_num_threads(1) }()

/// Allocator settings for the simulator's working set.
public enum ComputeMemory {
    /// glibc returns every block above 128 KiB to the kernel on free, so each layer's activations
    /// (megabytes, several per layer and batch) came back as fresh zero pages: page faults were a
    /// quarter of a VGG-16 SNN batch. Keeping freed blocks in the heap serves them again without
    /// raising the peak (measured on VGG-16: 68 vs 52 samples/s, peak RSS 320 vs 350 MB).
    /// Call once at start-up, before threads allocate; a no-op outside glibc.
    public static func keepLargeBlocksInHeap() { css_keep_large_blocks_in_heap() }

    /// Gives free heap memory back to the kernel; the backend calls it when a job ends, so the
    /// blocks kept for speed do not turn a transient peak into the session's footprint.
    public static func releaseFreeMemory() { css_release_free_memory() }

    /// Bytes the process has allocated and not freed (glibc's count over every arena and mapped
    /// block), or nil where the C library does not say or does not see the allocations (under
    /// AddressSanitizer, whose allocator replaces glibc's): what the memory tests count.
    public static func heapBytesInUse() -> Int? {
        guard heapCounterSeesAllocations else { return nil }
        let n = css_heap_bytes_in_use()
        return n < 0 ? nil : Int(n)
    }

    /// Probed once: a 4 MiB allocation must raise the count by at least that much.
    static let heapCounterSeesAllocations: Bool = {
        let before = css_heap_bytes_in_use()
        guard before >= 0 else { return false }
        let block = UnsafeMutableRawPointer.allocate(byteCount: 4 << 20, alignment: 64)
        defer { block.deallocate() }
        return css_heap_bytes_in_use() - before >= 4 << 20
    }()
}

/// Whether this machine's BLAS computes a column of `A · B` to the same bits whatever the width
/// of `B` and the column's place in it. Batching relies on it for "a sample's numbers do not
/// depend on its batch": OpenBLAS's SkylakeX kernels have it; its Haswell/Zen kernels (0.3.21)
/// do not — they round column 0 of a 128×576 by 576×N product differently for N < 8, 8…15 and
/// ≥ 16 (measured on an AMD EPYC), so there a sample's values can differ in the last bits with
/// the batch size, and its spikes only at exact threshold ties (docs/numerics.md §9). Thread
/// counts never change a result: the work split follows the shapes only.
public enum BLASColumnStability {
    /// Probed once: column 0 of one product at widths 1, 8, 16, 40 and 64, bit for bit.
    public static let holds: Bool = {
        let m = 64, k = 96, widest = 64
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 997
        }
        let a = (0..<(m * k)).map { _ in next() }
        let b = (0..<(k * widest)).map { _ in next() }
        func firstColumn(width n: Int) -> [Float] {
            var packed = [Float](repeating: 0, count: k * n)
            for r in 0..<k { for c in 0..<n { packed[r * n + c] = b[r * widest + c] } }
            var out = [Float](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { ap in
                packed.withUnsafeBufferPointer { bp in
                    out.withUnsafeMutableBufferPointer { cp in
                        sgemmSerial(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n,
                                    c: cp.baseAddress!, ldc: n)
                    }
                }
            }
            return (0..<m).map { out[$0 * n] }
        }
        let one = firstColumn(width: 1).map(\.bitPattern)
        return [8, 16, 40, 64].allSatisfy { firstColumn(width: $0).map(\.bitPattern) == one }
    }()
}
