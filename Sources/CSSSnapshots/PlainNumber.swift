import Foundation

/// A number as messages, errors, tables and JSON write it: a whole number without ".0" (`4`, not
/// `4.0`), anything else in Swift's shortest round-trip form (`1.5`, `99.99`), so what a user typed
/// reads back the same. With `fractionDigits`, a long form is rounded to that many decimals (θ in
/// a message: `0.031169`, not `0.031169434826336488`). Non-finite values read `inf`, `-inf`, `nan`
/// (JSON writes them as null itself). The view's columns use their own width-bound formatter.
public func plainNumber(_ x: Double, fractionDigits: Int? = nil) -> String {
    if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
    let s = String(x)
    guard let digits = fractionDigits, s.count > digits + 2, x.isFinite, abs(x) < 1e12 else { return s }
    let scale = pow(10, Double(digits))
    return String(Double(Int((x * scale).rounded())) / scale)
}
