import Glibc

/// Why a program could not be started.
public struct SpawnError: Error, Sendable, Equatable, CustomStringConvertible {
    public var command: String
    public var errno: Int32
    public var description: String { "starting \(command) failed: \(String(cString: strerror(errno)))" }
}

/// posix_spawn with descriptors moved into place and a clean signal state. Shared by the
/// varlink transport (exec: addresses, activation) and Libpod (conmon), which both need
/// to hand a child exact descriptors, which higher-level process libraries do not offer.
public enum ProcessSpawn {
    /// Spawns `arguments` (argv[0] is the program's path) with each `(source, target)`
    /// descriptor duplicated onto `target`. The child's environment is ours without the
    /// variables whose names start with one of `scrubbing` (they describe this process
    /// alone: socket activation, sd_notify), with `environment` (`NAME=value`) set over it.
    /// Signals the parent blocks or ignores are unblocked and reset to their defaults.
    /// The child starts in `workingDirectory` when given.
    public static func spawn(
        _ arguments: [String],
        descriptors: [(source: Int32, target: Int32)] = [],
        environment: [String] = [],
        scrubbing prefixes: [String] = ["LISTEN_"],
        workingDirectory: String? = nil
    ) throws(SpawnError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let workingDirectory, let addChdir = Self.addChdir {
            _ = workingDirectory.withCString { addChdir(&actions, $0) }
        }
        // A source that is itself one of the targets would be clobbered, or keep its
        // close-on-exec when duplicated onto itself: move such sources out of the way.
        var moved: [Int32] = []
        defer { for descriptor in moved { close(descriptor) } }
        for (source, target) in descriptors {
            var from = source
            if source <= 3 || descriptors.contains(where: { $0.target == source }) {
                from = fcntl(source, F_DUPFD_CLOEXEC, 10)
                guard from >= 0 else { throw SpawnError(command: arguments.joined(separator: " "), errno: errno) }
                moved.append(from)
            }
            posix_spawn_file_actions_adddup2(&actions, from, target)
        }
        // Nothing else of ours reaches the child: a descriptor some library left without
        // close-on-exec would otherwise live on in every child (conmon lives for as long
        // as its container).
        let lowestFree = (descriptors.map(\.target).max() ?? 2) + 1
        if let closeFrom = Self.addCloseFrom {
            _ = closeFrom(&actions, max(3, lowestFree))
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let replaced = Set(environment.map { $0.prefix { $0 != "=" } })
        let fullEnvironment =
            currentEnvironment().filter { entry in
                !prefixes.contains(where: { entry.hasPrefix($0) }) && !replaced.contains(entry.prefix { $0 != "=" })
            } + environment
        var pid: pid_t = 0
        let result = withCStrings(arguments) { argv in
            withCStrings(fullEnvironment) { envp in
                posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
            }
        }
        guard result == 0 else { throw SpawnError(command: arguments.joined(separator: " "), errno: result) }
        return pid
    }

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// glibc 2.29's posix_spawn_file_actions_addchdir_np, likewise.
    private static let addChdir: AddChdir? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    /// glibc 2.34's posix_spawn_file_actions_addclosefrom_np, which the Glibc module does
    /// not export; looked up once.
    private static let addCloseFrom: CloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    /// Waits for `pid` to exit and returns its exit code, or 128 + the signal that ended
    /// it; -1 when it is not our child.
    public static func waitForExit(_ pid: pid_t) async -> Int32 {
        await onThread { blockingWait(pid) }
    }

    /// Runs a blocking `body` on a thread of its own and returns its result. Blocking
    /// calls (waitpid, a read from a pipe) must never run on a task thread: the
    /// cooperative pool has one per core, and a blocked one starves every other task.
    public static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            detachThread { continuation.resume(returning: body()) }
        }
    }

    /// Runs `body` on a new detached thread (on this one if no thread can be made): for
    /// blocking loops that live as long as their owner, such as an inotify reader.
    public static func detachThread(_ body: @escaping @Sendable () -> Void) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        defer { pthread_attr_destroy(&attributes) }
        let box = Unmanaged.passRetained(ThreadJob(body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, &attributes, { argument in
            Unmanaged<ThreadJob>.fromOpaque(argument!).takeRetainedValue().run()
            return nil
        }, box)
        if created != 0 { Unmanaged<ThreadJob>.fromOpaque(box).takeRetainedValue().run() }
    }

    /// waitpid, retried on EINTR; -1 when the child is not ours to wait for.
    public static func blockingWait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    private final class ThreadJob: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
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
