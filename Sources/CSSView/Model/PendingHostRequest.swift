import CSSSnapshots

/// A host request waiting for its reply, with the `:` line that shows it.
public struct PendingHostRequest: Equatable, Sendable {
    public var request: HostRequest
    public var line: String
    /// A cancel was sent (the reply is still to come).
    public var cancelled = false
    /// The long request this change cancelled (its `:` line): the change's reply says so, as it
    /// comes after the cancelled one's and would otherwise hide it.
    public var superseded: String?
}
