/// A batch of tensors in channel-major layout `[C][columns][H·W]`: for a fixed channel every
/// column's spatial block is contiguous, so a layer's whole coding window (columns = T × batch)
/// is one GEMM operand and the TSA recurrence reads contiguous runs. Vectors `[N]` are `[N][columns]`.
public struct Activation: Sendable {
    /// Per-sample shape (no batch).
    public var shape: [Int]
    public var columns: Int
    public var data: [Float]

    public init(shape: [Int], columns: Int, data: [Float]) {
        precondition(data.count == shape.reduce(1, *) * columns)
        self.shape = shape
        self.columns = columns
        self.data = data
    }

    public init(zeros shape: [Int], columns: Int) {
        self.init(shape: shape, columns: columns, data: [Float](repeating: 0, count: shape.reduce(1, *) * columns))
    }

    /// Storage left uninitialised, for results that overwrite every element.
    init(uninitialized shape: [Int], columns: Int) {
        let count = shape.reduce(1, *) * columns
        self.init(shape: shape, columns: columns,
                  data: [Float](unsafeUninitializedCapacity: count) { _, n in n = count })
    }

    public var channels: Int { shape.first ?? 1 }
    /// Elements per channel per column (H·W, or 1 for vectors).
    public var spatial: Int { shape.dropFirst().reduce(1, *) }
    public var sampleSize: Int { shape.reduce(1, *) }

    /// Builds the layout from sample-major data (`[columns][sampleSize]`, as NumPy stores a batch).
    public init(sampleMajor: UnsafeBufferPointer<Float>, shape: [Int], columns: Int) {
        let c = shape.first ?? 1
        let hw = shape.dropFirst().reduce(1, *)
        let size = c * hw
        var out = [Float](repeating: 0, count: size * columns)
        out.withUnsafeMutableBufferPointer { o in
            for j in 0..<columns {
                for ch in 0..<c {
                    let src = j * size + ch * hw
                    let dst = (ch * columns + j) * hw
                    for p in 0..<hw { o[dst + p] = sampleMajor[src + p] }
                }
            }
        }
        self.init(shape: shape, columns: columns, data: out)
    }

    /// One column's elements in per-sample row-major order (the order ONNX flattens in).
    public func sample(_ j: Int) -> [Float] {
        let c = channels, hw = spatial
        var out = [Float](repeating: 0, count: c * hw)
        for ch in 0..<c {
            let src = (ch * columns + j) * hw
            for p in 0..<hw { out[ch * hw + p] = data[src + p] }
        }
        return out
    }
}
