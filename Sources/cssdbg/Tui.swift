import ArgumentParser
import CSSCore
import CSSImport

struct Tui: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Open the interactive debugger (the default command).")

    @OptionGroup var options: ModelOptions
    @Option(help: "Sample to focus first.") var sample = 0

    func run() async throws {
        try await reportingErrors {
            _ = try options.load()
            throw GraphError("the debugger is not wired yet")
        }
    }
}
