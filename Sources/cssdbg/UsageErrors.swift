import ArgumentParser
import CSSCore
import CSSImport
#if canImport(Glibc)
import Glibc
#endif

/// One error style for the whole command line: a single line `cssdbg: …` on stderr naming the
/// flag or file. A usage error (unknown or missing flag, a value out of range, flags that
/// contradict each other) exits 64 (EX_USAGE from sysexits.h, also what ArgumentParser uses);
/// a problem with a file or its data exits 1.
/// A usage error found while a command runs rather than in `validate` (e.g. a flag's value that
/// only the loaded model or data can judge). Reported as it reads, one line, exit status 64.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum Usage {
    static let exitCode: Int32 = 64

    /// A usage error naming `flag` and the value given: `--silent -1: must be 0 or more`.
    static func error(_ flag: String, _ value: String? = nil, _ problem: String) -> ValidationError {
        ValidationError(flag + (value.map { " \($0)" } ?? "") + ": " + problem)
    }

    /// `0 to 359` (never `0..<360`), or `none` when there is nothing to choose from.
    static func range(_ count: Int) -> String { count > 0 ? "0 to \(count - 1)" : "none (there are 0)" }

    /// Parses and runs the command; every error ends as one line on stderr and its exit code.
    static func run(_ root: CSSDbg.Type) async -> Never {
        do {
            var command = try root.parseAsRoot(nil)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch {
            let code = root.exitCode(for: error)
            if code == .success {
                // --help, --version, `help SUBCOMMAND`: the full text on stdout.
                print(root.fullMessage(for: error))
                exit(0)
            }
            if error is ExitCode { exit(code.rawValue) }  // already reported
            let line = root.message(for: error)
                .split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? "\(error)"
            let message = line.hasPrefix("Error: ") ? String(line.dropFirst(7)) : line
            let hint = code.rawValue == exitCode ? " (see cssdbg --help)" : ""
            writeStderr("cssdbg: \(message)\(hint)\n")
            exit(code.rawValue == exitCode || code == .validationFailure ? exitCode : code.rawValue)
        }
    }
}
