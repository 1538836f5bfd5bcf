import ArgumentParser
import CSSCore
import CSSImport

@main
struct CSSDbg: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cssdbg",
        abstract: "Step through CSS-coded spiking networks converted from ANNs, find temporal-coupling hotspots, tune θ.",
        discussion: """
        MODEL is a bundle directory (model.onnx plus optional data.npy, labels.npy, calib.npy, theta.json) \
        or an .onnx file with --data/--labels/--calib. `cssdbg MODEL` opens the debugger. \
        Errors are one line on stderr; exit status 64 for a usage error (a bad flag or value), 1 for \
        a problem with a file or its data.
        """,
        version: "0.1.0",
        subcommands: [Tui.self, Eval.self, Tune.self, Doctor.self, Find.self, Sweep.self, Bench.self],
        defaultSubcommand: Tui.self
    )

    static func main() async {
        ComputeMemory.keepLargeBlocksInHeap()
        await Usage.run(self)
    }
}
