/// The three mutually exclusive call flags.
public struct VarlinkCallFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// No reply of any kind, not even an error.
    public static let oneway = VarlinkCallFlags(rawValue: 1 << 0)
    /// The server may answer with several replies, all but the last with `continues`.
    public static let more = VarlinkCallFlags(rawValue: 1 << 1)
    /// After the reply the connection stops speaking varlink.
    public static let upgrade = VarlinkCallFlags(rawValue: 1 << 2)
}

/// A message the peer sent that breaks the protocol. The only answer is to close the
/// connection; the message says why, for the log.
public struct VarlinkProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One call as a server received it, checked against UAPI.20's rules for the header.
///
/// The parameters are kept as parsed JSON until the method's generated code reads them
/// into its typed struct.
public struct VarlinkIncomingCall: @unchecked Sendable {
    /// Fully qualified: `org.example.ping.Ping`.
    public let method: String
    public let flags: VarlinkCallFlags
    /// The interface part of `method`.
    public var interface: Substring { method[..<dotIndex] }
    /// The member part of `method`.
    public var member: Substring { method[method.utf8.index(after: dotIndex)...] }

    private let dotIndex: String.Index
    // Keeps the parameters' storage alive; `parameters` points into it.
    private let document: JSONDocument
    private let parameters: JSONNode?

    /// Parses one message (without its NUL terminator), strictly: anything UAPI.20 says
    /// to close the connection on throws.
    public init(parsing message: some Collection<UInt8>) throws(VarlinkProtocolError) {
        let document: JSONDocument
        do {
            document = try JSONDocument(parsing: message)
        } catch {
            throw VarlinkProtocolError("the call is not valid JSON: \(error)")
        }
        let root = document.rootNode(mode: .strict)
        guard root.kind == .object else {
            throw VarlinkProtocolError("the call is a JSON \(root.kind.name), not an object")
        }
        var method: String?
        var flags: VarlinkCallFlags = []
        var parameters: JSONNode?
        do {
            try root.forEachMember { (key, value) throws(JSONDecodingError) in
                switch key {
                case "method":
                    method = try value.string()
                case "parameters":
                    switch value.kind {
                    case .object: parameters = value
                    case .null: parameters = nil
                    default: throw JSONDecodingError(.typeMismatch(expected: "object", found: value.kind.name))
                    }
                case "oneway", "more", "upgrade":
                    // The flags are ?bool: null means the same as absent.
                    guard !value.isNull, try value.bool() else { return }
                    flags.insert(key == "oneway" ? .oneway : key == "more" ? .more : .upgrade)
                default:
                    // Extensions must sit in a reverse-domain key ("org.example": {...});
                    // those are ignored, anything else is a violation.
                    guard key.contains(".") else { throw JSONDecodingError(.unknownField) }
                }
            }
        } catch {
            throw VarlinkProtocolError("bad call header: \(error)")
        }
        guard let method else { throw VarlinkProtocolError("the call has no \"method\"") }
        guard flags.rawValue.nonzeroBitCount <= 1 else {
            throw VarlinkProtocolError("the call sets more than one of oneway, more and upgrade")
        }
        // On the UTF-8 view: a byte search, not a walk over grapheme clusters.
        guard let dot = method.utf8.lastIndex(of: UInt8(ascii: ".")), dot != method.startIndex,
            method.utf8.index(after: dot) != method.endIndex
        else {
            throw VarlinkProtocolError("method \"\(method)\" is not of the form interface.Method")
        }
        self.method = method
        self.flags = flags
        self.dotIndex = dot
        self.document = document
        self.parameters = parameters
    }

    /// Reads the parameters into `P`, strictly unless the service chose another mode. A
    /// mismatch becomes `InvalidParameter` naming the field's dotted path.
    public func decodeParameters<P: VarlinkDecodable>(
        _ type: P.Type = P.self, mode: JSONDecodingMode = .strict
    ) throws(VarlinkError) -> P {
        do {
            return try withExtendedLifetime(document) { () throws(JSONDecodingError) -> P in
                // Absent, null and {} parameters mean the same.
                try P(json: (parameters ?? JSONDocument.emptyObject.rootNode(mode: mode)).reading(as: mode))
            }
        } catch {
            throw VarlinkError.invalidParameter(error.path.isEmpty ? "parameters" : error.dottedPath)
        }
    }

    /// The raw parameters, for tools that have no generated type for the method.
    public var parameterValue: JSONValue {
        withExtendedLifetime(document) {
            guard let parameters else { return .object([:]) }
            return (try? JSONValue(anyNode: parameters)) ?? .object([:])
        }
    }
}

extension JSONDocument {
    /// `{}`, read when a message has no parameters.
    static let emptyObject: JSONDocument = {
        // A two-byte constant always parses.
        try! JSONDocument(parsing: Array("{}".utf8))
    }()
}

/// Builds the bytes of a call message.
public enum VarlinkCallEncoder {
    /// `{"method":M,"parameters":P[,"flag":true]}` and the NUL terminator. False flags
    /// are never sent: strict peers (python's certification server) reject them.
    public static func encode(
        method: String,
        parameters: some VarlinkEncodable,
        flags: VarlinkCallFlags,
        into writer: inout JSONWriter
    ) throws(JSONEncodingError) {
        writer.beginObject()
        writer.key("method")
        writer.string(method)
        writer.key("parameters")
        try parameters.encode(to: &writer)
        if flags.contains(.oneway) {
            writer.key("oneway")
            writer.bool(true)
        }
        if flags.contains(.more) {
            writer.key("more")
            writer.bool(true)
        }
        if flags.contains(.upgrade) {
            writer.key("upgrade")
            writer.bool(true)
        }
        writer.endObject()
        writer.terminateMessage()
    }
}
