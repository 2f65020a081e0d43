/// Where a call's replies go. The transport implements it for each connection; a oneway
/// call gets one that drops everything.
public protocol VarlinkReplySink: Sendable {
    /// Sends a reply; `continues` is true for every reply of a `more` stream but the last.
    func send(_ parameters: some VarlinkEncodable, continues: Bool) async throws
    /// Sends an error reply, which ends the call.
    func sendError(name: String, parameters: some VarlinkEncodable) async throws
    /// Sends the reply that confirms an upgrade, turns the connection into a raw byte
    /// stream and runs `body` with it; the connection closes when `body` returns.
    /// Transports that cannot do this keep the default, which throws.
    func upgrade<Result: Sendable>(
        confirming parameters: some VarlinkEncodable,
        _ body: @Sendable (VarlinkRawConnection) async throws -> Result
    ) async throws -> Result
    /// Sends the reply that confirms an upgrade, lets exactly `byteCount` raw bytes of the
    /// client through to `body` (which may write raw bytes back), and is varlink again
    /// once `body` returns, with whatever the client sent after those bytes as its next
    /// call. Not in UAPI.20: podman 1.x's SendFile works this way, and its clients rely on it.
    func upgrade<Result: Sendable>(
        confirming parameters: some VarlinkEncodable,
        receivingBytes byteCount: Int,
        _ body: @Sendable (VarlinkRawConnection) async throws -> Result
    ) async throws -> Result
}

extension VarlinkReplySink {
    public func upgrade<Result: Sendable>(
        confirming parameters: some VarlinkEncodable,
        _ body: @Sendable (VarlinkRawConnection) async throws -> Result
    ) async throws -> Result {
        throw VarlinkUpgradeUnsupported(transport: "\(Self.self)")
    }

    public func upgrade<Result: Sendable>(
        confirming parameters: some VarlinkEncodable,
        receivingBytes byteCount: Int,
        _ body: @Sendable (VarlinkRawConnection) async throws -> Result
    ) async throws -> Result {
        throw VarlinkUpgradeUnsupported(transport: "\(Self.self)")
    }
}

/// A method that an interface declares: its wire name and typed input and output.
/// The generator makes one per `method`.
public protocol VarlinkMethod: Sendable {
    associatedtype Parameters: VarlinkCodable
    associatedtype Reply: VarlinkCodable
    /// Fully qualified, e.g. `org.varlink.certification.Test01`.
    static var qualifiedName: String { get }
}

/// What a method's implementation knows of its call besides the parameters, and how it
/// sends the replies of a `more` stream.
public struct VarlinkCall<Reply: VarlinkEncodable>: Sendable {
    /// Fully qualified method name.
    public let method: String
    public let flags: VarlinkCallFlags
    private let sink: any VarlinkReplySink

    public init(method: String, flags: VarlinkCallFlags, sink: any VarlinkReplySink) {
        self.method = method
        self.flags = flags
        self.sink = sink
    }

    /// The client asked for a stream (`more`).
    public var wantsMore: Bool { flags.contains(.more) }
    /// The client wants no reply (`oneway`); replies are dropped anyway.
    public var isOneway: Bool { flags.contains(.oneway) }
    /// The client asked to upgrade the connection after the reply.
    public var wantsUpgrade: Bool { flags.contains(.upgrade) }

    /// Sends one reply of a stream; the value the method returns is the last one.
    /// Without `more` on the call this throws `ExpectedMore`, which is the right answer
    /// for a method that only makes sense as a stream.
    public func sendContinues(_ reply: Reply) async throws {
        guard wantsMore else { throw VarlinkError.expectedMore }
        try await sink.send(reply, continues: true)
    }

    /// Fails the call with `ExpectedUpgrade` unless the client asked for an upgrade: the
    /// first line of a method that only makes sense on an upgraded connection.
    public func requireUpgrade() throws(VarlinkError) {
        guard wantsUpgrade else { throw VarlinkError.expectedUpgrade }
    }

    /// Confirms the upgrade with `reply`, then runs `body` on the raw connection. The
    /// bytes the client sent after its call are the first `body` reads. Whatever the
    /// method returns afterwards is not sent: the connection is no longer varlink.
    public func upgrade<Result: Sendable>(
        confirming reply: Reply,
        _ body: @Sendable (VarlinkRawConnection) async throws -> Result
    ) async throws -> Result {
        try requireUpgrade()
        return try await sink.upgrade(confirming: reply, body)
    }

    /// A bounded upgrade (see `VarlinkReplySink`): confirms with `reply`, runs `body` with
    /// exactly `byteCount` raw bytes of the client to read, then the connection carries
    /// varlink calls again. Whatever the method returns afterwards is not sent.
    public func upgrade<Result: Sendable>(
        confirming reply: Reply,
        receivingBytes byteCount: Int,
        _ body: @Sendable (VarlinkRawConnection) async throws -> Result
    ) async throws -> Result {
        try requireUpgrade()
        return try await sink.upgrade(confirming: reply, receivingBytes: byteCount, body)
    }
}

/// An interface as a server serves it: its name, its canonical description, and one
/// handler per implemented method (keyed by the unqualified name). Generated code
/// builds it from a service implementation.
public struct VarlinkInterface: Sendable {
    public typealias MethodHandler = @Sendable (VarlinkIncomingCall, any VarlinkReplySink) async throws -> Void

    public let name: String
    public let description: String
    public let methods: [String: MethodHandler]

    public init(name: String, description: String, methods: [String: MethodHandler]) {
        self.name = name
        self.description = description
        self.methods = methods
    }

    /// Runs one typed method: decode the parameters (strictly, unless the service chose
    /// another mode), call `body`, send its return value as the final reply.
    @inlinable
    public static func serve<M: VarlinkMethod>(
        _ method: M.Type,
        _ call: VarlinkIncomingCall,
        _ sink: any VarlinkReplySink,
        decoding mode: JSONDecodingMode = .strict,
        _ body: (M.Parameters, VarlinkCall<M.Reply>) async throws -> M.Reply
    ) async throws {
        let parameters = try call.decodeParameters(M.Parameters.self, mode: mode)
        let reply = try await body(parameters, VarlinkCall(method: call.method, flags: call.flags, sink: sink))
        try await sink.send(reply, continues: false)
    }
}
