import Logging
import NIOCore
import Varlink

/// Sent down a server connection's pipeline when the server stops: the connection
/// closes once its current call is done, and a `more` stream (which has no end of its
/// own) is cancelled.
struct VarlinkServerStopping: Sendable {}

/// Serves varlink on one connection, on the connection's event loop.
///
/// Calls are taken from the byte stream one at a time, in order: the next message is
/// split off only when the previous call has finished, so a pipelining client gets its
/// replies in order and an upgrade finds the bytes after its call untouched. Each call
/// runs as a task that starts immediately on the event loop and prefers it as its
/// executor, so a call that does not wait for anything is read, handled and answered
/// within one read event, without a hand-off to another thread. Replies are written as
/// they come and flushed when no further call is waiting in the buffer, which batches
/// the replies of pipelined calls into one write. When the connection is idle again and
/// its client has been calling promptly, the loop may poll for the next call for a
/// moment before it sleeps (see `BusyPolling`).
///
/// All state is touched on the event loop only.
final class VarlinkServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Mode {
        case varlink
        /// Upgraded: bytes pass through to the raw connection's handlers.
        case raw
        /// A bounded upgrade: the next bytes, up to a count, go to the call; then varlink.
        case receiving
    }

    typealias ReceivedBytes = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, ReceivingDelegate
    >
    /// The bounded upgrade in progress: how many bytes the call still gets, and where they go.
    private var receiving: (remaining: Int, source: ReceivedBytes.Source)?
    /// The call's consumer has enough buffered: reads wait until it asks for more.
    private var receivingHeld = false
    /// Set once a call made a bounded upgrade: its return value is not a reply.
    private var dropFinalReply = false

    private let service: VarlinkService
    private let logger: Logger
    private let executor: EventLoopExecutor
    private var framer: NULFramer
    private var mode = Mode.varlink
    private var context: ChannelHandlerContext?

    /// The call being handled, if any, and whether it is a stream.
    private var current: (task: Task<Void, Never>, streaming: Bool)?
    private var busy = false
    /// Set while `processCalls` runs, so that a call finishing inside it does not
    /// start a nested loop.
    private var processing = false
    private var unflushed = false
    private var inputClosed = false
    private var stopping = false
    /// A read NIO asked for while a call was busy and enough bytes were buffered.
    private var readHeld = false
    private var writabilityWaiters: [EventLoopPromise<Void>] = []

    private let busyPolling: BusyPolling?
    /// The server's connections on this event loop, this one included: polling blocks
    /// the loop, so only a connection alone on it polls.
    private let connectionsOnLoop: NIOLoopBoundBox<Int>
    /// Whether a reply went out since the client's last message.
    private var replied = false
    /// When the connection last went idle after replying, until the client's next message.
    private var idleSince: ContinuousClock.Instant?
    /// Whether the client's last message came within `BusyPolling.promptness` of the reply before it.
    private var clientIsPrompt = false
    private var pollScheduled = false
    private enum DescriptorLookup {
        case notYet
        case found(CInt)
        /// Not a socket, or no /proc: the connection never polls.
        case unavailable
    }
    /// The connection's socket, looked up on its first poll.
    private var descriptor = DescriptorLookup.notYet

    /// Past this many buffered bytes, a busy connection stops reading: a client that
    /// pipelines without end is held back by TCP, not by our memory.
    private static let readHoldThreshold = 256 << 10

    /// False for a peer the server's `allowedPeers` refuses: its calls are answered with
    /// PermissionDenied and the connection closes.
    private let permitted: Bool

    init(
        service: VarlinkService,
        maximumMessageSize: Int,
        logger: Logger,
        eventLoop: any EventLoop,
        permitted: Bool,
        busyPolling: BusyPolling?,
        connectionsOnLoop: NIOLoopBoundBox<Int>
    ) {
        self.service = service
        self.permitted = permitted
        self.busyPolling = busyPolling
        self.connectionsOnLoop = connectionsOnLoop
        self.logger = logger
        self.executor = EventLoopExecutor(eventLoop)
        self.framer = NULFramer(maximumMessageSize: maximumMessageSize)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        connectionsOnLoop.value += 1
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        connectionsOnLoop.value -= 1
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch mode {
        case .raw:
            context.fireChannelRead(data)
        case .receiving:
            deliverReceived(unwrapInboundIn(data))
        case .varlink:
            if let idleSince, let busyPolling {
                clientIsPrompt = ContinuousClock.now - idleSince <= busyPolling.promptness
                self.idleSince = nil
            }
            replied = false
            framer.append(unwrapInboundIn(data))
            processCalls(context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed where mode == .varlink:
            // The client sent its last call and shut down its sending side: answer what
            // it sent, then close.
            inputClosed = true
            processCalls(context)
        case ChannelEvent.inputClosed where mode == .receiving:
            inputClosed = true
            endReceiving(failure: VarlinkConnectionClosed())
        case is VarlinkServerStopping:
            stopping = true
            if mode == .raw { return }
            if let current, current.streaming { current.task.cancel() }
            processCalls(context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { resumeWriters() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A peer that hangs up must not leave its call running.
        endReceiving(failure: VarlinkConnectionClosed())
        current?.task.cancel()
        resumeWriters()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if mode == .raw {
            context.fireErrorCaught(error)
            return
        }
        logger.debug("connection ended", metadata: ["varlink.reason": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        if mode == .varlink && busy && framer.bufferedBytes >= Self.readHoldThreshold {
            readHeld = true
            return
        }
        if mode == .receiving && receivingHeld {
            readHeld = true
            return
        }
        context.read()
    }

    // MARK: Calls

    /// Starts the buffered calls one after another while each finishes at once; stops
    /// at the first that has to wait (its task resumes the loop when it ends).
    private func processCalls(_ context: ChannelHandlerContext) {
        guard !processing else { return }
        processing = true
        defer { processing = false }
        while !busy && mode == .varlink && !stopping {
            let message: ByteBuffer
            do {
                guard let next = try framer.next() else { break }
                message = next
            } catch {
                return closeForProtocolError(context, error)
            }
            let call: VarlinkIncomingCall
            do {
                call = try VarlinkIncomingCall(parsing: message.readableBytesView)
            } catch {
                return closeForProtocolError(context, error)
            }
            guard permitted else { return refuse(call, context) }
            start(call, context)
        }
        guard !busy, mode == .varlink else { return }
        if unflushed {
            unflushed = false
            context.flush()
        }
        if inputClosed || stopping {
            context.close(promise: nil)
        } else if readHeld {
            readHeld = false
            context.read()
        } else if replied, busyPolling != nil, framer.bufferedBytes == 0 {
            wentIdle(context)
        }
    }

    /// The connection answered and waits for its client: poll for the next call if
    /// the client has been prompt and nobody else is on this loop. The poll runs as a
    /// task, after the loop has handled the rest of what woke it.
    private func wentIdle(_ context: ChannelHandlerContext) {
        replied = false
        idleSince = .now
        guard clientIsPrompt, !pollScheduled, connectionsOnLoop.value == 1 else { return }
        pollScheduled = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute { handler.value.pollForNextCall() }
    }

    private func pollForNextCall() {
        pollScheduled = false
        guard let busyPolling, let context, context.channel.isActive, !busy, mode == .varlink, idleSince != nil,
            connectionsOnLoop.value == 1
        else { return }
        switch descriptor {
        case .found(let descriptor):
            busyPolling.poll(descriptor)
        case .notYet:
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            ChannelDescriptor.find(for: context.channel) { found in
                handler.value.descriptor = found.map(DescriptorLookup.found) ?? .unavailable
                if found != nil { handler.value.pollForNextCall() }
            }
        case .unavailable:
            return
        }
    }

    private func closeForProtocolError(_ context: ChannelHandlerContext, _ error: any Error) {
        logger.debug("closing connection", metadata: ["varlink.reason": "\(error)"])
        if unflushed {
            unflushed = false
            context.flush()
        }
        context.close(promise: nil)
    }

    private func refuse(_ call: VarlinkIncomingCall, _ context: ChannelHandlerContext) {
        stopping = true
        guard !call.flags.contains(.oneway),
            let message = try? VarlinkReplyEncoder.message(
                errorName: VarlinkError.permissionDenied.name, parameters: VarlinkError.permissionDenied)
        else {
            context.close(promise: nil)
            return
        }
        unflushed = false
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(bytes: message))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private func start(_ call: VarlinkIncomingCall, _ context: ChannelHandlerContext) {
        busy = true
        let eventLoop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        let sink = ConnectionSink(handler: handler, eventLoop: eventLoop)
        let service = self.service
        let task = Task.immediate(executorPreference: executor) {
            await service.handle(call, sink: sink)
            if eventLoop.inEventLoop {
                handler.value.callFinished()
            } else {
                eventLoop.execute { handler.value.callFinished() }
            }
        }
        // A call that finished inside `Task.immediate` has already cleared `busy`.
        if busy { current = (task, call.flags.contains(.more)) }
    }

    private func callFinished() {
        busy = false
        current = nil
        dropFinalReply = false
        if mode == .receiving {
            // The call ended before the client's bytes did: what follows them cannot be
            // told from them any more.
            endReceiving(failure: VarlinkConnectionClosed())
            context?.close(promise: nil)
            return
        }
        if let context { processCalls(context) }
    }

    // MARK: Writing (called by ConnectionSink, on the event loop)

    /// Writes one reply. Returns a future that completes when the connection can take
    /// more, or nil when it already can.
    fileprivate func writeReply(_ message: [UInt8], flushNow: Bool, isError: Bool = false) -> EventLoopFuture<Void>? {
        if dropFinalReply && isError {
            // A call that failed after a bounded upgrade has no way left to say so but
            // to hang up: its client waits for raw bytes, not a varlink reply.
            context?.close(promise: nil)
            return nil
        }
        guard mode == .varlink, !dropFinalReply, let context, context.channel.isActive else {
            // Gone, or upgraded: the reply has nowhere to go. A method's return value
            // after an upgrade ends here, by design.
            return nil
        }
        return write(message, flushNow: flushNow, in: context)
    }

    /// Writes bytes as they are, for a call in a bounded upgrade (no NUL, no JSON).
    fileprivate func writeRaw(_ bytes: [UInt8]) -> EventLoopFuture<Void>? {
        guard mode != .raw, dropFinalReply, let context, context.channel.isActive else { return nil }
        return write(bytes, flushNow: true, in: context)
    }

    private func write(_ message: [UInt8], flushNow: Bool, in context: ChannelHandlerContext) -> EventLoopFuture<Void>? {
        var buffer = context.channel.allocator.buffer(capacity: message.count)
        buffer.writeBytes(message)
        context.write(wrapOutboundOut(buffer), promise: nil)
        replied = true
        if flushNow || !processing {
            // Outside the synchronous loop nobody else will flush: a stream's replies,
            // and the final reply of a call that had to wait.
            unflushed = false
            context.flush()
        } else {
            unflushed = true
        }
        if context.channel.isWritable { return nil }
        if unflushed {
            unflushed = false
            context.flush()
            // The flush may have drained the buffer (and announced it) already.
            if context.channel.isWritable { return nil }
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        writabilityWaiters.append(promise)
        return promise.futureResult
    }

    private func resumeWriters() {
        let waiters = writabilityWaiters
        writabilityWaiters.removeAll()
        for waiter in waiters { waiter.succeed() }
    }

    // MARK: Bounded upgrades (called by ConnectionSink, on the event loop)

    /// Confirms a bounded upgrade: the next `byteCount` bytes go to the returned
    /// sequence, with back-pressure (reading stops while the call is behind), and then
    /// the connection is varlink again.
    fileprivate func beginReceiving(confirming message: [UInt8], byteCount: Int) throws -> ReceivedBytes {
        guard mode == .varlink, let context, context.channel.isActive else { throw VarlinkConnectionClosed() }
        var buffer = context.channel.allocator.buffer(capacity: message.count)
        buffer.writeBytes(message)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        unflushed = false
        dropFinalReply = true
        let produced = ReceivedBytes.makeSequence(
            backPressureStrategy: .init(lowWatermark: 4, highWatermark: 16), finishOnDeinit: true,
            delegate: ReceivingDelegate(handler: NIOLoopBound(self, eventLoop: context.eventLoop)))
        mode = .receiving
        receiving = (byteCount, produced.source)
        if let remaining = framer.takeRemaining() {
            deliverReceived(remaining)
        } else if byteCount == 0 {
            deliverReceived(context.channel.allocator.buffer(capacity: 0))
        }
        if mode == .receiving && inputClosed { endReceiving(failure: VarlinkConnectionClosed()) }
        return produced.sequence
    }

    private func deliverReceived(_ bytes: ByteBuffer) {
        guard let state = receiving else { return }
        var bytes = bytes
        let count = min(state.remaining, bytes.readableBytes)
        receiving!.remaining -= count
        if count > 0, case .stopProducing = state.source.yield(bytes.readSlice(length: count)!) { receivingHeld = true }
        guard receiving!.remaining == 0 else { return }
        state.source.finish()
        receiving = nil
        receivingHeld = false
        mode = .varlink
        // What follows is the client's next call; it waits until this one has finished.
        if bytes.readableBytes > 0 { framer.append(bytes) }
    }

    /// The call's consumer wants more.
    fileprivate func resumeReceiving() {
        receivingHeld = false
        if readHeld, let context {
            readHeld = false
            context.read()
        }
    }

    private func endReceiving(failure: any Error) {
        guard let state = receiving else { return }
        state.source.finish(failure)
        receiving = nil
    }

    /// Confirms an upgrade and turns the connection into a raw byte stream: handlers
    /// for the raw stream go in after this one, and the bytes that came after the
    /// upgrade call are handed to them first.
    fileprivate func upgrade(confirming message: [UInt8]) throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        guard mode == .varlink, let context, context.channel.isActive else { throw VarlinkConnectionClosed() }
        var buffer = context.channel.allocator.buffer(capacity: message.count)
        buffer.writeBytes(message)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        unflushed = false
        mode = .raw
        RawStream.allowLargeReads(on: context.channel)
        let raw = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
            wrappingChannelSynchronously: context.channel,
            configuration: .init(isOutboundHalfClosureEnabled: true)
        )
        if let remaining = framer.takeRemaining() {
            context.fireChannelRead(wrapInboundOut(remaining))
        }
        if inputClosed {
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        if readHeld {
            readHeld = false
            context.read()
        }
        return raw
    }
}

/// Writes one call's replies through the connection's handler, hopping to the event
/// loop when the method has moved off it. NIO's writability applies back-pressure: a
/// client that does not read makes `send` wait, which holds up its own connection and
/// nothing else.
private struct ConnectionSink: VarlinkReplySink {
    let handler: NIOLoopBound<VarlinkServerConnectionHandler>
    let eventLoop: any EventLoop

    func send(_ parameters: some VarlinkEncodable, continues: Bool) async throws {
        try await write(VarlinkReplyEncoder.message(parameters: parameters, continues: continues), flushNow: continues)
    }

    func sendError(name: String, parameters: some VarlinkEncodable) async throws {
        try await write(VarlinkReplyEncoder.message(errorName: name, parameters: parameters), flushNow: false, isError: true)
    }

    private func write(_ message: [UInt8], flushNow: Bool, isError: Bool = false) async throws {
        if eventLoop.inEventLoop {
            if let writable = handler.value.writeReply(message, flushNow: flushNow, isError: isError) { try await writable.get() }
        } else {
            let handler = self.handler
            try await eventLoop.flatSubmit {
                handler.value.writeReply(message, flushNow: flushNow, isError: isError) ?? handler.eventLoop.makeSucceededVoidFuture()
            }.get()
        }
        try Task.checkCancellation()
    }

    func upgrade<Result: Sendable>(
        confirming parameters: some VarlinkEncodable,
        _ body: @Sendable (VarlinkRawConnection) async throws -> Result
    ) async throws -> Result {
        let message = try VarlinkReplyEncoder.message(parameters: parameters, continues: false)
        let handler = self.handler
        let raw = try await eventLoop.submit { try handler.value.upgrade(confirming: message) }.get()
        return try await raw.withRawConnection(body)
    }

    func upgrade<Result: Sendable>(
        confirming parameters: some VarlinkEncodable,
        receivingBytes byteCount: Int,
        _ body: @Sendable (VarlinkRawConnection) async throws -> Result
    ) async throws -> Result {
        let message = try VarlinkReplyEncoder.message(parameters: parameters, continues: false)
        let handler = self.handler
        let eventLoop = self.eventLoop
        let received = try await eventLoop.submit { try handler.value.beginReceiving(confirming: message, byteCount: byteCount) }.get()
        let connection = VarlinkRawConnection(
            inbound: VarlinkRawInbound {
                let iterator = ReceivedIterator(received.makeAsyncIterator())
                return { try await iterator.next() }
            },
            write: { bytes in
                let writable = try await eventLoop.submit { handler.value.writeRaw(bytes) }.get()
                try await writable?.get()
            },
            finish: {})
        return try await body(connection)
    }
}

/// Asks the connection for more of a bounded upgrade's bytes, on its event loop.
struct ReceivingDelegate: NIOAsyncSequenceProducerDelegate {
    let handler: NIOLoopBound<VarlinkServerConnectionHandler>

    func produceMore() {
        let handler = self.handler
        handler.eventLoop.execute { handler.value.resumeReceiving() }
    }

    func didTerminate() {}
}

/// The producer's iterator behind a reference, so that the raw connection's reader
/// closure (which must be Sendable) can advance it; one reader uses it at a time.
private final class ReceivedIterator: @unchecked Sendable {
    private var iterator: VarlinkServerConnectionHandler.ReceivedBytes.AsyncIterator

    init(_ iterator: VarlinkServerConnectionHandler.ReceivedBytes.AsyncIterator) {
        self.iterator = iterator
    }

    func next() async throws -> [UInt8]? {
        try await iterator.next().map { Array($0.readableBytesView) }
    }
}

extension NIOAsyncChannel<ByteBuffer, ByteBuffer> {
    /// Runs `body` with this channel as a `VarlinkRawConnection`, then closes it.
    func withRawConnection<Result: Sendable>(
        _ body: @Sendable (VarlinkRawConnection) async throws -> Result
    ) async throws -> Result {
        try await executeThenClose { inbound, outbound in
            let connection = VarlinkRawConnection(
                inbound: VarlinkRawInbound {
                    var iterator = inbound.makeAsyncIterator()
                    return { try await iterator.next().map { Array($0.readableBytesView) } }
                },
                write: { bytes in try await outbound.write(ByteBuffer(bytes: bytes)) },
                finish: { outbound.finish() }
            )
            return try await body(connection)
        }
    }
}
