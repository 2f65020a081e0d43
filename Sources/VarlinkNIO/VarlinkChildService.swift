import Synchronization

#if canImport(Glibc)
import Glibc
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

/// posix_spawn with descriptors moved into place and a clean signal state.
enum ChildSpawn {
    /// Spawns `arguments` (argv[0] is the program's path) with each `(source, target)`
    /// descriptor duplicated onto `target`, and `environment` (`NAME=value` entries) set
    /// over ours, minus any `LISTEN_*` of ours, which belongs to this process alone.
    static func spawn(
        _ arguments: [String],
        descriptors: [(source: Int32, target: Int32)],
        environment: [String]
    ) throws(VarlinkSocketError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // A source that is itself one of the targets would be clobbered, or keep its
        // close-on-exec when duplicated onto itself: move such sources out of the way.
        var moved: [Int32] = []
        defer { for descriptor in moved { close(descriptor) } }
        for (source, target) in descriptors {
            var from = source
            if source <= 3 || descriptors.contains(where: { $0.target == source }) {
                from = fcntl(source, F_DUPFD_CLOEXEC, 10)
                guard from >= 0 else { throw VarlinkSocketError(operation: "fcntl(F_DUPFD_CLOEXEC)", errno: errno) }
                moved.append(from)
            }
            posix_spawn_file_actions_adddup2(&actions, from, target)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let replaced = Set(environment.map { $0.prefix { $0 != "=" } })
        let fullEnvironment =
            currentEnvironment().filter { !$0.hasPrefix("LISTEN_") && !replaced.contains($0.prefix { $0 != "=" }) }
            + environment
        var pid: pid_t = 0
        let result = withCStrings(arguments) { argv in
            withCStrings(fullEnvironment) { envp in
                posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
            }
        }
        guard result == 0 else {
            throw VarlinkSocketError(operation: "starting \(arguments.joined(separator: " "))", errno: result)
        }
        return pid
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

    private static func currentEnvironment() -> [String] {
        var result: [String] = []
        var pointer = environ
        while let entry = pointer.pointee {
            result.append(String(cString: entry))
            pointer += 1
        }
        return result
    }

    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var pointers = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }
}
