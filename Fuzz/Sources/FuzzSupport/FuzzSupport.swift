import CSSCore
import CSSImport
import Foundation

/// What the harnesses accept: success, or an `ImportError` whose description is one line that
/// starts with the file name. Anything else (another error type, a trap, a sanitizer report,
/// an allocation over -rss_limit_mb/-malloc_limit_mb, a run over -timeout) is a finding.
public enum FuzzCheck {
    /// Known finding classes to stop reporting while they are unfixed, so a campaign can look for
    /// others: `CSSDBG_FUZZ_IGNORE=oneline,nonfinite`.
    static let ignored = Set((ProcessInfo.processInfo.environment["CSSDBG_FUZZ_IGNORE"] ?? "")
        .split(separator: ",").map(String.init))
    public static let checkOneLine = !ignored.contains("oneline")
    public static let checkFinite = !ignored.contains("nonfinite")

    /// An imported graph must not carry NaN or infinite weights (the loader refuses them in
    /// initializers, so they must not appear through attributes or constant folding either).
    public static func acceptGraph(_ g: Graph, file: String) {
        guard checkFinite else { return }
        for n in g.nodes {
            var arrays: [[Float]] = []
            switch n.op {
            case .dense(let w, let b, _, _): arrays = [w, b ?? []]
            case .conv(let c): arrays = [c.weight, c.bias ?? []]
            case .affine(let scale, _, let shift, _): arrays = [scale ?? [], shift ?? []]
            default: break
            }
            if arrays.contains(where: { !$0.allSatisfy(\.isFinite) }) {
                fatalError("FINDING: \(file): node '\(n.name)' (\(n.op.kind)) was imported with NaN or infinite weights")
            }
        }
    }

    public static func accept(_ error: Error, file: String) {
        guard let e = error as? ImportError else {
            fatalError("FINDING: \(file): not an ImportError: \(type(of: error)): \(error)")
        }
        let d = e.description
        guard d.hasPrefix(file + ": ") else {
            fatalError("FINDING: ImportError does not start with the file name: \(d.debugDescription)")
        }
        if checkOneLine, d.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) {
            fatalError("FINDING: ImportError description is not one line: \(d.debugDescription)")
        }
    }

    /// A private directory for files the harness writes (θ input, external data).
    public static let workDirectory: String = {
        if let d = ProcessInfo.processInfo.environment["CSSDBG_FUZZ_WORK"], !d.isEmpty { return d }
        let d = NSTemporaryDirectory() + "cssdbg-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()
}
