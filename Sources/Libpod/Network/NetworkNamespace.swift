import Glibc
import ProcessSpawn

/// A container's network namespace, made by the runtime (not the OCI runtime) so that
/// CNI can configure it before the container starts and after it stops: a new namespace
/// bind-mounted on a file, which keeps it alive without any process in it.
enum NetworkNamespace {
    /// Makes a new namespace and mounts it at `path`. The namespace is entered by a thread
    /// made for this alone, which ends right after: no other thread ever runs in it.
    static func create(at path: String) async throws(LibpodError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw FileSystem.failure("creating the namespace file", path) }
        close(descriptor)
        let code: Int32 = await ProcessSpawn.onThread {
            // CLONE_NEWNET; Glibc's module names neither it nor unshare(2).
            guard let unshare = LinuxCalls.unshare, unshare(0x4000_0000) == 0 else { return errno }
            guard mount("/proc/thread-self/ns/net", path, "none", UInt(MS_BIND), nil) == 0 else { return errno }
            // Loopback comes up down in a new namespace; containers expect it up (CNI's
            // loopback plugin does this, as one more process).
            return bringLoopbackUp()
        }
        guard code == 0 else {
            unlink(path)
            throw FileSystem.failure("making a network namespace at", path, code)
        }
    }

    /// Sets IFF_UP on `lo` in the calling thread's namespace.
    private static func bringLoopbackUp() -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { return errno }
        defer { close(socket) }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { name in
            for (index, byte) in "lo".utf8.enumerated() { name[index] = byte }
        }
        guard ioctl(socket, UInt(SIOCGIFFLAGS), &request) == 0 else { return errno }
        request.ifr_ifru.ifru_flags |= Int16(IFF_UP)
        guard ioctl(socket, UInt(SIOCSIFFLAGS), &request) == 0 else { return errno }
        return 0
    }

    /// Unmounts the namespace (it goes once nothing else holds it) and removes the file.
    static func remove(at path: String) throws(LibpodError) {
        if umount2(path, Int32(MNT_DETACH)) != 0 && errno != EINVAL && errno != ENOENT {
            throw FileSystem.failure("unmounting the network namespace", path)
        }
        try FileSystem.removeFile(path)
    }

    /// Whether a namespace is mounted at `path` (a plain file is not one).
    static func isMounted(_ path: String) -> Bool {
        var file = stat()
        var directory = stat()
        let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        guard stat(path, &file) == 0, stat(parent.isEmpty ? "/" : parent, &directory) == 0 else { return false }
        return file.st_dev != directory.st_dev
    }
}

/// Published host ports, held open so that no other process binds them while the
/// container lives (enable_port_reservation): bound sockets handed to conmon, which
/// keeps them until the container ends.
enum PortReservation {
    /// Binds every mapping's host port (TCP listens, UDP binds); a taken one is an error
    /// naming it, and nothing stays bound.
    static func reserve(_ mappings: [PortMapping]) throws(LibpodError) -> [Int32] {
        var descriptors: [Int32] = []
        for mapping in mappings where mapping.protocol != "sctp" {
            do throws(LibpodError) {
                descriptors.append(try bind(mapping))
            } catch {
                for descriptor in descriptors { close(descriptor) }
                throw error
            }
        }
        return descriptors
    }

    /// A free port the kernel picks for `protocol` on `hostIP` (podman's `-p :80`).
    static func freePort(hostIP: String, protocol: String) throws(LibpodError) -> UInt16 {
        let descriptor = try bind(PortMapping(hostIP: hostIP, hostPort: 0, containerPort: 1, protocol: `protocol`))
        defer { close(descriptor) }
        var address = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let found = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard found == 0 else { throw FileSystem.failure("finding a free port for", hostIP) }
        // sin_port and sin6_port are at the same offset.
        return UInt16(bigEndian: address.sin6_port)
    }

    private static func bind(_ mapping: PortMapping) throws(LibpodError) -> Int32 {
        let isV6 = mapping.hostIP.contains(":")
        let family = isV6 ? AF_INET6 : AF_INET
        let type = mapping.protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM
        let descriptor = socket(family, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw FileSystem.failure("making a socket for port", String(mapping.hostPort)) }
        var yes: Int32 = 1
        if type == SOCK_STREAM { setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size)) }
        var result: Int32
        if isV6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = mapping.hostPort.bigEndian
            inet_pton(AF_INET6, mapping.hostIP, &address.sin6_addr)
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = mapping.hostPort.bigEndian
            address.sin_addr.s_addr = INADDR_ANY
            if !mapping.hostIP.isEmpty { inet_pton(AF_INET, mapping.hostIP, &address.sin_addr) }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        if result == 0 && type == SOCK_STREAM { result = listen(descriptor, 1) }
        guard result == 0 else {
            let code = errno
            close(descriptor)
            if code == EADDRINUSE { throw .portInUse(hostIP: mapping.hostIP, port: mapping.hostPort, protocol: mapping.protocol) }
            throw FileSystem.failure("binding port \(mapping.hostPort)/\(mapping.protocol) on", mapping.hostIP.isEmpty ? "0.0.0.0" : mapping.hostIP, code)
        }
        return descriptor
    }
}
