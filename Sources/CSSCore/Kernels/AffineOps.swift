/// Executes the affine operators on a batch of columns. `constantScale` multiplies every
/// constant term (biases, BatchNorm shift, constant addends): 1 for the ANN, 1/Σw inside the
/// converted network (css-spec §3), so one implementation serves both.
enum AffineOps {
    static func apply(_ op: Op, _ inputs: [Activation], outShape: [Int], constantScale: Float) -> Activation {
        let x = inputs[0]
        switch op {
        case .conv(let c):
            return conv(c, x, outShape: outShape, constantScale: constantScale)
        case .dense(let w, let b, let out, let inF):
            var y = Activation(zeros: [out], columns: x.columns)
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
        var out = [Float](repeating: 0, count: x.data.count)
        x.data.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                for j in 0..<n {
                    for e in 0..<size {
                        let src = ((e / oldHW) * n + j) * oldHW + e % oldHW
                        let dst = ((e / newHW) * n + j) * newHW + e % newHW
                        op[dst] = xp[src]
                    }
                }
            }
        }
        return Activation(shape: shape, columns: n, data: out)
    }

    static func averagePool(_ p: Pool2D, _ x: Activation, outShape: [Int]) -> Activation {
        let h = x.shape[1], w = x.shape[2], oh = outShape[1], ow = outShape[2]
        var y = Activation(zeros: outShape, columns: x.columns)
        let rows = x.channels * x.columns
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                let yb = yp.baseAddress!
                parallelBlocks(rows, blockSize: 64) { range in
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

    /// Largest im2col block we build at once (floats), to bound memory on big layers.
    static let im2colBudget = 1 << 23

    static func conv(_ c: Conv2D, _ x: Activation, outShape: [Int], constantScale: Float) -> Activation {
        let h = x.shape[1], w = x.shape[2], oh = outShape[1], ow = outShape[2]
        let n = x.columns, g = c.groups
        let cinG = c.inChannels / g, coutG = c.outChannels / g
        let kk = cinG * c.kernel.h * c.kernel.w
        let ohw = oh * ow
        var y = Activation(zeros: outShape, columns: n)
        let pointwise = c.kernel.h == 1 && c.kernel.w == 1 && c.stride == (1, 1) && c.pads == (0, 0, 0, 0) && g == 1
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                c.weight.withUnsafeBufferPointer { wp in
                    if pointwise {
                        sgemm(m: c.outChannels, n: n * ohw, k: c.inChannels, a: wp.baseAddress!, lda: c.inChannels,
                              b: xp.baseAddress!, ldb: n * ohw, c: yp.baseAddress!, ldc: n * ohw)
                        return
                    }
                    let chunk = max(1, min(n, im2colBudget / max(1, kk * ohw)))
                    var cols = [Float](repeating: 0, count: kk * chunk * ohw)
                    cols.withUnsafeMutableBufferPointer { cp in
                        let cb = cp.baseAddress!
                        for group in 0..<g {
                            var j0 = 0
                            while j0 < n {
                                let jn = min(chunk, n - j0)
                                let width = jn * ohw
                                parallelBlocks(kk, blockSize: 4) { rows in
                                    for r in rows {
                                        let ci = group * cinG + r / (c.kernel.h * c.kernel.w)
                                        let ky = (r / c.kernel.w) % c.kernel.h, kx = r % c.kernel.w
                                        let dst = cb + r * width
                                        for jj in 0..<jn {
                                            let src = (ci * n + j0 + jj) * h * w
                                            for oy in 0..<oh {
                                                let iy = oy * c.stride.h - c.pads.top + ky * c.dilation.h
                                                let rowDst = dst + jj * ohw + oy * ow
                                                if iy < 0 || iy >= h {
                                                    for ox in 0..<ow { rowDst[ox] = 0 }
                                                    continue
                                                }
                                                for ox in 0..<ow {
                                                    let ix = ox * c.stride.w - c.pads.left + kx * c.dilation.w
                                                    rowDst[ox] = (ix >= 0 && ix < w) ? xp[src + iy * w + ix] : 0
                                                }
                                            }
                                        }
                                    }
                                }
                                sgemm(m: coutG, n: width, k: kk, a: wp.baseAddress! + group * coutG * kk, lda: kk,
                                      b: cb, ldb: width,
                                      c: yp.baseAddress! + (group * coutG * n + j0) * ohw, ldc: n * ohw)
                                j0 += jn
                            }
                        }
                    }
                }
            }
        }
        if let b = c.bias { addChannelConstant(&y, b, scale: constantScale) }
        return y
    }
}
