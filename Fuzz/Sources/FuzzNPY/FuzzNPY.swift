import CSSImport
import FuzzSupport

let file = "fuzz.npy"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    do {
        let a = try NumPyFile.decode(bytes, file: file)
        precondition(a.bytes.count == a.count * a.dtype.itemSize, "FINDING: decoded byte count does not match the shape")
        // Both readers the CLI uses (data/calib as floats, labels as ints); each may refuse.
        do { _ = try NumPyFile.floats(a, file: file) } catch { FuzzCheck.accept(error, file: file) }
        do { _ = try NumPyFile.ints(a, file: file) } catch { FuzzCheck.accept(error, file: file) }
    } catch {
        FuzzCheck.accept(error, file: file)
    }
    return 0
}
