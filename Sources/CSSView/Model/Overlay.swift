import CSSSnapshots

/// Modal overlays drawn over the panes.
public enum Overlay: Equatable, Sendable {
    case none
    case help
    /// A backend failure; Esc dismisses it and the session continues.
    case error(String)
    /// The host offers to restore a saved tuning session (the question to ask). Modal:
    /// `y` restores, `d` discards (the host keeps a backup), `n` or Esc close it and leave the
    /// saved session for `:restore`.
    case restoreOffer(String)
    /// `q` with unsaved θ changes (no session file): `y` quits, `n`/Esc stay.
    case confirmQuit
    /// `:breaks`: the numbered breakpoints, enabled or not, their conditions and hit counts, as
    /// the host answered them. Esc, Enter or q close it.
    case breakpoints([BreakpointRow])
    /// The last `:sweep`'s chart and table (`ViewState.sweep`): ↑/↓ select a point, Enter
    /// reconverts to it (one undoable change), Esc/q close it.
    case sweep
    /// The last `:attribution` (`ViewState.analysis`): ↑/↓ select a layer, Enter jumps to it.
    case attribution
    /// The last `:doctor`: findings (Enter jumps) and proposals (Enter adopts).
    case doctor
    /// `:anytime`: the data-set report's accuracy against the global step.
    case anytime
}
