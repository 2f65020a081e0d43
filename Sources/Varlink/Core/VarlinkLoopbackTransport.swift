/// A client transport that calls a `VarlinkService` in the same process.
///
/// Every call and reply still goes through its wire bytes (encoded, then parsed with
/// the same strict server and lenient client rules as a socket), so what works here
/// works on a socket: the generated code, the codec and the dispatcher are all real.
public struct VarlinkLoopbackTransport: VarlinkClientTransport {
    public let service: VarlinkService

    public init(service: VarlinkService) {
        self.service = service
    }

    public func call(method: String, parameters: some VarlinkEncodable, flags: VarlinkCallFlags) async throws
        -> VarlinkReply?
    {
        let call = try Self.roundTrip(method: method, parameters: parameters, flags: flags)
        let collector = ReplyCollector()
        await service.handle(call, sink: collector)
        let replies = await collector.replies
        if flags.contains(.oneway) {
            guard replies.isEmpty else { throw VarlinkProtocolError("the service answered a oneway call") }
            return nil
        }
        guard replies.count == 1, let only = replies.first else {
            throw VarlinkProtocolError("expected exactly one reply to \(method), got \(replies.count)")
        }
        return try VarlinkReply(parsing: only.dropLast())
    }

    public func stream(method: String, parameters: some VarlinkEncodable) -> AsyncThrowingStream<VarlinkReply, any Error> {
        let (stream, continuation) = AsyncThrowingStream<VarlinkReply, any Error>.makeStream()
        let call: VarlinkIncomingCall
        do {
            call = try Self.roundTrip(method: method, parameters: parameters, flags: .more)
        } catch {
            continuation.finish(throwing: error)
            return stream
        }
        let service = self.service
        let task = Task {
            await service.handle(call, sink: StreamingSink(continuation: continuation))
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Encodes the call as a client would and parses it as a server would.
    private static func roundTrip(method: String, parameters: some VarlinkEncodable, flags: VarlinkCallFlags) throws
        -> VarlinkIncomingCall
    {
        var writer = JSONWriter()
        try VarlinkCallEncoder.encode(method: method, parameters: parameters, flags: flags, into: &writer)
        return try VarlinkIncomingCall(parsing: writer.bytes.dropLast())
    }
}

/// Collects the framed reply messages of one call.
private actor ReplyCollector: VarlinkReplySink {
    var replies: [[UInt8]] = []

    func send(_ parameters: some VarlinkEncodable, continues: Bool) throws {
        replies.append(try VarlinkReplyEncoder.message(parameters: parameters, continues: continues))
    }

    func sendError(name: String, parameters: some VarlinkEncodable) throws {
        replies.append(try VarlinkReplyEncoder.message(errorName: name, parameters: parameters))
    }
}

/// Hands each reply of a stream to the client as soon as it is sent.
private struct StreamingSink: VarlinkReplySink {
    let continuation: AsyncThrowingStream<VarlinkReply, any Error>.Continuation

    func send(_ parameters: some VarlinkEncodable, continues: Bool) throws {
        try deliver(try VarlinkReplyEncoder.message(parameters: parameters, continues: continues))
    }

    func sendError(name: String, parameters: some VarlinkEncodable) throws {
        try deliver(try VarlinkReplyEncoder.message(errorName: name, parameters: parameters))
    }

    private func deliver(_ message: [UInt8]) throws {
        let reply = try VarlinkReply(parsing: message.dropLast())
        if case .terminated = continuation.yield(reply) { throw CancellationError() }
    }
}
