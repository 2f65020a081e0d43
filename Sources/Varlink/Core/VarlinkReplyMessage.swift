/// One reply as a client received it, read leniently: unknown keys are ignored,
/// `continues` absent or false both end a stream, parameters absent, null or `{}` alike.
public struct VarlinkReply: @unchecked Sendable {
    /// True when more replies follow for the same call.
    public let continues: Bool
    /// The fully qualified error name, if this is an error reply.
    public let error: String?

    // Keeps the parameters' storage alive; `parameters` points into it.
    private let document: JSONDocument
    private let parameters: JSONNode?

    public init(parsing message: some Collection<UInt8>) throws(VarlinkProtocolError) {
        let document: JSONDocument
        do {
            document = try JSONDocument(parsing: message)
        } catch {
            throw VarlinkProtocolError("the reply is not valid JSON: \(error)")
        }
        let root = document.rootNode(mode: .lenient)
        guard root.kind == .object else {
            throw VarlinkProtocolError("the reply is a JSON \(root.kind.name), not an object")
        }
        var continues = false
        var errorName: String?
        var parameters: JSONNode?
        do {
            try root.forEachMember { (key, value) throws(JSONDecodingError) in
                switch key {
                case "parameters":
                    switch value.kind {
                    case .object: parameters = value
                    case .null: parameters = nil
                    default: throw JSONDecodingError(.typeMismatch(expected: "object", found: value.kind.name))
                    }
                case "continues":
                    continues = value.isNull ? false : try value.bool()
                case "error":
                    // `error` is `?string`: null means no error, like an absent key.
                    errorName = value.isNull ? nil : try value.string()
                default:
                    // Older servers send "upgraded"; newer ones may add keys. Ignore them.
                    break
                }
            }
        } catch {
            throw VarlinkProtocolError("bad reply: \(error)")
        }
        // An error always ends the call, whatever `continues` says.
        self.continues = errorName == nil && continues
        self.error = errorName
        self.document = document
        self.parameters = parameters
    }

    /// Reads the parameters as `R`, leniently (unknown fields ignored, unknown enum values kept).
    public func decode<R: VarlinkDecodable>(_ type: R.Type = R.self) throws(JSONDecodingError) -> R {
        try withExtendedLifetime(document) { () throws(JSONDecodingError) -> R in
            try R(json: parameters ?? JSONDocument.emptyObject.rootNode(mode: .lenient))
        }
    }

    /// The parameters as a generic value (an object; `{}` when absent).
    public var parameterValue: JSONValue {
        withExtendedLifetime(document) {
            guard let parameters else { return .object([:]) }
            return (try? JSONValue(anyNode: parameters)) ?? .object([:])
        }
    }

    /// Runs `body` on the parameters node while the message is alive.
    public func withParameters<T>(_ body: (JSONNode) throws -> T) rethrows -> T {
        try withExtendedLifetime(document) {
            try body(parameters ?? JSONDocument.emptyObject.rootNode(mode: .lenient))
        }
    }
}

/// Builds the bytes of reply messages.
public enum VarlinkReplyEncoder {
    /// One framed reply message (NUL included), for transports that send whole buffers.
    public static func message(parameters: some VarlinkEncodable, continues: Bool) throws(JSONEncodingError) -> [UInt8] {
        var writer = JSONWriter()
        try encode(parameters: parameters, continues: continues, into: &writer)
        return writer.bytes
    }

    /// One framed error message (NUL included).
    public static func message(errorName: String, parameters: some VarlinkEncodable) throws(JSONEncodingError) -> [UInt8] {
        var writer = JSONWriter()
        try encode(errorName: errorName, parameters: parameters, into: &writer)
        return writer.bytes
    }

    /// `{"parameters":P[,"continues":true]}` and the NUL terminator.
    public static func encode(
        parameters: some VarlinkEncodable,
        continues: Bool,
        into writer: inout JSONWriter
    ) throws(JSONEncodingError) {
        writer.beginObject()
        writer.key("parameters")
        try parameters.encode(to: &writer)
        if continues {
            writer.key("continues")
            writer.bool(true)
        }
        writer.endObject()
        writer.terminateMessage()
    }

    /// `{"error":NAME,"parameters":P}` and the NUL terminator.
    public static func encode(
        errorName: String,
        parameters: some VarlinkEncodable,
        into writer: inout JSONWriter
    ) throws(JSONEncodingError) {
        writer.beginObject()
        writer.key("error")
        writer.string(errorName)
        writer.key("parameters")
        try parameters.encode(to: &writer)
        writer.endObject()
        writer.terminateMessage()
    }
}
