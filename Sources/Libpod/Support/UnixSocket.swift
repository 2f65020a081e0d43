import Glibc

/// Connecting to a unix socket by path, shared by conmon's attach socket and
/// slirp4netns's API socket.
enum UnixSocket {
    /// A connected socket of `type` (SOCK_STREAM, SOCK_SEQPACKET), close-on-exec. The path
    /// goes through /proc/self/fd, so that one longer than a socket address holds works too.
    static func connect(_ path: String, type: __socket_type, what: String) throws(LibpodError) -> Int32 {
        // O_PATH, which the Glibc module does not name.
        let directory = open(path, 0o10_000_000 | O_CLOEXEC)
        guard directory >= 0 else { throw FileSystem.failure("opening \(what)", path) }
        defer { close(directory) }
        let socket = Glibc.socket(AF_UNIX, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw FileSystem.failure("making a socket for", path) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let shortPath = "/proc/self/fd/\(directory)"
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            for (index, byte) in shortPath.utf8.enumerated() { bytes[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(socket)
            throw FileSystem.failure("connecting to \(what)", path, code)
        }
        return socket
    }
}
