/// Carries a value the compiler cannot prove Sendable across a concurrency boundary, where the
/// caller guarantees the accesses are disjoint or serialised (GEMM tiles, parallel blocks).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
