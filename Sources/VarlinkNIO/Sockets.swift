#if canImport(Glibc)
import Glibc
#endif

/// The socket calls NIO does not make for us: the abstract namespace (whose address
/// length must not include padding) and socket pairs.
enum Sockets {
    static func listenAbstract(_ name: String) throws(VarlinkSocketError) -> Int32 {
        let descriptor = try socketDescriptor()
        do throws(VarlinkSocketError) {
            try withAbstractAddress(name) { address, length throws(VarlinkSocketError) in
                guard Glibc.bind(descriptor, address, length) == 0 else {
                    throw VarlinkSocketError(operation: "bind unix:@\(name)", errno: errno)
                }
            }
            guard listen(descriptor, 256) == 0 else { throw VarlinkSocketError(operation: "listen", errno: errno) }
        } catch {
            close(descriptor)
            throw error
        }
        return descriptor
    }

    static func connectAbstract(_ name: String) throws(VarlinkSocketError) -> Int32 {
        let descriptor = try socketDescriptor()
        do throws(VarlinkSocketError) {
            try withAbstractAddress(name) { address, length throws(VarlinkSocketError) in
                guard Glibc.connect(descriptor, address, length) == 0 else {
                    throw VarlinkSocketError(operation: "connect unix:@\(name)", errno: errno)
                }
            }
        } catch {
            close(descriptor)
            throw error
        }
        return descriptor
    }

    /// A connected pair of stream sockets, both close-on-exec.
    static func pair() throws(VarlinkSocketError) -> (Int32, Int32) {
        var descriptors: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &descriptors) == 0
        else { throw VarlinkSocketError(operation: "socketpair", errno: errno) }
        return (descriptors[0], descriptors[1])
    }

    /// Whether `descriptor` is a listening socket (SO_ACCEPTCONN), as opposed to a
    /// connected one: activators hand over either.
    static func isListening(_ descriptor: Int32) -> Bool {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ACCEPTCONN, &value, &length) == 0 else { return false }
        return value != 0
    }

    private static func socketDescriptor() throws(VarlinkSocketError) -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw VarlinkSocketError(operation: "socket", errno: errno) }
        return descriptor
    }

    /// Calls `body` with a `sockaddr_un` for `@name`: a leading NUL, then the name, and
    /// a length that ends exactly at the name (padding would change the address).
    private static func withAbstractAddress(
        _ name: String,
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(VarlinkSocketError) -> Void
    ) throws(VarlinkSocketError) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw VarlinkSocketError(operation: "abstract socket name of \(bytes.count) bytes", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path[0] = 0
            for (index, byte) in bytes.enumerated() { path[index + 1] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
        let result: Result<Void, VarlinkSocketError> = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                do throws(VarlinkSocketError) {
                    try body(socketAddress, length)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
        }
        try result.get()
    }
}
