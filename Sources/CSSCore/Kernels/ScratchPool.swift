import CSSSnapshots

/// Reusable uninitialised Float buffers (im2col tiles), so hot loops do not allocate, fault in
/// and free megabytes per call. Keeps at most `limit` buffers and `floatLimit` floats (64 MiB).
final class ScratchPool: Sendable {
    static let limit = 4
    static let floatLimit = 1 << 24

    struct Buffer: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Float>
        let capacity: Int
    }

    private let free = Locked<[Buffer]>([])

    deinit {
        for b in free.value { b.pointer.deallocate() }
    }

    /// A buffer of at least `count` floats (contents undefined).
    func take(_ count: Int) -> Buffer {
        let found: Buffer? = free.withLock { free in
            guard let i = free.indices.filter({ free[$0].capacity >= count })
                .min(by: { free[$0].capacity < free[$1].capacity }) else { return nil }
            return free.remove(at: i)
        }
        if let found { return found }
        let capacity = max(1, count)
        return Buffer(pointer: .allocate(capacity: capacity), capacity: capacity)
    }

    func give(_ b: Buffer) {
        let dropped: [Buffer] = free.withLock { free in
            free.append(b)
            var out: [Buffer] = []
            // Drop the smallest until both limits hold (a buffer above the float limit alone goes too).
            while free.count > Self.limit || free.reduce(0, { $0 + $1.capacity }) > Self.floatLimit {
                let i = free.indices.min { free[$0].capacity < free[$1].capacity }!
                out.append(free.remove(at: i))
            }
            return out
        }
        for d in dropped { d.pointer.deallocate() }
    }
}
