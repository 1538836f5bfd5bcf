import CSSImport
import Foundation
import FuzzSupport

/// ThetaFile only reads from a path, so each input is written to this file first.
let path = FuzzCheck.workDirectory + "/theta.json"
/// Spiking-layer tensors of the model the file is checked against (samples/coupling and the
/// dynamo exporter's naming style, so seed files match).
let layers = ["hidden", "/relu/Relu_output_0", "relu_1"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTheta(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    // A fresh file each time with plain POSIX calls: FileManager.createFile (atomic rename) and
    // O_TRUNC both make ext4 flush on close, which cut the rate from ~10000 to ~150 runs/s.
    unlink(path)
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard fd >= 0 else { fatalError("cannot write \(path)") }
    if count > 0, let start { precondition(write(fd, start, count) == count, "short write to \(path)") }
    close(fd)
    // The first byte also picks which layers the model has, so "missing" and "extra" both occur.
    let expected = layers.enumerated().filter { i, _ in (data.first ?? 0) & (1 << i) != 0 }.map(\.element)
    for tensors in [["hidden"], expected] {
        do {
            let t = try ThetaFile.read(path: path, tensors: tensors)
            precondition(t.amplitudes.layers.count == tensors.count && t.amplitudes.layers.allSatisfy { $0.isFinite && $0 > 0 },
                         "FINDING: accepted θ values that are not positive and finite")
            precondition(t.amplitudes.input.isFinite && t.amplitudes.input > 0, "FINDING: accepted a bad input θ")
        } catch {
            FuzzCheck.accept(error, file: path)
        }
    }
    return 0
}
