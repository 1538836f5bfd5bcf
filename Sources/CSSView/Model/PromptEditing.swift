import CSSSnapshots

// MARK: - Prompt

func handlePromptKey(_ s: inout ViewState, _ key: Key, _ cmds: inout [Command]) {
    guard var p = s.prompt else { return }
    switch key {
    case .escape:
        s.prompt = nil
        s.message = nil
        if p.kind == .find, let row = p.originRow {
            // Esc abandons the search: back to where it started.
            setLayerRow(&s, row)
            if let n = p.originNeuron { setNeuron(&s, n) }
        }
        return
    case .enter:
        s.prompt = nil
        if p.kind == .command {
            let line = p.text.trimmingWhitespace()
            if !line.isEmpty {
                if s.history.last != line { s.history.append(line) }
                if s.history.count > 100 { s.history.removeFirst(s.history.count - 100) }
                executeCommandLine(&s, line, &cmds)
            }
        } else if !p.text.isEmpty, !searchLayers(&s, p.text), let row = p.originRow {
            // A failed search leaves the selection where it was before the search.
            setLayerRow(&s, row)
            if let n = p.originNeuron { setNeuron(&s, n) }
        }
        return
    case .backspace:
        if p.text.isEmpty { s.prompt = nil; return }
        let c = p.cursorIndex
        guard c > 0 else { break }
        p.edit(c - 1..<c, "", cursor: c - 1)
    case .delete, .ctrl("d"):
        if p.text.isEmpty { s.prompt = nil; return }
        let c = p.cursorIndex
        guard c < p.text.count else { break }
        p.edit(c..<c + 1, "", cursor: c)
    case .left, .ctrl("b"):
        p.cursor = max(0, p.cursorIndex - 1)
    case .right, .ctrl("f"):
        let c = p.cursorIndex + 1
        p.cursor = c >= p.text.count ? nil : c
    case .home, .ctrl("a"):
        p.cursor = 0
    case .end, .ctrl("e"):
        p.cursor = nil
    case .ctrl("u"):
        // Readline's unix-line-discard: from the start to the cursor.
        p.edit(0..<p.cursorIndex, "", cursor: 0)
    case .ctrl("k"):
        p.edit(p.cursorIndex..<p.text.count, "", cursor: nil)
    case .ctrl("w"):
        // The word before the cursor and the spaces between it and the cursor (unix-word-rubout).
        let chars = Array(p.text)
        var i = p.cursorIndex
        while i > 0, chars[i - 1] == " " { i -= 1 }
        while i > 0, chars[i - 1] != " " { i -= 1 }
        p.edit(i..<p.cursorIndex, "", cursor: i)
    case .up where p.kind == .command:
        guard !s.history.isEmpty else { break }
        if p.historyIndex == nil { p.draft = p.text; p.historyIndex = s.history.count }
        let i = max(0, (p.historyIndex ?? 0) - 1)
        p.historyIndex = i
        p.text = s.history[i]
        p.cursor = nil
    case .down where p.kind == .command:
        guard let hi = p.historyIndex else { break }
        if hi + 1 >= s.history.count {
            p.historyIndex = nil
            p.text = p.draft
        } else {
            p.historyIndex = hi + 1
            p.text = s.history[hi + 1]
        }
        p.cursor = nil
    case .tab:
        p.cursor = nil
        if p.kind == .command {
            if var c = p.cycle, c.shown == p.text, !c.candidates.isEmpty {
                // A second Tab: the candidates in turn.
                c.index = (c.index + 1) % c.candidates.count
                p.text = c.prefix + c.candidates[c.index]
                c.shown = p.text
                p.cycle = c
                s.message = c.candidates.enumerated().map { $0 == c.index ? "[\($1)]" : $1 }.joined(separator: "  ")
                s.messageIsError = false
            } else if let partial = pathToComplete(p.text, state: s) {
                cmds.append(.listFiles(partial: partial))  // answered by .filesListed
            } else {
                let (text, candidates) = complete(p.text, state: s)
                showCompletion(&s, &p, text, candidates)
            }
        }
    case .char(let c):
        let i = p.cursorIndex
        p.edit(i..<i, String(c), cursor: p.cursor == nil ? nil : i + 1)
    default:
        break
    }
    s.prompt = p
    if p.kind == .find { findLayer(&s, p.text, report: false) }
}

/// A first Tab's result: the completed text, and with several candidates, the list in the
/// message bar and a cycle for the next Tab.
func showCompletion(_ s: inout ViewState, _ p: inout Prompt, _ text: String, _ candidates: [String]) {
    p.text = text
    p.cursor = nil
    p.cycle = nil
    if candidates.count > 1 {
        let prefix = text.lastIndex(of: " ").map { String(text[...$0]) } ?? ""
        p.cycle = Prompt.CompletionCycle(prefix: prefix, candidates: candidates, index: -1, shown: text)
        s.message = candidates.joined(separator: "  ") + "   (Tab again: each in turn)"
        s.messageIsError = false
    }
}

extension Prompt {
    /// Replaces the characters in `range` by `text` and puts the cursor at `cursor` (nil: the end).
    mutating func edit(_ range: Range<Int>, _ replacement: String, cursor newCursor: Int?) {
        var chars = Array(text)
        let lo = max(0, min(chars.count, range.lowerBound)), hi = max(lo, min(chars.count, range.upperBound))
        chars.replaceSubrange(lo..<hi, with: Array(replacement))
        text = String(chars)
        cursor = newCursor.map { min($0, chars.count) }
        if cursor == chars.count { cursor = nil }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var sub = Substring(self)
        while let f = sub.first, f.isWhitespace { sub.removeFirst() }
        while let l = sub.last, l.isWhitespace { sub.removeLast() }
        return String(sub)
    }
}

/// Enter on `/`: the search is remembered for `f` / `F`, and the first match selected (from the
/// top, as typing showed it); false, and a message saying so, when no layer matches.
func searchLayers(_ s: inout ViewState, _ text: String) -> Bool {
    s.lastSearch = text
    guard findLayer(&s, text, report: true) else { return false }
    let n = searchMatches(s, text).count
    if n > 1 {
        s.message = "/\(text): match 1 of \(n); f / F: next / previous"
        s.messageIsError = false
    }
    return true
}

/// The layer-list rows whose names contain `text` (case-insensitive), top to bottom.
func searchMatches(_ s: ViewState, _ text: String) -> [Int] {
    let needle = text.lowercased()
    return (0..<s.layerRowCount).filter { s.rowName($0).lowercased().contains(needle) }
}

/// `f` / `F`: the next / previous layer matching the last `/` search, wrapping around (and
/// saying so); a search without a match, or no search yet, is said.
func repeatSearch(_ s: inout ViewState, forward: Bool) {
    guard let text = s.lastSearch else {
        s.message = "no search yet: / finds a layer by name"
        s.messageIsError = true
        return
    }
    let rows = searchMatches(s, text)
    guard !rows.isEmpty else {
        s.message = "no layer matches \"\(text)\""
        s.messageIsError = true
        return
    }
    let next = forward ? rows.first(where: { $0 > s.layerRow }) : rows.last(where: { $0 < s.layerRow })
    let row = next ?? (forward ? rows.first! : rows.last!)
    setLayerRow(&s, row)
    let wrapped = next == nil && rows.count > 1 ? (forward ? " (wrapped to the top)" : " (wrapped to the bottom)") : ""
    s.message = "/\(text): match \(rows.firstIndex(of: row)! + 1) of \(rows.count)" + wrapped
    s.messageIsError = false
}

/// Selects the first layer-list row whose name contains `text` (case-insensitive); false when
/// none does.
@discardableResult
func findLayer(_ s: inout ViewState, _ text: String, report: Bool) -> Bool {
    guard !text.isEmpty else { return true }
    let needle = text.lowercased()
    for row in 0..<s.layerRowCount where s.rowName(row).lowercased().contains(needle) {
        setLayerRow(&s, row)
        return true
    }
    if report {
        s.message = "no layer matches \"\(text)\""
        s.messageIsError = true
    }
    return false
}

