
#if canImport(Glibc)
import Glibc
#endif

/// Starts a varlink service program with its socket on fd 3, as activators do.
enum ServiceLauncher {
    /// systemd's `exec:`: the service gets one end of a connected socket pair on fd 3
    /// (LISTEN_FDS=1, LISTEN_FDNAMES=varlink); the other end is returned.
    static func launchConnected(command: [String]) throws(VarlinkSocketError) -> Int32 {
        let (ours, theirs) = try Sockets.pair()
        do {
            try spawn(command, passing: theirs)
        } catch {
            close(ours)
            close(theirs)
            throw error
        }
        close(theirs)
        return ours
    }

    /// Spawns `command` with `descriptor` as fd 3 and the socket activation variables.
    /// `LISTEN_PID` must name the service's own pid, which is only known after the
    /// fork: a shell sets it from `$$` and then execs the command in its place.
    static func spawn(_ command: [String], passing descriptor: Int32) throws(VarlinkSocketError) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var source = descriptor
        if source == 3 {
            // dup2 onto itself would keep close-on-exec; move it out of the way first.
            source = fcntl(descriptor, F_DUPFD_CLOEXEC, 10)
        }
        posix_spawn_file_actions_adddup2(&actions, source, 3)

        var environment = currentEnvironment().filter { !$0.hasPrefix("LISTEN_") }
        environment += ["LISTEN_FDS=1", "LISTEN_FDNAMES=varlink"]
        let arguments = ["/bin/sh", "-c", "LISTEN_PID=$$; export LISTEN_PID; exec \"$@\"", "sh"] + command

        var pid: pid_t = 0
        let result = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                posix_spawn(&pid, "/bin/sh", &actions, nil, argv, envp)
            }
        }
        if source != descriptor { close(source) }
        guard result == 0 else {
            throw VarlinkSocketError(operation: "starting \(command.joined(separator: " "))", errno: result)
        }
        reapWhenDone(pid)
    }

    /// The child is a service with a life of its own; waiting for it on a thread of its
    /// own keeps it from lingering as a zombie. Not on a dispatch queue: on Linux those
    /// share their few workers with the task pool, and a blocked one starves it.
    private static func reapWhenDone(_ pid: pid_t) {
        // pthreads directly: Foundation's Thread would pull Foundation (and ICU) into
        // every server that links this module.
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, 64 << 10)
        var thread = pthread_t()
        let context = UnsafeMutableRawPointer(bitPattern: Int(pid))
        pthread_create(&thread, &attributes, { context in
            let pid = pid_t(truncatingIfNeeded: Int(bitPattern: context))
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            return nil
        }, context)
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

    private static func withCStrings<R>(
        _ strings: [String],
        _ body: ([UnsafeMutablePointer<CChar>?]) -> R
    ) -> R {
        var pointers = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }
}
