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
        if let first = CommandLine.arguments.dropFirst().first, let message = mistypedSubcommand(first) {
            writeStderr("cssdbg: \(message)\n")
            exit(exitCode)
        }
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

    static let subcommandNames = ["tui", "eval", "tune", "find", "sweep", "bench", "help"]

    /// The first word when it is neither a subcommand nor an existing path but close to a
    /// subcommand (`evl`): "did you mean 'eval'?" instead of reading it as a model.
    static func mistypedSubcommand(_ word: String) -> String? {
        guard !word.hasPrefix("-"), !subcommandNames.contains(word), !word.contains("/"),
              access(word, F_OK) != 0 else { return nil }
        let scored = subcommandNames.map { ($0, editDistance(word.lowercased(), $0)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(1, min(2, best.0.count / 2)) else { return nil }
        let all = scored.filter { $0.1 == best.1 }.map { "'\($0.0)'" }.joined(separator: " or ")
        return "'\(word)' is neither a subcommand nor a model path; did you mean \(all)? (see cssdbg --help)"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        var prev = Array(0...y.count)
        for i in 1...max(1, x.count) where !x.isEmpty {
            var cur = [i] + [Int](repeating: 0, count: y.count)
            for j in 1...max(1, y.count) where !y.isEmpty {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return x.isEmpty ? y.count : prev[y.count]
    }
}
