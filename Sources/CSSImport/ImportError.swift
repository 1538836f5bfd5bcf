/// The one error type of the import layer. Its description is a single line
/// `FILE: problem`, optionally followed by `; hint`.
public struct ImportError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file the problem is in, as the user named it (or as it was found in a bundle).
    public var file: String
    /// What is wrong, without the file name.
    public var problem: String
    /// What to do about it, if there is something short to say.
    public var hint: String?

    public init(file: String, problem: String, hint: String? = nil) {
        self.file = file
        self.problem = problem
        self.hint = hint
    }

    public var description: String {
        let line = "\(file): \(problem)" + (hint.map { "; \($0)" } ?? "")
        // Keep it one line whatever the pieces contain.
        return line.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }
}
