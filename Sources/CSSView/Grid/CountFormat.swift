/// Counts that fit a column: exact when the digits fit, else rounded to a unit (`9.7k`, `97k`,
/// `1.2M`), never cut. A debugger that drops a digit once is not believed again.
extension Fmt {
    /// `n` in at most `width` columns, sign included (`signed`: a leading `+` on positive
    /// values, for changes). The most precise form that fits: all digits, then one decimal of
    /// k/M/G, then whole k/M/G. When nothing fits, the shortest form (callers size columns so
    /// that every count up to 10^12 fits in 4 columns, 5 with a sign).
    static func count(_ n: Int, width: Int = 4, signed: Bool = false) -> String {
        let sign = n < 0 ? "-" : (signed && n > 0 ? "+" : "")
        let a = n.magnitude
        let exact = sign + String(a)
        var forms = [exact]
        let units: [(Double, String)] = [(1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T")]
        for (i, (unit, suffix)) in units.enumerated() where Double(a) >= unit * 0.9995 {
            let v = Double(a) / unit
            // One decimal while it stays below 10 once rounded (9.96k is 10k, not 10.0k).
            if (v * 10).rounded() < 100 { forms.append(sign + fixed(v, 1) + suffix) }
            // Whole units while below 1000 (999.6k is 1.0M, not 1000k).
            if v.rounded() < 1000 || i == units.count - 1 { forms.append(sign + fixed(v, 0) + suffix) }
        }
        return forms.first(where: { $0.count <= width }) ?? forms.min(by: { $0.count < $1.count })!
    }
}
