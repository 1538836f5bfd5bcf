/// What a conversion sweep tries (`cssdbg sweep` and the debugger's `:sweep` parse it the same
/// way): lists of T, β, L and spike signs, every combination converted, optionally tuned with
/// A.3 rounds, and evaluated. A list not given keeps the base config's value.
public struct SweepSpec: Equatable, Sendable {
    public var T: [Int]?
    public var beta: [Double]?
    public var silent: [Int]?
    public var negative: [Bool]?
    /// A.3 rounds per point before it is evaluated (nil: none).
    public var rounds: Int?
    /// Only the first N samples of the data set are evaluated.
    public var limit: Int?

    public init(T: [Int]? = nil, beta: [Double]? = nil, silent: [Int]? = nil, negative: [Bool]? = nil,
                rounds: Int? = nil, limit: Int? = nil) {
        self.T = T
        self.beta = beta
        self.silent = silent
        self.negative = negative
        self.rounds = rounds
        self.limit = limit
    }

    /// A flag's value that cannot be used: which flag, what was given, why (one line for the
    /// command line's usage error or the debugger's message bar).
    public struct Problem: Error, Equatable, Sendable, CustomStringConvertible {
        public var flag: String
        public var value: String
        public var reason: String
        public init(flag: String, value: String, reason: String) {
            self.flag = flag
            self.value = value
            self.reason = reason
        }
        public var description: String { value.isEmpty ? "\(flag): \(reason)" : "\(flag) \(value): \(reason)" }
    }

    /// A comma-separated list of one flag; each value parsed by `parse`, none twice.
    public static func list<V: Equatable>(_ text: String, flag: String, _ parse: (String) -> V?) throws -> [V] {
        var out: [V] = []
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            let word = raw.trimmingSpaces()
            guard !word.isEmpty else { throw Problem(flag: flag, value: text, reason: "an empty value in the list") }
            guard let v = parse(word) else {
                let what = flag == "--negative" ? "on or off" : (flag == "--beta" ? "a number" : "a whole number")
                throw Problem(flag: flag, value: text, reason: "'\(word)' is not \(what)")
            }
            if out.contains(v) { throw Problem(flag: flag, value: text, reason: "'\(word)' is listed twice") }
            out.append(v)
        }
        return out
    }

    /// on/off (also true/false, yes/no).
    public static func sign(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "on", "true", "yes": return true
        case "off", "false", "no": return false
        default: return nil
        }
    }

    public static func parseT(_ text: String) throws -> [Int] { try list(text, flag: "-T") { Int($0) } }
    public static func parseBeta(_ text: String) throws -> [Double] {
        try list(text, flag: "--beta") { Double($0).flatMap { $0.isFinite ? $0 : nil } }
    }
    public static func parseSilent(_ text: String) throws -> [Int] { try list(text, flag: "--silent") { Int($0) } }
    public static func parseNegative(_ text: String) throws -> [Bool] { try list(text, flag: "--negative", sign) }

    /// The words after `:sweep` (`-T 4,6,8 --silent 0,1 --negative on,off --beta 1.5,2
    /// --rounds N --limit N`), flags in any order, each at most once.
    public static func parse(words: [String]) throws -> SweepSpec {
        var spec = SweepSpec()
        var i = 0
        var seen: Set<String> = []
        while i < words.count {
            let flag = words[i]
            let known = ["-T", "--beta", "--silent", "--negative", "--rounds", "--limit"]
            guard known.contains(flag) else {
                throw Problem(flag: flag, value: "", reason: "unknown option; use " + known.joined(separator: ", "))
            }
            guard i + 1 < words.count else { throw Problem(flag: flag, value: "", reason: "needs a value") }
            guard seen.insert(flag).inserted else { throw Problem(flag: flag, value: words[i + 1], reason: "given twice") }
            let v = words[i + 1]
            switch flag {
            case "-T": spec.T = try parseT(v)
            case "--beta": spec.beta = try parseBeta(v)
            case "--silent": spec.silent = try parseSilent(v)
            case "--negative": spec.negative = try parseNegative(v)
            case "--rounds":
                guard let n = Int(v), (1...100).contains(n) else {
                    throw Problem(flag: flag, value: v, reason: "must be between 1 and 100")
                }
                spec.rounds = n
            default:
                guard let n = Int(v), n >= 1 else { throw Problem(flag: flag, value: v, reason: "must be 1 or more") }
                spec.limit = n
            }
            i += 2
        }
        return spec
    }

    /// Every combination (T outermost, then β, L and the sign), each checked like a single
    /// config; lists not given take `base`'s value. A value out of range names its flag.
    public func configurations(base: ConversionConfig) throws -> [ConversionConfig] {
        for b in beta ?? [] where !(b > 1) {
            throw Problem(flag: "--beta", value: plainNumber(b),
                          reason: "β must be more than 1 (β = 1 is rate coding)")
        }
        let all = ConversionConfig.combinations(T: T ?? [base.T], beta: beta ?? [base.beta], silent: silent ?? [base.silent],
                                                negative: negative ?? [base.negative], base: base)
        for c in all {
            do { try c.validate() } catch let e as ConfigError {
                // The setting says which flag's value is out of range (no reading of the text).
                switch e.setting {
                case .T: throw Problem(flag: "-T", value: String(c.T), reason: e.description)
                case .beta: throw Problem(flag: "--beta", value: plainNumber(c.beta), reason: e.description)
                case .silent: throw Problem(flag: "--silent", value: String(c.silent), reason: e.description)
                case .percentile: throw Problem(flag: "--percentile", value: plainNumber(c.percentile), reason: e.description)
                }
            }
        }
        return all
    }
}

extension ConversionConfig {
    /// Every combination, T outermost, then β, L and the sign; other settings from `base`.
    public static func combinations(T: [Int], beta: [Double], silent: [Int], negative: [Bool],
                                    base: ConversionConfig) -> [ConversionConfig] {
        var out: [ConversionConfig] = []
        for t in T {
            for b in beta {
                for l in silent {
                    for n in negative {
                        var c = base
                        c.T = t
                        c.beta = b
                        c.silent = l
                        c.negative = n
                        out.append(c)
                    }
                }
            }
        }
        return out
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

/// One evaluated configuration of a sweep, as the debugger's sweep pane shows it.
public struct SweepRow: Equatable, Sendable {
    public var config: ConversionConfig
    public var latency: Int
    public var annAccuracy: Double?
    public var snnAccuracy: Double?
    public var agreement: Double
    /// The worst layer's 99.9th percentile of |u[T]|.
    public var residualP999Max: Double
    public var overflow: Int
    public var coupling: Int
    /// On the Pareto front of SNN accuracy (agreement without labels) against latency.
    public var pareto: Bool
    /// SNN synaptic operations per sample (docs/numerics.md §13).
    public var synapticOps: Double

    public init(config: ConversionConfig, latency: Int, annAccuracy: Double?, snnAccuracy: Double?, agreement: Double,
                residualP999Max: Double, overflow: Int, coupling: Int, pareto: Bool, synapticOps: Double = 0) {
        self.synapticOps = synapticOps
        self.config = config
        self.latency = latency
        self.annAccuracy = annAccuracy
        self.snnAccuracy = snnAccuracy
        self.agreement = agreement
        self.residualP999Max = residualP999Max
        self.overflow = overflow
        self.coupling = coupling
        self.pareto = pareto
    }

    /// What the front is drawn on: SNN accuracy, or agreement with the ANN when there are no labels.
    public var score: Double { snnAccuracy ?? agreement }
}

/// A finished sweep: its points in the order tried, and what they were evaluated on.
public struct SweepResult: Equatable, Sendable {
    public var rows: [SweepRow]
    public var samples: Int
    public var rounds: Int

    public init(rows: [SweepRow], samples: Int, rounds: Int) {
        self.rows = rows
        self.samples = samples
        self.rounds = rounds
    }

    /// Whether the score is SNN accuracy (labels present) or agreement with the ANN.
    public var labelled: Bool { rows.first?.snnAccuracy != nil }
}
