/// Event-driven convolution for spike inputs: a spiking layer's output is θ·S with S ternary and
/// mostly 0 (about 80 % of the slots on trained networks at T = 10), so a column (one image at one
/// time slot) is a short list of non-zero values. Each output sums `w · x` over the non-zero inputs
/// of its receptive field only, 64 output channels at a time: the work is the direct
/// convolution's times the column's density, against Winograd's fixed 4/9 of it.
///
/// The path is chosen per column from that column's own density (`SparseConv.eventColumns`), so a
/// column's result never depends on which other columns share its batch or on the thread count.
/// The sums run in a fixed order (receptive-field position, then input channel), which differs
/// from the dense paths' by float rounding only (docs/numerics.md §9: spike flips at exact ties).
public struct SparseConvFilter: Sendable {
    /// `w[block][ky][kx][cin][64]`: output channels in blocks of 64 lanes, zero-padded past cout.
    let w: [Float]
    let inChannels: Int
    let outChannels: Int
    let kernel: (h: Int, w: Int)
    let stride: (h: Int, w: Int)
    let pads: (top: Int, left: Int)
    /// Density (non-zero fraction of a column's inputs) below which the column goes event-driven.
    let maximumDensity: Float

    static let lanes = 64

    /// Measured break-even of this kernel against the dense paths, as a fraction of the density
    /// at which both would do the same number of multiply-adds: the list walk loads one weight
    /// row per non-zero input and offset (a GEMM reuses what it loads), so it needs fewer of them.
    /// From `cssdbg bench --profile --sparse-density 1.01` against `--no-sparse` on VGG-16
    /// (per-layer time ratio at the measured density): 0.27–0.45 against Winograd, 0.3 taken;
    /// 0.15 against the first layer's im2col (3 input channels: lists of 0–3 entries).
    static let efficiencyAgainstWinograd: Float = 0.3
    static let efficiencyAgainstIm2col: Float = 0.15

    var blocks: Int { (outChannels + Self.lanes - 1) / Self.lanes }
    var blockSize: Int { kernel.h * kernel.w * inChannels * Self.lanes }

    /// - Parameters:
    ///   - winograd: whether the dense alternative is Winograd F(2×2, 3×3) (4 multiplies per
    ///     output and input channel instead of 9), which moves the break-even down by 4/9.
    ///   - maximumDensity: overrides the break-even (1.01: every column event-driven; 0: none).
    init?(_ c: Conv2D, winograd: Bool, maximumDensity override: Float? = nil) {
        guard c.groups == 1, c.dilation == (1, 1), c.inChannels > 0, c.outChannels > 0,
              c.weight.count == c.outChannels * c.inChannels * c.kernel.h * c.kernel.w else { return nil }
        inChannels = c.inChannels
        outChannels = c.outChannels
        kernel = c.kernel
        stride = c.stride
        pads = (c.pads.top, c.pads.left)
        let kk = c.kernel.h * c.kernel.w
        let dense = winograd ? Self.efficiencyAgainstWinograd * 4 / 9 : Self.efficiencyAgainstIm2col
        // Output channels padded to 64 lanes cost as much as real ones.
        let padding = Float(c.outChannels) / Float((c.outChannels + 63) / 64 * 64)
        maximumDensity = override ?? dense * padding
        let cin = c.inChannels, cout = c.outChannels, lanes = Self.lanes
        let blocks = (cout + lanes - 1) / lanes
        var w = [Float](repeating: 0, count: blocks * kk * cin * lanes)
        for o in 0..<cout {
            let b = o / lanes, lane = o - b * lanes
            for ch in 0..<cin {
                for k in 0..<kk {
                    w[((b * kk + k) * cin + ch) * lanes + lane] = c.weight[(o * cin + ch) * kk + k]
                }
            }
        }
        self.w = w
    }
}

enum SparseConv {
    /// Whether a column with `nonzero` of its `total` inputs non-zero is cheaper event-driven.
    @inline(__always)
    static func prefers(_ f: SparseConvFilter, nonzero: Int, total: Int) -> Bool {
        Float(nonzero) < f.maximumDensity * Float(total)
    }

    /// Non-zero inputs of every column, as lists per input position (CSR): for column j,
    /// positions `p` of its map, entries `start[j·(hw+1) + p] ..< start[j·(hw+1) + p + 1]` hold
    /// (channel, value) in increasing channel order.
    struct Events {
        var start: [Int32]
        var channel: [Int32]
        var value: [Float]
    }

    /// The columns of `x` that go event-driven, and every column's non-zero count (exact for those
    /// columns; a lower bound for the others). Cheap for dense columns, since the check runs on
    /// every convolution: the first eighth of the channels is counted first, and a column whose
    /// share there is over twice the break-even stops at once; the count also stops at the
    /// break-even. Both tests read the column's own values only, so the choice stays per column.
    static func eventColumns(_ x: Activation, _ f: SparseConvFilter) -> (columns: [Int], nonzero: [Int]) {
        let n = x.columns, hw = x.spatial, cin = x.channels
        let probe = max(1, cin / 8)
        let probeLimit = Int(2 * f.maximumDensity * Float(probe * hw))
        let limit = f.maximumDensity * Float(cin * hw)
        var counts = [Int](repeating: 0, count: n)
        var chosen = [Bool](repeating: false, count: n)
        x.data.withUnsafeBufferPointer { xp in
            counts.withUnsafeMutableBufferPointer { cp in
                chosen.withUnsafeMutableBufferPointer { chp in
                    let box = UncheckedSendable((xp.baseAddress!, cp.baseAddress!, chp.baseAddress!))
                    parallelBlocks(n, blockSize: max(1, n / 16)) { columns in
                        let (xb, cb, chb) = box.value
                        for j in columns {
                            var count = 0
                            var ch = 0
                            while ch < cin {
                                let plane = xb + (ch * n + j) * hw
                                for p in 0..<hw where plane[p] != 0 { count += 1 }
                                ch += 1
                                if ch == probe && count > probeLimit { break }
                                if !(Float(count) < limit) { break }
                            }
                            cb[j] = count
                            chb[j] = ch == cin && Float(count) < limit
                        }
                    }
                }
            }
        }
        return ((0..<n).filter { chosen[$0] }, counts)
    }

    /// Counts each column's non-zero inputs (the density the choice is made from).
    static func nonzeroCounts(_ x: Activation) -> [Int] {
        let n = x.columns, hw = x.spatial, cin = x.channels
        var counts = [Int](repeating: 0, count: n)
        x.data.withUnsafeBufferPointer { xp in
            counts.withUnsafeMutableBufferPointer { cp in
                let box = UncheckedSendable((xp.baseAddress!, cp.baseAddress!))
                parallelBlocks(n, blockSize: max(1, n / 16)) { columns in
                    let (xb, cb) = box.value
                    for j in columns {
                        var count = 0
                        for ch in 0..<cin {
                            let plane = xb + (ch * n + j) * hw
                            for p in 0..<hw where plane[p] != 0 { count += 1 }
                        }
                        cb[j] = count
                    }
                }
            }
        }
        return counts
    }

    /// `y[:, columns] = conv(x[:, columns])` on the columns listed, event-driven; the other
    /// columns of `y` are left as they are.
    static func conv(_ f: SparseConvFilter, bias: [Float], _ x: Activation, columns: [Int], nonzero: [Int],
                     y: inout Activation, scratch: ScratchPool) {
        let n = x.columns, h = x.shape[1], w = x.shape[2], hw = h * w
        let oh = y.shape[1], ow = y.shape[2], ohw = oh * ow
        let cin = f.inChannels, cout = f.outChannels, lanes = SparseConvFilter.lanes
        let kh = f.kernel.h, kw = f.kernel.w
        let m = columns.count
        guard m > 0 else { return }
        // Lists of every selected column (two passes: offsets from the counts, then fill).
        var start = [Int32](repeating: 0, count: m * (hw + 1))
        var entryOffset = [Int](repeating: 0, count: m + 1)
        for (k, j) in columns.enumerated() { entryOffset[k + 1] = entryOffset[k] + nonzero[j] }
        let entries = entryOffset[m]
        var channel = [Int32](repeating: 0, count: max(1, entries))
        var value = [Float](repeating: 0, count: max(1, entries))
        x.data.withUnsafeBufferPointer { xp in
            start.withUnsafeMutableBufferPointer { sp in
                channel.withUnsafeMutableBufferPointer { chp in
                    value.withUnsafeMutableBufferPointer { vp in
                        columns.withUnsafeBufferPointer { colp in
                            entryOffset.withUnsafeBufferPointer { ep in
                                let box = UncheckedSendable((xp.baseAddress!, sp.baseAddress!, chp.baseAddress!,
                                                             vp.baseAddress!, colp.baseAddress!, ep.baseAddress!))
                                parallelBlocks(m, blockSize: max(1, m / 16)) { range in
                                    let (xb, sb, chb, vb, colb, eb) = box.value
                                    let cursor = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, hw))
                                    defer { cursor.deallocate() }
                                    for k in range {
                                        let j = colb[k], s = sb + k * (hw + 1)
                                        for p in 0...hw { s[p] = 0 }
                                        for ch in 0..<cin {
                                            let plane = xb + (ch * n + j) * hw
                                            for p in 0..<hw where plane[p] != 0 { s[p + 1] += 1 }
                                        }
                                        let base = Int32(eb[k])
                                        s[0] = base
                                        for p in 0..<hw { s[p + 1] += s[p] }
                                        for p in 0..<hw { cursor[p] = s[p] }
                                        for ch in 0..<cin {
                                            let plane = xb + (ch * n + j) * hw
                                            for p in 0..<hw {
                                                let v = plane[p]
                                                if v != 0 {
                                                    let e = Int(cursor[p])
                                                    chb[e] = Int32(ch)
                                                    vb[e] = v
                                                    cursor[p] += 1
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Sums: each worker takes columns; for each 64-channel block it walks every output
        // position of its columns, so the block's weights stay in cache across them.
        let sh = f.stride.h, sw = f.stride.w, pt = f.pads.top, pl = f.pads.left
        let blockSize = f.blockSize
        f.w.withUnsafeBufferPointer { wp in
            bias.withUnsafeBufferPointer { bp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    start.withUnsafeBufferPointer { sp in
                        channel.withUnsafeBufferPointer { chp in
                            value.withUnsafeBufferPointer { vp in
                                columns.withUnsafeBufferPointer { colp in
                                    let box = UncheckedSendable((wp.baseAddress!, bp.baseAddress!, yp.baseAddress!,
                                                                 sp.baseAddress!, chp.baseAddress!, vp.baseAddress!,
                                                                 colp.baseAddress!))
                                    let perBlock = max(1, min(8, m / (2 * ComputeThreads.count)))
                                    parallelBlocks(m, blockSize: perBlock) { range in
                                        let (wb, bb, yb, sb, chb, vb, colb) = box.value
                                        let tile = scratch.take(ohw * lanes)
                                        defer { scratch.give(tile) }
                                        let acc = tile.pointer
                                        for block in 0..<f.blocks {
                                            let wBlock = wb + block * blockSize
                                            let o0 = block * lanes, width = min(lanes, cout - o0)
                                            for k in range {
                                                let s = sb + k * (hw + 1)
                                                for oy in 0..<oh {
                                                    for ox in 0..<ow {
                                                        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
                                                        var a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
                                                        for ky in 0..<kh {
                                                            let iy = oy * sh - pt + ky
                                                            if iy < 0 || iy >= h { continue }
                                                            for kx in 0..<kw {
                                                                let ix = ox * sw - pl + kx
                                                                if ix < 0 || ix >= w { continue }
                                                                let p = iy * w + ix
                                                                let wk = wBlock + (ky * kw + kx) * cin * lanes
                                                                var e = Int(s[p])
                                                                let end = Int(s[p + 1])
                                                                while e < end {
                                                                    let v = SIMD16<Float>(repeating: vb[e])
                                                                    let row = UnsafeRawPointer(wk + Int(chb[e]) * lanes)
                                                                    a0 += v * row.loadUnaligned(as: SIMD16<Float>.self)
                                                                    a1 += v * row.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
                                                                    a2 += v * row.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self)
                                                                    a3 += v * row.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self)
                                                                    e += 1
                                                                }
                                                            }
                                                        }
                                                        let out = UnsafeMutableRawPointer(acc + (oy * ow + ox) * lanes)
                                                        out.storeBytes(of: a0, as: SIMD16<Float>.self)
                                                        out.storeBytes(of: a1, toByteOffset: 64, as: SIMD16<Float>.self)
                                                        out.storeBytes(of: a2, toByteOffset: 128, as: SIMD16<Float>.self)
                                                        out.storeBytes(of: a3, toByteOffset: 192, as: SIMD16<Float>.self)
                                                    }
                                                }
                                                // [position][lane] → y[channel][column][position], plus the bias.
                                                let j = colb[k]
                                                for lane in 0..<width {
                                                    let o = o0 + lane, b = bb[o]
                                                    let dst = yb + (o * n + j) * ohw
                                                    for q in 0..<ohw { dst[q] = acc[q * lanes + lane] + b }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
