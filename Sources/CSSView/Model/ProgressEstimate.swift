/// A progress line with the time left, for long headless runs (`eval`, `sweep`, `find`,
/// `doctor`): `sweeping 12 points 42% · 31 s, about 43 s left`. Pure: the caller passes the
/// seconds elapsed. The estimate assumes the rest goes as fast as what is done; it is shown once
/// there is something to go by (2% done and a second spent).
public enum ProgressEstimate {
    /// Seconds left at `fraction` done after `elapsed` seconds; nil while too early to say.
    public static func remaining(fraction: Double, elapsed: Double) -> Double? {
        guard fraction.isFinite, elapsed.isFinite, fraction >= 0.02, fraction < 1, elapsed >= 1 else { return nil }
        return elapsed / fraction * (1 - fraction)
    }

    /// `label 42% · 31 s, about 43 s left` (`fraction` nil: no percentage; `remaining` nil: no
    /// estimate yet).
    public static func line(_ label: String, fraction: Double?, elapsed: Double, remaining: Double?) -> String {
        var text = label
        if let fraction { text += " \(Int((max(0, min(1, fraction)) * 100).rounded(.down)))%" }
        text += " · " + duration(elapsed)
        if let remaining { text += ", about " + duration(remaining) + " left" }
        return text
    }

    /// `label 42% · …` from the fraction done alone.
    public static func line(_ label: String, fraction: Double, elapsed: Double) -> String {
        line(label, fraction: fraction, elapsed: elapsed, remaining: remaining(fraction: fraction, elapsed: elapsed))
    }

    /// `7 s`, `2 min 05 s`, `1 h 03 min`: whole seconds, rounded up for what is left.
    public static func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded(.up)))
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min " + pad(s % 60) + " s" }
        return "\(s / 3600) h " + pad(s / 60 % 60) + " min"
    }

    private static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
}
