import NIOCore
import NIOPosix
import Varlink

/// A client connection to a varlink service.
///
/// Calls may be issued concurrently from many tasks: they are written in the order they
/// are made and each waits for its own reply, so several calls are in flight at once
/// (pipelining) without any task waiting for another's round trip. Replies are read
/// leniently, the way UAPI.20 asks clients to.
public final class VarlinkConnection: VarlinkClientTransport {
    public struct Configuration: Sendable {
        public var maximumMessageSize: Int = 16 << 20
        /// A call that gets no reply within this time fails with `VarlinkTimeoutError`;
        /// nil waits forever. Streams are not limited.
        public var callTimeout: Duration?

        public init(callTimeout: Duration? = nil) {
            self.callTimeout = callTimeout
        }
    }

    public let channel: any Channel
    public let configuration: Configuration
    /// nil when the peer closed the connection before it was set up (a bridge command
    /// that exits at once): every call then fails with `VarlinkConnectionClosed`.
    private let handler: NIOLoopBound<VarlinkClientHandler>?

    private init(channel: any Channel, configuration: Configuration) async throws {
        self.channel = channel
        self.configuration = configuration
        self.handler = try? await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: VarlinkClientHandler.self), eventLoop: channel.eventLoop)
        }.get()
    }

    /// Hands a call to the handler on the event loop. Calls go in at the handler, not at
    /// the pipeline's tail, where an upgraded connection's raw-stream handlers sit.
    private func send(_ call: OutgoingCall) -> EventLoopFuture<Void> {
        guard let handler = self.handler else { return channel.eventLoop.makeFailedFuture(VarlinkConnectionClosed()) }
        if channel.eventLoop.inEventLoop { return handler.value.send(call) }
        return channel.eventLoop.flatSubmit { handler.value.send(call) }
    }

    /// Connects to `address`. `exec:` starts the program with the other end of a socket
    /// pair on fd 3.
    public static func connect(
        to address: VarlinkAddress,
        configuration: Configuration = Configuration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> VarlinkConnection {
        let bootstrap = Self.bootstrap(configuration: configuration, group: group)
        let channel: any Channel
        switch address {
        case .unix(let path, _):
            channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
        case .abstract(let name):
            let descriptor = try Sockets.connectAbstract(name)
            channel = try await bootstrap.withConnectedSocket(descriptor).get()
        case .tcp(let host, let port):
            channel = try await bootstrap.connect(host: host, port: port).get()
        case .exec(let path):
            let descriptor = try ServiceLauncher.launchConnected(command: [path])
            channel = try await bootstrap.withConnectedSocket(descriptor).get()
        }
        return try await VarlinkConnection(channel: channel, configuration: configuration)
    }

    /// Speaks varlink over an already connected socket (taking ownership of it).
    public static func adopt(
        socket descriptor: Int32,
        configuration: Configuration = Configuration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> VarlinkConnection {
        let channel = try await bootstrap(configuration: configuration, group: group)
            .withConnectedSocket(descriptor).get()
        return try await VarlinkConnection(channel: channel, configuration: configuration)
    }

    /// A client channel: NUL framing, then the handler that pairs replies with calls.
    private static func bootstrap(configuration: Configuration, group: any EventLoopGroup) -> ClientBootstrap {
        ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        VarlinkClientHandler(maximumMessageSize: configuration.maximumMessageSize, eventLoop: channel.eventLoop)
                    )
                }
            }
    }

    public func close() async {
        try? await channel.close()
    }

    // MARK: VarlinkClientTransport

    public func call(method: String, parameters: some VarlinkEncodable, flags: VarlinkCallFlags) async throws
        -> VarlinkReply?
    {
        let message = try Self.encode(method: method, parameters: parameters, flags: flags, allocator: channel.allocator)
        if flags.contains(.oneway) {
            try await send(OutgoingCall(message: message, waiter: nil)).get()
            return nil
        }
        let waiter = ReplyWaiter()
        let timeout = configuration.callTimeout
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiter.single = continuation
                if let timeout {
                    // Set before the write, which hands the waiter to the event loop; the
                    // reply cancels it, so finished calls leave no timers behind.
                    waiter.timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.nanoseconds))) {
                        waiter.fail(with: VarlinkTimeoutError(method: method, timeout: timeout), on: self.channel.eventLoop)
                    }
                }
                let write = send(OutgoingCall(message: message, waiter: waiter))
                write.whenFailure { error in waiter.fail(with: error, on: self.channel.eventLoop) }
            }
        } onCancel: {
            waiter.fail(with: CancellationError(), on: channel.eventLoop)
        }
    }

    public func stream(method: String, parameters: some VarlinkEncodable) -> AsyncThrowingStream<VarlinkReply, any Error> {
        let (stream, continuation) = AsyncThrowingStream<VarlinkReply, any Error>.makeStream()
        let message: ByteBuffer
        do {
            message = try Self.encode(method: method, parameters: parameters, flags: .more, allocator: channel.allocator)
        } catch {
            continuation.finish(throwing: error)
            return stream
        }
        let waiter = ReplyWaiter()
        waiter.stream = continuation
        let eventLoop = channel.eventLoop
        // A consumer that stops listening gets no more replies; the rest of the stream
        // is read and dropped so the connection stays usable.
        continuation.onTermination = { _ in waiter.fail(with: CancellationError(), on: eventLoop) }
        send(OutgoingCall(message: message, waiter: waiter)).whenFailure { error in
            waiter.fail(with: error, on: eventLoop)
        }
        return stream
    }

    public func upgrade<Result: Sendable>(
        method: String,
        parameters: some VarlinkEncodable,
        _ body: @Sendable (VarlinkReply, VarlinkRawConnection) async throws -> Result
    ) async throws -> VarlinkUpgradeOutcome<Result> {
        let message = try Self.encode(method: method, parameters: parameters, flags: .upgrade, allocator: channel.allocator)
        let waiter = ReplyWaiter()
        let (reply, raw) = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiter.upgrade = continuation
                send(OutgoingCall(message: message, waiter: waiter)).whenFailure { error in
                    waiter.fail(with: error, on: self.channel.eventLoop)
                }
            }
        } onCancel: {
            waiter.fail(with: CancellationError(), on: channel.eventLoop)
        }
        guard let raw else { return .refused(reply) }
        return .upgraded(try await raw.withRawConnection { connection in try await body(reply, connection) })
    }

    private static func encode(
        method: String,
        parameters: some VarlinkEncodable,
        flags: VarlinkCallFlags,
        allocator: ByteBufferAllocator
    ) throws -> ByteBuffer {
        var writer = JSONWriter()
        try VarlinkCallEncoder.encode(method: method, parameters: parameters, flags: flags, into: &writer)
        return allocator.buffer(bytes: writer.bytes)
    }
}

/// No reply came within the call's timeout.
public struct VarlinkTimeoutError: Error, Hashable, Sendable, CustomStringConvertible {
    public var method: String
    public var timeout: Duration
    public var description: String { "no reply to \(method) within \(timeout)" }
}

/// The connection closed while calls were waiting for replies.
public struct VarlinkConnectionClosed: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String { "the varlink connection was closed" }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// One call's place in the reply queue. Touched only on the channel's event loop
/// (which is what makes the unchecked Sendable sound): the write that enqueues it, the
/// reads that complete it, and the timeout or cancellation that abandons it.
final class ReplyWaiter: @unchecked Sendable {
    var single: CheckedContinuation<VarlinkReply?, any Error>?
    var stream: AsyncThrowingStream<VarlinkReply, any Error>.Continuation?
    /// An upgrade call: resumed with the reply and, when it confirmed the upgrade, the
    /// connection as a raw byte stream.
    var upgrade: CheckedContinuation<(VarlinkReply, NIOAsyncChannel<ByteBuffer, ByteBuffer>?), any Error>?
    /// Set once the caller has stopped waiting; its replies are still read (they belong
    /// to this position in the queue) but dropped.
    var abandoned = false
    /// The call's timeout, cancelled when the call ends.
    var timer: Scheduled<Void>?

    /// Delivers a reply; returns true when it was the call's last.
    func deliver(_ reply: VarlinkReply) -> Bool {
        if let single {
            self.single = nil
            timer?.cancel()
            timer = nil
            single.resume(returning: reply)
            return true
        }
        if let stream {
            stream.yield(reply)
            if !reply.continues {
                stream.finish()
                self.stream = nil
                return true
            }
            return false
        }
        return !reply.continues
    }

    func fail(with error: any Error, on eventLoop: any EventLoop) {
        eventLoop.execute {
            self.abandoned = true
            self.finish(throwing: error)
        }
    }

    /// Ends the call with `error`, whichever way its caller waits.
    func finish(throwing error: any Error) {
        timer?.cancel()
        timer = nil
        if let single {
            self.single = nil
            single.resume(throwing: error)
        }
        if let stream {
            self.stream = nil
            stream.finish(throwing: error)
        }
        if let upgrade {
            self.upgrade = nil
            upgrade.resume(throwing: error)
        }
    }
}

struct OutgoingCall: Sendable {
    var message: ByteBuffer
    /// nil for oneway calls, which get no reply.
    var waiter: ReplyWaiter?
}

/// Matches replies to calls. Varlink has no request ids: replies come in call order,
/// so a FIFO of waiters, kept on the event loop, is the whole bookkeeping. After a
/// confirmed upgrade the connection is a raw byte stream: bytes pass through to the
/// handlers added for it, starting with those that came after the confirming reply.
final class VarlinkClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?
    private var framer: NULFramer
    private var upgraded = false
    private var waiting: [ReplyWaiter] = []
    private var head = 0

    private let eventLoop: any EventLoop

    init(maximumMessageSize: Int, eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        framer = NULFramer(maximumMessageSize: maximumMessageSize)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes a call and queues its waiter (on the event loop).
    func send(_ call: OutgoingCall) -> EventLoopFuture<Void> {
        guard let context else { return eventLoop.makeFailedFuture(VarlinkConnectionClosed()) }
        if upgraded {
            return context.eventLoop.makeFailedFuture(
                VarlinkProtocolError("the connection was upgraded and no longer speaks varlink")
            )
        }
        if let waiter = call.waiter {
            if waiter.abandoned { return context.eventLoop.makeFailedFuture(CancellationError()) }
            waiting.append(waiter)
        }
        return context.writeAndFlush(wrapOutboundOut(call.message))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if upgraded {
            context.fireChannelRead(data)
            return
        }
        framer.append(unwrapInboundIn(data))
        while !upgraded {
            let message: ByteBuffer
            do {
                guard let next = try framer.next() else { return }
                message = next
            } catch {
                failAll(with: error)
                context.close(promise: nil)
                return
            }
            receive(message, context: context)
        }
    }

    private func receive(_ message: ByteBuffer, context: ChannelHandlerContext) {
        guard head < waiting.count else {
            // A reply nobody asked for: the peer and we disagree about the conversation.
            failAll(with: VarlinkProtocolError("received a reply with no call waiting for it"))
            context.close(promise: nil)
            return
        }
        let reply: VarlinkReply
        do {
            reply = try VarlinkReply(parsing: message.readableBytesView)
        } catch {
            failAll(with: error)
            context.close(promise: nil)
            return
        }
        let waiter = waiting[head]
        if let upgrade = waiter.upgrade {
            waiter.upgrade = nil
            head += 1
            if reply.error != nil {
                // Refused: the connection stays varlink.
                upgrade.resume(returning: (reply, nil))
                return
            }
            upgradeConnection(context: context, reply: reply, continuation: upgrade)
            return
        }
        if waiter.deliver(reply) {
            head += 1
            // Compact now and then instead of shifting the array on every reply.
            if head > 64 && head * 2 > waiting.count {
                waiting.removeFirst(head)
                head = 0
            }
        }
    }

    private func upgradeConnection(
        context: ChannelHandlerContext,
        reply: VarlinkReply,
        continuation: CheckedContinuation<(VarlinkReply, NIOAsyncChannel<ByteBuffer, ByteBuffer>?), any Error>
    ) {
        upgraded = true
        RawStream.allowLargeReads(on: context.channel)
        // Calls sent after the upgrade call will never be answered in varlink.
        failAll(with: VarlinkProtocolError("the connection was upgraded by an earlier call"))
        do {
            let raw = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                wrappingChannelSynchronously: context.channel,
                configuration: .init(isOutboundHalfClosureEnabled: true)
            )
            if let remaining = framer.takeRemaining() {
                context.fireChannelRead(wrapInboundOut(remaining))
            }
            continuation.resume(returning: (reply, raw))
        } catch {
            continuation.resume(throwing: error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(with: VarlinkConnectionClosed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if upgraded {
            context.fireErrorCaught(error)
            return
        }
        failAll(with: error)
        context.close(promise: nil)
    }

    private func failAll(with error: any Error) {
        for waiter in waiting[head...] { waiter.finish(throwing: error) }
        waiting.removeAll()
        head = 0
    }
}
