import CBLAS

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

/// Set once, on first use: OpenBLAS must not spawn its own threads under ours.
let openblasSingleThreaded: Void = { openblas_set_num_threads(1) }()

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
