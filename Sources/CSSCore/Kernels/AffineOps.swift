/// Executes the affine operators on a batch of columns. `constantScale` multiplies every
/// constant term (biases, BatchNorm shift, constant addends): 1 for the ANN, 1/Σw inside the
/// converted network (docs/numerics.md §3), so one implementation serves both.
enum AffineOps {
    static func apply(_ op: Op, _ inputs: [Activation], outShape: [Int], constantScale: Float,
                      scratch: ScratchPool, winograd: WinogradFilter? = nil) -> Activation {
        let x = inputs[0]
        switch op {
        case .conv(let c):
            if let winograd {
                return WinogradConv.conv(c, winograd, x, outShape: outShape, constantScale: constantScale,
                                         scratch: scratch)
            }
            return conv(c, x, outShape: outShape, constantScale: constantScale, scratch: scratch)
        case .dense(let w, let b, let out, let inF):
            var y = Activation(uninitialized: [out], columns: x.columns)  // β = 0 GEMM writes all
            w.withUnsafeBufferPointer { wp in
                x.data.withUnsafeBufferPointer { xp in
                    y.data.withUnsafeMutableBufferPointer { yp in
                        sgemm(m: out, n: x.columns, k: inF, a: wp.baseAddress!, lda: inF,
                              b: xp.baseAddress!, ldb: x.columns, c: yp.baseAddress!, ldc: x.columns)
                    }
                }
            }
            if let b { addChannelConstant(&y, b, scale: constantScale) }
            return y
        case .affine(let scale, let sb, let shift, let hb):
            return affine(x, scale: scale, sb, shift: shift, hb, constantScale: constantScale)
        case .add:
            var y = x
            let other = inputs[1]
            y.data.withUnsafeMutableBufferPointer { yp in
                other.data.withUnsafeBufferPointer { op in
                    for i in 0..<yp.count { yp[i] += op[i] }
                }
            }
            return y
        case .averagePool(let p):
            return averagePool(p, x, outShape: outShape)
        case .globalAveragePool:
            let hw = x.spatial
            var y = Activation(zeros: outShape, columns: x.columns)
            let inv = 1 / Float(hw)
            x.data.withUnsafeBufferPointer { xp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    for r in 0..<(x.channels * x.columns) {
                        var s: Float = 0
                        let base = r * hw
                        for p in 0..<hw { s += xp[base + p] }
                        yp[r] = s * inv
                    }
                }
            }
            return y
        case .reshape(let shape):
            return reshape(x, to: shape)
        case .identity:
            return x
        case .relu:
            var y = x
            y.data.withUnsafeMutableBufferPointer { yp in
                for i in 0..<yp.count where !(yp[i] > 0) { yp[i] = 0 }
            }
            return y
        }
    }

    /// Adds `values[c] · scale` to every element of channel c.
    static func addChannelConstant(_ y: inout Activation, _ values: [Float], scale: Float) {
        let run = y.columns * y.spatial, channels = y.channels
        y.data.withUnsafeMutableBufferPointer { yp in
            for c in 0..<channels {
                let v = values[c] * scale
                if v == 0 { continue }
                let base = c * run
                for i in 0..<run { yp[base + i] += v }
            }
        }
    }

    static func affine(_ x: Activation, scale: [Float]?, _ sb: Broadcast, shift: [Float]?, _ hb: Broadcast,
                       constantScale: Float) -> Activation {
        var y = x
        let hw = x.spatial, n = x.columns
        func index(_ b: Broadcast, _ c: Int, _ p: Int) -> Int {
            switch b {
            case .scalar: 0
            case .perChannel: c
            case .full: c * hw + p
            }
        }
        y.data.withUnsafeMutableBufferPointer { yp in
            for c in 0..<x.channels {
                for j in 0..<n {
                    let base = (c * n + j) * hw
                    for p in 0..<hw {
                        var v = yp[base + p]
                        if let scale { v *= scale[index(sb, c, p)] }
                        if let shift { v += shift[index(hb, c, p)] * constantScale }
                        yp[base + p] = v
                    }
                }
            }
        }
        return y
    }

    static func reshape(_ x: Activation, to shape: [Int]) -> Activation {
        let newHW = shape.dropFirst().reduce(1, *)
        let oldHW = x.spatial
        if newHW == oldHW { return Activation(shape: shape, columns: x.columns, data: x.data) }
        let size = x.sampleSize, n = x.columns
        var y = Activation(uninitialized: shape, columns: n)  // every element is copied once
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                let src = xp.baseAddress!, dst = yp.baseAddress!
                if newHW == 1 {
                    // Flatten: each channel's [columns][H·W] block becomes [H·W][columns] (a transpose).
                    let box = UncheckedSendable((src, dst))
                    parallelBlocks(x.channels, blockSize: max(1, (1 << 16) / max(1, n * oldHW))) { channels in
                        let (src, dst) = box.value
                        // 16×16 blocks: reads and writes both stay on a few cache lines and pages.
                        for c in channels {
                            let plane = src + c * n * oldHW, out = dst + c * oldHW * n
                            var p0 = 0
                            while p0 < oldHW {
                                let p1 = min(oldHW, p0 + 16)
                                var j0 = 0
                                while j0 < n {
                                    let j1 = min(n, j0 + 16)
                                    for p in p0..<p1 {
                                        let row = out + p * n
                                        for j in j0..<j1 { row[j] = plane[j * oldHW + p] }
                                    }
                                    j0 = j1
                                }
                                p0 = p1
                            }
                        }
                    }
                    return
                }
                // General case: runs of elements that stay in one old and one new channel are contiguous.
                for j in 0..<n {
                    var e = 0
                    while e < size {
                        let oc = e / oldHW, op = e - oc * oldHW, nc = e / newHW, np = e - nc * newHW
                        let count = min(oldHW - op, newHW - np, size - e)
                        (dst + (nc * n + j) * newHW + np).update(from: src + (oc * n + j) * oldHW + op, count: count)
                        e += count
                    }
                }
            }
        }
        return y
    }

    static func averagePool(_ p: Pool2D, _ x: Activation, outShape: [Int]) -> Activation {
        let h = x.shape[1], w = x.shape[2], oh = outShape[1], ow = outShape[2]
        var y = Activation(uninitialized: outShape, columns: x.columns)  // every output is written
        let rows = x.channels * x.columns
        // 2×2, stride 2, no padding, whole windows: the same sums in the same order, unrolled.
        let halving = p.kernel == (2, 2) && p.stride == (2, 2) && p.pads == (0, 0, 0, 0)
            && 2 * oh <= h && 2 * ow <= w
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                let yb = yp.baseAddress!, xb = xp.baseAddress!
                parallelBlocks(rows, blockSize: 64) { range in
                    if halving {
                        for r in range {
                            let src = xb + r * h * w, dst = yb + r * oh * ow
                            for oy in 0..<oh {
                                let top = src + 2 * oy * w, bottom = top + w, out = dst + oy * ow
                                for ox in 0..<ow {
                                    var s: Float = 0
                                    s += top[2 * ox]
                                    s += top[2 * ox + 1]
                                    s += bottom[2 * ox]
                                    s += bottom[2 * ox + 1]
                                    out[ox] = s / 4
                                }
                            }
                        }
                        return
                    }
                    for r in range {
                        let src = r * h * w, dst = r * oh * ow
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                let y0 = oy * p.stride.h - p.pads.top, x0 = ox * p.stride.w - p.pads.left
                                var s: Float = 0
                                var count = 0
                                for ky in 0..<p.kernel.h {
                                    let iy = y0 + ky
                                    if iy < 0 || iy >= h { continue }
                                    for kx in 0..<p.kernel.w {
                                        let ix = x0 + kx
                                        if ix < 0 || ix >= w { continue }
                                        s += xp[src + iy * w + ix]
                                        count += 1
                                    }
                                }
                                let divisor = p.countIncludePad ? p.kernel.h * p.kernel.w : max(count, 1)
                                yb[dst + oy * ow + ox] = s / Float(divisor)
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Largest im2col block built for a whole group at once (floats); beyond it the fused
    /// per-tile path is used whatever the tile count.
    static let im2colBudget = 1 << 23

    /// Column-tile width of the fused im2col + GEMM path: about 4 MB of im2col per tile, so the
    /// tile OpenBLAS packs is still in cache. Depends on the shape only (determinism).
    static func convTileWidth(kk: Int) -> Int {
        min(4096, max(512, ((1 << 20) / max(1, kk)) / 64 * 64))
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
                                for r in 0..<kk {
                                    geometry.row(r, firstChannel: firstChannel, x: xb, columns: cols, dst: cb + r * width)
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
