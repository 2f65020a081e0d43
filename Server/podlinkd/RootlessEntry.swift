import CRootlessEntry
import Libpod
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A user's podlinkd runs inside the user's rootless namespace: started outside it, it
/// makes (or finds) the pause process and replaces itself by itself joined to it.
enum RootlessEntry {
    enum Outcome {
        /// Root on the host: nothing to enter.
        case rootful
        /// Inside the user's namespace (joined by the entry before main).
        case joined
    }

    /// Returns inside the namespace; otherwise execs, and returns only with an error.
    static func enter(arguments: [String], logger: Logger) async throws -> Outcome {
        if let failure = podlink_rootless_entry_error() {
            throw RootlessEntryFailure(message: String(cString: failure)
                + "; the pause process may have ended: start podlinkd again to make a new one")
        }
        if podlink_rootless_entry_joined() != 0 { return .joined }
        let namespace = UserNamespace.current
        // Root of the host, or already root of some user namespace (started by hand
        // under `unshare -r`, say): served as it is.
        if geteuid() == 0 { return namespace.isInitial ? .rootful : .joined }
        let rootless = try RootlessNamespace.forCurrentUser()
        let (pid, made) = try await rootless.ensurePauseProcess()
        if let plan = made {
            if plan.singleID {
                logger.warning("user \(getuid()) has no subordinate ids: the namespace maps only this user, so images with files of other owners cannot be used; add ranges to /etc/subuid and /etc/subgid (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER)")
            }
            logger.info("made the rootless namespace", metadata: ["pause-pid": "\(pid)"])
        }
        throw rootless.execJoined(pausePID: pid, arguments: arguments)
    }
}

struct RootlessEntryFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
