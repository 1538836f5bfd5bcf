import CSSCore
import Foundation
@testable import CSSImport
import TestSupport

/// Paths of the repository's fixtures, found from this file (not SwiftPM resources).
enum Paths {
    static let repoRoot = Repository.root
    static let fixtures = repoRoot.appendingPathComponent("Tests/Fixtures/onnx")
    static let ortRefs = repoRoot.appendingPathComponent("Tests/Fixtures/ort")
    static let samples = repoRoot.appendingPathComponent("samples")

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// Fixture names (without `.onnx`).
    static func fixtureNames() -> [String] {
        let items = (try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []
        return items.filter { $0.hasSuffix(".onnx") }.map { String($0.dropLast(5)) }.sorted()
    }

    static func tempDir(_ tag: String = #function) -> URL {
        let u = FileManager.default.temporaryDirectory
            .appendingPathComponent("cssimport-\(tag.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}

/// A deliberately naive reference forward pass over the IR (batch of one), used only to check
/// that lowering preserves the ONNX semantics against onnxruntime's outputs.
enum NaiveForward {
    static func run(_ g: Graph, _ x: [Float]) throws -> [Float] {
        let shapes = try g.inferShapes()
        var vals: [String: [Float]] = [g.input: x]
        for n in g.nodes {
            let ins = n.inputs.map { vals[$0]! }
            let s = shapes[n.inputs[0]]!
            let os = shapes[n.output]!
            vals[n.output] = apply(n.op, ins, s, os)
        }
        return vals[g.output]!
    }

    static func apply(_ op: Op, _ ins: [[Float]], _ s: [Int], _ os: [Int]) -> [Float] {
        let x = ins[0]
        switch op {
        case .identity, .reshape: return x
        case .relu: return x.map { max($0, 0) }
        case .add: return zip(ins[0], ins[1]).map(+)
        case .dense(let w, let b, let out, let inF):
            return (0..<out).map { o in
                var acc = Double(b?[o] ?? 0)
                for i in 0..<inF { acc += Double(w[o * inF + i]) * Double(x[i]) }
                return Float(acc)
            }
        case .affine(let scale, let sb, let shift, let hb):
            let c = s.first ?? 1, per = x.count / max(c, 1)
            func pick(_ v: [Float], _ b: Broadcast, _ i: Int) -> Float {
                switch b { case .scalar: v[0]; case .perChannel: v[i / per]; case .full: v[i] }
            }
            return x.indices.map { i in
                var v = x[i]
                if let scale { v *= pick(scale, sb, i) }
                if let shift { v += pick(shift, hb, i) }
                return v
            }
        case .globalAveragePool:
            let hw = s[1] * s[2]
            return (0..<s[0]).map { c in Float(x[(c * hw)..<((c + 1) * hw)].reduce(0.0) { $0 + Double($1) } / Double(hw)) }
        case .averagePool(let p):
            var out = [Float](repeating: 0, count: os.reduce(1, *))
            for c in 0..<s[0] { for oh in 0..<os[1] { for ow in 0..<os[2] {
                var acc = 0.0, cnt = 0
                for kh in 0..<p.kernel.h { for kw in 0..<p.kernel.w {
                    let ih = oh * p.stride.h - p.pads.top + kh, iw = ow * p.stride.w - p.pads.left + kw
                    if ih >= 0, ih < s[1], iw >= 0, iw < s[2] { acc += Double(x[(c * s[1] + ih) * s[2] + iw]); cnt += 1 }
                }}
                let div = p.countIncludePad ? p.kernel.h * p.kernel.w : cnt
                out[(c * os[1] + oh) * os[2] + ow] = Float(acc / Double(div))
            }}}
            return out
        case .conv(let cv):
            var out = [Float](repeating: 0, count: os.reduce(1, *))
            let cinG = cv.inChannels / cv.groups, coutG = cv.outChannels / cv.groups
            for m in 0..<cv.outChannels {
                let g = m / coutG
                for oh in 0..<os[1] { for ow in 0..<os[2] {
                    var acc = Double(cv.bias?[m] ?? 0)
                    for ci in 0..<cinG { for kh in 0..<cv.kernel.h { for kw in 0..<cv.kernel.w {
                        let ih = oh * cv.stride.h - cv.pads.top + kh * cv.dilation.h
                        let iw = ow * cv.stride.w - cv.pads.left + kw * cv.dilation.w
                        guard ih >= 0, ih < s[1], iw >= 0, iw < s[2] else { continue }
                        let c = g * cinG + ci
                        acc += Double(cv.weight[((m * cinG + ci) * cv.kernel.h + kh) * cv.kernel.w + kw])
                            * Double(x[(c * s[1] + ih) * s[2] + iw])
                    }}}
                    out[(m * os[1] + oh) * os[2] + ow] = Float(acc)
                }}
            }
            return out
        }
    }
}
