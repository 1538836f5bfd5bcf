/// Layer names shortened for narrow columns so that rows stay distinct: `block1.relu2` and
/// `block2.relu2` must not both become `block…`. Leading name parts are abbreviated first
/// (`block1.relu2` → `b1.relu2`); what is still too wide is cut in the middle (the suffix usually
/// tells layers apart), the cut moving until the shortened names are as distinct as the originals. Widths are display widths, so wide (CJK) characters are never split.
public enum NameShortening {
    /// Each of `names` in at most `width` columns; names that fit are kept as they are.
    public static func shorten(_ names: [String], to width: Int, ellipsis: String = "…") -> [String] {
        guard names.contains(where: { DisplayWidth.of($0) > width }) else { return names }
        let ew = DisplayWidth.of(ellipsis)
        guard width > ew else { return names.map { DisplayWidth.clip($0, to: width) } }
        let wanted = Set(names).count
        let room = width - ew
        var best: [String] = []
        var bestDistinct = -1
        let long = names.filter { DisplayWidth.of($0) > width }
        // One rule in every pane: leading parts abbreviated first (`block1.relu1` → `b1.relu1`),
        // then, only if that is still too wide, a cut in the middle of the abbreviated name.
        let sources: [[String]] = [
            names.map { DisplayWidth.of($0) > width ? abbreviate($0, toFit: width) : $0 },
            // The parts every long name shares (`/features/…/Relu`) say nothing about the row.
            names.map { DisplayWidth.of($0) > width ? abbreviate(stripCommonParts($0, among: long), toFit: width) : $0 },
            names,
        ]
        for source in sources {
            for head in headWidths(room: room) {
                let out = source.map { cut($0, width: width, head: head, ellipsis: ellipsis) }
                let distinct = Set(out).count
                if distinct == wanted { return out }
                if distinct > bestDistinct { best = out; bestDistinct = distinct }
            }
        }
        // Last resort: what follows the characters all long names start with.
        let common = commonPrefix(long)
        if !common.isEmpty {
            let out = names.map { n -> String in
                guard DisplayWidth.of(n) > width else { return n }
                return ellipsis + DisplayWidth.clip(String(n.dropFirst(common.count)), to: room)
            }
            if Set(out).count > bestDistinct { best = out }
        }
        return best
    }

    /// One name (no others to tell apart): cut in the middle.
    public static func shorten(_ name: String, to width: Int, ellipsis: String = "…") -> String {
        shorten([name], to: width, ellipsis: ellipsis)[0]
    }

    /// Widths of the kept head to try: the middle first (the tail one column longer), then
    /// moving outwards, then all tail and all head.
    static func headWidths(room: Int) -> [Int] {
        let mid = room / 2
        var out = [mid]
        var d = 1
        while mid - d >= 1 || mid + d <= room - 1 {
            if mid - d >= 1 { out.append(mid - d) }
            if mid + d <= room - 1 { out.append(mid + d) }
            d += 1
        }
        for h in [0, room] where !out.contains(h) { out.append(h) }
        return out
    }

    /// `name` if it fits, else its first `head` columns, the ellipsis and its last columns.
    static func cut(_ name: String, width: Int, head: Int, ellipsis: String) -> String {
        if DisplayWidth.of(name) <= width { return name }
        let h = DisplayWidth.clip(name, to: head)
        let t = clipSuffix(name, to: width - DisplayWidth.of(ellipsis) - DisplayWidth.of(h))
        return h + ellipsis + t
    }

    /// The longest suffix of `s` whose width is at most `width`.
    static func clipSuffix(_ s: String, to width: Int) -> String {
        var out: [Character] = []
        var w = 0
        for c in s.reversed() {
            let cw = DisplayWidth.of(c)
            if w + cw > width { break }
            out.append(c)
            w += cw
        }
        return String(out.reversed())
    }

    /// `name` without the leading and trailing parts (whole parts between separators) that all
    /// of `names` share; `name` itself when nothing would be left.
    static func stripCommonParts(_ name: String, among names: [String]) -> String {
        guard names.count > 1 else { return name }
        let split = names.map(splitParts)
        let mine = splitParts(name)
        var pre = 0
        while pre < mine.count - 1, split.allSatisfy({ pre < $0.count - 1 && $0[pre] == mine[pre] }) { pre += 1 }
        var suf = 0
        while suf < mine.count - 1 - pre,
              split.allSatisfy({ suf < $0.count - 1 && $0[$0.count - 1 - suf] == mine[mine.count - 1 - suf] }) { suf += 1 }
        let kept = mine[pre..<(mine.count - suf)].joined()
        guard !kept.isEmpty else { return name }
        // A kept run starts at a part, not at the separator that led it.
        return kept.first.map { separators.contains($0) } == true ? String(kept.dropFirst()) : kept
    }

    /// Parts with their trailing separator: `/a.b/c` → `/`, `a.`, `b/`, `c`.
    static func splitParts(_ name: String) -> [String] {
        var parts: [String] = []
        var cur = ""
        for c in name {
            cur.append(c)
            if separators.contains(c) { parts.append(cur); cur = "" }
        }
        parts.append(cur)
        return parts
    }

    static func commonPrefix(_ xs: [String]) -> String {
        guard var p = xs.first.map(Array.init) else { return "" }
        for x in xs.dropFirst() {
            let a = Array(x)
            var i = 0
            while i < p.count, i < a.count, p[i] == a[i] { i += 1 }
            p = Array(p[..<i])
        }
        return String(p)
    }

    static let separators: Set<Character> = [".", "/", "_", "-", ":"]

    /// Every part but the last reduced to its first character and trailing digits:
    /// `block1.relu2` → `b1.relu2`, `features.10.conv` → `f.10.conv`... (digits-only parts stay).
    /// Leading parts abbreviated one after the other, from the first, until the name fits
    /// `width` (`head.classifier.fc1.relu.out` → `h.c.fc1.relu.out` in 16 columns).
    static func abbreviate(_ name: String, toFit width: Int) -> String {
        var parts: [String] = [], seps: [Character] = []
        var cur = ""
        for c in name {
            if separators.contains(c) { parts.append(cur); seps.append(c); cur = "" } else { cur.append(c) }
        }
        parts.append(cur)
        func joined() -> String {
            var out = ""
            for (i, p) in parts.enumerated() { out += p; if i < seps.count { out.append(seps[i]) } }
            return out
        }
        var i = 0
        while DisplayWidth.of(joined()) > width, i < parts.count - 1 {
            let p = parts[i]
            let digits = String(p.reversed().prefix(while: { $0.isNumber }).reversed())
            if !(digits.count == p.count || p.isEmpty) { parts[i] = String(p.first!) + digits }
            i += 1
        }
        return joined()
    }

    static func abbreviate(_ name: String) -> String {
        var parts: [String] = [], seps: [Character] = []
        var cur = ""
        for c in name {
            if separators.contains(c) { parts.append(cur); seps.append(c); cur = "" } else { cur.append(c) }
        }
        parts.append(cur)
        guard parts.count > 1 else { return name }
        var out = ""
        for (i, p) in parts.enumerated() {
            if i < parts.count - 1 {
                let digits = String(p.reversed().prefix(while: { $0.isNumber }).reversed())
                if digits.count == p.count || p.isEmpty {
                    out += p
                } else {
                    out += String(p.first!) + digits
                }
                out.append(seps[i])
            } else {
                out += p
            }
        }
        return out
    }
}
