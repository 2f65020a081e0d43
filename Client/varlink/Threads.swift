#if canImport(Glibc)
import Glibc
#endif

/// Blocking work (reading stdin, copying a bridge's bytes, a blocking connect) goes on
/// threads of its own, never on the task pool, whose few threads the event loop's
/// callbacks need. pthreads directly: Foundation's Thread would load Foundation and ICU,
/// which costs more at startup than the whole call.
enum Threads {
    private final class Work {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread.
    static func start(_ body: @escaping @Sendable () -> Void) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Work(body)).toOpaque()
        let result = pthread_create(&thread, &attributes, { context in
            Unmanaged<Work>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, context)
        if result != 0 {
            // No thread: do the work here rather than lose it.
            Unmanaged<Work>.fromOpaque(context).takeRetainedValue().body()
        }
    }

    /// Runs `body` on a new thread and waits for its result without blocking a task thread.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            start { continuation.resume(returning: body()) }
        }
    }
}

/// Whole files and directory listings, with plain system calls.
enum Files {
    /// The bytes of the file at `path`, or the errno that stopped reading it.
    static func read(_ path: String) -> Result<[UInt8], Errno> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(Errno(errno)) }
        defer { close(descriptor) }
        return readAll(descriptor)
    }

    /// Everything up to end-of-file.
    static func readAll(_ descriptor: Int32) -> Result<[UInt8], Errno> {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(Errno(errno))
            }
            if count == 0 { return .success(result) }
            result += chunk[..<count]
        }
    }

    /// The names in a directory, without . and ..
    static func list(_ directory: String) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The file type bits (S_IFDIR, S_IFSOCK, ...) of `path`, following links.
    static func type(_ path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT
    }
}

struct Errno: Error, CustomStringConvertible {
    var code: Int32
    init(_ code: Int32) { self.code = code }
    var description: String { String(cString: strerror(code)) }
}
