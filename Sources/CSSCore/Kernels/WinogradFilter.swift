/// Which Winograd tile the eligible 3×3 convolutions use (`cssdbg bench --conv`).
public enum WinogradTiles: String, Sendable, CaseIterable {
    /// F(4×4, 3×3) where the output map is at least `WinogradFilter.largeTileMinimumSide` (4) on both
    /// sides, F(2×2, 3×3) on smaller maps (chosen per layer by measurement; docs/performance.md).
    case auto
    /// F(2×2, 3×3) everywhere (`--conv winograd`).
    case small = "winograd"
    /// F(4×4, 3×3) everywhere it applies (`--conv winograd4`).
    case large = "winograd4"

    /// What every command uses unless `--conv` says otherwise (the one place the default is set).
    /// F(2×2): with `.auto`, digits-resnet leaves the reference-agreement tolerances of
    /// docs/numerics.md §9 in 1 of its 24 grid configs (T=12 L=1 neg: block3.relu2's residual
    /// maximum 4.4 % off where §9 allows 3 %, 1.47 of the tolerance), and two more use 0.91 and 1.00
    /// of it. The more accurate points (3.9e-6 of the largest output instead of 1e-5) fixed the
    /// other two configs the old ones failed but not this one (both point sets give the same
    /// residual, im2col and F(2×2) the reference's), so the default changes when it passes, not by
    /// widening §9 (docs/performance.md, "Winograd F(4×4, 3×3)"; `tools/reference/conv_agreement.py` measures it).
    public static let standard: WinogradTiles = .small
}

/// The transformed filters `U = G g Gᵀ` of one convolution, for F(2×2, 3×3) (16 planes) or
/// F(4×4, 3×3) (36 planes).
public struct WinogradFilter: Sendable {
    /// `U[ξ][cout][cin]`, ξ = side·row + column of the transformed tile (side = tile + 2).
    let u: [Float]
    let outChannels: Int
    let inChannels: Int
    /// Output tile side: 2 for F(2×2, 3×3), 4 for F(4×4, 3×3).
    public let tile: Int

    /// Input channels below which the plain im2col path stays (the transforms would dominate).
    static let minimumInputChannels = 8

    /// Smallest output map side (both sides) on which `.auto` takes F(4×4). On a 4×4 map one
    /// F(4×4) tile costs 36 products for 16 outputs against F(2×2)'s 64 (measured per layer on
    /// VGG-16 and ResNet-18: 0.4–0.75× F(2×2)'s time); on 2×2 maps 36 products give 4 outputs
    /// against F(2×2)'s 16, and F(4×4) took 2.6× as long (docs/performance.md).
    public static let largeTileMinimumSide = 4

    /// Whether `c` is a convolution this kernel computes (3×3, stride 1, no dilation, one group).
    static func applies(to c: Conv2D) -> Bool {
        c.kernel == (3, 3) && c.stride == (1, 1) && c.dilation == (1, 1) && c.groups == 1
            && c.inChannels >= minimumInputChannels
            && c.pads.top <= 2 && c.pads.left <= 2 && c.pads.bottom <= 2 && c.pads.right <= 2
    }

    /// The tile `choice` gives a convolution whose output map is `outputShape` (`[C, H, W]`).
    static func tile(for choice: WinogradTiles, outputShape: [Int]) -> Int {
        switch choice {
        case .small: return 2
        case .large: return 4
        case .auto:
            let side = outputShape.count == 3 ? min(outputShape[1], outputShape[2]) : 0
            return side >= largeTileMinimumSide ? 4 : 2
        }
    }

    /// The filters of `c` for the tile `choice` picks on this output map, or nil when the conv is
    /// not one these kernels compute.
    init?(_ c: Conv2D, choice: WinogradTiles, outputShape: [Int]) {
        self.init(c, tile: Self.tile(for: choice, outputShape: outputShape))
    }

    /// `G g Gᵀ` of every filter for output tiles of side `tile` (2 or 4), or nil when the conv is
    /// not one these kernels compute.
    init?(_ c: Conv2D, tile: Int = 2) {
        guard tile == 2 || tile == 4, Self.applies(to: c), c.weight.count == c.outChannels * c.inChannels * 9 else {
            return nil
        }
        outChannels = c.outChannels
        inChannels = c.inChannels
        self.tile = tile
        u = tile == 2 ? Self.transform2(c) : Self.transform4(c)
    }

    /// F(2×2): `G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]` (exact in Float32).
    static func transform2(_ c: Conv2D) -> [Float] {
        let cout = c.outChannels, cin = c.inChannels
        var u = [Float](repeating: 0, count: 16 * cout * cin)
        c.weight.withUnsafeBufferPointer { g in
            u.withUnsafeMutableBufferPointer { u in
                let plane = cout * cin
                for pair in 0..<plane {
                    let k = g.baseAddress! + pair * 9
                    // Gg (4×3): G applied down each kernel column, then Gᵀ along each row of Gg.
                    for row in 0..<4 {
                        func gRow(_ col: Int) -> Float {
                            let a = k[col], b = k[3 + col], d = k[6 + col]
                            switch row {
                            case 0: return a
                            case 1: return 0.5 * (a + b + d)
                            case 2: return 0.5 * (a - b + d)
                            default: return d
                            }
                        }
                        let a = gRow(0), b = gRow(1), d = gRow(2)
                        u[(row * 4 + 0) * plane + pair] = a
                        u[(row * 4 + 1) * plane + pair] = 0.5 * (a + b + d)
                        u[(row * 4 + 2) * plane + pair] = 0.5 * (a - b + d)
                        u[(row * 4 + 3) * plane + pair] = d
                    }
                }
            }
        }
        return u
    }

    /// F(4×4) with the points 0, ±1, 2, −½, ∞ and the row scales of `Winograd4Conv`'s Bᵀ and Aᵀ:
    /// `G = [1 0 0; −⅙ −⅙ −⅙; ⅙ −⅙ ⅙; 1/30 1/15 2/15; 2/15 −1/15 1/30; 0 0 1]` (rows 1 … 3 halved
    /// for Bᵀ's doubled rows, row 4 times −1/8 for Aᵀ's −8 4 −2 1). Its fractions are not exact in
    /// Float32, so `G g Gᵀ` is computed in Float64 and rounded once: every coefficient of the
    /// conversion that is not a small integer lives here, where it costs one pass over the weights.
    static func transform4(_ c: Conv2D) -> [Float] {
        let cout = c.outChannels, cin = c.inChannels
        var u = [Float](repeating: 0, count: 36 * cout * cin)
        // G on three values (a kernel column, or a row of G g): a + c and 2b are shared.
        @inline(__always) func g(_ a: Double, _ b: Double, _ c: Double) -> (Double, Double, Double, Double, Double, Double) {
            let s = a + c, b2 = 2 * b
            return (a, -(s + b) / 6, (s - b) / 6, (a + b2 + 4 * c) / 30, (4 * a - b2 + c) / 30, c)
        }
        c.weight.withUnsafeBufferPointer { w in
            u.withUnsafeMutableBufferPointer { u in
                let plane = cout * cin
                for pair in 0..<plane {
                    let k = w.baseAddress! + pair * 9
                    @inline(__always) func column(_ j: Int) -> (Double, Double, Double, Double, Double, Double) {
                        g(Double(k[j]), Double(k[3 + j]), Double(k[6 + j]))
                    }
                    let c0 = column(0), c1 = column(1), c2 = column(2)  // G g, by columns
                    @inline(__always) func row(_ i: Int, _ a: Double, _ b: Double, _ c: Double) {
                        let r = g(a, b, c)
                        let base = 6 * i
                        u[(base + 0) * plane + pair] = Float(r.0); u[(base + 1) * plane + pair] = Float(r.1)
                        u[(base + 2) * plane + pair] = Float(r.2); u[(base + 3) * plane + pair] = Float(r.3)
                        u[(base + 4) * plane + pair] = Float(r.4); u[(base + 5) * plane + pair] = Float(r.5)
                    }
                    row(0, c0.0, c1.0, c2.0); row(1, c0.1, c1.1, c2.1); row(2, c0.2, c1.2, c2.2)
                    row(3, c0.3, c1.3, c2.3); row(4, c0.4, c1.4, c2.4); row(5, c0.5, c1.5, c2.5)
                }
            }
        }
        return u
    }
}

/// Float or a vector of Floats: the transforms' arithmetic is written once for both.
protocol WinogradLane {
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Float, b: Self) -> Self
}
extension Float: WinogradLane {}
extension SIMD8: WinogradLane where Scalar == Float {}
