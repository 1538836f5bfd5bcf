import CSSCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A data set's `.npy` file read a batch at a time (issue 10 §5): the session holds the header,
/// an open descriptor and a bounded conversion buffer, not N × sample floats, so its memory does
/// not grow with the data set. Every dtype `NumPyFile` reads, C order, through the same
/// conversion (`NumPyFile.convert`), so the values are those of reading the file whole.
///
/// The descriptor stays open for the session: a file deleted or replaced meanwhile keeps
/// serving the samples that were validated at load. A file changed in place (truncated,
/// appended to) is noticed on the next read, which throws a one-line error naming it.
public final class NumPySampleFile: SampleSource {
    public let path: String
    public let header: NumPyFile.Header
    /// The file's size at load; any other size on a later read means it changed.
    public let fileSize: Int
    private let fd: Int32

    /// Bytes converted per `pread`: bounds the buffer whatever the batch.
    public static let chunkBytes = 1 << 20

    /// Opens `path` and parses its header (reading only the header).
    public init(path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ImportError(file: path, problem: "no such file")
        }
        guard !isDir.boolValue else { throw ImportError(file: path, problem: "is a directory, not a file") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ImportError(file: path, problem: "cannot read: \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw ImportError(file: path, problem: "cannot read: \(String(cString: strerror(e)))")
        }
        let size = Int(st.st_size)
        do {
            var prefix = try Self.pread(fd, count: min(size, 12), at: 0, path: path)
            let length = NumPyFile.headerPrefixLength(prefix, fileSize: size)
            if length > prefix.count { prefix = try Self.pread(fd, count: length, at: 0, path: path) }
            header = try NumPyFile.header(prefix, fileSize: size, file: path)
        } catch {
            close(fd)
            throw error
        }
        self.path = path
        self.fd = fd
        self.fileSize = size
    }

    deinit { close(fd) }

    /// The header, descriptor and path: a fixed upper bound, whatever the file's size. (The
    /// conversion chunk, `chunkBytes`, lives only during a read, in the job's scratch.)
    public var residentBytes: Int { 4096 }

    /// Converts every element once (a chunk at a time) so that NaN, infinities and values beyond
    /// float32 are refused at load, as when the file was read whole.
    public func validate() throws {
        guard header.dtype == .float32 || header.dtype == .float64 else { return }  // integers always convert
        let per = Self.chunkBytes / header.dtype.itemSize
        var scratch = [Float](repeating: 0, count: per)
        var i = 0
        while i < header.count {
            let n = min(per, header.count - i)
            try scratch.withUnsafeMutableBufferPointer { try read(elements: i, into: UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
            i += n
        }
    }

    public func read(_ range: Range<Int>, sampleSize: Int, into out: UnsafeMutableBufferPointer<Float>) throws {
        precondition(out.count == range.count * sampleSize)
        let first = range.lowerBound * sampleSize
        guard first >= 0, first + out.count <= header.count else {
            throw ImportError(file: path, problem: "samples \(range.lowerBound)..<\(range.upperBound) are beyond its \(header.shape.first ?? 0)")
        }
        try read(elements: first, into: out)
    }

    /// Elements `first ..< first + out.count` (flat indices) as Float.
    func read(elements first: Int, into out: UnsafeMutableBufferPointer<Float>) throws {
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw ImportError(file: path, problem: "cannot read: \(String(cString: strerror(errno)))")
        }
        guard Int(st.st_size) == fileSize else {
            throw ImportError(file: path, problem: "changed since it was loaded (\(st.st_size) bytes, was \(fileSize))",
                              hint: "restart cssdbg to load it again")
        }
        let item = header.dtype.itemSize
        let per = Self.chunkBytes / item
        var done = 0
        while done < out.count {
            let n = min(per, out.count - done)
            let bytes = try Self.pread(fd, count: n * item, at: header.dataStart + (first + done) * item, path: path)
            try bytes.withUnsafeBytes { raw in
                try NumPyFile.convert(raw, dtype: header.dtype, firstIndex: first + done, shape: header.shape, file: path,
                                      into: UnsafeMutableBufferPointer(rebasing: out[done..<(done + n)]))
            }
            done += n
        }
    }

    /// Exactly `count` bytes at `offset`, or an error naming the file (short read: truncated).
    static func pread(_ fd: Int32, count: Int, at offset: Int, path: String) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        try buffer.withUnsafeMutableBytes { raw in
            while got < count {
                let r = systemPread(fd, raw.baseAddress! + got, count - got, off_t(offset + got))
                if r < 0 {
                    if errno == EINTR { continue }
                    throw ImportError(file: path, problem: "cannot read: \(String(cString: strerror(errno)))")
                }
                if r == 0 {
                    throw ImportError(file: path, problem: "truncated: \(count - got) of the \(count) bytes at offset \(offset) are missing",
                                      hint: "restart cssdbg to load it again")
                }
                got += r
            }
        }
        return buffer
    }
}

#if canImport(Glibc)
private let systemPread = Glibc.pread
#elseif canImport(Darwin)
private let systemPread = Darwin.pread
#endif
