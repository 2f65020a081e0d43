import Synchronization

#if canImport(Glibc)
import Glibc
import ProcessSpawn
#endif

/// A service program a client starts for itself, for the length of a session: the `-A`
/// (activate) and `-b` (bridge) modes of the varlink command-line tools.
///
/// The command is a shell command line, run by `/bin/sh`. The child gets a clean signal
/// mask and default signal actions (a parent's blocked SIGTERM is not inherited), and is
/// reaped on a thread of its own when it exits.
public final class VarlinkChildService: Sendable {
    public let processIdentifier: Int32
    /// Where the activated service listens; nil for a bridge, which is reached through
    /// the socket `bridge(command:)` returns.
    public let address: VarlinkAddress?

    private let directory: String?
    private let status = Mutex<Int32?>(nil)

    private init(processIdentifier: Int32, address: VarlinkAddress?, directory: String?) {
        self.processIdentifier = processIdentifier
        self.address = address
        self.directory = directory
    }

    /// `-A`: creates a listening socket in a new temporary directory and runs `command`
    /// with it as fd 3 (`LISTEN_FDS=1`, `LISTEN_FDNAMES=varlink`, `LISTEN_PID`) and
    /// `VARLINK_ADDRESS` set to its address, and its stdout on our stderr (a client's
    /// stdout is for replies). The command is run as `exec COMMAND`, so that `LISTEN_PID`
    /// names the service itself: it must be a simple command. Connect to `address` right
    /// away; the service accepts the connection once it is up.
    public static func activate(command: String) throws(VarlinkSocketError) -> VarlinkChildService {
        let directory = try makeTemporaryDirectory()
        let path = directory + "/socket"
        let listener: Int32
        do {
            listener = try ChildSpawn.listen(path: path)
        } catch {
            rmdir(directory)
            throw error
        }
        defer { close(listener) }
        let address = "unix:\(path)"
        let pid: pid_t
        do {
            pid = try ChildSpawn.spawn(
                ["/bin/sh", "-c", "LISTEN_PID=$$; export LISTEN_PID; exec \(command)"],
                // The service's stdout goes to our stderr: the client's stdout is for replies.
                descriptors: [(listener, 3), (2, 1)],
                environment: ["LISTEN_FDS=1", "LISTEN_FDNAMES=varlink", "VARLINK_ADDRESS=\(address)"]
            )
        } catch {
            unlink(path)
            rmdir(directory)
            throw error
        }
        let service = VarlinkChildService(processIdentifier: pid, address: .unix(path: path, mode: nil), directory: directory)
        service.reapWhenDone()
        return service
    }

    /// `-b`: runs `command` with its stdin and stdout on one end of a socket pair and
    /// returns the other end, to speak varlink over (e.g. `ssh host varlink bridge`).
    /// Its stderr is ours. Closing the returned socket gives the command end-of-file.
    public static func bridge(command: String) throws(VarlinkSocketError) -> (service: VarlinkChildService, socket: Int32) {
        let (ours, theirs) = try Sockets.pair()
        let pid: pid_t
        do {
            pid = try ChildSpawn.spawn(["/bin/sh", "-c", command], descriptors: [(theirs, 0), (theirs, 1)], environment: [])
        } catch {
            close(ours)
            close(theirs)
            throw error
        }
        close(theirs)
        let service = VarlinkChildService(processIdentifier: pid, address: nil, directory: nil)
        service.reapWhenDone()
        return (service, ours)
    }

    /// The exit status once the program has ended: its exit code, or 128 + the signal
    /// that killed it. nil while it runs.
    public var exitStatus: Int32? {
        status.withLock { $0 }
    }

    /// Sends SIGTERM (unless it has already ended) and removes the activation socket and
    /// its directory.
    public func terminate() {
        status.withLock { status in
            // Under the lock: the reaper records the status under it, so the pid is not
            // reused while we signal it.
            if status == nil { kill(processIdentifier, SIGTERM) }
        }
        if let directory {
            unlink(directory + "/socket")
            rmdir(directory)
        }
    }

    /// Waits on a thread of its own (not a dispatch queue: on Linux those share their
    /// workers with the task pool). pthreads directly, to keep Foundation out.
    private func reapWhenDone() {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, 64 << 10)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, &attributes, { context in
            Unmanaged<VarlinkChildService>.fromOpaque(context!).takeRetainedValue().waitForExit()
            return nil
        }, context)
        if result != 0 { Unmanaged<VarlinkChildService>.fromOpaque(context).release() }
    }

    private func waitForExit() {
        let pid = processIdentifier
        // WNOWAIT: the pid stays ours (a zombie) until the status is recorded below, so
        // `terminate` never signals a pid that has been reused.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
        status.withLock { status in
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) == -1 && errno == EINTR {}
            let signal = raw & 0x7f
            status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        }
    }

    private static func makeTemporaryDirectory() throws(VarlinkSocketError) -> String {
        // sun_path holds 107 bytes: use TMPDIR only when the socket path fits.
        var base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        if base.isEmpty || base.utf8.count > 60 { base = "/tmp" }
        var template = Array((base + "/varlink-XXXXXX").utf8CString)
        guard let result = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw VarlinkSocketError(operation: "creating a directory in \(base)", errno: errno)
        }
        return String(cString: result)
    }
}

/// Starting children for the transport, and the unix-socket plumbing they need.
enum ChildSpawn {
    /// ProcessSpawn.spawn, failing as the transport's other socket operations do.
    static func spawn(
        _ arguments: [String],
        descriptors: [(source: Int32, target: Int32)],
        environment: [String]
    ) throws(VarlinkSocketError) -> pid_t {
        do {
            return try ProcessSpawn.spawn(arguments, descriptors: descriptors, environment: environment)
        } catch {
            throw VarlinkSocketError(operation: "starting \(arguments.joined(separator: " "))", errno: error.errno)
        }
    }

    /// A listening unix socket bound to `path`, close-on-exec.
    static func listen(path: String) throws(VarlinkSocketError) -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw VarlinkSocketError(operation: "socket", errno: errno) }
        let result = withUnixAddress(path) { Glibc.bind(descriptor, $0, $1) }
        guard result == 0, Glibc.listen(descriptor, 16) == 0 else {
            let error = errno
            close(descriptor)
            throw VarlinkSocketError(operation: "listening on unix:\(path)", errno: error)
        }
        return descriptor
    }

    /// Calls `body` with a `sockaddr_un` for `path` (which must fit in sun_path).
    static func withUnixAddress<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8.prefix(MemoryLayout.size(ofValue: address.sun_path) - 1))
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
