import CSSSnapshots

/// What the argument of a `:` command is, for Tab completion.
public enum ArgumentKind: Sendable {
    case none
    /// Any layer-list row: encoder, a spiking layer, output (may contain spaces).
    case layerRow
    /// A spiking layer (name or ONNX tensor).
    case spikingLayer
    /// A spiking layer or `all`.
    case spikingLayerOrAll
    /// `all`/`overflow`/`coupling` or a spiking layer.
    case hotspots
    /// A `:set` key, then its value where the value is a choice (`negative on|off`).
    case setKey
    /// A `:break` condition: its keyword, then the spiking layer it watches.
    case breakCondition
    /// A file path (completed from the directory it names).
    case path
    case sort
    case pane
    /// Free text (a file name): not completed.
    case text
}

/// One `:` command: its names, how help and docs/debugger.md describe it, and what it does. Host commands
/// parse their words into a `HostRequest` (the host executes it); the others change the view.
public struct CommandEntry: Sendable {
    public enum Action: Sendable {
        case view(@Sendable (inout ViewState, [String], inout [Command]) throws -> Void)
        case host(@Sendable ([String], NetworkLayout?) throws -> HostRequest)
    }

    public let name: String
    /// Other names it runs under; `completes` are also offered by Tab.
    public let aliases: [String]
    public let completes: [String]
    /// `:sample N` (help and docs/debugger.md show it).
    public let usage: String
    /// Help overlay lines beside / below `usage`.
    public let help: [String]
    /// The description in docs/debugger.md (Markdown).
    public let readme: String
    public let argument: ArgumentKind
    public let action: Action

    public var isHost: Bool { if case .host = action { return true } else { return false } }

    init(_ name: String, aliases: [String] = [], completes: [String] = [], usage: String, help: [String],
         readme: String? = nil, argument: ArgumentKind = .none, _ action: Action) {
        self.name = name
        self.aliases = aliases
        self.completes = completes
        self.usage = usage
        self.help = help
        self.readme = readme ?? help.joined(separator: " ")
        self.argument = argument
        self.action = action
    }
}

extension Keymap {
    /// Every `:` command, in the order help and docs/debugger.md list them.
    public static let commands: [CommandEntry] = [
        CommandEntry("sample", usage: ":sample N", help: ["go to sample N (0 to samples-1)"], .view { s, w, c in
            let v = try integer(w, ":sample needs an integer sample index")
            if v < 0 || (s.sampleCount > 0 && v >= s.sampleCount) {
                throw CommandError("sample \(v) out of range 0 to \(s.sampleCount - 1)")
            }
            if v != s.sample { selectSample(&s, v, &c) }
        }),
        CommandEntry("step", usage: ":step G", help: ["go to global step G (0 to latency)"], .view { s, w, _ in
            let v = try integer(w, ":step needs an integer global step")
            if v < 0 || v > s.maxStep { throw CommandError("step \(v) out of range 0 to \(s.maxStep)") }
            setStep(&s, v)
        }),
        CommandEntry("layer", usage: ":layer NAME", help: ["select a layer (name, prefix or part)"],
                     readme: "select a layer: what `:theta` takes, and `encoder`, `output`", argument: .layerRow,
                     .view { s, w, _ in
            guard !w.isEmpty else { throw CommandError(":layer needs a name") }
            do { setLayerRow(&s, try layerRow(named: w.joined(separator: " "), in: s)) } catch {
                throw CommandError(":layer: \(error)")
            }
        }),
        CommandEntry("neuron", usage: ":neuron I", help: ["select neuron I of the layer"], .view { s, w, _ in
            let v = try integer(w, ":neuron needs an integer neuron index")
            if v < 0 || v >= s.neuronCount { throw CommandError("neuron \(v) out of range 0 to \(s.neuronCount - 1)") }
            s.neuron = v
        }),
        CommandEntry("report", usage: ":report", help: ["compute the data-set report again"], .view { s, _, c in
            startReport(&s, &c)
        }),
        CommandEntry("hotspots", usage: ":hotspots F", help: ["F: all, overflow, coupling or a LAYER"],
                     readme: "show the hotspot list with that filter: `all`, `overflow`, `coupling` and/or a layer (`:hotspots block2.relu1`, `:hotspots coupling stem.2`)",
                     argument: .hotspots, .view { s, w, _ in try showHotspots(&s, w) }),
        CommandEntry("focus", usage: ":focus PANE", help: ["layers membrane neuron raster histogram", "coupling watch"],
                     readme: "bring a pane to the front: `layers`, `membrane`, `neuron`, `raster`, `histogram`, `coupling`, `watch`",
                     argument: .pane, .view { s, w, _ in
            guard let p = Pane(commandName: w.joined(separator: " ")) else {
                throw CommandError(":focus takes " + Pane.allCases.map(\.commandName).joined(separator: ", "))
            }
            if p == .watch && s.watches.isEmpty { throw CommandError("no watches yet: :watch LAYER NEURON") }
            focus(&s, p)
        }),
        CommandEntry("speed", usage: ":speed N", help: ["play speed in steps/s (0.5 to 32)"],
                     readme: "play speed in steps/s (nearest of 0.5 … 32, like `+`/`-`)", .view { s, w, _ in
            guard let v = Double(w.joined(separator: " ")), v > 0, v.isFinite else {
                throw CommandError(":speed needs steps per second, e.g. :speed 4")
            }
            setSpeed(&s, v)
        }),
        CommandEntry("sort", usage: ":sort KEY", help: ["layer list order: graph, coupling, overflow,", "residual (worst first); s in the list cycles"],
                     readme: "order the layer list by a data-set number (`graph`, `coupling`, `overflow`, `residual`), worst first (`s` in the list cycles)",
                     argument: .sort, .view { s, w, _ in
            guard let k = LayerSort(argument: w.joined(separator: " ")) else {
                throw CommandError(":sort takes " + LayerSort.allCases.map(\.rawValue).joined(separator: ", "))
            }
            setLayerSort(&s, k)
        }),
        CommandEntry("help", usage: ":help", help: ["this help (also ?)"], .view { s, _, _ in openHelp(&s) }),
        CommandEntry("quit", aliases: ["q", "qa"], completes: ["q"], usage: ":q", help: ["quit (asks first about unsaved θ)"],
                     readme: "quit; with `--no-session` and θ changes no `:w` wrote, it asks first", .view { s, _, c in
            requestQuit(&s, &c)
        }),
        CommandEntry("q!", aliases: ["quit!", "qa!"], completes: ["q!"], usage: ":q!", help: ["quit without asking"],
                     readme: "quit without asking about unsaved θ", .view { _, _, c in c.append(.quit) }),
    ] + hostCommands + watchCommands + breakpointCommands + jobCommands + [anytimeCommand]

    /// The host's commands (θ tuning, sessions, θ files): parsed here, executed by the host.
    static let hostCommands: [CommandEntry] = [
        CommandEntry("theta", usage: ":theta LAYER VALUE", help: ["set θ of a layer"],
                     readme: "set θ of a layer: its name, ONNX tensor name, index, `input`, or a part of a name that matches one layer (several: the message lists them)",
                     argument: .spikingLayer, .host { w, layout in
            guard w.count == 2 else { throw CommandError("usage: :theta LAYER VALUE") }
            return .setTheta(layer: try resolveLayer(w[0], layout), value: try number(w[1]))
        }),
        CommandEntry("scale", usage: ":scale LAYER FACTOR", help: ["multiply θ of a layer"], argument: .spikingLayer,
                     .host { w, layout in
            guard w.count == 2 else { throw CommandError("usage: :scale LAYER FACTOR") }
            let f = try number(w[1])
            guard f > 0 else { throw CommandError("factor must be positive") }
            return .scaleTheta(layer: try resolveLayer(w[0], layout), factor: f)
        }),
        CommandEntry("adjust", usage: ":adjust [LAYER|all] [ROUNDS 1-100]", help: ["A.3 rounds on the calibration set", "(with progress; Esc cancels, θ unchanged)"],
                     readme: "A.3 amplitude adjustment on the calibration set; the message line shows its progress, Esc or the next change cancels it (θ stays as it was)",
                     argument: .spikingLayerOrAll, .host { w, layout in
            guard w.count <= 2 else { throw CommandError("usage: :adjust [LAYER|all] [ROUNDS]") }
            var layer: Int? = nil
            if let a = w.first, a != "all" {
                let l = try resolveLayer(a, layout)
                guard l >= 0 else { throw CommandError("A.3 adjusts spiking layers, not the encoder") }
                layer = l
            }
            let rounds = w.count == 2 ? try integer(w[1]) : 1
            guard (1...100).contains(rounds) else { throw CommandError("rounds must be between 1 and 100") }
            return .adjust(layer: layer, rounds: rounds)
        }),
        CommandEntry("reset", usage: ":reset [LAYER|all]", help: ["back to the calibrated θ"], argument: .spikingLayerOrAll,
                     .host { w, layout in
            guard w.count <= 1 else { throw CommandError("usage: :reset [LAYER|all]") }
            return .reset(layer: try w.first.flatMap { $0 == "all" ? nil : try resolveLayer($0, layout) })
        }),
        CommandEntry("undo", usage: ":undo", help: ["undo a tuning change (also u)"], .host { w, _ in
            guard w.isEmpty else { throw CommandError("usage: :undo") }
            return .undo
        }),
        CommandEntry("redo", usage: ":redo", help: ["redo an undone change (also U)"], .host { w, _ in
            guard w.isEmpty else { throw CommandError("usage: :redo") }
            return .redo
        }),
        CommandEntry("set", usage: ":set KEY VALUE",
                     help: ["reconvert; KEY is one of", "T (time steps 1-64), beta (β 1-4),", "silent (L 0-16), negative on|off,",
                            "rate on|off (β 1, L 0, no negative),", "percentile (calibration, e.g. 99.99)"],
                     readme: "reconvert: `:set T 12`, `:set beta 1.25`, `:set silent 0`, `:set negative off`, `:set rate on`, `:set percentile 99.9`",
                     argument: .setKey, .host { w, _ in
            guard w.count == 2 else { throw CommandError("usage: :set T|beta|silent|negative|rate|percentile VALUE") }
            return .set(try configSetting(w[0], w[1]))
        }),
        CommandEntry("w", usage: ":w [FILE]", help: ["write θ (cssdbg-theta/1)"],
                     readme: "save θ (`cssdbg-theta/1`; default: the `--theta` file, else `MODEL.theta.json` in the directory you started in). Refuses to replace a file holding θ of another model, other layers or another config, or a file that is not a θ file: `digits-cnn.theta.json: holds θ of model 'digits-mlp', not 'digits-cnn'; use :w! to replace it`",
                     argument: .path, .host { w, _ in
            guard w.count <= 1 else { throw CommandError("usage: :w [FILE]") }
            return .write(path: w.first, force: false)
        }),
        CommandEntry("w!", usage: ":w! [FILE]", help: ["write θ, replacing whatever the file holds"],
                     readme: "save θ, replacing whatever the file holds (the message says what it replaced)",
                     argument: .path, .host { w, _ in
            guard w.count <= 1 else { throw CommandError("usage: :w! [FILE]") }
            return .write(path: w.first, force: true)
        }),
        CommandEntry("load", usage: ":load FILE", help: ["load θ and config from a θ file"],
                     readme: "load θ and config from a θ file (undoable; a bad file is reported, nothing changes)",
                     argument: .path, .host { w, _ in
            guard w.count == 1 else { throw CommandError("usage: :load FILE") }
            return .load(path: w[0])
        }),
        CommandEntry("restore", usage: ":restore", help: ["restore the session saved beside the model"], .host { _, _ in .restore }),
        CommandEntry("discard", usage: ":discard", help: ["start afresh (the saved one is backed up)"],
                     readme: "start afresh instead of the saved session (its copy stays in the backup file)", .host { _, _ in .discard }),
        CommandEntry("memory", usage: ":memory", help: ["how the --memory budget is spent"],
                     readme: "how the `--memory` budget is spent (the fixed runtime overhead, data and weights, focused sample, batch size, caches) and what the backend holds now",
                     .host { w, _ in
            guard w.isEmpty else { throw CommandError("usage: :memory") }
            return .memory
        }),
    ]

    /// The names of every host command (a host that serves them all registers these).
    public static let hostCommandNames: [String] = (hostCommands + breakpointCommands).map(\.name) + jobCommands.map(\.name)

    /// The entry `name` runs (its name or an alias; a leading `:` is ignored).
    public static func command(named name: String) -> CommandEntry? {
        let n = name.hasPrefix(":") ? String(name.dropFirst()) : name
        return commands.first { $0.name == n || $0.aliases.contains(n) }
    }
}

extension HostRequest {
    /// Parses a host command line (`adjust all 3`) as the `:` line does; errors as the message
    /// bar shows them (`:scale: factor must be positive`).
    public static func parse(_ line: String, layout: NetworkLayout?) throws -> HostRequest {
        var words = line.split(whereSeparator: { $0.isWhitespace }).map(String.init)
        guard !words.isEmpty else { throw CommandError("empty command") }
        let name = words.removeFirst()
        guard let entry = Keymap.command(named: name), case .host(let parse) = entry.action else {
            throw CommandError("unknown command :\(name)")
        }
        do { return try parse(words, layout) } catch { throw CommandError(":\(entry.name): \(error)") }
    }
}

// MARK: - Argument parsing (one-line `CommandError`s)

func integer(_ words: [String], _ problem: String) throws -> Int {
    guard let v = Int(words.joined(separator: " ")) else { throw CommandError(problem) }
    return v
}

func number(_ s: String) throws -> Double {
    guard let v = Double(s), v.isFinite else { throw CommandError("'\(s)' is not a number") }
    return v
}

func integer(_ s: String) throws -> Int {
    guard let v = Int(s) else { throw CommandError("'\(s)' is not a whole number") }
    return v
}

func flag(_ s: String) throws -> Bool {
    switch s.lowercased() {
    case "on", "true", "yes", "1": return true
    case "off", "false", "no", "0": return false
    default: throw CommandError("'\(s)' is not on/off")
    }
}

/// A spiking layer by display name, ONNX tensor name, index or unambiguous part of a name;
/// `input`/`encoder` is −1 (`NetworkLayout.layerIndex(matching:)`).
func resolveLayer(_ text: String, _ layout: NetworkLayout?) throws -> Int {
    guard let layout else { throw CommandError("the model is still loading") }
    do { return try layout.layerIndex(matching: text) } catch { throw CommandError("\(error)") }
}

/// A `:set` key and its value.
func configSetting(_ key: String, _ value: String) throws -> ConfigSetting {
    switch key.lowercased() {
    case "t": return .T(try integer(value))
    case "beta", "β": return .beta(try number(value))
    case "silent", "l": return .silent(try integer(value))
    case "negative": return .negative(try flag(value))
    case "percentile": return .percentile(try number(value))
    case "rate": return .rate(try flag(value))
    default: throw CommandError("unknown setting '\(key)'; use T, beta, silent, negative, rate or percentile")
    }
}

/// Keys of `:set`, as completion offers them.
public let setKeys = ["T", "beta", "silent", "negative", "rate", "percentile"]
