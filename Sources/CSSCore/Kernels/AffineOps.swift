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
            return add(x, inputs[1])
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

    /// `x + other` element by element, written into a new tensor: `var y = x; y += other` would
    /// copy x first (its storage is shared with the graph's tensors), a whole extra pass.
    static func add(_ x: Activation, _ other: Activation) -> Activation {
        precondition(x.data.count == other.data.count)
        var y = Activation(uninitialized: x.shape, columns: x.columns)  // every element is written
        x.data.withUnsafeBufferPointer { xp in
            other.data.withUnsafeBufferPointer { op in
                y.data.withUnsafeMutableBufferPointer { yp in
                    let box = UncheckedSendable((xp.baseAddress!, op.baseAddress!, yp.baseAddress!))
                    parallelBlocks(yp.count, blockSize: 1 << 16) { range in
                        let (a, b, out) = box.value
                        for i in range { out[i] = a[i] + b[i] }
                    }
                }
            }
        }
        return y
    }

    /// The listed columns of `x`, in that order (tests split batches with it).
    static func selectColumns(_ x: Activation, _ columns: [Int]) -> Activation {
        let n = x.columns, run = x.spatial, m = columns.count
        var out = Activation(uninitialized: x.shape, columns: m)
        x.data.withUnsafeBufferPointer { src in
            out.data.withUnsafeMutableBufferPointer { dst in
                for ch in 0..<x.channels {
                    for (k, j) in columns.enumerated() {
                        (dst.baseAddress! + (ch * m + k) * run).update(from: src.baseAddress! + (ch * n + j) * run, count: run)
                    }
                }
            }
        }
        return out
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

}
