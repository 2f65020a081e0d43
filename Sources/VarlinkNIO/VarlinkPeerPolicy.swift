import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Which local peers may call a server, by user and group.
public struct VarlinkPeerPolicy: Hashable, Sendable {
    public var uids: Set<UInt32>
    public var gids: Set<UInt32>

    /// A peer is allowed when its uid is in `uids` or its (primary) gid is in `gids`.
    /// The server's own user is always allowed: it could open the socket file anyway.
    public init(uids: Set<UInt32> = [], gids: Set<UInt32> = []) {
        self.uids = uids
        self.gids = gids
    }

    public func allows(_ peer: VarlinkPeerCredentials) -> Bool {
        peer.uid == geteuid() || uids.contains(peer.uid) || gids.contains(peer.gid)
    }
}

/// The process, user and group on the other end of a unix socket, as the kernel
/// recorded them at connect time.
public struct VarlinkPeerCredentials: Hashable, Sendable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    /// The credentials of `channel`'s peer; nil for a socket that has none (TCP).
    static func of(_ channel: any Channel) -> EventLoopFuture<VarlinkPeerCredentials?> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        // Glibc's `struct ucred` needs _GNU_SOURCE, which the Swift overlay lacks; this
        // struct has its layout (pid_t, uid_t, gid_t).
        let future: EventLoopFuture<VarlinkPeerCredentials> = provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET),
            name: NIOBSDSocket.Option(rawValue: SO_PEERCRED)
        )
        return future.map { credentials -> VarlinkPeerCredentials? in
            // A socket without credentials (TCP) reports no pid and uid -1.
            credentials.pid == 0 && credentials.uid == UInt32.max ? nil : credentials
        }.recover { _ -> VarlinkPeerCredentials? in nil }
    }
}
