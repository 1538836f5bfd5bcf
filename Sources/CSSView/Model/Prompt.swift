import CSSSnapshots

/// A one-line prompt at the bottom: the `:` command line or the `/` layer search.
public struct Prompt: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case command, find }
    public var kind: Kind
    public var text: String
    /// The cursor, in characters from the start of `text`; nil: at the end (where typing,
    /// history and completion leave it).
    public var cursor: Int?
    /// Position in the history while browsing with up/down (nil = editing a new line).
    public var historyIndex: Int?
    /// What was typed before browsing history started.
    public var draft: String
    /// Layer-list row and neuron selected when a `/` search started (Esc goes back to them).
    public var originRow: Int?
    public var originNeuron: Int?
    /// After a Tab that found several candidates: the next Tab puts them in turn in place of
    /// the word being completed.
    public var cycle: CompletionCycle?

    public struct CompletionCycle: Equatable, Sendable {
        /// The text before the word being completed.
        public var prefix: String
        public var candidates: [String]
        /// The candidate shown (-1: none yet, the common prefix is shown).
        public var index: Int
        /// The prompt text the cycle left (any other edit ends the cycle).
        public var shown: String
    }

    /// The cursor as an index in 0...text.count.
    public var cursorIndex: Int { min(text.count, max(0, cursor ?? text.count)) }

    public init(kind: Kind, text: String = "", originRow: Int? = nil, originNeuron: Int? = nil) {
        self.kind = kind
        self.text = text
        self.historyIndex = nil
        self.draft = ""
        self.originRow = originRow
        self.originNeuron = originNeuron
    }
}
