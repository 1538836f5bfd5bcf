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
    @Option(help: "Sample to focus first.") var sample = 0
    @Flag(name: .customLong("no-session"), help: "Neither offer nor save a tuning session beside the model.")
    var noSession = false

    func run() async throws {
        try await reportingErrors {
            var m = try options.load(interactive: true)
            guard sample >= 0, sample < m.data.count else {
                throw ImportError(file: options.model, problem: "sample \(sample) is out of range 0..<\(m.data.count)")
            }
            do {  // before calibrating: a budget that cannot work is said at once
                let plan = try LocalBackend.plan(network: m.network, config: m.config, memory: try options.memoryBudget(),
                                                 data: m.data, calib: m.calib)
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
            let commands = TuningCommands(backend: backend, modelName: m.name,
                                          defaultThetaPath: options.theta ?? "theta.json", store: store,
                                          pendingRestore: pending)
            var debuggerOptions = DebuggerOptions(
                customCommands: TuningCommands.names,
                customHandler: { req in
                    let position = SessionPosition(sample: req.sample, step: req.step, layer: req.layer, neuron: req.neuron,
                                                   focus: req.focus, lowerLeft: req.lowerLeft, lowerRight: req.lowerRight,
                                                   hotspotFilter: req.hotspotFilter, playSpeed: req.playSpeed)
                    let o = await commands.execute(req.name, req.arguments, position: position)
                    return CustomCommandResult(message: o.message, isError: o.isError, reload: o.reload,
                                               followUp: o.followUp,
                                               tuning: o.history.map { TuningStatus(changes: $0.changes, redoable: $0.redoable) })
                })
            if let pending {
                debuggerOptions.initialMessages = [.offerRestore(
                    "Restore the tuning session saved \(pending.savedAt) (\(pending.session.history.count) changes)?")]
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
