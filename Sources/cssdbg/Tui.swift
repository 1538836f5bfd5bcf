import ArgumentParser
import CSSApp
import CSSCore
import CSSImport
import CSSTerminal
import CSSView
import Foundation

struct Tui: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Open the interactive debugger (the default command).")

    @OptionGroup var options: ModelOptions
    @Option(parsing: .unconditional, help: "Sample to focus first.") var sample = 0
    @Flag(name: .customLong("no-session"), help: "Neither offer nor save a tuning session beside the model.")
    var noSession = false
    @Option(name: .customLong("break"), parsing: .singleValue,
            help: "A breakpoint condition, as :break takes it (repeatable; numbered from 1; c/C stop at its hits).")
    var conditions: [String] = []

    func validate() throws {
        if sample < 0 { throw Usage.error("--sample", String(sample), "must be 0 or more") }
    }

    func run() async throws {
        try await reportingErrors {
            // Opened first: a path that cannot be written is said before any work is done.
            let events = try ProcessInfo.processInfo.environment["CSSDBG_EVENT_LOG"].map { try EventLog(path: $0) }
            var m = try options.load(interactive: true)
            guard sample >= 0, sample < m.data.count else {
                throw Usage.error("--sample", String(sample), "out of range \(Usage.range(m.data.count)) (\(m.data.count) samples)")
            }
            // Before calibrating and before the terminal is touched: a bad --break is a usage error.
            let breakpoints = try Find.breakpoints(conditions, layout: m.network.layout(m.config),
                                                   labelled: m.data.labels != nil)
            do {  // before calibrating: a budget that cannot work is said at once
                let plan = try MemoryPlan.of(network: m.network, config: m.config, memory: try options.memoryBudget(),
                                             data: m.data, calib: m.calib, interactive: true)
                m.evaluator.batchSize = plan.batchSize
            } catch let e as GraphError {
                throw ImportError(file: options.model, problem: e.description)
            }
            let percentiles = try m.percentiles()
            let start = TuningState(config: m.config,
                                    amplitudes: m.model.thetaFile?.amplitudes ?? percentiles.amplitudes(m.config))
            let backend: LocalBackend
            do {
                backend = try LocalBackend(network: m.network, data: m.data, calib: m.calib, start: start,
                                           percentiles: percentiles, memory: try options.memoryBudget())
            } catch let e as GraphError {
                throw ImportError(file: options.model, problem: "\(e.description)")
            }
            let store = noSession ? nil : SessionStore.beside(model: options.model)
            var pending: SavedSession? = nil
            if let store {
                do {
                    if let saved = try store.load(layers: m.network.layerCount), saved.session.current != start {
                        pending = saved
                    }
                } catch let e as ImportError {
                    writeStderr("cssdbg: warning: \(e.description)\n")
                }
            }
            let host = DebuggerHost(backend: backend, modelName: m.name,
                                    defaultThetaPath: options.theta ?? ThetaFile.defaultPath(model: m.name), store: store,
                                    pendingRestore: pending, breakpoints: breakpoints)
            var debuggerOptions = DebuggerOptions(hostCommands: DebuggerHost.names, host: host.handler)
            debuggerOptions.events = events
            // Say when θ and config are not calibrated but come from a file, above all from the
            // bundle's own theta.json, which is picked up without being asked for.
            if m.model.thetaFile != nil, let path = m.model.thetaPath {
                debuggerOptions.initialMessages.append(.thetaOrigin(
                    m.model.thetaFromBundle ? "bundle theta.json" : URL(fileURLWithPath: path).lastPathComponent))
            }
            if let pending {
                debuggerOptions.initialMessages.append(.offerRestore(pending.restoreQuestion(commandLine: start)))
            }
            // Leave without exit-time teardown: cancelled workers may still be inside OpenBLAS,
            // whose destructors would free their buffers under them (SIGSEGV, exit 139).
            do {
                let exit = try await runDebugger(backend: backend, initialSample: sample, options: debuggerOptions)
                exitWithoutTeardown(exit.status)
            } catch {
                writeStderr("cssdbg: \(error)\n")
                exitWithoutTeardown(1)
            }
        }
    }
}
