#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a failed or interrupted write never destroys the previous version:
/// temporary file in the same directory, write, fsync, rename over the target, fsync the directory.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let dir = directory(of: path)
        let tmp = dir + "/." + basename(of: path) + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ImportError(file: path, problem: "cannot write: \(errnoText())") }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress! + written, bytes.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                let msg = errnoText()
                close(fd)
                throw ImportError(file: path, problem: "cannot write: \(msg); the previous file is unchanged")
            }
            written += n
        }
        if fsync(fd) != 0 {
            let msg = errnoText()
            close(fd)
            throw ImportError(file: path, problem: "cannot flush: \(msg); the previous file is unchanged")
        }
        close(fd)
        guard rename(tmp, path) == 0 else {
            throw ImportError(file: path, problem: "cannot replace: \(errnoText()); the previous file is unchanged")
        }
        ok = true
        let dfd = open(dir, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }

    static func basename(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
