#if canImport(Glibc)
import Glibc
#endif

extension VarlinkAddress {
    /// Connects a plain blocking stream socket to the address and returns its descriptor
    /// (close-on-exec), for programs that move bytes themselves, such as a bridge. `exec:`
    /// starts the program with the other end on fd 3.
    public func connectSocket() throws(VarlinkSocketError) -> Int32 {
        switch self {
        case .unix(let path, _):
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else { throw VarlinkSocketError(operation: "socket", errno: errno) }
            let result = ChildSpawn.withUnixAddress(path) { Glibc.connect(descriptor, $0, $1) }
            guard result == 0 else {
                let error = errno
                close(descriptor)
                throw VarlinkSocketError(operation: "connect \(self)", errno: error)
            }
            return descriptor
        case .abstract(let name):
            return try Sockets.connectAbstract(name)
        case .tcp(let host, let port):
            return try Self.connectTCP(host: host, port: port)
        case .exec(let path):
            return try ServiceLauncher.launchConnected(command: [path])
        }
    }

    private static func connectTCP(host: String, port: Int) throws(VarlinkSocketError) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw VarlinkSocketError(operation: "resolving \(host)", errno: EHOSTUNREACH)
        }
        defer { freeaddrinfo(list) }
        var lastError = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            entry = current.pointee.ai_next
            let descriptor = socket(current.pointee.ai_family, current.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else {
                lastError = errno
                continue
            }
            if Glibc.connect(descriptor, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 {
                return descriptor
            }
            lastError = errno
            close(descriptor)
        }
        throw VarlinkSocketError(operation: "connect tcp:\(host):\(port)", errno: lastError)
    }
}
