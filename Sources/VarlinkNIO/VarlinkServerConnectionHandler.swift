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
/// the replies of pipelined calls into one write.
///
/// All state is touched on the event loop only.
final class VarlinkServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What the connection's bytes are.
    private enum Mode {
        case varlink
        /// A bounded upgrade: the next bytes, up to a count, go to the call; then varlink.
        case receiving(Receiving)
        /// A bounded upgrade whose client hung up or shut down its side before sending
        /// everything: bytes are dropped and the connection closes when the call ends.
        case receivingAbandoned
        /// Upgraded: bytes pass through to the raw connection's handlers.
        case raw

        var isVarlink: Bool {
            if case .varlink = self { return true }
            return false
        }
    }

    typealias ReceivedBytes = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, ReceivingDelegate
    >
    /// A bounded upgrade in progress.
    private struct Receiving {
        /// How many bytes the call still gets.
        var remaining: Int
        let source: ReceivedBytes.Source
        /// The call's consumer has enough buffered: reads wait until it asks for more.
        var held = false
    }

    /// The call being handled.
    private enum Call {
        case none
        /// `task` is nil until `Task.immediate` returns (a call that finishes inside it
        /// never gets one); `upgraded` is set once the call made a bounded upgrade, after
        /// which its return value is not a reply.
        case running(task: Task<Void, Never>?, streaming: Bool, upgraded: Bool)

        var isRunning: Bool {
            if case .running = self { return true }
            return false
        }
        var upgraded: Bool {
            if case .running(_, _, let upgraded) = self { return upgraded }
            return false
        }
    }

    private let service: VarlinkService
    private let logger: Logger
    private let executor: EventLoopExecutor
    private var framer: NULFramer
    private var mode = Mode.varlink
    private var call = Call.none
    private var context: ChannelHandlerContext?

    /// Set while `processCalls` runs, so that a call finishing inside it does not
    /// start a nested loop.
    private var processing = false
    private var unflushed = false
    /// The client shut down its sending side: answer what it sent, then close.
    private var inputClosed = false
    /// The server is stopping: finish the current call, start no other, then close.
    private var stopping = false
    /// A read NIO asked for while a call was busy and enough bytes were buffered.
    private var readHeld = false
    private var writabilityWaiters: [EventLoopPromise<Void>] = []

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
        permitted: Bool
    ) {
        self.service = service
        self.permitted = permitted
        self.logger = logger
        self.executor = EventLoopExecutor(eventLoop)
        self.framer = NULFramer(maximumMessageSize: maximumMessageSize)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch mode {
        case .raw:
            context.fireChannelRead(data)
        case .receiving, .receivingAbandoned:
            deliverReceived(unwrapInboundIn(data))
        case .varlink:
            framer.append(unwrapInboundIn(data))
            processCalls(context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch (event, mode) {
        case (ChannelEvent.inputClosed, .varlink):
            // The client sent its last call and shut down its sending side: answer what
            // it sent, then close.
            inputClosed = true
            processCalls(context)
        case (ChannelEvent.inputClosed, .receiving), (ChannelEvent.inputClosed, .receivingAbandoned):
            inputClosed = true
            endReceiving(failure: VarlinkConnectionClosed())
        case (is VarlinkServerStopping, .raw):
            stopping = true
        case (is VarlinkServerStopping, _):
            stopping = true
            if case .running(let task, streaming: true, _) = call { task?.cancel() }
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
        if case .running(let task, _, _) = call { task?.cancel() }
        resumeWriters()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .raw = mode {
            context.fireErrorCaught(error)
            return
        }
        logger.debug("connection ended", metadata: ["varlink.reason": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        if readsWait {
            readHeld = true
        } else {
            context.read()
        }
    }

    /// Whether reading must wait: a busy connection has plenty buffered, or a bounded
    /// upgrade's consumer is behind.
    private var readsWait: Bool {
        switch mode {
        case .varlink: call.isRunning && framer.bufferedBytes >= Self.readHoldThreshold
        case .receiving(let receiving): receiving.held
        case .receivingAbandoned, .raw: false
        }
    }

    // MARK: Calls

    /// Starts the buffered calls one after another while each finishes at once; stops
    /// at the first that has to wait (its task resumes the loop when it ends).
    private func processCalls(_ context: ChannelHandlerContext) {
        guard !processing else { return }
        processing = true
        defer { processing = false }
        while !call.isRunning && mode.isVarlink && !stopping {
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
        guard !call.isRunning, mode.isVarlink else { return }
        if unflushed {
            unflushed = false
            context.flush()
        }
        if inputClosed || stopping {
            context.close(promise: nil)
        } else if readHeld {
            readHeld = false
            context.read()
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

    private func start(_ incoming: VarlinkIncomingCall, _ context: ChannelHandlerContext) {
        let streaming = incoming.flags.contains(.more)
        call = .running(task: nil, streaming: streaming, upgraded: false)
        let eventLoop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        let sink = ConnectionSink(handler: handler, eventLoop: eventLoop)
        let service = self.service
        let task = Task.immediate(executorPreference: executor) {
            await service.handle(incoming, sink: sink)
            if eventLoop.inEventLoop {
                handler.value.callFinished()
            } else {
                eventLoop.execute { handler.value.callFinished() }
            }
        }
        // A call that finished inside `Task.immediate` has already cleared its state.
        if case .running(nil, _, let upgraded) = call { call = .running(task: task, streaming: streaming, upgraded: upgraded) }
    }

    private func callFinished() {
        call = .none
        switch mode {
        case .receiving, .receivingAbandoned:
            // The call ended before the client's bytes did: what follows them cannot be
            // told from them any more.
            endReceiving(failure: VarlinkConnectionClosed())
            context?.close(promise: nil)
        case .varlink, .raw:
            if let context { processCalls(context) }
        }
    }

    // MARK: Writing (called by ConnectionSink, on the event loop)

    /// Writes one reply. Returns a future that completes when the connection can take
    /// more, or nil when it already can.
    fileprivate func writeReply(_ message: [UInt8], flushNow: Bool, isError: Bool = false) -> EventLoopFuture<Void>? {
        if call.upgraded && isError {
            // A call that failed after a bounded upgrade has no way left to say so but
            // to hang up: its client waits for raw bytes, not a varlink reply.
            context?.close(promise: nil)
            return nil
        }
        guard mode.isVarlink, !call.upgraded, let context, context.channel.isActive else {
            // Gone, or upgraded: the reply has nowhere to go. A method's return value
            // after an upgrade ends here, by design.
            return nil
        }
        return write(message, flushNow: flushNow, in: context)
    }

    /// Writes bytes as they are, for a call in a bounded upgrade (no NUL, no JSON).
    fileprivate func writeRaw(_ bytes: [UInt8]) -> EventLoopFuture<Void>? {
        guard call.upgraded, let context, context.channel.isActive else { return nil }
        if case .raw = mode { return nil }
        return write(bytes, flushNow: true, in: context)
    }

    private func write(_ message: [UInt8], flushNow: Bool, in context: ChannelHandlerContext) -> EventLoopFuture<Void>? {
        var buffer = context.channel.allocator.buffer(capacity: message.count)
        buffer.writeBytes(message)
        context.write(wrapOutboundOut(buffer), promise: nil)
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
        guard mode.isVarlink, case .running(let task, let streaming, _) = call, let context, context.channel.isActive else {
            throw VarlinkConnectionClosed()
        }
        var buffer = context.channel.allocator.buffer(capacity: message.count)
        buffer.writeBytes(message)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        unflushed = false
        call = .running(task: task, streaming: streaming, upgraded: true)
        let produced = ReceivedBytes.makeSequence(
            backPressureStrategy: .init(lowWatermark: 4, highWatermark: 16), finishOnDeinit: true,
            delegate: ReceivingDelegate(handler: NIOLoopBound(self, eventLoop: context.eventLoop)))
        mode = .receiving(Receiving(remaining: byteCount, source: produced.source))
        if let remaining = framer.takeRemaining() {
            deliverReceived(remaining)
        } else if byteCount == 0 {
            deliverReceived(context.channel.allocator.buffer(capacity: 0))
        }
        if inputClosed { endReceiving(failure: VarlinkConnectionClosed()) }
        return produced.sequence
    }

    private func deliverReceived(_ bytes: ByteBuffer) {
        guard case .receiving(var receiving) = mode else { return }
        var bytes = bytes
        let count = min(receiving.remaining, bytes.readableBytes)
        receiving.remaining -= count
        if count > 0, case .stopProducing = receiving.source.yield(bytes.readSlice(length: count)!) { receiving.held = true }
        guard receiving.remaining == 0 else {
            mode = .receiving(receiving)
            return
        }
        receiving.source.finish()
        mode = .varlink
        // What follows is the client's next call; it waits until this one has finished.
        if bytes.readableBytes > 0 { framer.append(bytes) }
    }

    /// The call's consumer wants more.
    fileprivate func resumeReceiving() {
        guard case .receiving(var receiving) = mode else { return }
        receiving.held = false
        mode = .receiving(receiving)
        if readHeld, let context {
            readHeld = false
            context.read()
        }
    }

    /// Ends a bounded upgrade early: its consumer sees `failure`.
    private func endReceiving(failure: any Error) {
        guard case .receiving(let receiving) = mode else { return }
        receiving.source.finish(failure)
        mode = .receivingAbandoned
    }

    /// Confirms an upgrade and turns the connection into a raw byte stream: handlers
    /// for the raw stream go in after this one, and the bytes that came after the
    /// upgrade call are handed to them first.
    fileprivate func upgrade(confirming message: [UInt8]) throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        guard mode.isVarlink, let context, context.channel.isActive else { throw VarlinkConnectionClosed() }
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
