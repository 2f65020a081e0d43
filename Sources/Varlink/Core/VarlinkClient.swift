/// Carries calls to a service and brings back its replies: a socket connection, or the
/// in-process loopback used in tests.
public protocol VarlinkClientTransport: Sendable {
    /// Sends one call and returns its only reply. With `.oneway` it returns nil as soon
    /// as the call is sent.
    func call(method: String, parameters: some VarlinkEncodable, flags: VarlinkCallFlags) async throws -> VarlinkReply?

    /// Sends one call with `more` and yields every reply up to and including the last.
    /// An error reply is yielded like any other; the stream then ends.
    func stream(method: String, parameters: some VarlinkEncodable) -> AsyncThrowingStream<VarlinkReply, any Error>

    /// Sends one call with `upgrade`. An error reply is returned as is and the
    /// connection stays varlink; a successful reply turns it into a raw byte stream,
    /// which `body` gets with the reply. The connection closes when `body` returns.
    func upgrade<Result: Sendable>(
        method: String,
        parameters: some VarlinkEncodable,
        _ body: @Sendable (VarlinkReply, VarlinkRawConnection) async throws -> Result
    ) async throws -> VarlinkUpgradeOutcome<Result>
}

extension VarlinkClientTransport {
    public func upgrade<Result: Sendable>(
        method: String,
        parameters: some VarlinkEncodable,
        _ body: @Sendable (VarlinkReply, VarlinkRawConnection) async throws -> Result
    ) async throws -> VarlinkUpgradeOutcome<Result> {
        throw VarlinkUpgradeUnsupported(transport: "\(Self.self)")
    }
}

/// How an upgrade call ended at the transport: refused with an error reply (the
/// connection is still varlink), or upgraded and handled by the caller's body.
public enum VarlinkUpgradeOutcome<Result: Sendable>: Sendable {
    case refused(VarlinkReply)
    case upgraded(Result)
}

/// An interface as generated code describes it, for clients: its name, its text, and
/// how to turn an error reply into the typed error it declares.
public protocol VarlinkInterfaceDefinition: Sendable {
    static var interfaceName: String { get }
    static var interfaceDescription: String { get }
    /// The typed error for `reply` if its name is declared in this interface.
    static func typedError(for reply: VarlinkReply) -> (any Error)?
}

/// A method together with the interface that declares it.
public protocol VarlinkInterfaceMethod: VarlinkMethod {
    associatedtype Interface: VarlinkInterfaceDefinition
}

/// Typed calls over any transport. Generated clients are thin wrappers around it.
public struct VarlinkClient: Sendable {
    public let transport: any VarlinkClientTransport

    public init(transport: any VarlinkClientTransport) {
        self.transport = transport
    }

    /// Calls `method` and returns its reply, or throws the error the service answered:
    /// the interface's typed error when it declares one, a `VarlinkError` otherwise.
    public func call<M: VarlinkInterfaceMethod>(_ method: M.Type, _ parameters: M.Parameters) async throws -> M.Reply {
        guard let reply = try await transport.call(method: M.qualifiedName, parameters: parameters, flags: []) else {
            throw VarlinkProtocolError("the transport returned no reply to \(M.qualifiedName)")
        }
        return try Self.decode(reply, as: M.self)
    }

    /// Calls `method` with `more` and yields its replies.
    public func stream<M: VarlinkInterfaceMethod>(_ method: M.Type, _ parameters: M.Parameters)
        -> VarlinkReplyStream<M>
    {
        VarlinkReplyStream(transport.stream(method: M.qualifiedName, parameters: parameters))
    }

    /// Sends `method` as a oneway call: no reply, and no way to learn of a failure.
    public func oneway<M: VarlinkInterfaceMethod>(_ method: M.Type, _ parameters: M.Parameters) async throws {
        _ = try await transport.call(method: M.qualifiedName, parameters: parameters, flags: .oneway)
    }

    /// Calls `method` with `upgrade`. On success `body` gets the confirming reply and the
    /// raw connection, and its result is returned; the connection is closed afterwards,
    /// so a transport used for an upgrade is used for nothing else. An error reply is
    /// thrown like any other, and the connection stays usable.
    public func upgrade<M: VarlinkInterfaceMethod, Result: Sendable>(
        _ method: M.Type,
        _ parameters: M.Parameters,
        _ body: @Sendable (M.Reply, VarlinkRawConnection) async throws -> Result
    ) async throws -> Result {
        let outcome = try await transport.upgrade(method: M.qualifiedName, parameters: parameters) { reply, raw in
            try await body(try Self.decode(reply, as: M.self), raw)
        }
        switch outcome {
        case .upgraded(let result): return result
        case .refused(let reply): throw Self.error(from: reply, interface: M.Interface.self)
        }
    }

    static func decode<M: VarlinkInterfaceMethod>(_ reply: VarlinkReply, as method: M.Type) throws -> M.Reply {
        if reply.error != nil { throw error(from: reply, interface: M.Interface.self) }
        do {
            return try reply.decode(M.Reply.self)
        } catch {
            throw VarlinkReplyDecodingError(method: M.qualifiedName, underlying: error)
        }
    }

    /// The error an error reply stands for.
    public static func error(from reply: VarlinkReply, interface: (some VarlinkInterfaceDefinition).Type) -> any Error {
        if let typed = interface.typedError(for: reply) { return typed }
        return genericError(from: reply)
    }

    /// A `VarlinkError` with the reply's name and raw parameters.
    public static func genericError(from reply: VarlinkReply) -> VarlinkError {
        guard case .object(let parameters) = reply.parameterValue else {
            return VarlinkError(name: reply.error ?? "")
        }
        return VarlinkError(name: reply.error ?? "", parameters: parameters)
    }

    // MARK: org.varlink.service

    /// What the service says about itself.
    public func info() async throws -> VarlinkServiceDescription {
        guard let reply = try await transport.call(method: "org.varlink.service.GetInfo", parameters: VarlinkEmpty(), flags: [])
        else { throw VarlinkProtocolError("no reply to GetInfo") }
        if reply.error != nil { throw Self.genericError(from: reply) }
        let decoded = try reply.decode(ServiceInfoReply.self)
        return VarlinkServiceDescription(info: decoded.info, interfaces: decoded.interfaces)
    }

    /// The description text of `interface`, as the service reports it.
    public func interfaceDescription(_ interface: String) async throws -> String {
        guard
            let reply = try await transport.call(
                method: "org.varlink.service.GetInterfaceDescription",
                parameters: InterfaceDescriptionParameters(interface: interface),
                flags: []
            )
        else { throw VarlinkProtocolError("no reply to GetInterfaceDescription") }
        if reply.error != nil { throw Self.genericError(from: reply) }
        return try reply.decode(InterfaceDescriptionReply.self).description
    }
}

/// GetInfo's answer.
public struct VarlinkServiceDescription: Hashable, Sendable {
    public var info: VarlinkServiceInfo
    public var interfaces: [String]
}

/// A reply arrived but its parameters do not fit the method's reply type.
public struct VarlinkReplyDecodingError: Error, Sendable, CustomStringConvertible {
    public var method: String
    public var underlying: JSONDecodingError
    public var description: String { "the reply to \(method) does not match its interface: \(underlying)" }
}

/// The replies of a `more` call, decoded as the method's reply type. An error reply is
/// thrown from `next()` as the interface's typed error.
public struct VarlinkReplyStream<M: VarlinkInterfaceMethod>: AsyncSequence, Sendable {
    public typealias Element = M.Reply
    private let raw: AsyncThrowingStream<VarlinkReply, any Error>

    init(_ raw: AsyncThrowingStream<VarlinkReply, any Error>) {
        self.raw = raw
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(raw: raw.makeAsyncIterator())
    }

    public struct Iterator: AsyncIteratorProtocol {
        var raw: AsyncThrowingStream<VarlinkReply, any Error>.AsyncIterator

        public mutating func next() async throws -> M.Reply? {
            guard let reply = try await raw.next() else { return nil }
            return try VarlinkClient.decode(reply, as: M.self)
        }
    }
}
