import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Socket activation and readiness through libsystemd, the way systemd, the varlink
/// CLIs (`-A`) and systemd-socket-activate hand a service its socket.
public enum SocketActivation {
    /// A socket passed by the activator.
    public struct PassedSocket: Hashable, Sendable {
        public var descriptor: Int32
        /// From `LISTEN_FDNAMES`; "unknown" when the activator named none.
        public var name: String
        /// Listening (accept connections on it) or already connected (serve it alone).
        public var isListening: Bool

        /// What `VarlinkServer` should do with it.
        public var listener: VarlinkServer.Listener {
            isListening ? .listeningSocket(descriptor) : .connectedSocket(descriptor)
        }
    }

    /// The socket to serve varlink on, if this process was activated: the one named
    /// `varlink`, else the first. `LISTEN_*` is removed from the environment, so that
    /// children (conmon, the OCI runtime) never think the sockets are theirs.
    /// `sd_listen_fds` checks `LISTEN_PID` against this process.
    public static func takeVarlinkSocket() -> PassedSocket? {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        defer {
            if let names {
                for index in 0..<max(Int(count), 0) { free(names[index]) }
                free(names)
            }
        }
        guard count > 0 else { return nil }
        let sockets = (0..<Int(count)).map { index in
            let descriptor = SD_LISTEN_FDS_START + Int32(index)
            let name = names?[index].map { String(cString: $0) } ?? "unknown"
            return PassedSocket(descriptor: descriptor, name: name, isListening: Sockets.isListening(descriptor))
        }
        return sockets.first { $0.name == "varlink" } ?? sockets.first
    }

    /// Tells the supervisor about a state change (`READY=1`, `STOPPING=1`); does nothing
    /// when `NOTIFY_SOCKET` is not set.
    @discardableResult
    public static func notify(_ state: String) -> Bool {
        sd_notify(0, state) > 0
    }
}
