import CSSSnapshots

/// The two status lines: where we are and how the network is doing.
enum StatusPane {
    static func render(_ s: ViewState, into g: inout CellGrid, rect: Rect) {
        guard rect.height >= 1 else { return }
        let top = Style(.title, bg: .selection, [.bold])
        g.fill(Rect(x: rect.x, y: rect.y, width: rect.width, height: 1), style: top)
        var runs: [(String, Style)] = [(" cssdbg ", top)]
        if let l = s.layout {
            let c = l.config
            runs.append((" " + l.modelName + " ", top))
            var sampleText = " sample \(s.sample)"
            if s.sampleCount > 0 { sampleText += "/\(s.sampleCount)" }
            if let t = s.trace, t.sample == s.sample, let label = t.label { sampleText += " label \(label)" }
            runs.append((sampleText + " ", top))
            runs.append((" g \(s.step)/\(l.latency) ", top))
            let beta = Fmt.fixed(c.beta, c.beta * 100 == (c.beta * 100).rounded() ? 2 : 3)
            runs.append((" T \(c.T)", top))
            runs.append((" β \(beta)", top))
            runs.append((" L \(c.silent)", top))
            runs.append((" neg \(c.negative ? "on" : "off")", top))
            if c.isRate { runs.append((" rate", top)) }
            if let origin = s.thetaOrigin {
                // Next to the model it belongs to; its first word only when the line is full.
                let full = " θ " + origin + " ", short = " θ " + (origin.split(separator: " ").first.map(String.init) ?? origin) + " "
                let fits = width(runs) + DisplayWidth.of(full) <= rect.width
                runs.insert((fits ? full : short, Style(.warn, bg: .selection, [.bold])), at: 2)
            }
        } else {
            runs.append((" loading…", top))
        }
        // Right end: the tuning indicator, then the play indicator.
        let play = s.playing ? (s.glyphs.unicode ? "▶ " : "> ") + formatSpeed(s.playSpeed) + "/s " : ""
        let room = rect.width - DisplayWidth.of(play) - width(runs)
        let forms = tuningIndicator(s).map { " " + $0 + " " }
        let tuning = forms.first(where: { DisplayWidth.of($0) <= room }) ?? forms.last ?? ""
        let rightW = DisplayWidth.of(play) + DisplayWidth.of(tuning)
        // Each part whole or not at all: the badge never covers half of one.
        g.writeFields(runs.map { [$0] }, x: rect.x, y: rect.y,
                      maxWidth: tuning.isEmpty ? rect.width : max(0, rect.width - rightW))
        if !play.isEmpty {
            g.writeRight(play, rightEdge: rect.maxX, y: rect.y, style: Style(.firing, bg: .selection, [.bold]))
        }
        if !tuning.isEmpty {
            g.writeRight(tuning, rightEdge: rect.maxX - DisplayWidth.of(play), y: rect.y,
                         style: Style(.warn, bg: .selection, [.bold]))
        }
        guard rect.height >= 2 else { return }
        let y = rect.y + 1
        var line: [(String, Style)] = []
        if let t = s.trace, t.sample == s.sample {
            let ann = t.annPrediction
            line.append((" ANN ", .dim))
            line.append(("\(ann)", Style(.normal, [.bold])))
            line.append(("  SNN@\(s.step) ", .dim))
            if let p = t.anytimePrediction(atGlobal: s.step) {
                line.append(("\(p)", Style(p == ann ? .ok : .warn, [.bold])))
            } else {
                line.append(("-", .dim))
            }
            let fin = t.snnPrediction
            line.append(("  final ", .dim))
            line.append(("\(fin)", Style(fin == ann ? .ok : .bad, [.bold])))
            if let label = t.label {
                line.append((" ", .normal))
                line.append((fin == label ? "correct" : "wrong", Style(fin == label ? .ok : .bad)))
            }
        } else if s.layout != nil {
            line.append((" sample \(s.sample) loading…", .dim))
        }
        // Right side: report progress (recomputing after a change), stale report, loading sample.
        var right: (String, Style)? = nil
        if let p = s.reportProgress {
            let barW = 12
            let filled = Int((p * Double(barW)).rounded(.down))
            let full: Character = s.glyphs.unicode ? "█" : "#"
            let empty: Character = s.glyphs.unicode ? "░" : "."
            let bar = String(repeating: full, count: filled) + String(repeating: empty, count: barW - filled)
            var text = (s.reportStale ? "recomputing " : "report ") + bar + " " + Fmt.fixed(p * 100, 0) + "% "
            // The focused sample is recomputed first (a θ change): say so, it is what the user waits for.
            if let l = s.loadingSample { text = "loading sample \(l)\(s.glyphs.ellipsis) " + text }
            right = (text, Style(.warn))
        } else if let l = s.loadingSample {
            right = ("loading sample \(l)\(s.glyphs.ellipsis) ", Style(.warn))
        } else if s.reportStale {
            right = ("report stale, r recomputes ", Style(.warn))
        }
        if let r = s.report {
            // The first variant that fits: parts are dropped (sample count, ANN accuracy) and
            // deltas compacted (no spaces, then agreement only against the previous report, then none).
            let available = rect.width - (right.map { DisplayWidth.of($0.0) + 1 } ?? 0) - width(line)
            let full = accuracyRuns(s, r, .full)
            let compact = accuracyRuns(s, r, .compact)
            let energy = energyRuns(r)
            let variants: [[(String, Style)]] = [
                full.ann + full.snn + full.samples + energy,
                full.ann + full.snn + energy,
                full.ann + full.snn + full.samples,
                full.ann + full.snn,
                [("   acc", .dim)] + full.snn,
                [(" ", .dim)] + compact.snn,
                [(" ", .dim)] + accuracyRuns(s, r, .agreeVsPrevious).snn,
                [(" ", .dim)] + accuracyRuns(s, r, .agreeWithout).snn,
            ]
            line += variants.first(where: { width($0) <= available }) ?? variants[variants.count - 1]
        }
        g.write(line, x: rect.x, y: y, maxWidth: rect.width)
        if let (text, style) = right {
            g.writeRight(text, rightEdge: rect.maxX, y: y, style: style)
        }
    }

    static func width(_ runs: [(String, Style)]) -> Int { runs.reduce(0) { $0 + DisplayWidth.of($1.0) } }

    /// "E SNN 1.64 µJ / ANN 3.81 µJ" per sample, at the standard 45 nm figures (docs/numerics.md §13).
    static func energyRuns(_ r: DatasetReport) -> [(String, Style)] {
        guard let ops = r.operations else { return [] }
        let (ann, snn) = ops.total.energy(.standard)
        return [("  E SNN ", .dim), (Fmt.energy(snn), Style(snn <= ann ? .ok : .warn)), (" / ANN ", .dim),
                (Fmt.energy(ann), .normal)]
    }

    /// Decimals of percentages: one, two for data sets larger than 1000 samples.
    static func percentDigits(_ samples: Int) -> Int { samples > 1000 ? 2 : 1 }

    /// How much room the accuracy deltas get.
    enum DeltaLayout { case full, compact, agreeVsPrevious, agreeWithout }

    /// "acc ANN x%", "SNN x% (Δprev / Δbase)  agree y% (Δprev / Δbase)", "(n samples)".
    /// Numbers of a report that is being recomputed are dim and carry no deltas.
    static func accuracyRuns(_ s: ViewState, _ r: DatasetReport, _ layout: DeltaLayout = .full)
        -> (ann: [(String, Style)], snn: [(String, Style)], samples: [(String, Style)]) {
        let digits = percentDigits(r.samples)
        func pct(_ v: Double?) -> String { v.map { Fmt.fixed($0 * 100, digits) + "%" } ?? "-" }
        let stale = s.reportStale
        let ann: [(String, Style)] = [("   acc ANN ", .dim), (pct(r.annAccuracy), stale ? .dim : .normal)]
        var snn: [(String, Style)] = [(" SNN ", .dim), (pct(r.snnAccuracy), stale ? .dim : .normal)]
        snn += deltaRuns(r.snnAccuracy, s, digits: digits, compact: layout != .full) { $0.snnAccuracy }
        snn.append(("  agree ", .dim))
        let agreeRole: ColorRole = stale ? .dim : (r.agreement >= 0.99 ? .ok : (r.agreement >= 0.9 ? .warn : .bad))
        snn.append((pct(r.agreement), Style(agreeRole)))
        if layout != .agreeWithout {
            snn += deltaRuns(r.agreement, s, digits: digits, compact: layout != .full,
                             baseline: layout != .agreeVsPrevious) { $0.agreement }
        }
        return (ann, snn, [("  (\(r.samples) sample" + (r.samples == 1 ? ")" : "s)"), .dim)])
    }

    /// " (+0.28 / +0.56)": percentage points against the previous and the baseline report,
    /// green when higher, red when lower. Empty before the first change.
    static func deltaRuns(_ now: Double?, _ s: ViewState, digits: Int, compact: Bool = false, baseline: Bool = true,
                          _ value: (DatasetReport) -> Double?) -> [(String, Style)] {
        guard let now, let prev = s.comparisonReport else { return [] }
        func run(_ before: Double?) -> (String, Style) {
            guard let before else { return ("-", .dim) }
            let d = (now - before) * 100
            let text = Fmt.fixed(abs(d), digits)
            if Double(text) == 0 { return ("0", .dim) }
            return ((d > 0 ? "+" : "-") + text, Style(d > 0 ? .better : .worse))
        }
        var out: [(String, Style)] = [(" (", .dim), run(value(prev))]
        if baseline, let base = s.baselineReport {
            out += [(compact ? "/" : " / ", .dim), run(value(base))]
        }
        out.append((")", .dim))
        return out
    }

    /// "tuning: 3 changes" from the host's history, else the number of reloads; empty before any
    /// change. Longest form first, then shorter ones for narrow screens.
    static func tuningIndicator(_ s: ViewState) -> [String] {
        // A host reply after :watch or :break carries the history too: no badge until a change.
        if let t = s.tuningStatus, t.changes > 0 || t.redoable > 0 {
            let changes = "\(t.changes) change" + (t.changes == 1 ? "" : "s")
            if t.redoable > 0 {
                return ["tuning: \(changes), \(t.redoable) undone", "tuned \(t.changes) (\(t.redoable) undone)",
                        "tuned \(t.changes)"]
            }
            return ["tuning: " + changes, "tuned \(t.changes)"]
        }
        guard s.reloadCount > 0 else { return [] }
        let reloads = "\(s.reloadCount) reload" + (s.reloadCount == 1 ? "" : "s")
        return ["tuning: " + reloads, reloads]
    }
}

/// The bottom line: the prompt, the last message, or key hints.
enum BottomBar {
    static func render(_ s: ViewState, into g: inout CellGrid, rect: Rect) {
        guard rect.height >= 1 else { return }
        if let p = s.prompt {
            let lead = p.kind == .command ? ":" : "/"
            // The line scrolls sideways to keep the cursor (a reversed cell) on screen.
            let chars = Array(lead + p.text)
            let cur = p.cursorIndex + 1
            let first = max(0, cur - (rect.width - 2))
            var x = rect.x
            for i in first...chars.count where x < rect.maxX {
                let ch: Character = i < chars.count ? chars[i] : " "
                g.put(ch, x: x, y: rect.y, style: i == cur ? Style(.normal, [.reverse]) : .normal)
                x += max(1, DisplayWidth.of(ch))
            }
            return
        }
        if let m = s.message {
            g.write(m, x: rect.x, y: rect.y, style: s.messageIsError ? Style(.bad, [.bold]) : .normal,
                    maxWidth: rect.width)
            return
        }
        let hint = s.focus == .coupling
            ? "? help  j/k hotspot  Enter jump  o overflow  c coupling  a all  Tab/S-Tab pane  q quit"
            : "? help  : command  n/b step  space play  [/] sample  j/k layer  h/l neuron  Tab pane  q quit"
        g.write(hint, x: rect.x, y: rect.y, style: .dim, maxWidth: rect.width)
    }
}

