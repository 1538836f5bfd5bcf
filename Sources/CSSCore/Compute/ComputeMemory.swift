import CBLAS

/// Allocator settings for the simulator's working set.
public enum ComputeMemory {
    /// glibc returns every block above 128 KiB to the kernel on free, so each layer's activations
    /// (megabytes, several per layer and batch) came back as fresh zero pages: page faults were a
    /// quarter of a VGG-16 SNN batch. Keeping freed blocks in the heap serves them again without
    /// raising the peak (measured on VGG-16: 68 vs 52 samples/s, peak RSS 320 vs 350 MB).
    /// Call once at start-up, before threads allocate; a no-op outside glibc.
    public static func keepLargeBlocksInHeap() { css_keep_large_blocks_in_heap() }

    /// Gives free heap memory back to the kernel; the backend calls it when a job ends, so the
    /// blocks kept for speed do not turn a transient peak into the session's footprint.
    public static func releaseFreeMemory() { css_release_free_memory() }

    /// Bytes the process has allocated and not freed (glibc's count over every arena and mapped
    /// block), or nil where the C library does not say or does not see the allocations (under
    /// AddressSanitizer, whose allocator replaces glibc's): what the memory tests count.
    public static func heapBytesInUse() -> Int? {
        guard heapCounterSeesAllocations else { return nil }
        let n = css_heap_bytes_in_use()
        return n < 0 ? nil : Int(n)
    }

    /// Free bytes at the heap's top that `releaseFreeMemory` would give back (glibc's
    /// `keepcost`), or nil where the count does not see the allocations: what a test reads to
    /// see that freeing a batch's tensors keeps them for the next batch.
    public static func heapFreeTopBytes() -> Int? {
        guard heapCounterSeesAllocations else { return nil }
        let n = css_heap_free_top_bytes()
        return n < 0 ? nil : Int(n)
    }

    /// Probed once: a 4 MiB allocation must raise the count by at least that much.
    static let heapCounterSeesAllocations: Bool = {
        guard css_heap_bytes_in_use() >= 0 else { return false }
        // The count is process-wide: another thread freeing at the same moment (a job of an
        // earlier test winding down) can hide one probe's 4 MiB, so a few tries decide. An
        // allocator the count does not see (a sanitizer's) fails every one.
        for _ in 0..<8 {
            let before = css_heap_bytes_in_use()
            let block = UnsafeMutableRawPointer.allocate(byteCount: 4 << 20, alignment: 64)
            let after = css_heap_bytes_in_use()
            block.deallocate()
            if after - before >= 4 << 20 { return true }
        }
        return false
    }()
}
