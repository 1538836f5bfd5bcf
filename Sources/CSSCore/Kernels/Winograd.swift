/// 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, 2016):
/// each 2×2 output tile costs 16 multiplies per (input, output) channel pair instead of 36, so the
/// GEMM work of VGG-style layers drops by 2.25×. The 16 products are 16 independent GEMMs
/// `M_ξ[cout × tiles] = U_ξ[cout × cin] · V_ξ[cin × tiles]`, and the input transform replaces
/// im2col (16 values per tile and channel instead of 36). Results differ from the plain
/// convolution by float rounding only (docs/numerics.md §9 allows spike flips at exact ties).
/// The filters (`WinogradFilter`) are in WinogradFilter.swift; F(4×4, 3×3) is in Winograd4.swift.
///
/// Matrices (correlation form, as ONNX Conv):
/// `Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]`, `G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]`,
/// `Aᵀ = [1 1 1 0; 0 1 −1 −1]`.
/// `Aᵀ M A + bias` of one tile (or 8): the 2×2 outputs y00, y01, y10, y11 from the 16 products.
@inline(__always)
func winogradOutputTile<V: WinogradLane>(_ m: (Int) -> V, bias b: V) -> (V, V, V, V) {
    let a0 = m(0) + m(1) + m(2), b0 = m(1) - m(2) - m(3)
    let a1 = m(4) + m(5) + m(6), b1 = m(5) - m(6) - m(7)
    let a2 = m(8) + m(9) + m(10), b2 = m(9) - m(10) - m(11)
    let a3 = m(12) + m(13) + m(14), b3 = m(13) - m(14) - m(15)
    return (a0 + a1 + a2 + b, b0 + b1 + b2 + b, a1 - a2 - a3 + b, b1 - b2 - b3 + b)
}

/// `Bᵀ` on four values of a 4×4 patch, down a column or along a row.
@inline(__always)
func winogradInputColumn<V: WinogradLane>(_ d0: V, _ d1: V, _ d2: V, _ d3: V) -> (V, V, V, V) {
    (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
}

/// `Bᵀ d B` of one 4×4 patch `d(row, column)` (or 8 patches): `emit(ξ, value)` for ξ = 4·row + column.
@inline(__always)
func winogradInputTile<V: WinogradLane>(_ d: (Int, Int) -> V, _ emit: (Int, V) -> Void) {
    @inline(__always) func column(_ c: Int) -> (V, V, V, V) { winogradInputColumn(d(0, c), d(1, c), d(2, c), d(3, c)) }
    let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3)
    @inline(__always) func row(_ i: Int, _ r: (V, V, V, V)) {
        emit(4 * i, r.0); emit(4 * i + 1, r.1); emit(4 * i + 2, r.2); emit(4 * i + 3, r.3)
    }
    row(0, winogradInputColumn(c0.0, c1.0, c2.0, c3.0))
    row(1, winogradInputColumn(c0.1, c1.1, c2.1, c3.1))
    row(2, winogradInputColumn(c0.2, c1.2, c2.2, c3.2))
    row(3, winogradInputColumn(c0.3, c1.3, c2.3, c3.3))
}

/// Starts of vectors of 8 covering `0..<count` (count ≥ 8): 0, 8, 16, … and `count − 8` last,
/// which overlaps the one before when count is not a multiple of 8 (the same values computed and
/// written again, where a scalar tail took 3–4 times as long per item). `last` marks the final one.
@inline(__always)
func overlappingVectors(_ count: Int, _ body: (_ start: Int, _ last: Bool) -> Void) {
    var next = 0
    while next < count {
        let start = min(next, count - 8)
        next = start + 8
        body(start, next == count)
    }
}

enum WinogradConv {
    /// Tiles per chunk: the transformed input and the 16 products of one chunk take about 2 MB,
    /// but at least 256 tiles, since every GEMM call packs its 16 `cout × cin` filter matrices
    /// again (for 512 channels that packing is what small chunks lose). Chosen by measurement on
    /// VGG-16 (64 or 128 tiles at least: 5–8 % slower). Depends on the shape only, so chunk
    /// boundaries (and every bit of the result) do not depend on the thread count.
    static func chunkTiles(inChannels: Int, outChannels: Int) -> Int {
        min(2048, max(256, (1 << 15) / (inChannels + outChannels)))
    }

    static func conv(_ c: Conv2D, _ f: WinogradFilter, _ x: Activation, outShape: [Int], constantScale: Float,
                     scratch: ScratchPool) -> Activation {
        if f.tile == 4 {
            return Winograd4Conv.conv(c, f, x, outShape: outShape, constantScale: constantScale, scratch: scratch)
        }
        let g = Geometry(c, x: x, outShape: outShape)
        var y = Activation(uninitialized: outShape, columns: x.columns)  // every output is written
        guard g.n > 0, g.th > 0, g.tw > 0 else { return y }  // nothing to compute (empty batch or map)
        let target = chunkTiles(inChannels: g.cin, outChannels: g.cout)
        let tileRows = g.n * g.th
        let rows: Int  // tile rows per chunk, balanced
        if g.narrow {
            // Whole images per chunk (the tile order is image-minor within a chunk), at least 8
            // where there are 8: the transforms run 8 images per vector, and fewer ran them one
            // image at a time (14×14 maps of 256 channels had 5 images a chunk).
            let imagesPerChunk = max(8, target / (g.th * g.tw))
            let chunks = (g.n + imagesPerChunk - 1) / imagesPerChunk
            rows = max(min(g.n, 8), (g.n + chunks - 1) / chunks) * g.th
        } else {
            let rowsPerChunk = max(1, target / g.tw)
            let chunks = (tileRows + rowsPerChunk - 1) / rowsPerChunk
            rows = (tileRows + chunks - 1) / chunks
        }
        let chunks = (tileRows + rows - 1) / rows
        let bias = c.bias.map { b in b.map { $0 * constantScale } } ?? [Float](repeating: 0, count: g.cout)
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                f.u.withUnsafeBufferPointer { up in
                    bias.withUnsafeBufferPointer { bp in
                        let ptrs = UncheckedSendable((xp.baseAddress!, yp.baseAddress!, up.baseAddress!, bp.baseAddress!))
                        let (xb, yb, ub, bb) = ptrs.value
                        if chunks >= 4 {
                            // Many chunks: each worker runs whole chunks.
                            parallelBlocks(chunks, blockSize: 1) { range in
                                let (xb, yb, ub, bb) = ptrs.value
                                for chunk in range {
                                    let r0 = chunk * rows
                                    g.run(tileRows: r0..<min(tileRows, r0 + rows), x: xb, u: ub, bias: bb, y: yb,
                                          scratch: scratch, parallel: false)
                                }
                            }
                        } else {
                            // Few tiles (a focused sample, deep layers): split each phase instead.
                            var r0 = 0
                            while r0 < tileRows {
                                g.run(tileRows: r0..<min(tileRows, r0 + rows), x: xb, u: ub, bias: bb, y: yb,
                                      scratch: scratch, parallel: true)
                                r0 += rows
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    struct Geometry: Sendable {
        let h, w, oh, ow, th, tw, n, cin, cout, padTop, padLeft: Int
        /// Width of a padded input row: the 2·tw + 2 columns the tiles of one tile row read.
        var paddedWidth: Int { 2 * tw + 2 }
        /// Row buffers are 16 floats longer than the tiles read, so 8 tiles load as SIMD16s.
        var rowStride: Int { paddedWidth + 16 }
        /// Fewer than 8 tiles per row: vectors run over images instead of along rows. Within a
        /// chunk, tile p = (ty · tw + tx) · images + image, so one tile position of 8 images is
        /// one vector in V and in the products.
        var narrow: Bool { tw < 8 }

        /// Floats of the input transform's work area: the padded rows of one image's tile rows,
        /// or (narrow) the padded planes of the chunk's images, image-minor.
        func workSize(images: Int) -> Int {
            narrow ? (2 * th + 2) * paddedWidth * images : (2 * th + 2) * rowStride
        }

        init(_ c: Conv2D, x: Activation, outShape: [Int]) {
            h = x.shape[1]; w = x.shape[2]; oh = outShape[1]; ow = outShape[2]
            th = (oh + 1) / 2; tw = (ow + 1) / 2
            n = x.columns; cin = c.inChannels; cout = c.outChannels
            padTop = c.pads.top; padLeft = c.pads.left
        }

        /// Input transform, 16 GEMMs and output transform for the tile rows `rowsRange`
        /// (global tile row = image · th + ty).
        func run(tileRows rowsRange: Range<Int>, x: UnsafePointer<Float>, u: UnsafePointer<Float>,
                 bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, scratch: ScratchPool, parallel: Bool) {
            let tiles = rowsRange.count * tw
            let images = rowsRange.lowerBound / th ..< (rowsRange.upperBound + th - 1) / th
            let workSize = workSize(images: images.count)
            // One buffer per chunk: transformed input, the 16 products, and the work area.
            let buffer = scratch.take(16 * (cin + cout) * tiles + workSize)
            defer { scratch.give(buffer) }
            let v = buffer.pointer, m = v + 16 * cin * tiles, work = m + 16 * cout * tiles
            let box = UncheckedSendable((v, m, work))
            let split = { (count: Int, block: Int, body: (Range<Int>) -> Void) in
                if parallel { parallelBlocks(count, blockSize: block, body) } else { body(0..<count) }
            }
            split(cin, max(1, cin / 8)) { channels in
                let (v, _, work) = box.value
                let own = parallel ? scratch.take(workSize) : nil
                defer { if let own { scratch.give(own) } }
                let area = own?.pointer ?? work
                if narrow {
                    inputTransformImages(channels: channels, images: images, x: x, v: v, tiles: tiles, work: area)
                } else {
                    inputTransform(channels: channels, tileRows: rowsRange, x: x, v: v, tiles: tiles, work: area)
                }
            }
            split(16, 1) { xis in
                let (v, m, _) = box.value
                for xi in xis {
                    sgemmSerial(m: cout, n: tiles, k: cin, a: u + xi * cout * cin, lda: cin,
                                b: v + xi * cin * tiles, ldb: tiles, c: m + xi * cout * tiles, ldc: tiles)
                }
            }
            split(cout, max(1, cout / 8)) { outs in
                let (_, m, _) = box.value
                if narrow {
                    outputTransformImages(outChannels: outs, images: images, m: m, tiles: tiles, bias: bias, y: y)
                } else {
                    outputTransform(outChannels: outs, tileRows: rowsRange, m: m, tiles: tiles, bias: bias, y: y)
                }
            }
        }

        /// `V[ξ][c][p] = (Bᵀ d B)_ξ` for every tile p of the chunk, d the 4×4 input patch (zero outside).
        /// The rows an image's tile rows read are first copied into a zero-padded block; the
        /// transform then reads that block only (long after the copy, so no store-forwarding stalls).
        func inputTransform(channels: Range<Int>, tileRows: Range<Int>, x: UnsafePointer<Float>,
                            v: UnsafeMutablePointer<Float>, tiles: Int, work: UnsafeMutablePointer<Float>) {
            let pw = paddedWidth, stride = rowStride
            // Columns of the padded row that hold input (ix = i − padLeft ∈ [0, w)).
            let lo = min(pw, padLeft), hi = max(lo, min(pw, w + padLeft))
            @inline(__always) func load16(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
                UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
            }
            @inline(__always) func store8(_ p: UnsafeMutablePointer<Float>, _ value: SIMD8<Float>) {
                UnsafeMutableRawPointer(p).storeBytes(of: value, as: SIMD8<Float>.self)
            }
            for c in channels {
                var tileRow = tileRows.lowerBound
                while tileRow < tileRows.upperBound {
                    let image = tileRow / th, ty0 = tileRow - image * th
                    let ty1 = min(th, ty0 + (tileRows.upperBound - tileRow))
                    let plane = x + (c * n + image) * h * w
                    // Padded rows 2·ty0 … 2·ty1 + 1 of this image (input row = padded row − padTop).
                    for q in 0..<(2 * (ty1 - ty0) + 2) {
                        let iy = 2 * ty0 - padTop + q
                        let dst = work + q * stride
                        if iy < 0 || iy >= h || hi == lo {
                            Im2col.zero(dst, stride)
                            continue
                        }
                        Im2col.zero(dst, lo)
                        Im2col.copy(dst + lo, plane + iy * w + (lo - padLeft), hi - lo)
                        Im2col.zero(dst + hi, stride - hi)
                    }
                    for ty in ty0..<ty1 {
                        let r0 = work + 2 * (ty - ty0) * stride, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride
                        let base = (tileRow - tileRows.lowerBound + ty - ty0) * tw
                        @inline(__always) func dst(_ xi: Int) -> UnsafeMutablePointer<Float> {
                            v + (xi * cin + c) * tiles + base
                        }
                        // Bᵀ along y on 16 columns at once, then along x: tile t reads columns
                        // 2t … 2t+3 = even and odd lanes of the vectors at 2t and 2t + 2 (tw ≥ 8 here).
                        overlappingVectors(tw) { t, _ in
                            let a0 = load16(r0 + 2 * t), a1 = load16(r1 + 2 * t), a2 = load16(r2 + 2 * t), a3 = load16(r3 + 2 * t)
                            let b0 = load16(r0 + 2 * t + 2), b1 = load16(r1 + 2 * t + 2)
                            let b2 = load16(r2 + 2 * t + 2), b3 = load16(r3 + 2 * t + 2)
                            let za = (a0 - a2, a1 + a2, a2 - a1, a1 - a3)
                            let zb = (b0 - b2, b1 + b2, b2 - b1, b1 - b3)
                            @inline(__always) func row(_ i: Int, _ a: SIMD16<Float>, _ b: SIMD16<Float>) {
                                let e0 = a.evenHalf, o0 = a.oddHalf, e1 = b.evenHalf, o1 = b.oddHalf
                                store8(dst(4 * i) + t, e0 - e1)
                                store8(dst(4 * i + 1) + t, o0 + e1)
                                store8(dst(4 * i + 2) + t, e1 - o0)
                                store8(dst(4 * i + 3) + t, o0 - o1)
                            }
                            row(0, za.0, zb.0)
                            row(1, za.1, zb.1)
                            row(2, za.2, zb.2)
                            row(3, za.3, zb.3)
                        }
                    }
                    tileRow += ty1 - ty0
                }
            }
        }

        /// Narrow maps: the chunk's images of channel c are copied into a zero-padded block
        /// `[row][column][image]`, so the 16 values of one tile position for 8 images are 16
        /// contiguous vector loads, and the 16 results 16 contiguous vector stores.
        func inputTransformImages(channels: Range<Int>, images: Range<Int>, x: UnsafePointer<Float>,
                                  v: UnsafeMutablePointer<Float>, tiles: Int, work: UnsafeMutablePointer<Float>) {
            let m = images.count, pw = paddedWidth, ph = 2 * th + 2
            let rowsIn = min(h, ph - padTop), colsIn = min(w, pw - padLeft)
            let vectors = m >= 8 ? m : 0  // images the vector loop covers
            for c in channels {
                Im2col.zero(work, ph * pw * m)
                for (k, image) in images.enumerated() {
                    let plane = x + (c * n + image) * h * w
                    for iy in 0..<rowsIn {
                        let row = work + ((iy + padTop) * pw + padLeft) * m + k
                        let src = plane + iy * w
                        for ix in 0..<colsIn { row[ix * m] = src[ix] }
                    }
                }
                for ty in 0..<th {
                    for tx in 0..<tw {
                        let position = ty * tw + tx
                        let origin = work + (2 * ty * pw + 2 * tx) * m
                        let out = v + c * tiles + position * m
                        let planeStride = cin * tiles
                        // 8 images a vector where there are 8 or more, else one at a time.
                        overlappingVectors(vectors) { k, _ in
                            winogradInputTile({ r, col in
                                UnsafeRawPointer(origin + (r * pw + col) * m + k).loadUnaligned(as: SIMD8<Float>.self)
                            }, { xi, value in
                                UnsafeMutableRawPointer(out + xi * planeStride + k).storeBytes(of: value, as: SIMD8<Float>.self)
                            })
                        }
                        var k = vectors
                        while k < m {
                            winogradInputTile({ r, col in origin[(r * pw + col) * m + k] },
                                              { xi, value in out[xi * planeStride + k] = value })
                            k += 1
                        }
                    }
                }
            }
        }

        /// Narrow maps: `y = Aᵀ M A + bias`, 8 images of one tile position at a time.
        func outputTransformImages(outChannels: Range<Int>, images: Range<Int>, m mBuf: UnsafePointer<Float>,
                                   tiles: Int, bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
            let m = images.count, plane = cout * tiles, imageSize = oh * ow
            let vectors = m >= 8 ? m : 0  // images the vector loop covers
            for o in outChannels {
                let b = bias[o]
                for ty in 0..<th {
                    let hasBottom = 2 * ty + 1 < oh
                    for tx in 0..<tw {
                        let hasRight = 2 * tx + 1 < ow
                        let src = mBuf + o * tiles + (ty * tw + tx) * m
                        let first = y + (o * n + images.lowerBound) * imageSize + 2 * ty * ow + 2 * tx
                        @inline(__always) func put(_ k: Int, _ y00: Float, _ y01: Float, _ y10: Float, _ y11: Float) {
                            let top = first + k * imageSize
                            top[0] = y00
                            if hasRight { top[1] = y01 }
                            if hasBottom {
                                top[ow] = y10
                                if hasRight { top[ow + 1] = y11 }
                            }
                        }
                        overlappingVectors(vectors) { k, _ in
                            let (y00, y01, y10, y11) = winogradOutputTile({ xi in
                                UnsafeRawPointer(src + xi * plane + k).loadUnaligned(as: SIMD8<Float>.self)
                            }, bias: SIMD8<Float>(repeating: b))
                            for lane in 0..<8 { put(k + lane, y00[lane], y01[lane], y10[lane], y11[lane]) }
                        }
                        var k = vectors
                        while k < m {
                            let (y00, y01, y10, y11) = winogradOutputTile({ src[$0 * plane + k] }, bias: b)
                            put(k, y00, y01, y10, y11)
                            k += 1
                        }
                    }
                }
            }
        }

        /// `y = Aᵀ M A + bias` for every tile; outputs past an odd edge are not written.
        /// Computed 8 tiles of one tile row at a time, whose 2×2 outputs interleave into 16
        /// columns of two output rows. A row whose tile count is not a multiple of 8 ends with a
        /// vector that overlaps the one before (the same values stored again; tw ≥ 8 here); only
        /// the last vector of a row with an odd right edge is stored tile by tile.
        func outputTransform(outChannels: Range<Int>, tileRows: Range<Int>, m: UnsafePointer<Float>, tiles: Int,
                             bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
            let plane = cout * tiles
            let rightEdge = ow % 2 == 1, bottomEdge = oh % 2 == 1
            @inline(__always) func interleave(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD16<Float> {
                var r = SIMD16<Float>()
                for k in 0..<8 { r[2 * k] = a[k]; r[2 * k + 1] = b[k] }
                return r
            }
            for o in outChannels {
                let b = bias[o]
                let src = m + o * tiles
                let yo = y + o * n * oh * ow
                for local in 0..<tileRows.count {
                    let tileRow = tileRows.lowerBound + local
                    let image = tileRow / th, ty = tileRow - image * th
                    let hasBottom = !bottomEdge || ty + 1 < th
                    let rowTop = yo + image * oh * ow + 2 * ty * ow
                    let rowSrc = src + local * tw
                    overlappingVectors(tw) { tx, last in
                        let (y00, y01, y10, y11) = winogradOutputTile({ xi in
                            UnsafeRawPointer(rowSrc + xi * plane + tx).loadUnaligned(as: SIMD8<Float>.self)
                        }, bias: SIMD8<Float>(repeating: b))
                        let top = rowTop + 2 * tx
                        if rightEdge && last {
                            // The last tile's right column is past the row: tile by tile.
                            for k in 0..<8 {
                                top[2 * k] = y00[k]
                                let hasRight = tx + k + 1 < tw
                                if hasRight { top[2 * k + 1] = y01[k] }
                                if hasBottom {
                                    top[ow + 2 * k] = y10[k]
                                    if hasRight { top[ow + 2 * k + 1] = y11[k] }
                                }
                            }
                            return
                        }
                        UnsafeMutableRawPointer(top).storeBytes(of: interleave(y00, y01), as: SIMD16<Float>.self)
                        if hasBottom {
                            UnsafeMutableRawPointer(top + ow).storeBytes(of: interleave(y10, y11), as: SIMD16<Float>.self)
                        }
                    }
                }
            }
        }
    }
}
