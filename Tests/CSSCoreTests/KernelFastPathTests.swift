import XCTest
@testable import CSSCore
@testable import CSSSnapshots

/// The optimised kernels (fused im2col + tiled GEMM, the vectorised TSA recurrence and margin
/// passes, bulk statistics) against plain implementations written here, on random data.
final class KernelFastPathTests: XCTestCase {
    // MARK: Convolution

    /// Direct convolution in Float64 over the `[C][columns][H·W]` layout.
    static func naiveConv(_ c: Conv2D, _ x: Activation, oh: Int, ow: Int, constantScale: Float) -> [Double] {
        let h = x.shape[1], w = x.shape[2], n = x.columns
        let cinG = c.inChannels / c.groups, coutG = c.outChannels / c.groups
        var y = [Double](repeating: 0, count: c.outChannels * n * oh * ow)
        for co in 0..<c.outChannels {
            let group = co / coutG
            for j in 0..<n {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var s = Double(c.bias?[co] ?? 0) * Double(constantScale)
                        for cl in 0..<cinG {
                            let ci = group * cinG + cl
                            for ky in 0..<c.kernel.h {
                                for kx in 0..<c.kernel.w {
                                    let iy = oy * c.stride.h - c.pads.top + ky * c.dilation.h
                                    let ix = ox * c.stride.w - c.pads.left + kx * c.dilation.w
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                    let wv = c.weight[((co * cinG + cl) * c.kernel.h + ky) * c.kernel.w + kx]
                                    s += Double(wv) * Double(x.data[(ci * n + j) * h * w + iy * w + ix])
                                }
                            }
                        }
                        y[((co * n) + j) * oh * ow + oy * ow + ox] = s
                    }
                }
            }
        }
        return y
    }

    struct ConvCase {
        var cin, cout, h, w, n: Int
        var kernel: (Int, Int)
        var stride: (Int, Int) = (1, 1)
        var pads: (Int, Int, Int, Int) = (0, 0, 0, 0)
        var dilation: (Int, Int) = (1, 1)
        var groups = 1
    }

    func checkConv(_ k: ConvCase, seed: UInt64, tileWidths: [Int?]) {
        let cinG = k.cin / k.groups
        let weights = RandomNetworks.values(k.cout * cinG * k.kernel.0 * k.kernel.1, seed: seed, scale: 0.5)
        let conv = Conv2D(weight: weights, bias: RandomNetworks.values(k.cout, seed: seed + 1),
                          outChannels: k.cout, inChannels: k.cin, kernel: (k.kernel.0, k.kernel.1),
                          stride: (k.stride.0, k.stride.1), pads: (k.pads.0, k.pads.1, k.pads.2, k.pads.3),
                          dilation: (k.dilation.0, k.dilation.1), groups: k.groups)
        let oh = (k.h + k.pads.0 + k.pads.2 - k.dilation.0 * (k.kernel.0 - 1) - 1) / k.stride.0 + 1
        let ow = (k.w + k.pads.1 + k.pads.3 - k.dilation.1 * (k.kernel.1 - 1) - 1) / k.stride.1 + 1
        let x = Activation(shape: [k.cin, k.h, k.w], columns: k.n,
                           data: RandomNetworks.values(k.cin * k.n * k.h * k.w, seed: seed + 2))
        let expected = Self.naiveConv(conv, x, oh: oh, ow: ow, constantScale: 0.25)
        for tile in tileWidths {
            let y = AffineOps.conv(conv, x, outShape: [k.cout, oh, ow], constantScale: 0.25, scratch: ScratchPool(), tileWidth: tile)
            XCTAssertEqual(y.data.count, expected.count)
            var worst = 0.0
            for (a, b) in zip(y.data, expected) { worst = max(worst, abs(Double(a) - b) / max(1, abs(b))) }
            XCTAssertLessThan(worst, 1e-4, "\(k) tile \(String(describing: tile))")
        }
    }

    func testConvMatchesNaiveConvolution() {
        let cases: [ConvCase] = [
            ConvCase(cin: 3, cout: 4, h: 5, w: 6, n: 3, kernel: (3, 3), pads: (1, 1, 1, 1)),
            ConvCase(cin: 2, cout: 5, h: 9, w: 7, n: 2, kernel: (3, 2), stride: (2, 2), pads: (1, 0, 2, 1)),
            ConvCase(cin: 3, cout: 3, h: 8, w: 8, n: 2, kernel: (3, 3), stride: (2, 1), pads: (0, 2, 1, 0)),
            ConvCase(cin: 2, cout: 2, h: 9, w: 10, n: 2, kernel: (3, 3), pads: (2, 2, 2, 2), dilation: (2, 2)),
            ConvCase(cin: 4, cout: 6, h: 6, w: 5, n: 3, kernel: (3, 3), stride: (2, 2), pads: (1, 1, 1, 1), groups: 2),
            ConvCase(cin: 6, cout: 6, h: 5, w: 5, n: 2, kernel: (3, 3), pads: (1, 1, 1, 1), groups: 6),
            ConvCase(cin: 5, cout: 7, h: 4, w: 3, n: 2, kernel: (1, 1)),
            ConvCase(cin: 5, cout: 4, h: 7, w: 7, n: 2, kernel: (1, 1), stride: (2, 2)),
            ConvCase(cin: 2, cout: 3, h: 3, w: 3, n: 1, kernel: (5, 5), pads: (1, 1, 1, 1)),
            ConvCase(cin: 1, cout: 2, h: 4, w: 4, n: 2, kernel: (3, 3), stride: (3, 3), pads: (3, 3, 0, 0)),
            // Stride 1 with output width = input width: the shifted-block copy, asymmetric pads.
            ConvCase(cin: 2, cout: 3, h: 6, w: 5, n: 3, kernel: (2, 3), pads: (0, 2, 1, 0)),
            ConvCase(cin: 2, cout: 3, h: 6, w: 5, n: 3, kernel: (5, 3), pads: (2, 0, 0, 2)),
            ConvCase(cin: 3, cout: 2, h: 2, w: 2, n: 4, kernel: (3, 3), pads: (1, 1, 1, 1)),
            ConvCase(cin: 2, cout: 2, h: 1, w: 1, n: 3, kernel: (3, 3), pads: (1, 1, 1, 1)),
            ConvCase(cin: 2, cout: 2, h: 7, w: 3, n: 2, kernel: (3, 1), pads: (4, 0, 0, 0), dilation: (3, 1)),
            // The ImageNet stem's 7×7/2 over 3 channels (the stride-2 gather), odd and even widths.
            ConvCase(cin: 3, cout: 4, h: 19, w: 22, n: 2, kernel: (7, 7), stride: (2, 2), pads: (3, 3, 3, 3)),
            ConvCase(cin: 3, cout: 2, h: 16, w: 15, n: 2, kernel: (7, 7), stride: (2, 2), pads: (3, 3, 3, 3)),
        ]
        for (i, k) in cases.enumerated() {
            checkConv(k, seed: UInt64(100 + 10 * i), tileWidths: [nil, 37, 5, 1])
        }
    }

    /// The stride-phase im2col (`Im2col.phaseRows`, taken by strided convs with large kernels
    /// such as the ImageNet stem) against `Im2col.row`, bit for bit: strides 1–3 (unequal too),
    /// pads beyond the kernel, maps narrower than it, tiles that start and end mid-row and span
    /// images, tiles of one column.
    func testPhaseRowsEqualRowByRow() {
        let cases: [ConvCase] = [
            ConvCase(cin: 3, cout: 1, h: 19, w: 22, n: 3, kernel: (7, 7), stride: (2, 2), pads: (3, 3, 3, 3)),
            ConvCase(cin: 3, cout: 1, h: 16, w: 15, n: 2, kernel: (7, 7), stride: (2, 2), pads: (3, 2, 1, 4)),
            ConvCase(cin: 2, cout: 1, h: 13, w: 11, n: 2, kernel: (5, 8), stride: (2, 3), pads: (2, 4, 2, 1)),
            ConvCase(cin: 2, cout: 1, h: 10, w: 12, n: 2, kernel: (7, 7), stride: (3, 3), pads: (0, 0, 2, 2)),
            ConvCase(cin: 1, cout: 1, h: 4, w: 3, n: 3, kernel: (5, 5), stride: (2, 2), pads: (4, 4, 4, 4)),
            ConvCase(cin: 2, cout: 1, h: 6, w: 7, n: 2, kernel: (3, 3), stride: (1, 1), pads: (1, 1, 1, 1)),
        ]
        for k in cases {
            let c = Conv2D(weight: [Float](repeating: 0, count: k.cout * k.cin * k.kernel.0 * k.kernel.1), bias: nil,
                           outChannels: k.cout, inChannels: k.cin, kernel: (k.kernel.0, k.kernel.1),
                           stride: (k.stride.0, k.stride.1), pads: (k.pads.0, k.pads.1, k.pads.2, k.pads.3))
            let oh = (k.h + k.pads.0 + k.pads.2 - k.kernel.0) / k.stride.0 + 1
            let ow = (k.w + k.pads.1 + k.pads.3 - k.kernel.1) / k.stride.1 + 1
            let geometry = Im2col(c, h: k.h, w: k.w, oh: oh, ow: ow, columns: k.n)
            let x = RandomNetworks.values(k.cin * k.n * k.h * k.w, seed: 31)
            let kk = k.cin * k.kernel.0 * k.kernel.1, P = k.n * oh * ow
            for tile in [P, ow + 3, 2 * ow - 1, 1] {
                for start in stride(from: 0, to: P, by: tile) {
                    let cols = start..<min(P, start + tile)
                    var plain = [Float](repeating: .nan, count: kk * cols.count), phased = plain
                    var band = [Float](repeating: .nan, count: geometry.bandSize(channels: k.cin, width: cols.count))
                    x.withUnsafeBufferPointer { xp in
                        plain.withUnsafeMutableBufferPointer { d in
                            for r in 0..<kk {
                                geometry.row(r, firstChannel: 0, x: xp.baseAddress!, columns: cols,
                                             dst: d.baseAddress! + r * cols.count)
                            }
                        }
                        phased.withUnsafeMutableBufferPointer { d in
                            band.withUnsafeMutableBufferPointer { b in
                                geometry.phaseRows(firstChannel: 0, channels: k.cin, x: xp.baseAddress!, columns: cols,
                                                   dst: d.baseAddress!, band: b.baseAddress!)
                            }
                        }
                    }
                    XCTAssertEqual(phased.map(\.bitPattern), plain.map(\.bitPattern), "\(k) columns \(cols)")
                }
            }
        }
        let stem = Conv2D(weight: [], bias: nil, outChannels: 64, inChannels: 3, kernel: (7, 7), stride: (2, 2),
                          pads: (3, 3, 3, 3))
        XCTAssertTrue(Im2col(stem, h: 224, w: 224, oh: 112, ow: 112, columns: 1).readsPhases)
        let strided3x3 = Conv2D(weight: [], bias: nil, outChannels: 128, inChannels: 64, kernel: (3, 3), stride: (2, 2),
                                pads: (1, 1, 1, 1))
        XCTAssertFalse(Im2col(strided3x3, h: 56, w: 56, oh: 28, ow: 28, columns: 1).readsPhases)
    }

    // MARK: Reshape

    /// Flatten (a per-channel transpose) and general reshapes against the element formula.
    func testReshapeMatchesElementFormula() {
        let cases: [([Int], [Int], Int)] = [
            ([5, 3, 3], [45], 7), ([4, 3, 2], [2, 12], 3), ([4, 3, 2], [6, 4], 5), ([2, 6], [3, 2, 2], 4),
            ([8, 1, 1], [8], 9), ([3, 4, 4], [48, 1, 1], 2),
        ]
        for (from, to, n) in cases {
            let size = from.reduce(1, *)
            let x = Activation(shape: from, columns: n, data: RandomNetworks.values(size * n, seed: UInt64(size + n)))
            let y = AffineOps.reshape(x, to: to)
            let oldHW = from.dropFirst().reduce(1, *), newHW = to.dropFirst().reduce(1, *)
            XCTAssertEqual(y.shape, to)
            for j in 0..<n {
                for e in 0..<size {
                    let src = ((e / oldHW) * n + j) * oldHW + e % oldHW
                    let dst = ((e / newHW) * n + j) * newHW + e % newHW
                    XCTAssertEqual(y.data[dst], x.data[src], "\(from) → \(to), column \(j), element \(e)")
                }
            }
        }
    }

    /// Large enough that the default choice is the fused per-tile path.
    func testConvFusedPathOnWideInput() {
        let k = ConvCase(cin: 1, cout: 3, h: 32, w: 32, n: 17, kernel: (3, 3), stride: (1, 1), pads: (1, 1, 1, 1))
        checkConv(k, seed: 7, tileWidths: [nil])
        let s2 = ConvCase(cin: 2, cout: 3, h: 64, w: 64, n: 18, kernel: (3, 3), stride: (2, 2), pads: (1, 1, 1, 1))
        checkConv(s2, seed: 8, tileWidths: [nil])
    }

    // MARK: GEMM tiling

    func testTiledGemmMatchesNaiveAndIgnoresThreadCount() {
        let shapes = [(70, 3000, 33), (300, 700, 50), (512, 64, 300), (130, 520, 70), (5, 7, 3), (1, 4100, 2)]
        for (i, (m, n, k)) in shapes.enumerated() {
            for transA in [false, true] {
                let a = RandomNetworks.values(m * k, seed: UInt64(i * 3 + 1))
                let b = RandomNetworks.values(k * n, seed: UInt64(i * 3 + 2))
                let c0 = RandomNetworks.values(m * n, seed: UInt64(i * 3 + 3))
                var expected = [Double](repeating: 0, count: m * n)
                for r in 0..<m {
                    for q in 0..<k {
                        let av = Double(transA ? a[q * m + r] : a[r * k + q])
                        for col in 0..<n { expected[r * n + col] += av * Double(b[q * n + col]) }
                    }
                }
                var runs: [[Float]] = []
                for threads in [1, 2, 3] {
                    ComputeThreads.set(threads)
                    var c = c0
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer { cp in
                                sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: transA ? m : k, transA: transA,
                                      b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n, accumulate: true)
                            }
                        }
                    }
                    runs.append(c)
                }
                ComputeThreads.set(ProcessInfo.processInfo.activeProcessorCount)
                for idx in 0..<(m * n) {
                    let want = expected[idx] + Double(c0[idx])
                    XCTAssertEqual(Double(runs[0][idx]), want, accuracy: 1e-4 * max(1, abs(want)), "m\(m) n\(n) k\(k)")
                    if abs(Double(runs[0][idx]) - want) > 1e-4 * max(1, abs(want)) { break }
                }
                XCTAssertEqual(runs[0], runs[1], "bitwise the same on 1 and 2 threads")
                XCTAssertEqual(runs[0], runs[2], "bitwise the same on 1 and 3 threads")
            }
        }
    }

    // MARK: Average pool

    func testAveragePoolMatchesNaive() {
        for (pool, h, w) in [(Pool2D(kernel: (2, 2), stride: (2, 2)), 6, 8),
                             (Pool2D(kernel: (2, 2), stride: (2, 2)), 5, 7),
                             (Pool2D(kernel: (3, 3), stride: (2, 2), pads: (1, 1, 1, 1)), 7, 6)] {
            let oh = (h + pool.pads.top + pool.pads.bottom - pool.kernel.h) / pool.stride.h + 1
            let ow = (w + pool.pads.left + pool.pads.right - pool.kernel.w) / pool.stride.w + 1
            let x = Activation(shape: [3, h, w], columns: 4, data: RandomNetworks.values(3 * 4 * h * w, seed: 3))
            let y = AffineOps.averagePool(pool, x, outShape: [3, oh, ow])
            for r in 0..<12 {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var s: Float = 0
                        var count = 0
                        for ky in 0..<pool.kernel.h {
                            for kx in 0..<pool.kernel.w {
                                let iy = oy * pool.stride.h - pool.pads.top + ky
                                let ix = ox * pool.stride.w - pool.pads.left + kx
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                s += x.data[r * h * w + iy * w + ix]
                                count += 1
                            }
                        }
                        XCTAssertEqual(y.data[r * oh * ow + oy * ow + ox], s / Float(count))
                    }
                }
            }
        }
    }

    /// The interior fast paths (3×3/2 as in the ImageNet stem, 2×2/2, any other window) give
    /// the same bits as the tap-by-tap definition, border outputs and count_include_pad included.
    func testAveragePoolFastPathsBitwiseEqualPlain() {
        var rng = SystemRandomNumberGenerator()
        var cases: [(Pool2D, Int, Int)] = [
            (Pool2D(kernel: (3, 3), stride: (2, 2), pads: (1, 1, 1, 1), countIncludePad: true), 112, 112),
            (Pool2D(kernel: (3, 3), stride: (2, 2), pads: (1, 1, 1, 1)), 9, 13),
            (Pool2D(kernel: (2, 2), stride: (2, 2)), 7, 9),
            (Pool2D(kernel: (3, 3), stride: (2, 2)), 2, 2),
        ]
        for _ in 0..<40 {
            let k = (Int.random(in: 1...4, using: &rng), Int.random(in: 1...4, using: &rng))
            let s = (Int.random(in: 1...3, using: &rng), Int.random(in: 1...3, using: &rng))
            let pads = (Int.random(in: 0..<k.0, using: &rng), Int.random(in: 0..<k.1, using: &rng),
                        Int.random(in: 0..<k.0, using: &rng), Int.random(in: 0..<k.1, using: &rng))
            cases.append((Pool2D(kernel: k, stride: s, pads: pads, countIncludePad: Bool.random(using: &rng)),
                          Int.random(in: k.0...12, using: &rng), Int.random(in: k.1...12, using: &rng)))
        }
        for (i, (pool, h, w)) in cases.enumerated() {
            let oh = (h + pool.pads.top + pool.pads.bottom - pool.kernel.h) / pool.stride.h + 1
            let ow = (w + pool.pads.left + pool.pads.right - pool.kernel.w) / pool.stride.w + 1
            let x = Activation(shape: [2, h, w], columns: 3, data: RandomNetworks.values(2 * 3 * h * w, seed: UInt64(i)))
            let fast = AffineOps.averagePool(pool, x, outShape: [2, oh, ow])
            let plain = AffineOps.averagePoolPlain(pool, x, outShape: [2, oh, ow])
            XCTAssertEqual(fast.data.map(\.bitPattern), plain.data.map(\.bitPattern),
                           "kernel \(pool.kernel) stride \(pool.stride) pads \(pool.pads) on \(h)×\(w)")
        }
    }

    // MARK: TSA-ReLU

    struct NaiveTSA {
        var out: [Float]
        var membrane: [Float]
        var margins: [Float]
        var target: [Float]
        var encoded: [Float]
        var stats: LayerStatistics
    }

    /// The recurrence and §6 diagnostics neuron by neuron, written from docs/numerics.md §5–§6.
    static func naiveTSA(z: Activation, theta: Float, config cfg: ConversionConfig, batch B: Int, layer: Int,
                         sampleOffset: Int) -> NaiveTSA {
        let T = cfg.T, L = cfg.silent, window = T + L
        let C = z.channels, hw = z.spatial, run = B * hw
        let beta = Float(cfg.beta), threshold = Float(cfg.threshold), reset = Float(cfg.reset)
        let w = cfg.slotWeights.map(Float.init)
        let capacity: [Float] = (0...window).map { k0 in
            let first = max(0, k0 - L)
            return Float(1 + (first < T ? cfg.slotWeights[first...].reduce(0, +) : 0))
        }
        var out = [Float](repeating: 0, count: z.data.count)
        var membrane = [Float](repeating: 0, count: C * run * window)
        var margins = [Float](repeating: 0, count: C * run * (window + 1))
        var target = [Float](repeating: 0, count: C * run), encoded = target
        var stats = LayerStatistics(window: window)
        for c in 0..<C {
            for i in 0..<run {
                let n = c * run + i
                var h: Float = 0, g: Float = 0
                var spikes = [Float](repeating: 0, count: T)
                for k in 0..<window {
                    let x: Float = k < T ? z.data[(c * T + k) * run + i] * (1 / theta) : 0
                    h = beta * h + x
                    g = beta * g
                    let o = h >= 0 ? h - g : -g
                    membrane[n * window + k] = o
                    if k >= L {
                        var s: Float = 0
                        if o >= threshold { s = 1 } else if cfg.negative && o <= -threshold { s = -1 }
                        g += reset * s
                        spikes[k - L] = s
                    }
                }
                let a = max(h, 0) / reset
                var e: Float = 0
                for s in spikes {
                    e = e * beta + s
                    if s > 0 { stats.spikesPositive += 1 }
                    if s < 0 { stats.spikesNegative += 1 }
                }
                for (slot, s) in spikes.enumerated() { out[(c * T + slot) * run + i] = s * theta }
                stats.addPair(residual: a - e)
                var pending = a, first = -1, worst = Float.infinity
                for k0 in 0...window {
                    let slot = k0 - 1 - L
                    if slot >= 0 && slot < T { pending -= w[slot] * spikes[slot] }
                    let m = capacity[k0] - abs(pending)
                    margins[n * (window + 1) + k0] = m
                    worst = min(worst, m)
                    if m <= 0 {
                        stats.violationsByStep[k0] += 1
                        if first < 0 { first = k0 }
                    }
                }
                if first >= 0 {
                    stats.firstViolationByStep[first] += 1
                    if first == 0 { stats.overflow += 1 } else { stats.coupling += 1 }
                    stats.addHotspot(Hotspot(layer: layer, neuron: c * hw + i % hw, sample: sampleOffset + i / hw,
                                             kind: first == 0 ? .overflow : .coupling, firstViolationStep: first,
                                             worstMargin: Double(worst), residual: Double(abs(a - e))))
                }
                target[n] = a
                encoded[n] = e
            }
        }
        return NaiveTSA(out: out, membrane: membrane, margins: margins, target: target, encoded: encoded, stats: stats)
    }

    func assertSameStatistics(_ s: LayerStatistics, _ t: LayerStatistics, _ label: String) {
        XCTAssertEqual(s.pairs, t.pairs, label)
        XCTAssertEqual(s.spikesPositive, t.spikesPositive, label)
        XCTAssertEqual(s.spikesNegative, t.spikesNegative, label)
        XCTAssertEqual(s.violationsByStep, t.violationsByStep, label)
        XCTAssertEqual(s.firstViolationByStep, t.firstViolationByStep, label)
        XCTAssertEqual(s.overflow, t.overflow, label)
        XCTAssertEqual(s.coupling, t.coupling, label)
        XCTAssertEqual(s.overOne, t.overOne, label)
        XCTAssertEqual(s.signedHistogram, t.signedHistogram, label)
        XCTAssertEqual(s.residuals.count, t.residuals.count, label)
        XCTAssertEqual(s.residuals.maximum, t.residuals.maximum, label)
        for q in [0.0, 50, 99, 99.9, 100] {
            XCTAssertEqual(s.residuals.percentile(q), t.residuals.percentile(q), label)
        }
        var a = s, b = t
        a.trimHotspots()
        b.trimHotspots()
        XCTAssertEqual(a.hotspots, b.hotspots, label)
    }

    /// `TSALayer.run` against `naiveTSA`, bit for bit: output, statistics, and for a batch of one
    /// the traced path's rows (o, margins, target, encoded value and X per input step, every
    /// row written: the arrays are not cleared before the run). Returns the fast path's statistics.
    @discardableResult
    func checkTSA(_ z: Activation, theta: Float, config cfg: ConversionConfig, batch B: Int, label: String) -> LayerStatistics {
        let C = z.channels, hw = z.spatial, T = cfg.T
        let want = Self.naiveTSA(z: z, theta: theta, config: cfg, batch: B, layer: 2, sampleOffset: 40)
        let (fast, fastStats) = TSALayer.run(z: z, theta: Double(theta), params: TSAParameters(cfg), batch: B,
                                             layer: 2, ann: nil, sampleOffset: 40, recorder: nil)
        XCTAssertEqual(fast.data, want.out, label)
        assertSameStatistics(fastStats, want.stats, label)
        guard B == 1 else { return fastStats }
        var result: (Activation, LayerStatistics)? = nil
        let rows = TraceRecorder.recording(neurons: C * hw, T: T, window: cfg.window) { rec in
            result = TSALayer.run(z: z, theta: Double(theta), params: TSAParameters(cfg),
                                  batch: 1, layer: 2, ann: nil, sampleOffset: 40, recorder: rec)
        }
        let (traced, tracedStats) = result!
        XCTAssertEqual(traced.data, want.out, label)
        assertSameStatistics(tracedStats, want.stats, label)
        XCTAssertEqual(rows.membrane, want.membrane, label)
        XCTAssertEqual(rows.margins, want.margins, label)
        XCTAssertEqual(rows.target, want.target, label)
        XCTAssertEqual(rows.encoded, want.encoded, label)
        let invTheta = 1 / theta
        var input = [Float](repeating: .nan, count: C * hw * T)
        for c in 0..<C { for k in 0..<T { for p in 0..<hw {
            input[(c * hw + p) * T + k] = z.data[(c * T + k) * hw + p] * invTheta
        } } }
        XCTAssertEqual(rows.input, input, label)
        return fastStats
    }

    func testTSAFastAndTracedPathsMatchNaiveRecurrence() {
        let configs = [
            ConversionConfig(T: 6, beta: 1.5, silent: 1),
            ConversionConfig(T: 5, beta: 2, silent: 0, negative: false),
            ConversionConfig(T: 4, beta: 1.5, silent: 2),
            ConversionConfig(T: 3, beta: 1.25, silent: 5),
            ConversionConfig(T: 10, beta: 1.5, silent: 1, negative: false),
            ConversionConfig.rate(T: 8),
        ]
        for (ci, cfg) in configs.enumerated() {
            for B in [1, 3, 5] {  // 7, 21 and 35 neurons per channel: the scalar tail alone, vectors + tail
                let C = 5, hw = 7, T = cfg.T
                let theta: Float = 0.37
                var data = RandomNetworks.values(C * T * B * hw, seed: UInt64(ci * 10 + B), scale: 1.6 * theta)
                // Some exact zeros and a few large inputs (overflow), as in real layers.
                for i in stride(from: 0, to: data.count, by: 5) { data[i] = 0 }
                for i in stride(from: 3, to: data.count, by: 29) { data[i] *= 12 }
                let z = Activation(shape: [C, 1, hw], columns: T * B, data: data)
                let stats = checkTSA(z, theta: theta, config: cfg, batch: B, label: "config \(ci) B \(B)")
                XCTAssertGreaterThan(stats.spikesPositive, 0)
            }
        }
    }

    /// Channels longer than `TSALayer.chunkedAbove` go through the window a chunk at a time: the
    /// same bits as the neuron-by-neuron recurrence, on both paths, at chunk edges included.
    func testTSAChunkedRunsMatchNaiveRecurrence() {
        let cfg = ConversionConfig(T: 5, beta: 1.5, silent: 1)
        let theta: Float = 0.41
        let long = TSALayer.chunkedAbove + TSALayer.chunkSize / 2 + 37  // several chunks and a short last one
        for (B, hw) in [(1, long), (2, long / 2 + 3), (3, 100)] {
            let C = 2, T = cfg.T
            var data = RandomNetworks.values(C * T * B * hw, seed: UInt64(B * 7), scale: 1.6 * theta)
            for i in stride(from: 3, to: data.count, by: 31) { data[i] *= 12 }
            let z = Activation(shape: [C, 1, hw], columns: T * B, data: data)
            let stats = checkTSA(z, theta: theta, config: cfg, batch: B, label: "B \(B) hw \(hw)")
            XCTAssertGreaterThan(stats.coupling + stats.overflow, 0)
        }
    }

    /// The RMSE against the ANN is accumulated the same way on both paths.
    func testTSASquaredErrorSameOnBothPaths() {
        let cfg = ConversionConfig(T: 6, beta: 1.5, silent: 1)
        let C = 3, hw = 4
        let z = Activation(shape: [C, 2, 2], columns: cfg.T, data: RandomNetworks.values(C * cfg.T * hw, seed: 77))
        let ann = Activation(shape: [C, 2, 2], columns: 1, data: RandomNetworks.values(C * hw, seed: 78))
        let (_, a) = TSALayer.run(z: z, theta: 0.2, params: TSAParameters(cfg), batch: 1, layer: 0, ann: ann,
                                  sampleOffset: 0, recorder: nil)
        var b = LayerStatistics(window: cfg.window)
        _ = TraceRecorder.recording(neurons: C * hw, T: cfg.T, window: cfg.window) { rec in
            b = TSALayer.run(z: z, theta: 0.2, params: TSAParameters(cfg), batch: 1, layer: 0, ann: ann,
                             sampleOffset: 0, recorder: rec).1
        }
        XCTAssertEqual(a.squaredError, b.squaredError)
        XCTAssertGreaterThan(a.squaredError, 0)
    }

    // MARK: Statistics

    /// The selection-based percentile gives exactly what sorting and interpolating gives, on
    /// sizes 1…, with long runs of equal values (residuals of exactly 0) and sorted or reversed input.
    func testPercentileBySelectionEqualsSortedInterpolation() {
        func bySort(_ xs: [Float], _ q: Double) -> Double {
            let s = xs.sorted()
            let rank = q / 100 * Double(s.count - 1)
            let lo = Int(rank.rounded(.down)), hi = min(lo + 1, s.count - 1)
            return Double(s[lo]) + (rank - Double(lo)) * (Double(s[hi]) - Double(s[lo]))
        }
        var cases: [[Float]] = [[5], [2, 1], [1, 1, 1], [3, 1, 2]]
        for (i, n) in [7, 64, 999, 4096].enumerated() {
            let xs = RandomNetworks.values(n, seed: UInt64(90 + i)).map(abs)
            cases.append(xs)
            cases.append(xs.map { $0 < 0.5 ? 0 : $0 })             // a run of zeros
            cases.append(xs.map { ($0 * 4).rounded() })              // few distinct values
            cases.append(xs.sorted())
            cases.append(xs.sorted(by: >))
        }
        for xs in cases {
            for q in [0.0, 1, 37.5, 50, 90, 99, 99.9, 100] {
                XCTAssertEqual(percentile(xs, q), bySort(xs, q), "n \(xs.count) q \(q)")
                var acc = QuantileAccumulator(exactCapacity: xs.count)
                xs.withUnsafeBufferPointer { acc.add(contentsOf: $0) }
                XCTAssertEqual(acc.percentile(q), bySort(xs, q), "accumulator n \(xs.count) q \(q)")
            }
        }
        XCTAssertEqual(percentile([], 50), 0)
    }

    func testQuantileBulkAddMatchesElementwise() {
        let xs = RandomNetworks.values(250, seed: 4).map(abs)
        for capacity in [1000, 300, 100] {
            var one = QuantileAccumulator(exactCapacity: capacity), bulk = one
            for x in xs { one.add(x) }
            for chunk in stride(from: 0, to: xs.count, by: 60) {
                let part = Array(xs[chunk..<min(xs.count, chunk + 60)])
                part.withUnsafeBufferPointer { bulk.add(contentsOf: $0) }
            }
            XCTAssertEqual(one.count, bulk.count)
            XCTAssertEqual(one.maximum, bulk.maximum)
            XCTAssertEqual(one.isExact, bulk.isExact)
            for q in [0.0, 10, 50, 99.9, 100] { XCTAssertEqual(one.percentile(q), bulk.percentile(q)) }
            var merged = QuantileAccumulator(exactCapacity: capacity)
            merged.merge(one)
            XCTAssertEqual(merged.percentile(50), one.percentile(50))
        }
    }

    /// Parts folded before their merge (as `TSALayer.run` does in parallel when a layer's batch
    /// exceeds the exact capacity) give the same accumulator as adding every value to one.
    func testQuantilePartsFoldedBeforeMergeEqualOneAccumulator() {
        let xs = RandomNetworks.values(1000, seed: 9).enumerated().map { $0.offset % 7 == 0 ? 0 : abs($0.element) }
        let capacity = 600
        var one = QuantileAccumulator(exactCapacity: capacity)
        for x in xs { one.add(x) }
        var merged = QuantileAccumulator(exactCapacity: capacity)
        for chunk in stride(from: 0, to: xs.count, by: 150) {
            var part = QuantileAccumulator(exactCapacity: capacity)
            Array(xs[chunk..<min(xs.count, chunk + 150)]).withUnsafeBufferPointer { part.add(contentsOf: $0) }
            part.foldNow()
            merged.merge(part)
        }
        XCTAssertFalse(one.isExact)
        XCTAssertEqual(merged.count, one.count)
        XCTAssertEqual(merged.maximum, one.maximum)
        for q in [0.0, 1, 10, 14.3, 50, 99, 99.9, 100] { XCTAssertEqual(merged.percentile(q), one.percentile(q), "q \(q)") }
    }
    /// The histogram bin from the float's bits (`fastSlot`, used when an accumulator folds)
    /// against the logarithm (`slot`): every mantissa of one octave, the floats within 4 ulps of
    /// every bin boundary in octaves from 2^-70 to 2^66 (past both clamps), random floats of
    /// every exponent, subnormals, zero and the largest float.
    func testQuantileBinFromBitsEqualsLogarithm() {
        let bins = QuantileAccumulator.octaves * Int(QuantileAccumulator.binsPerOctave)
        func check(_ x: Float) {
            XCTAssertEqual(QuantileAccumulator.fastSlot(x, bins: bins), QuantileAccumulator.slot(x, bins: bins),
                           "x = \(x) (bits \(String(x.bitPattern, radix: 16)))")
        }
        var mismatches = 0
        for m in UInt32(0)..<(1 << 23) {
            let x = Float(bitPattern: (127 << 23) | m)
            if QuantileAccumulator.fastSlot(x, bins: bins) != QuantileAccumulator.slot(x, bins: bins) { mismatches += 1 }
        }
        XCTAssertEqual(mismatches, 0, "mantissas of [1, 2)")
        for e in stride(from: -70, through: 66, by: 1) {
            for j in 0..<Int(QuantileAccumulator.binsPerOctave) {
                var x = Float(pow(2, Double(e) + Double(j) / QuantileAccumulator.binsPerOctave))
                for _ in 0..<4 { x = x.nextDown }
                for _ in 0..<9 { check(x); x = x.nextUp }
            }
        }
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for _ in 0..<200_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            check(Float(bitPattern: UInt32(truncatingIfNeeded: state >> 33) & 0x7F7F_FFFF))
        }
        for x: Float in [0, .leastNonzeroMagnitude, .leastNormalMagnitude, .leastNormalMagnitude.nextDown,
                         .greatestFiniteMagnitude, 1, 2, 0.5, Float(1).nextDown] { check(x) }
    }
}

