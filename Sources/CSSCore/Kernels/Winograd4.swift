/// 3×3 stride-1 convolution by Winograd's F(4×4, 3×3): a 6×6 input tile gives a 4×4 output tile
/// with 36 products per (input, output) channel pair instead of 144, 4× fewer multiplies than
/// the direct sum (F(2×2): 2.25×). As in F(2×2), the products are independent GEMMs (36 per chunk)
/// `M_ξ[cout × tiles] = U_ξ[cout × cin] · V_ξ[cin × tiles]`.
///
/// Points 0, ±1, 2, −½, ∞ (correlation form, as ONNX Conv), rows scaled by powers of two so the
/// input and output transforms have small exact coefficients (the scale goes into G):
/// `Bᵀ = [1 3/2 −2 −3/2 1 0; 0 −2 −5 −1 2 0; 0 2 1 −5 2 0; 0 −1 −2 1 2 0; 0 2 −1 −2 1 0; 0 1 3/2 −2 −3/2 1]`,
/// `Aᵀ = [1 1 1 1 −8 0; 0 1 −1 2 4 0; 0 1 1 4 −2 0; 0 1 −1 8 1 1]`, G in `WinogradFilter.transform4`.
/// Why not the more common 0, ±1, ±2, ∞: their Aᵀ weighs the products of both ±2 by up to 8 per
/// side (64 on a corner output), and the GEMMs' rounding with them: 1e-5 of the largest output
/// against a Float64 direct convolution, more than docs/numerics.md §9's tolerances absorb on
/// digits-resnet. −½ in place of −2 weighs its product by at most 1 per side (the −8 above is
/// G's −1/8 moved out), and the error falls to 3.9e-6 (docs/performance.md, "Winograd F(4×4, 3×3)"). The price is
/// the lost ±2 even/odd symmetry: 20 and 18 operations per six values for Bᵀ and Aᵀ instead of 18
/// and 13, about 1.2× the transform arithmetic, small against the 36 GEMMs.
enum Winograd4Conv {
    /// Tiles per chunk: the transformed input and the 36 products of one chunk take about 2 MB
    /// (the same bytes as an F(2×2) chunk), at least 192 tiles so each GEMM call's filter packing
    /// is spread over enough columns. Depends on the shape only, so chunk boundaries (and every
    /// bit of the result) do not depend on the thread count.
    static func chunkTiles(inChannels: Int, outChannels: Int) -> Int {
        min(1024, max(192, 14_563 / (inChannels + outChannels)))
    }

    static func conv(_ c: Conv2D, _ f: WinogradFilter, _ x: Activation, outShape: [Int], constantScale: Float,
                     scratch: ScratchPool) -> Activation {
        let g = Geometry(c, x: x, outShape: outShape)
        var y = Activation(uninitialized: outShape, columns: x.columns)  // every output is written
        guard g.n > 0, g.th > 0, g.tw > 0 else { return y }  // nothing to compute (empty batch or map)
        let tileRows = g.n * g.th
        let rowsPerChunk = max(1, chunkTiles(inChannels: g.cin, outChannels: g.cout) / g.tw)
        let balanced = (tileRows + rowsPerChunk - 1) / rowsPerChunk
        let rows = (tileRows + balanced - 1) / balanced  // tile rows per chunk
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
        /// Length of one phase row of the work area: the tile columns of a tile row rounded up to
        /// whole vectors, plus one vector (tile t reads phase entries t and t + 1).
        var phaseLength: Int { (tw + 7) / 8 * 8 + 8 }

        init(_ c: Conv2D, x: Activation, outShape: [Int]) {
            h = x.shape[1]; w = x.shape[2]; oh = outShape[1]; ow = outShape[2]
            th = (oh + 3) / 4; tw = (ow + 3) / 4
            n = x.columns; cin = c.inChannels; cout = c.outChannels
            padTop = c.pads.top; padLeft = c.pads.left
        }

        /// Input transform, 36 GEMMs and output transform for the tile rows `rowsRange`
        /// (global tile row = image · th + ty).
        func run(tileRows rowsRange: Range<Int>, x: UnsafePointer<Float>, u: UnsafePointer<Float>,
                 bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, scratch: ScratchPool, parallel: Bool) {
            let tiles = rowsRange.count * tw
            let workSize = 24 * phaseLength
            // One buffer per chunk: transformed input, the 36 products, and the work area.
            let buffer = scratch.take(36 * (cin + cout) * tiles + workSize)
            defer { scratch.give(buffer) }
            let v = buffer.pointer, m = v + 36 * cin * tiles, work = m + 36 * cout * tiles
            let box = UncheckedSendable((v, m, work))
            let split = { (count: Int, block: Int, body: (Range<Int>) -> Void) in
                if parallel { parallelBlocks(count, blockSize: block, body) } else { body(0..<count) }
            }
            split(cin, max(1, cin / 8)) { channels in
                let (v, _, work) = box.value
                let own = parallel ? scratch.take(workSize) : nil
                defer { if let own { scratch.give(own) } }
                inputTransform(channels: channels, tileRows: rowsRange, x: x, v: v, tiles: tiles, work: own?.pointer ?? work)
            }
            split(36, 1) { xis in
                let (v, m, _) = box.value
                for xi in xis {
                    sgemmSerial(m: cout, n: tiles, k: cin, a: u + xi * cout * cin, lda: cin,
                                b: v + xi * cin * tiles, ldb: tiles, c: m + xi * cout * tiles, ldc: tiles)
                }
            }
            split(cout, max(1, cout / 8)) { outs in
                let (_, m, _) = box.value
                outputTransform(outChannels: outs, tileRows: rowsRange, m: m, tiles: tiles, bias: bias, y: y)
            }
        }

        /// `V[ξ][c][p] = (Bᵀ d B)_ξ` for every tile p of the chunk, d the 6×6 input patch (zero
        /// outside). The six padded rows a tile row reads are first split by column mod 4 into
        /// `work[(row · 4 + phase) · phaseLength + k]` = column 4k + phase, so tile t's column j
        /// is entry t + j/4 of phase j mod 4: eight tiles are eight consecutive floats.
        func inputTransform(channels: Range<Int>, tileRows: Range<Int>, x: UnsafePointer<Float>,
                            v: UnsafeMutablePointer<Float>, tiles: Int, work: UnsafeMutablePointer<Float>) {
            let length = phaseLength
            @inline(__always) func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
                UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
            }
            for c in channels {
                for tileRow in tileRows {
                    let image = tileRow / th, ty = tileRow - image * th
                    let plane = x + (c * n + image) * h * w
                    for r in 0..<6 {
                        let iy = 4 * ty + r - padTop
                        let rowBase = work + r * 4 * length
                        if iy < 0 || iy >= h {
                            Im2col.zero(rowBase, 4 * length)
                            continue
                        }
                        let src = plane + iy * w
                        for phase in 0..<4 {
                            let dst = rowBase + phase * length
                            // Column 4k + phase − padLeft of the input, zero outside [0, w).
                            let offset = phase - padLeft
                            let kLo = offset >= 0 ? 0 : min(length, (-offset + 3) / 4)
                            let kHi = max(kLo, min(length, w - offset > 0 ? (w - offset + 3) / 4 : 0))
                            for k in 0..<kLo { dst[k] = 0 }
                            for k in kLo..<kHi { dst[k] = src[4 * k + offset] }
                            for k in kHi..<length { dst[k] = 0 }
                        }
                    }
                    let base = (tileRow - tileRows.lowerBound) * tw
                    var t = 0
                    while t < tw {
                        let full = t + 8 <= tw, count = tw - t
                        winograd4InputTile({ r, j in
                            load8(work + (r * 4 + (j & 3)) * length + t + (j >> 2))
                        }, { xi, value in
                            let dst = v + (xi * cin + c) * tiles + base + t
                            if full {
                                UnsafeMutableRawPointer(dst).storeBytes(of: value, as: SIMD8<Float>.self)
                            } else {
                                for lane in 0..<count { dst[lane] = value[lane] }
                            }
                        })
                        t += 8
                    }
                }
            }
        }

        /// `y = Aᵀ M A + bias` for every tile, 8 tiles at a time (consecutive in the chunk, across
        /// tile rows); outputs past the map's right and bottom edges are not written.
        func outputTransform(outChannels: Range<Int>, tileRows: Range<Int>, m: UnsafePointer<Float>, tiles: Int,
                             bias: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
            let plane = cout * tiles, imageSize = oh * ow
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 128) { block in
                let out = block.baseAddress!  // out[(4i + j) · 8 + lane]
                @inline(__always) func scatter(_ yo: UnsafeMutablePointer<Float>, tile p: Int, lane: Int) {
                    let local = p / tw, tx = p - local * tw
                    let tileRow = tileRows.lowerBound + local
                    let image = tileRow / th, ty = tileRow - image * th
                    let top = yo + image * imageSize + 4 * ty * ow + 4 * tx
                    let rows = min(4, oh - 4 * ty), cols = min(4, ow - 4 * tx)
                    for i in 0..<rows {
                        for j in 0..<cols { top[i * ow + j] = out[(4 * i + j) * 8 + lane] }
                    }
                }
                for o in outChannels {
                    let b = bias[o]
                    let src = m + o * tiles
                    let yo = y + o * n * imageSize
                    var p = 0
                    while p + 8 <= tiles {
                        winograd4OutputTile({ xi in
                            UnsafeRawPointer(src + xi * plane + p).loadUnaligned(as: SIMD8<Float>.self)
                        }, bias: SIMD8<Float>(repeating: b), { i, j, value in
                            UnsafeMutableRawPointer(out + (4 * i + j) * 8).storeBytes(of: value, as: SIMD8<Float>.self)
                        })
                        for lane in 0..<8 { scatter(yo, tile: p + lane, lane: lane) }
                        p += 8
                    }
                    while p < tiles {
                        winograd4OutputTile({ src[$0 * plane + p] }, bias: b, { i, j, value in out[(4 * i + j) * 8] = value })
                        scatter(yo, tile: p, lane: 0)
                        p += 1
                    }
                }
            }
        }
    }
}

/// `Bᵀ` on six values of a 6×6 patch, down a column or along a row. The points 2 and −½ pair up
/// through u = d4 − d2 and w = d3 − d1 (their rows are 2u + w and u − 2w), and the rows of ±1 are
/// the sum and difference of 2u − 3·d3 and 2w − 3·d2: 20 operations.
@inline(__always)
func winograd4InputColumn<V: WinogradLane>(_ d0: V, _ d1: V, _ d2: V, _ d3: V, _ d4: V, _ d5: V)
    -> (V, V, V, V, V, V)
{
    let u = d4 - d2, w = d3 - d1
    let u2 = 2 * u, w2 = 2 * w
    let a = u2 - 3 * d3, b = w2 - 3 * d2
    let v0 = (d0 - d2) + u - 1.5 * w
    let v5 = (d5 - d3) - w - 1.5 * u
    return (v0, a + b, a - b, u2 + w, u - w2, v5)
}

/// `Bᵀ d B` of one 6×6 patch `d(row, column)` (or 8 patches): `emit(ξ, value)` for ξ = 6·row + column.
@inline(__always)
func winograd4InputTile<V: WinogradLane>(_ d: (Int, Int) -> V, _ emit: (Int, V) -> Void) {
    @inline(__always) func column(_ c: Int) -> (V, V, V, V, V, V) {
        winograd4InputColumn(d(0, c), d(1, c), d(2, c), d(3, c), d(4, c), d(5, c))
    }
    let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3), c4 = column(4), c5 = column(5)
    @inline(__always) func row(_ i: Int, _ r: (V, V, V, V, V, V)) {
        emit(6 * i, r.0); emit(6 * i + 1, r.1); emit(6 * i + 2, r.2)
        emit(6 * i + 3, r.3); emit(6 * i + 4, r.4); emit(6 * i + 5, r.5)
    }
    row(0, winograd4InputColumn(c0.0, c1.0, c2.0, c3.0, c4.0, c5.0))
    row(1, winograd4InputColumn(c0.1, c1.1, c2.1, c3.1, c4.1, c5.1))
    row(2, winograd4InputColumn(c0.2, c1.2, c2.2, c3.2, c4.2, c5.2))
    row(3, winograd4InputColumn(c0.3, c1.3, c2.3, c3.3, c4.3, c5.3))
    row(4, winograd4InputColumn(c0.4, c1.4, c2.4, c3.4, c4.4, c5.4))
    row(5, winograd4InputColumn(c0.5, c1.5, c2.5, c3.5, c4.5, c5.5))
}

/// `Aᵀ` on six values, down a column of the products or along a row: 18 operations. The product of
/// the point −½ comes scaled by −1/8 (in G), so its column is the mirror of the point 2's (−8 4 −2 1
/// against 1 2 4 8) and every coefficient is a small integer.
@inline(__always)
func winograd4OutputColumn<V: WinogradLane>(_ m0: V, _ m1: V, _ m2: V, _ m3: V, _ m4: V, _ m5: V) -> (V, V, V, V) {
    let s12 = m1 + m2, d12 = m1 - m2
    let y0 = (m0 + s12) + (m3 - 8 * m4)
    let y1 = d12 + (2 * m3 + 4 * m4)
    let y2 = s12 + (4 * m3 - 2 * m4)
    let y3 = (d12 + m5) + (8 * m3 + m4)
    return (y0, y1, y2, y3)
}

/// `Aᵀ M A + bias` of one tile (or 8) from its 36 products `m(ξ)`: `emit(i, j, y_ij)`, i, j < 4.
@inline(__always)
func winograd4OutputTile<V: WinogradLane>(_ m: (Int) -> V, bias b: V, _ emit: (Int, Int, V) -> Void) {
    @inline(__always) func column(_ c: Int) -> (V, V, V, V) {
        winograd4OutputColumn(m(c), m(6 + c), m(12 + c), m(18 + c), m(24 + c), m(30 + c))
    }
    let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3), c4 = column(4), c5 = column(5)
    @inline(__always) func row(_ i: Int, _ r: (V, V, V, V)) {
        emit(i, 0, r.0 + b); emit(i, 1, r.1 + b); emit(i, 2, r.2 + b); emit(i, 3, r.3 + b)
    }
    row(0, winograd4OutputColumn(c0.0, c1.0, c2.0, c3.0, c4.0, c5.0))
    row(1, winograd4OutputColumn(c0.1, c1.1, c2.1, c3.1, c4.1, c5.1))
    row(2, winograd4OutputColumn(c0.2, c1.2, c2.2, c3.2, c4.2, c5.2))
    row(3, winograd4OutputColumn(c0.3, c1.3, c2.3, c3.3, c4.3, c5.3))
}
