import ArgumentParser
import CSSCore
import CSSImport

/// `cssdbg find`: where breakpoints hit over the data, headless — the engine the debugger's
/// `c`/`C` use (docs/numerics.md §11), every hit in data order, then step order.
struct Find: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print where breakpoint conditions hold over the data (the debugger's :break, headless).",
        discussion: """
        COND is one of: coupling [LAYER], overflow [LAYER], violation [LAYER], spike LAYER NEURON [+|-], \
        margin [LAYER] < VALUE, residual [LAYER] > VALUE, flip, wrong, disagree. LAYER is a tensor name, \
        display name or index, as for :theta; without LAYER, any spiking layer.
        """)

    @OptionGroup var options: ModelOptions
    @Option(name: .customLong("break"), parsing: .singleValue, help: "A breakpoint condition (repeatable; numbered from 1 in order).")
    var conditions: [String] = []
    @Flag(help: "Print one JSON object: {\"model\", \"hits\": [{\"break\", \"condition\", \"sample\", \"step\", \"layer\", \"tensor\", \"neuron\"}]}.")
    var json = false

    func validate() throws {
        if conditions.isEmpty { throw ValidationError("--break: give at least one condition, e.g. --break coupling") }
    }

    func run() async throws {
        try await reportingErrors {
            let m = try options.load()
            let layout = m.network.layout(m.config)
            let breakpoints = try Self.breakpoints(conditions, layout: layout, labelled: m.data.labels != nil)
            let theta = try m.amplitudes()
            let search = BreakpointSearch(evaluator: m.evaluator, data: m.data, amplitudes: theta, config: m.config)
            let hits = try search.hits(breakpoints, progress: Progress.reporter("searching"))
            Progress.finish()
            let output = m.network.graph.output
            if json {
                print(Self.json(hits, breakpoints: breakpoints, layout: layout, model: m.name, outputTensor: output).rendered())
            } else {
                if let notice = m.model.thetaNotice { print(notice) }
                print(Self.table(hits, breakpoints: breakpoints, layout: layout, model: m.name, samples: m.data.count))
            }
        }
    }

    /// `--break` values, numbered from 1; a bad one is a usage error naming it.
    static func breakpoints(_ texts: [String], layout: NetworkLayout, labelled: Bool) throws -> [Breakpoint] {
        try texts.enumerated().map { i, text in
            let shown = text.contains(" ") || text.isEmpty ? "'\(text)'" : text
            do {
                let c = try BreakCondition.parse(text, layout: layout)
                if c == .wrong && !labelled {
                    throw BreakConditionError("needs labels and the data has none (give --labels)")
                }
                return Breakpoint(number: i + 1, condition: c)
            } catch let e as BreakConditionError {
                throw Usage.error("--break", shown, e.description)
            }
        }
    }

    /// The layer and tensor a hit names: the spiking layer's, or "output" and the graph's output
    /// tensor for flip/wrong/disagree.
    static func place(_ h: BreakHit, _ layout: NetworkLayout, _ output: String) -> (layer: String, tensor: String) {
        guard let l = h.layer else { return ("output", output) }
        return (layout.layers[l].name, layout.layers[l].tensor)
    }

    static func json(_ hits: [BreakHit], breakpoints: [Breakpoint], layout: NetworkLayout, model: String,
                     outputTensor: String) -> JSONValue {
        let text = Dictionary(uniqueKeysWithValues: breakpoints.map { ($0.number, $0.condition.text(layout)) })
        return .object([
            ("model", .string(model)),
            ("hits", .array(hits.map { h in
                let p = place(h, layout, outputTensor)
                return .object([("break", .integer(h.breakpoint)), ("condition", .string(text[h.breakpoint] ?? "")),
                                ("sample", .integer(h.sample)), ("step", .integer(h.step)), ("layer", .string(p.layer)),
                                ("tensor", .string(p.tensor)), ("neuron", .integer(h.neuron ?? -1))])
            })),
        ])
    }

    static func table(_ hits: [BreakHit], breakpoints: [Breakpoint], layout: NetworkLayout, model: String,
                      samples: Int) -> String {
        let c = layout.config
        var lines = ["model \(model)  T=\(c.T) β=\(plainNumber(c.beta)) L=\(c.silent) negative=\(c.negative ? "on" : "off")  \(samples) samples  latency \(layout.latency) steps"]
        for bp in breakpoints {
            let n = hits.filter { $0.breakpoint == bp.number }.count
            lines.append("break \(bp.number): \(bp.condition.text(layout))  — \(n) hit\(n == 1 ? "" : "s")")
        }
        guard !hits.isEmpty else {
            lines.append("no hits")
            return lines.joined(separator: "\n")
        }
        let nameW = max(6, layout.layers.map(\.name.count).max() ?? 0)
        lines.append("")
        lines.append("break  sample     g  \(pad("layer", nameW))  neuron")
        for h in hits {
            let layer = h.layer.map { layout.layers[$0].name } ?? "output"
            lines.append("\(lpad(String(h.breakpoint), 5))  \(lpad(String(h.sample), 6))  \(lpad(String(h.step), 4))  \(pad(layer, nameW))  \(lpad(h.neuron.map(String.init) ?? "-", 6))")
        }
        return lines.joined(separator: "\n")
    }
}
