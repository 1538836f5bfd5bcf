#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Timestamped lines of what the debugger's loop and its tasks did, so the latency from a key to
/// the frame that answers it can be measured inside the process (`CSSDBG_EVENT_LOG`,
/// `bench/tui_session_rss.sh`) instead of through a terminal multiplexer's screen captures.
/// Each line is `<milliseconds since start> <event> [detail]`; one `write` per line, so lines from
/// different threads never interleave.
public final class EventLog: Sendable {
    private let fd: Int32
    private let start = ContinuousClock.now

    /// Creates or truncates `path`; throws when it cannot be opened.
    public init(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw EventLogError(description: "\(path): cannot open the event log: \(String(cString: strerror(errno)))")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    public func record(_ event: String, _ detail: @autoclosure () -> String = "") {
        let d = ContinuousClock.now - start
        let us = d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000
        let frac = String(us % 1000)
        var line = "\(us / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac + " " + event
        let extra = detail()
        if !extra.isEmpty { line += " " + extra }
        line += "\n"
        _ = line.withCString { write(fd, $0, strlen($0)) }
    }
}

public struct EventLogError: Error, CustomStringConvertible {
    public var description: String
}
