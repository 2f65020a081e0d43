
#if canImport(Glibc)
import Glibc
#endif

/// Starts a varlink service program with its socket on fd 3, as activators do.
enum ServiceLauncher {
    /// systemd's `exec:`: the service gets one end of a connected socket pair on fd 3
    /// (LISTEN_FDS=1, LISTEN_FDNAMES=varlink); the other end is returned. `LISTEN_PID`
    /// must name the service's own pid, known only after the fork: a shell sets it from
    /// `$$` and then execs the command in its place.
    static func launchConnected(command: [String]) throws(VarlinkSocketError) -> Int32 {
        let (ours, theirs) = try Sockets.pair()
        defer { close(theirs) }
        do {
            let pid = try ChildSpawn.spawn(
                ["/bin/sh", "-c", "LISTEN_PID=$$; export LISTEN_PID; exec \"$@\"", "sh"] + command,
                descriptors: [(theirs, 3)],
                environment: ["LISTEN_FDS=1", "LISTEN_FDNAMES=varlink"]
            )
            reapWhenDone(pid)
        } catch {
            close(ours)
            throw error
        }
        return ours
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
}
