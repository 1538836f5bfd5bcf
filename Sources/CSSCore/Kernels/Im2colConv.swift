/// The plain convolution path: im2col (built a run of output columns at a time) and a GEMM,
/// for every convolution Winograd does not take (and for all with `--conv im2col`).
extension AffineOps {
    /// Largest im2col block built for a whole group at once (floats); beyond it the fused
    /// per-tile path is used whatever the tile count.
    static let im2colBudget = 1 << 23

    /// Column-tile width of the fused im2col + GEMM path: about 1 MB of im2col per tile, so the
    /// tile OpenBLAS packs is still in the core's L2 (1 MB here): the ImageNet stem's GEMM (K =
    /// 147) ran at 139–147 GFLOP/s on one core with 1664–1728 columns against 122 with 4096 (4 MB);
    /// at K = 576 and 2304 the width made no difference beyond the spread. Depends on the shape
    /// only (determinism).
    static func convTileWidth(kk: Int) -> Int {
        min(4096, max(512, ((1 << 18) / max(1, kk)) / 64 * 64))
    }

    /// - Parameter tileWidth: tests only: force the fused path with this column-tile width.
    static func conv(_ c: Conv2D, _ x: Activation, outShape: [Int], constantScale: Float,
                     scratch: ScratchPool, tileWidth: Int? = nil) -> Activation {
        let h = x.shape[1], w = x.shape[2], oh = outShape[1], ow = outShape[2]
        let n = x.columns, g = c.groups
        let cinG = c.inChannels / g, coutG = c.outChannels / g
        let kk = cinG * c.kernel.h * c.kernel.w
        let ohw = oh * ow, P = n * ohw
        // Every element is written by the GEMMs below (β = 0).
        var y = Activation(uninitialized: outShape, columns: n)
        let pointwise = c.kernel.h == 1 && c.kernel.w == 1 && c.stride == (1, 1) && c.pads == (0, 0, 0, 0) && g == 1
        let geometry = Im2col(c, h: h, w: w, oh: oh, ow: ow, columns: n)
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                c.weight.withUnsafeBufferPointer { wp in
                    let xb = xp.baseAddress!, yb = yp.baseAddress!, wb = wp.baseAddress!
                    if pointwise {
                        sgemm(m: c.outChannels, n: P, k: c.inChannels, a: wb, lda: c.inChannels,
                              b: xb, ldb: P, c: yb, ldc: P)
                        return
                    }
                    let tile = tileWidth ?? convTileWidth(kk: kk)
                    let tiles = (P + tile - 1) / tile
                    let fused = tileWidth != nil || tiles >= 4 || kk * P > im2colBudget
                    for group in 0..<g {
                        let wg = wb + group * coutG * kk, yg = yb + group * coutG * P
                        let firstChannel = group * cinG
                        if fused {
                            // Each tile: im2col of its columns into a reused buffer, then one GEMM.
                            parallelBlocks(P, blockSize: tile) { cols in
                                let width = cols.count
                                let buffer = scratch.take(kk * width)
                                defer { scratch.give(buffer) }
                                let cb = buffer.pointer
                                if geometry.readsPhases {
                                    let band = scratch.take(geometry.bandSize(channels: cinG, width: width))
                                    defer { scratch.give(band) }
                                    geometry.phaseRows(firstChannel: firstChannel, channels: cinG, x: xb, columns: cols,
                                                       dst: cb, band: band.pointer)
                                } else {
                                    for r in 0..<kk {
                                        geometry.row(r, firstChannel: firstChannel, x: xb, columns: cols, dst: cb + r * width)
                                    }
                                }
                                sgemmSerial(m: coutG, n: width, k: kk, a: wg, lda: kk, b: cb, ldb: width,
                                            c: yg + cols.lowerBound, ldc: P)
                            }
                        } else {
                            let buffer = scratch.take(kk * P)
                            defer { scratch.give(buffer) }
                            let cb = buffer.pointer
                            parallelBlocks(kk, blockSize: max(1, (1 << 16) / max(1, P))) { rows in
                                for r in rows {
                                    geometry.row(r, firstChannel: firstChannel, x: xb, columns: 0..<P, dst: cb + r * P)
                                }
                            }
                            sgemm(m: coutG, n: P, k: kk, a: wg, lda: kk, b: cb, ldb: P, c: yg, ldc: P)
                        }
                    }
                }
            }
        }
        if let b = c.bias { addChannelConstant(&y, b, scale: constantScale) }
        return y
    }
}

/// Geometry of one conv's im2col: row r = (input channel, ky, kx) of the unfolded matrix, column
/// p = (sample column, oy, ox) flattened. Rows are built a run of output columns at a time:
/// the in-bounds part of each output row is one contiguous copy (stride 1) or a strided gather,
/// and only the padding is zeroed.
struct Im2col {
    let h, w, oh, ow, ohw, n: Int
    let kh, kw, sh, sw, dh, dw, padTop, padLeft: Int

    init(_ c: Conv2D, h: Int, w: Int, oh: Int, ow: Int, columns n: Int) {
        self.h = h; self.w = w; self.oh = oh; self.ow = ow; ohw = oh * ow; self.n = n
        kh = c.kernel.h; kw = c.kernel.w; sh = c.stride.h; sw = c.stride.w
        dh = c.dilation.h; dw = c.dilation.w; padTop = c.pads.top; padLeft = c.pads.left
    }

    /// Stride 1 with output width = input width ("same" padding along x): for one sample the row is
    /// the input image shifted by `dy·w + offset` in flattened order, so the valid output rows
    /// are one contiguous copy; only the border columns (ix outside the image) are zeroed after.
    @inline(__always)
    func sameWidthRow(ci: Int, dy: Int, offset: Int, x: UnsafePointer<Float>, columns cols: Range<Int>,
                      dst: UnsafeMutablePointer<Float>) {
        let hw = h &* w, shift = dy &* w &+ offset
        let validLo = max(0, -dy) &* w, validHi = max(0, min(oh, h &- dy)) &* w
        let xLo = max(0, -offset), xHi = min(w, w &- offset)
        var p = cols.lowerBound
        var d = dst
        while p < cols.upperBound {
            let j = p / ohw
            let q0 = p &- j &* ohw, q1 = min(ohw, q0 &+ (cols.upperBound &- p))
            let src = x + (ci &* n &+ j) &* hw
            let vLo = min(q1, max(q0, validLo)), vHi = max(vLo, min(q1, validHi))
            // Reads stay inside this sample's image; what the clamp drops is border anyway.
            let cLo = min(vHi, max(vLo, -shift)), cHi = max(cLo, min(vHi, hw &- shift))
            Self.zero(d, cLo &- q0)
            Self.copy(d + (cLo &- q0), src + (cLo &+ shift), cHi &- cLo)
            Self.zero(d + (cHi &- q0), q1 &- cHi)
            if (xLo > 0 || xHi < w) && vHi > vLo {
                var oy = vLo / w
                while oy &* w < vHi {
                    let base = oy &* w
                    for ox in 0..<xLo where base &+ ox >= vLo && base &+ ox < vHi { d[base &+ ox &- q0] = 0 }
                    for ox in xHi..<w where base &+ ox >= vLo && base &+ ox < vHi { d[base &+ ox &- q0] = 0 }
                    oy &+= 1
                }
            }
            d += q1 &- q0
            p &+= q1 &- q0
        }
    }

    @inline(__always)
    static func copy(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, _ count: Int) {
        if count >= 32 { d.update(from: s, count: count); return }
        for i in 0..<max(0, count) { d[i] = s[i] }
    }

    @inline(__always)
    static func zero(_ d: UnsafeMutablePointer<Float>, _ count: Int) {
        if count >= 32 { d.update(repeating: 0, count: count); return }
        for i in 0..<max(0, count) { d[i] = 0 }
    }

    /// Strided with a large kernel (the 7×7/2 stem: each input value feeds 12 rows): the tile's
    /// rows are copied from the input split into its stride phases, each gathered once, instead
    /// of a strided gather per row (measured on the stem in C: 24 ms of gathers for 20 columns
    /// against 4 ms of copies plus the split).
    var readsPhases: Bool { sh >= 2 && sw >= 2 && dh == 1 && dw == 1 && kh * kw >= 4 * sh * sw }

    /// Width of a phase row: the output row and the columns the kernel reaches past it.
    var bandWidth: Int { ow + (kw - 1) / sw }

    /// Floats `phaseRows` needs for a tile of `width` columns: one image's part of the tile
    /// covers at most `width / ow + 2` output rows.
    func bandSize(channels: Int, width: Int) -> Int {
        channels * sh * sw * (min(oh, width / ow + 2) + (kh - 1) / sh) * bandWidth
    }

    /// All rows for the columns `cols`, as `row` writes them (`dst[r · width + …]`), through
    /// phase rows: for each image the tile touches, `band[(ci, py, px)][i][k]` = the input at
    /// (sh·(oy0 + i) + py − padTop, sw·k + px − padLeft), zero outside; row r = (ci, ky, kx) at
    /// output (oy, ox) is then phase (ky mod sh, kx mod sw) at (oy − oy0 + ky / sh, ox + kx / sw),
    /// one contiguous run per output row.
    func phaseRows(firstChannel: Int, channels cinG: Int, x: UnsafePointer<Float>, columns cols: Range<Int>,
                   dst: UnsafeMutablePointer<Float>, band: UnsafeMutablePointer<Float>) {
        let width = cols.count, pw = bandWidth
        var p = cols.lowerBound
        while p < cols.upperBound {
            let j = p / ohw, q0 = p - j * ohw
            let q1 = min(ohw, q0 + (cols.upperBound - p))
            let oy0 = q0 / ow, oy1 = (q1 - 1) / ow
            let bandRows = oy1 - oy0 + 1 + (kh - 1) / sh
            for ci in 0..<cinG {
                let plane = x + ((firstChannel + ci) * n + j) * h * w
                for py in 0..<min(sh, kh) {
                    for px in 0..<min(sw, kw) {
                        let phase = band + ((ci * sh + py) * sw + px) * bandRows * pw
                        // Phase columns k whose input column sw·k + px − padLeft is inside [0, w).
                        let kLo = min(pw, max(0, (padLeft - px + sw - 1) / sw))
                        let top = w - 1 + padLeft - px
                        let kHi = top < 0 ? kLo : max(kLo, min(pw, top / sw + 1))
                        for i in 0..<bandRows {
                            let dstRow = phase + i * pw
                            let iy = sh * (oy0 + i) + py - padTop
                            if iy < 0 || iy >= h || kLo == kHi {
                                Self.zero(dstRow, pw)
                                continue
                            }
                            Self.zero(dstRow, kLo)
                            let src = plane + iy * w + px - padLeft  // phase column k is src[sw·k]
                            if sw == 2 {
                                for k in kLo..<kHi { dstRow[k] = src[2 &* k] }
                            } else {
                                for k in kLo..<kHi { dstRow[k] = src[k &* sw] }
                            }
                            Self.zero(dstRow + kHi, pw - kHi)
                        }
                    }
                }
            }
            for r in 0..<(cinG * kh * kw) {
                let ci = r / (kh * kw), ky = (r / kw) % kh, kx = r % kw
                let phase = band + ((ci * sh + ky % sh) * sw + kx % sw) * bandRows * pw + (ky / sh) * pw + kx / sw
                var d = dst + r * width + (p - cols.lowerBound)
                var q = q0
                while q < q1 {
                    let oy = q / ow, ox = q - oy * ow
                    let len = min(ow - ox, q1 - q)
                    Self.copy(d, phase + (oy - oy0) * pw + ox, len)
                    d += len
                    q += len
                }
            }
            p += q1 - q0
        }
    }

    /// Writes row `r` for the columns `cols` (flattened over sample, oy, ox) to `dst[0..<cols.count]`.
    @inline(__always)
    func row(_ r: Int, firstChannel: Int, x: UnsafePointer<Float>, columns cols: Range<Int>,
             dst: UnsafeMutablePointer<Float>) {
        let ci = firstChannel + r / (kh * kw)
        let ky = (r / kw) % kh, kx = r % kw
        // Output columns ox whose input column ix = ox·sw − padLeft + kx·dw is inside [0, w).
        let offset = kx * dw - padLeft
        let oxLo = offset >= 0 ? 0 : min(ow, (-offset + sw - 1) / sw)
        let oxHi = w - 1 - offset < 0 ? 0 : min(ow, (w - 1 - offset) / sw + 1)
        if sw == 1 && sh == 1 && ow == w {
            sameWidthRow(ci: ci, dy: ky * dh - padTop, offset: offset, x: x, columns: cols, dst: dst)
            return
        }
        var p = cols.lowerBound
        var j = p / ohw
        var oy = (p % ohw) / ow
        var ox = p % ow
        var d = dst
        while p < cols.upperBound {
            let len = min(ow - ox, cols.upperBound - p)
            let end = ox + len
            let iy = oy * sh - padTop + ky * dh
            if iy < 0 || iy >= h || oxLo >= oxHi {
                d.update(repeating: 0, count: len)
            } else {
                let lo = min(end, max(ox, oxLo)), hi = max(lo, min(end, oxHi))
                if lo > ox { d.update(repeating: 0, count: lo - ox) }
                let src = x + (ci * n + j) * h * w + iy * w + offset
                let dd = d + (lo - ox)
                if sw == 1 {
                    dd.update(from: src + lo, count: hi - lo)
                } else if sw == 2 {
                    // A constant stride, so the gather vectorises (the ImageNet stem, stride-2 convs).
                    for q in lo..<hi { dd[q &- lo] = src[2 &* q] }
                } else {
                    for q in lo..<hi { dd[q - lo] = src[q * sw] }
                }
                if end > hi { (d + (hi - ox)).update(repeating: 0, count: end - hi) }
            }
            d += len
            p += len
            ox = end
            if ox == ow {
                ox = 0
                oy += 1
                if oy == oh { oy = 0; j += 1 }
            }
        }
    }
}
