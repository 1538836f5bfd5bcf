/// A problem with a model, its conversion or a request about it (a layer name, a sample index,
/// a θ value). The message is for the user: one line that names what was asked and why it fails.
public struct GraphError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A conversion setting out of the range the simulator supports (`ConversionConfig.validate`).
/// It says which setting, so the command line can name the flag that set it without reading the
/// message.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The settings of docs/numerics.md §1 that `validate` checks.
    public enum Setting: String, Sendable {
        case T, beta, silent, percentile
    }

    public var setting: Setting
    public var description: String

    public init(_ setting: Setting, _ description: String) {
        self.setting = setting
        self.description = description
    }
}
