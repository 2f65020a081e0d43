import Glibc

/// The few file operations Libpod needs, on POSIX calls: no Foundation on these paths,
/// and every failure says which path and which errno.
enum FileSystem {
    /// The error for a failed call on `path`, with its errno (the current one by default).
    static func failure(_ operation: String, _ path: String, _ code: Int32 = errno, advice: String? = nil) -> LibpodError {
        .fileSystem(FileSystemFailure(operation: operation, path: path, errno: code, advice: advice))
    }

    /// `mkdir -p` with `mode` for the directories it creates.
    @discardableResult
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) -> Bool {
        if mkdir(path, mode) == 0 { return true }
        if errno == EEXIST { return isDirectory(path) }
        guard errno == ENOENT else { return false }
        var parent = path
        while parent.hasSuffix("/") { parent.removeLast() }
        guard let slash = parent.lastIndex(of: "/"), slash != parent.startIndex else { return false }
        guard makeDirectories(String(parent[..<slash]), mode: mode) else { return false }
        return mkdir(path, mode) == 0 || (errno == EEXIST && isDirectory(path))
    }

    static func ensureDirectory(_ path: String, mode: mode_t = 0o755) throws(LibpodError) {
        guard makeDirectories(path, mode: mode) else { throw failure("creating directory", path) }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The whole file, or nil when it does not exist. Other failures throw.
    static func read(_ path: String) throws(LibpodError) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw failure("opening", path)
        }
        defer { close(descriptor) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("reading", path)
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// What the symbolic link at `path` points to (a /proc link too), or nil.
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A small file (or a /proc one, whose size stat does not tell) as text; "" when it
    /// cannot be read.
    static func text(_ path: String) -> String { ((try? readString(path)) ?? nil) ?? "" }

    static func readString(_ path: String) throws(LibpodError) -> String? {
        guard let bytes = try read(path) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes through a temporary file and rename, so a reader sees the old or the new
    /// content, never a part; fsync'd when `durable`.
    static func writeAtomically(_ path: String, _ bytes: some Collection<UInt8>, mode: mode_t = 0o644, durable: Bool = false)
        throws(LibpodError)
    {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: .min ... .max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw failure("creating", temporary) }
        do throws(LibpodError) {
            try writeAll(descriptor, Array(bytes), path: temporary)
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        if durable { fsync(descriptor) }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw failure("renaming into place", path, code)
        }
    }

    /// Replaces the content of an existing file, keeping its inode: for a file that is
    /// bind-mounted somewhere already (a rename would leave the mount on the old one).
    static func overwrite(_ path: String, _ bytes: some Collection<UInt8>) throws(LibpodError) {
        let descriptor = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("opening", path) }
        defer { close(descriptor) }
        try writeAll(descriptor, Array(bytes), path: path)
    }

    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws(LibpodError) {
        let result = bytes.withUnsafeBytes { data in Result { () throws(LibpodError) in try writeAll(descriptor, data, path: path) } }
        try result.get()
    }

    /// A hard link when source and target share a file system, else a copy (0600).
    static func linkOrCopy(_ source: String, to target: String) throws(LibpodError) {
        if link(source, target) == 0 { return }
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw failure("opening", source) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw failure("creating", target) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw failure("reading", source) }
            if count == 0 { return }
            try writeAll(output, Array(buffer[0..<count]), path: target)
        }
    }

    /// The size of a file.
    static func size(of path: String) throws(LibpodError) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw failure("examining", path) }
        return Int64(info.st_size)
    }

    /// The first four bytes of a file (fewer for a shorter one, none if it cannot be read).
    static func magic(_ path: String) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return [] }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 4)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, 4) }
        return Array(bytes.prefix(max(0, count)))
    }

    /// Writes all of `bytes` to `descriptor` (short writes and EINTR continued).
    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(LibpodError) {
        var written = 0
        while written < bytes.count {
            let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("writing", path)
            }
            written += count
        }
    }

    /// Removes a file; a missing file is not an error.
    static func removeFile(_ path: String) throws(LibpodError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("removing", path) }
    }

    /// `rm -rf`, without following symlinks and without crossing into mounts' contents
    /// it cannot remove (those fail with EBUSY and are reported).
    static func removeTree(_ path: String) throws(LibpodError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw failure("examining", path)
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            for name in list(path) { try removeTree(path + "/" + name) }
            guard rmdir(path) == 0 || errno == ENOENT else { throw failure("removing directory", path) }
        } else {
            try removeFile(path)
        }
    }

    /// Names in a directory (no `.` and `..`); empty when it does not exist.
    /// Bytes of the regular files under `path` (each hard-linked file once), not
    /// following symbolic links: `du --apparent-size`.
    static func treeSize(_ path: String) -> Int64 {
        var total: Int64 = 0
        var seen = Set<UInt64>()
        func walk(_ directory: String) {
            for name in list(directory) {
                let child = directory + "/" + name
                var info = stat()
                guard lstat(child, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFDIR: walk(child)
                case S_IFREG:
                    if info.st_nlink > 1 && !seen.insert(UInt64(info.st_ino)).inserted { continue }
                    total += Int64(info.st_size)
                default: continue
                }
            }
        }
        walk(path)
        return total
    }

    static func list(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
