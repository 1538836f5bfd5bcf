import CSSCore
import CSSImport
import Foundation
import FuzzSupport

/// The model's path in messages and the base for external data. scripts/fuzz.sh puts
/// samples/digits-cnn/model.onnx.data next to it so external-data tensors can resolve.
let modelPath = FuzzCheck.workDirectory + "/model.onnx"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    do {
        let graph = try ONNXModelLoader.load(data: data, file: modelPath)
        // What LoadedModel does next; GraphError is its documented refusal here.
        FuzzCheck.acceptGraph(graph, file: modelPath)
        do { _ = try Network(graph) } catch is GraphError {}
    } catch {
        FuzzCheck.accept(error, file: modelPath)
    }
    return 0
}
