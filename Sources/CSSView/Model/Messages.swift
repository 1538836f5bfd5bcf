import CSSSnapshots

/// Input events, already decoded by the terminal adapter.
public enum Key: Hashable, Sendable {
    case char(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace, delete
    case ctrlC
    /// Ctrl with a letter (`.ctrl("a")` for Ctrl-A), other than those above (Ctrl-C, Tab,
    /// Enter, Backspace).
    case ctrl(Character)
    /// A function key (F1 is `.function(1)`).
    case function(Int)
    /// Button-1 click at a screen cell.
    case click(x: Int, y: Int)
    /// The mouse wheel at a cell: one notch up or down.
    case wheel(x: Int, y: Int, up: Bool)
    /// The terminal now has this size.
    case resize(width: Int, height: Int)
}

/// Everything that can change the view state. Keys, ticks and finished backend work all arrive
/// here, one at a time, into `update`.
public enum Message: Sendable {
    case key(Key)
    /// Play clock (the app loop sends it every `ViewState.playInterval` while playing).
    case tick
    case layoutArrived(NetworkLayout, sampleCount: Int)
    case traceArrived(SampleTrace)
    /// A trace with its summary, computed where the trace arrived (off the UI thread: at
    /// 224×224 the summary walks 2.3 M neurons, about 0.1 s the keys would otherwise wait).
    case summarisedTraceArrived(SampleTrace, TraceSummary)
    case reportArrived(DatasetReport)
    /// Progress of the data-set report in 0...1.
    case progress(Double)
    case backendFailed(String)
    /// The host answered a `HostRequest` (they are answered in the order asked).
    case hostReply(HostReply)
    /// Progress of the running host request in 0...1 (a long `:adjust`), for the message line.
    case hostProgress(Double)
    /// A line for the message bar.
    case info(String)
    /// An error line for the message bar that does not open the error panel.
    case commandError(String)
    /// The conversion changed (θ, config): fetch layout, the current trace and the report again.
    /// The report on screen is kept, marked stale, and becomes `ViewState.previousReport` when
    /// the new one arrives.
    case reload
    /// The host's tuning history (e.g. from `TuningSession`: `changes` = undo depth, `redoable` =
    /// redo depth). Optional: without it the status line counts reloads instead.
    case tuningStatus(TuningStatus)
    /// Offer to restore a saved tuning session (the text is the question, e.g. "Restore the tuning
    /// session saved 12:03 (5 changes)?"). Shows a confirm overlay: `y` asks the host to restore, `d`
    /// to discard, `n`/Esc only close it (nothing is lost; `:restore` still works).
    case offerRestore(String)
    /// Where θ came from, for the status line: e.g. "bundle theta.json" when a bundle's own θ
    /// file set θ and config instead of calibration; nil: calibrated.
    case thetaOrigin(String?)
    /// The files `Command.listFiles(partial)` found (`fileCompletions`): Tab completes the
    /// prompt's path with them if it still reads `partial`.
    case filesListed(partial: String, names: [String])
}

/// What the host knows about the tuning history, for the status-line indicator.
public struct TuningStatus: Equatable, Sendable {
    /// Changes between the calibrated start and the current state (the undo depth).
    public var changes: Int
    /// Changes that `:redo` can bring back (the redo depth).
    public var redoable: Int
    /// The host keeps no session file and θ/config differ from what was last written: `q` asks
    /// before quitting (like vim's `:q` with changes; `:q!` does not ask).
    public var unsaved: Bool

    public init(changes: Int, redoable: Int = 0, unsaved: Bool = false) {
        self.changes = changes
        self.redoable = redoable
        self.unsaved = unsaved
    }
}

/// Side effects requested by `update`; the app loop performs them and feeds results back as
/// messages. Rendering never performs effects.
public enum Command: Equatable, Sendable {
    /// Fetch the layout and sample count (`layoutArrived`).
    case loadLayout
    /// Fetch one sample's trace (`traceArrived`).
    case loadTrace(sample: Int)
    /// Run the data-set report (`progress`..., `reportArrived`).
    case loadReport
    /// Stop a running report.
    case cancelReport
    /// Work for the host (`ViewState.hostCommands` says which it serves); answered by
    /// `Message.hostReply`.
    case host(HostRequest)
    /// Cancel the running long host request (a long `:adjust`).
    case cancelHost
    /// List the files a path being typed may complete to (`Message.filesListed`).
    case listFiles(partial: String)
    case quit
}
