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

    private init(channel: any Channel, configuration: Configuration) {
        self.channel = channel
        self.configuration = configuration
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
        return VarlinkConnection(channel: channel, configuration: configuration)
    }

    /// Speaks varlink over an already connected socket (taking ownership of it).
    public static func adopt(
        socket descriptor: Int32,
        configuration: Configuration = Configuration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> VarlinkConnection {
        let channel = try await bootstrap(configuration: configuration, group: group)
            .withConnectedSocket(descriptor).get()
        return VarlinkConnection(channel: channel, configuration: configuration)
    }

    /// A client channel: NUL framing, then the handler that pairs replies with calls.
    private static func bootstrap(configuration: Configuration, group: any EventLoopGroup) -> ClientBootstrap {
        ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(NULFrameDecoder(maximumMessageSize: configuration.maximumMessageSize)),
                        VarlinkClientHandler()
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
            try await channel.writeAndFlush(OutgoingCall(message: message, waiter: nil))
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
                let write = channel.writeAndFlush(OutgoingCall(message: message, waiter: waiter))
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
        channel.writeAndFlush(OutgoingCall(message: message, waiter: waiter)).whenFailure { error in
            waiter.fail(with: error, on: eventLoop)
        }
        return stream
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
            self.timer?.cancel()
            self.timer = nil
            if let single = self.single {
                self.single = nil
                single.resume(throwing: error)
            }
            if let stream = self.stream {
                self.stream = nil
                stream.finish(throwing: error)
            }
        }
    }
}

struct OutgoingCall: Sendable {
    var message: ByteBuffer
    /// nil for oneway calls, which get no reply.
    var waiter: ReplyWaiter?
}

/// Matches replies to calls. Varlink has no request ids: replies come in call order,
/// so a FIFO of waiters, kept on the event loop, is the whole bookkeeping.
final class VarlinkClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = OutgoingCall
    typealias OutboundOut = ByteBuffer

    private var waiting: [ReplyWaiter] = []
    private var head = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let call = unwrapOutboundIn(data)
        if let waiter = call.waiter {
            if waiter.abandoned {
                promise?.fail(CancellationError())
                return
            }
            waiting.append(waiter)
        }
        context.write(wrapOutboundOut(call.message), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        guard head < waiting.count else {
            // A reply nobody asked for: the peer and we disagree about the conversation.
            context.fireErrorCaught(VarlinkProtocolError("received a reply with no call waiting for it"))
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
        if waiting[head].deliver(reply) {
            head += 1
            // Compact now and then instead of shifting the array on every reply.
            if head > 64 && head * 2 > waiting.count {
                waiting.removeFirst(head)
                head = 0
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(with: VarlinkConnectionClosed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(with: error)
        context.close(promise: nil)
    }

    private func failAll(with error: any Error) {
        for waiter in waiting[head...] {
            waiter.timer?.cancel()
            waiter.timer = nil
            if let single = waiter.single {
                waiter.single = nil
                single.resume(throwing: error)
            }
            if let stream = waiter.stream {
                waiter.stream = nil
                stream.finish(throwing: error)
            }
        }
        waiting.removeAll()
        head = 0
    }
}
