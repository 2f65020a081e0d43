import Logging
import NIOCore
import NIOPosix
import Synchronization
import Varlink

#if canImport(Glibc)
import Glibc
#endif

/// Serves a `VarlinkService` on a socket.
///
/// Each connection is served on its own event loop by a `VarlinkServerConnectionHandler`:
/// calls on it are taken in order and handled one at a time (a client may pipeline; the
/// replies come back in order), while other connections proceed independently, so a
/// slow or silent client holds up nobody else. A message that breaks the protocol
/// closes its connection. A client that hangs up cancels the call it was waiting for.
public final class VarlinkServer: Sendable {
    public struct Configuration: Sendable {
        /// A message larger than this closes the connection (sd-varlink uses the same 16 MiB).
        public var maximumMessageSize: Int = 16 << 20
        /// Stop when no connection has been open for this long; nil serves forever.
        public var idleTimeout: Duration?
        /// How long `shutdown()` lets open calls finish before closing their connections.
        public var shutdownGracePeriod: Duration = .seconds(10)
        public var logger = Logger(label: "varlink.server")
        /// Who may call, by the credentials the kernel reports for a unix socket's peer
        /// (SO_PEERCRED); nil lets anyone who can open the socket call. A refused peer's
        /// calls are answered with `org.varlink.service.PermissionDenied`, then the
        /// connection closes. A TCP peer has no credentials and is refused.
        public var allowedPeers: VarlinkPeerPolicy?
        public init() {}
    }

    /// Where to listen.
    public enum Listener: Sendable {
        case address(VarlinkAddress)
        /// A listening socket handed over by an activator (fd 3 under socket activation).
        case listeningSocket(Int32)
        /// An already connected socket (systemd's `exec:`): serve it, then stop.
        case connectedSocket(Int32)
    }

    public let service: VarlinkService
    public let configuration: Configuration
    private let state = Mutex(State())
    private let group: any EventLoopGroup

    private struct State {
        var listener: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var shuttingDown = false
        var idleSince: ContinuousClock.Instant? = .now
    }

    public init(
        service: VarlinkService,
        configuration: Configuration = Configuration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.service = service
        self.configuration = configuration
        self.group = group
    }

    /// Binds, then calls `onReady` (the moment to tell a supervisor: `sd_notify READY=1`),
    /// then serves until `shutdown()`, the idle timeout, or cancellation of the task.
    /// In-flight calls are given `shutdownGracePeriod` to finish.
    public func run(on listener: Listener, onReady: @Sendable () -> Void = {}) async throws {
        if case .connectedSocket(let descriptor) = listener {
            let connection = try await ClientBootstrap(group: group)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .withConnectedSocket(descriptor) { channel in self.initializeConnection(channel) }
            onReady()
            try? await connection.closeFuture.get()
            return
        }
        let serverChannel = try await bind(listener)
        let socketPath: String? =
            if case .address(.unix(let path, _)) = listener { path } else { nil }
        state.withLock { $0.listener = serverChannel.channel }
        if state.withLock({ $0.shuttingDown }) { serverChannel.channel.close(promise: nil) }
        onReady()
        configuration.logger.info(
            "listening",
            metadata: ["varlink.address": "\(serverChannel.channel.localAddress.map { "\($0)" } ?? "\(listener)")"]
        )

        try await withTaskCancellationHandler {
            try await withThrowingDiscardingTaskGroup { group in
                if let idleTimeout = configuration.idleTimeout {
                    group.addTask { await self.watchIdle(idleTimeout) }
                }
                try await serverChannel.executeThenClose { inbound in
                    // Connections are registered as they are set up (initializeConnection):
                    // one accepted just before the listener closed may never be yielded
                    // here, and must still be closed with the others.
                    for try await _ in inbound {}
                }
                // No longer accepting: give open calls their grace period, then close.
                group.addTask { await self.closeConnectionsAfterGracePeriod() }
            }
        } onCancel: {
            self.shutdown()
        }
        if let socketPath {
            // Only a socket file we created is removed; an activated one belongs to the activator.
            unlink(socketPath)
        }
        configuration.logger.info("stopped")
    }

    /// The TCP port the server listens on (useful after binding port 0); nil before
    /// `run` has bound, and for unix sockets.
    public var tcpPort: Int? {
        state.withLock { $0.listener?.localAddress?.port }
    }

    /// Stops accepting connections; `run` returns once open calls are done (or the
    /// grace period has passed).
    public func shutdown() {
        let listener = state.withLock { state -> (any Channel)? in
            state.shuttingDown = true
            return state.listener
        }
        listener?.close(promise: nil)
    }

    // MARK: Binding

    private func bind(_ listener: Listener) async throws -> NIOAsyncChannel<any Channel, Never> {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // A client may send its calls and shut down its sending side (`printf ... | nc -U`):
            // it still gets its replies. A client that closes completely is seen as a
            // hang-up (EPOLLHUP), which closes the channel and cancels its call.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
        switch listener {
        case .address(.unix(let path, let mode)):
            let channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) {
                self.initializeConnection($0)
            }
            if let mode, chmod(path, mode_t(mode)) != 0 {
                let error = errno
                channel.channel.close(promise: nil)
                throw VarlinkSocketError(operation: "chmod \(path) to \(String(mode, radix: 8))", errno: error)
            }
            return channel
        case .address(.abstract(let name)):
            let descriptor = try Sockets.listenAbstract(name)
            return try await bootstrap.bind(descriptor) { self.initializeConnection($0) }
        case .address(.tcp(let host, let port)):
            return try await bootstrap.bind(host: host, port: port) { self.initializeConnection($0) }
        case .address(.exec):
            throw VarlinkAddressError(address: "\(listener)", reason: "exec: addresses are for clients only")
        case .listeningSocket(let descriptor):
            return try await bootstrap.bind(descriptor) { self.initializeConnection($0) }
        case .connectedSocket:
            preconditionFailure("connected sockets are served without binding")
        }
    }

    private func initializeConnection(_ channel: any Channel) -> EventLoopFuture<any Channel> {
        let permitted: EventLoopFuture<Bool>
        if let policy = configuration.allowedPeers {
            permitted = VarlinkPeerCredentials.of(channel).map { credentials in
                guard let credentials else { return false }
                return policy.allows(credentials)
            }
        } else {
            permitted = channel.eventLoop.makeSucceededFuture(true)
        }
        return permitted.flatMapThrowing { permitted in
            if !permitted {
                self.configuration.logger.notice("refusing a peer", metadata: ["varlink.peer": "\(channel.remoteAddress.map { "\($0)" } ?? "unix")"])
            }
            try channel.pipeline.syncOperations.addHandler(
                VarlinkServerConnectionHandler(
                    service: self.service,
                    maximumMessageSize: self.configuration.maximumMessageSize,
                    logger: self.configuration.logger,
                    eventLoop: channel.eventLoop,
                    permitted: permitted
                )
            )
            self.register(channel)
            return channel
        }
    }

    // MARK: Connections

    /// Tracks an accepted connection until it closes. A connection accepted while the
    /// server is stopping is told to stop at once.
    private func register(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let stopping = state.withLock {
            $0.connections[id] = channel
            $0.idleSince = nil
            return $0.shuttingDown
        }
        if stopping { channel.pipeline.fireUserInboundEventTriggered(VarlinkServerStopping()) }
        channel.closeFuture.whenComplete { _ in
            self.state.withLock {
                $0.connections[id] = nil
                if $0.connections.isEmpty { $0.idleSince = .now }
            }
        }
    }

    private func closeConnectionsAfterGracePeriod() async {
        // Idle connections close now; one in the middle of a call closes when the call
        // ends, and a stream is cancelled.
        for channel in state.withLock({ Array($0.connections.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(VarlinkServerStopping())
        }
        let deadline = ContinuousClock.now + configuration.shutdownGracePeriod
        while ContinuousClock.now < deadline {
            if state.withLock({ $0.connections.isEmpty }) { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let remaining = state.withLock { Array($0.connections.values) }
        for channel in remaining { channel.close(promise: nil) }
    }

    private func watchIdle(_ timeout: Duration) async {
        while !Task.isCancelled {
            let (idleSince, stopping) = state.withLock { ($0.idleSince, $0.shuttingDown) }
            if stopping { return }
            if let idleSince, ContinuousClock.now - idleSince >= timeout {
                configuration.logger.info("idle timeout reached")
                shutdown()
                return
            }
            let wait = idleSince.map { timeout - (ContinuousClock.now - $0) } ?? timeout
            // Short naps: a shutdown from elsewhere must not wait for a long idle timeout.
            try? await Task.sleep(for: max(min(wait, .milliseconds(100)), .milliseconds(5)))
        }
    }
}

/// A socket system call failed.
public struct VarlinkSocketError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32
    public var description: String { "\(operation) failed: \(String(cString: strerror(errno)))" }
}
