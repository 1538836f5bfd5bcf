import CSSSnapshots

/// The panes' number formatting: fixed decimals, compact counts, shapes (no Foundation).
enum Fmt {
    /// Fixed-point with `digits` decimals (no Foundation).
    static func fixed(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (abs(v) * scale).rounded()
        let neg = v < 0 && r != 0
        var intPart = String(Int(r / scale))
        if digits > 0 {
            var frac = String(Int(r.truncatingRemainder(dividingBy: scale)))
            while frac.count < digits { frac = "0" + frac }
            intPart += "." + frac
        }
        return (neg ? "-" : "") + intPart
    }

    /// About three significant digits in at most `width` columns (fewer digits when narrow). Never
    /// a form that reads as another number: a non-zero value is never shown as `0`/`0.0` (its sign
    /// and size would be lost), large values shorten to k/M/G units before powers of ten. When no
    /// form fits, the shortest one (callers size columns with `minWidth`).
    static func short(_ v: Double, width: Int = 6) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        if v == 0 { return "0" }
        let a = abs(v)
        var c: [String] = []
        if v == v.rounded() && a < 1e9 { c.append(String(Int(v))) }
        if a < 0.01 {
            c += [sci(v, 1), sci(v, 0), fixed(v, 3)]
        } else {
            for d in [3, 2, 1, 0] {
                if a >= 1 && d == 3 { continue }
                if a >= 100 && d > 1 { continue }
                if a >= 1000 && d > 0 { continue }
                let f = fixed(v, d)
                c.append(f)
                if a < 1 && d > 0 {
                    c.append(f.hasPrefix("-0.") ? "-" + f.dropFirst(2) : (f.hasPrefix("0.") ? String(f.dropFirst()) : f))
                }
            }
            if a >= 999.5 { c += unitForms(v) }
            c += [sci(v, 1), sci(v, 0)]
        }
        // A non-zero value whose form has no non-zero digit would read as zero.
        c = c.filter { f in f.contains(where: { $0 >= "1" && $0 <= "9" }) }
        return c.first(where: { $0.count <= width }) ?? c.min(by: { $0.count < $1.count })!
    }

    /// The narrowest `short` form of `v`: the width a column needs so that `v` is never cut.
    static func minWidth(_ v: Double) -> Int { short(v, width: 0).count }

    /// `v` in k/M/G/T with one decimal, then whole units (`-11k`, `1.2M`).
    static func unitForms(_ v: Double) -> [String] {
        let a = abs(v), sign = v < 0 ? "-" : ""
        var out: [String] = []
        for (unit, suffix) in [(1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T")] where a >= unit * 0.9995 {
            let x = a / unit
            if (x * 10).rounded() < 100 { out.append(sign + fixed(x, 1) + suffix) }
            if x.rounded() < 1000 || suffix == "T" { out.append(sign + fixed(x, 0) + suffix) }
        }
        return out
    }

    /// Values of one row in the same precision: the most decimals (about three significant
    /// digits of the largest value, at most `maxDigits`) with which every value fits `width`
    /// (`0.` shortened to `.` where needed); a negative value that rounds to zero keeps its sign
    /// (`-0.0`, never `0.0` for −0.036). When no common precision fits, each value on its own
    /// (`short`). So `m -10977 |u| 10977`, never `m -1e4 |u| 10977`.
    static func sameDecimals(_ vs: [Double], width: Int, maxDigits: Int = 2) -> [String] {
        guard vs.allSatisfy(\.isFinite) else { return vs.map { short($0, width: width) } }
        let top = vs.map { abs($0) }.max() ?? 0
        let digits = min(maxDigits, top >= 100 ? 0 : (top >= 10 ? 1 : 2))
        func form(_ v: Double, _ d: Int) -> String {
            var f = fixed(v, d)
            if v < 0 && !f.hasPrefix("-") { f = "-" + f }
            if f.count > width {
                if f.hasPrefix("0.") { f.removeFirst() } else if f.hasPrefix("-0.") { f.remove(at: f.index(after: f.startIndex)) }
            }
            return f
        }
        for d in stride(from: digits, through: 0, by: -1) {
            let f = vs.map { form($0, d) }
            // Whole numbers shown as integers only when none is non-zero and rounds to zero.
            let ok = zip(vs, f).allSatisfy { v, t in
                t.count <= width && (d > 0 || v == 0 || t.contains(where: { $0 >= "1" && $0 <= "9" }))
            }
            if ok { return f }
        }
        return vs.map { short($0, width: width) }
    }

    static func sci(_ v: Double, _ digits: Int = 1) -> String {
        if v == 0 { return "0" }
        var e = 0
        var m = abs(v)
        while m >= 10 { m /= 10; e += 1 }
        while m < 1 { m *= 10; e -= 1 }
        if fixed(m, digits).hasPrefix("10") { m /= 10; e += 1 }
        return (v < 0 ? "-" : "") + fixed(m, digits) + "e" + String(e)
    }

    /// pJ with a unit and three significant digits (`865 nJ`, `3.81 µJ`).
    static func energy(_ pj: Double) -> String {
        for (scale, unit) in [(1e12, "J"), (1e9, "mJ"), (1e6, "µJ"), (1e3, "nJ")] where pj >= scale {
            return short(pj / scale, width: 4) + " " + unit
        }
        return short(pj, width: 4) + " pJ"
    }

    static func percent(_ v: Double?) -> String {
        guard let v else { return "-" }
        return fixed(v * 100, 1) + "%"
    }

    static func shape(_ s: [Int], times: String) -> String {
        s.map(String.init).joined(separator: times)
    }
}
