/// Average pooling. Every output is the sum of its window's inputs in row-major order, starting
/// from 0, divided by the divisor: the fast paths below add the same values in the same order as
/// `averagePoolPlain`, so they give the same bits (tested), only without per-tap bounds checks.
extension AffineOps {
    static func averagePool(_ p: Pool2D, _ x: Activation, outShape: [Int]) -> Activation {
        let h = x.shape[1], w = x.shape[2], oh = outShape[1], ow = outShape[2]
        var y = Activation(uninitialized: outShape, columns: x.columns)  // every output is written
        let rows = x.channels * x.columns
        let geometry = PoolGeometry(p, h: h, w: w, oh: oh, ow: ow)
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                let box = UncheckedSendable((xp.baseAddress!, yp.baseAddress!))
                parallelBlocks(rows, blockSize: max(1, (1 << 15) / max(1, oh * ow))) { range in
                    let (xb, yb) = box.value
                    for r in range { geometry.pool(xb + r * h * w, into: yb + r * oh * ow) }
                }
            }
        }
        return y
    }

    /// The definition, tap by tap with bounds checks: what the fast paths are tested against.
    static func averagePoolPlain(_ p: Pool2D, _ x: Activation, outShape: [Int]) -> Activation {
        let h = x.shape[1], w = x.shape[2], oh = outShape[1], ow = outShape[2]
        var y = Activation(uninitialized: outShape, columns: x.columns)
        let geometry = PoolGeometry(p, h: h, w: w, oh: oh, ow: ow)
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                for r in 0..<(x.channels * x.columns) {
                    let src = xp.baseAddress! + r * h * w, dst = yp.baseAddress! + r * oh * ow
                    for oy in 0..<oh {
                        for ox in 0..<ow { dst[oy * ow + ox] = geometry.border(src, oy: oy, ox: ox) }
                    }
                }
            }
        }
        return y
    }
}

/// One pooling's geometry: which outputs have their whole window inside the image (the
/// interior, summed without checks) and the border, summed tap by tap.
struct PoolGeometry {
    let h, w, oh, ow, kh, kw, sh, sw, padTop, padLeft: Int
    let countIncludePad: Bool
    /// Outputs [oyLo, oyHi) × [oxLo, oxHi) have every tap inside the image.
    let oyLo, oyHi, oxLo, oxHi: Int

    init(_ p: Pool2D, h: Int, w: Int, oh: Int, ow: Int) {
        self.h = h; self.w = w; self.oh = oh; self.ow = ow
        kh = p.kernel.h; kw = p.kernel.w; sh = p.stride.h; sw = p.stride.w
        padTop = p.pads.top; padLeft = p.pads.left; countIncludePad = p.countIncludePad
        func interior(pad: Int, stride: Int, kernel: Int, size: Int, out: Int) -> (Int, Int) {
            let lo = min(out, (pad + stride - 1) / stride)
            let hi = size - kernel + pad < 0 ? lo : max(lo, min(out, (size - kernel + pad) / stride + 1))
            return (lo, hi)
        }
        (oyLo, oyHi) = interior(pad: padTop, stride: sh, kernel: kh, size: h, out: oh)
        (oxLo, oxHi) = interior(pad: padLeft, stride: sw, kernel: kw, size: w, out: ow)
    }

    /// One output near the border: only the taps inside the image, divided as ONNX says.
    @inline(__always)
    func border(_ src: UnsafePointer<Float>, oy: Int, ox: Int) -> Float {
        let y0 = oy * sh - padTop, x0 = ox * sw - padLeft
        var s: Float = 0
        var count = 0
        for ky in 0..<kh {
            let iy = y0 + ky
            if iy < 0 || iy >= h { continue }
            for kx in 0..<kw {
                let ix = x0 + kx
                if ix < 0 || ix >= w { continue }
                s += src[iy * w + ix]
                count += 1
            }
        }
        let divisor = countIncludePad ? kh * kw : max(count, 1)
        return s / Float(divisor)
    }

    /// One image plane (channel and column).
    @inline(__always)
    func pool(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        let divisor = Float(kh * kw)
        for oy in 0..<oh {
            let out = dst + oy * ow
            guard oy >= oyLo && oy < oyHi else {
                for ox in 0..<ow { out[ox] = border(src, oy: oy, ox: ox) }
                continue
            }
            for ox in 0..<oxLo { out[ox] = border(src, oy: oy, ox: ox) }
            let top = src + (oy * sh - padTop) * w - padLeft
            if kh == 3 && kw == 3 && sw == 2 {
                let r0 = top, r1 = top + w, r2 = top + 2 * w
                for ox in oxLo..<oxHi {
                    let i = 2 &* ox
                    var s: Float = 0
                    s += r0[i]; s += r0[i &+ 1]; s += r0[i &+ 2]
                    s += r1[i]; s += r1[i &+ 1]; s += r1[i &+ 2]
                    s += r2[i]; s += r2[i &+ 1]; s += r2[i &+ 2]
                    out[ox] = s / divisor
                }
            } else if kh == 2 && kw == 2 && sw == 2 {
                let r0 = top, r1 = top + w
                for ox in oxLo..<oxHi {
                    let i = 2 &* ox
                    var s: Float = 0
                    s += r0[i]; s += r0[i &+ 1]
                    s += r1[i]; s += r1[i &+ 1]
                    out[ox] = s / divisor
                }
            } else {
                for ox in oxLo..<oxHi {
                    let base = top + ox * sw
                    var s: Float = 0
                    for ky in 0..<kh {
                        let row = base + ky * w
                        for kx in 0..<kw { s += row[kx] }
                    }
                    out[ox] = s / divisor
                }
            }
            for ox in max(oxLo, oxHi)..<ow { out[ox] = border(src, oy: oy, ox: ox) }
        }
    }
}
