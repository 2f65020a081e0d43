/// The identity a service reports through `org.varlink.service.GetInfo`.
public struct VarlinkServiceInfo: Hashable, Sendable {
    public var vendor: String
    public var product: String
    public var version: String
    public var url: String

    public init(vendor: String, product: String, version: String, url: String) {
        self.vendor = vendor
        self.product = product
        self.version = version
        self.url = url
    }
}

/// Routes calls to the interfaces a service implements, answers `org.varlink.service`
/// itself, and turns whatever a method throws into the error reply it stands for.
///
/// It is transport-neutral: the socket server and the in-process loopback both feed it
/// parsed calls and a sink for the replies. It holds no mutable state.
public struct VarlinkService: Sendable {
    public let info: VarlinkServiceInfo
    private let interfaces: [String: VarlinkInterface]
    /// Interface names in the order GetInfo lists them: org.varlink.service first.
    public let interfaceNames: [String]
    private let unexpectedError: @Sendable (any Error, VarlinkIncomingCall) -> VarlinkError

    /// - Parameter unexpectedError: turns an error that is neither a `VarlinkError` nor a
    ///   typed interface error into the reply to send. Services should map to an error
    ///   their interface declares; the default names `<interface>.UnexpectedError`.
    public init(
        info: VarlinkServiceInfo,
        interfaces: [VarlinkInterface],
        unexpectedError: (@Sendable (any Error, VarlinkIncomingCall) -> VarlinkError)? = nil
    ) {
        self.info = info
        var table: [String: VarlinkInterface] = [:]
        for interface in interfaces where interface.name != VarlinkError.serviceInterface {
            table[interface.name] = interface
        }
        self.interfaces = table
        self.interfaceNames =
            [VarlinkError.serviceInterface] + interfaces.map(\.name).filter { $0 != VarlinkError.serviceInterface }
        self.unexpectedError =
            unexpectedError ?? { error, call in
                VarlinkError(
                    name: "\(call.interface).UnexpectedError",
                    parameters: ["description": .string(String(describing: error))]
                )
            }
    }

    /// The canonical description of `interface`, if served.
    public func description(of interface: String) -> String? {
        interface == VarlinkError.serviceInterface ? Self.serviceDescription : interfaces[interface]?.description
    }

    /// Handles one call to completion: its replies, or its error, go to `sink`; for a
    /// oneway call nothing at all is sent. Never throws: a failure to write means the
    /// peer is gone, which the transport notices by itself.
    public func handle(_ call: VarlinkIncomingCall, sink: any VarlinkReplySink) async {
        let sink: any VarlinkReplySink = call.flags.contains(.oneway) ? DiscardingSink() : sink
        do {
            try await route(call, sink: sink)
        } catch let error as VarlinkError {
            try? await sink.sendError(name: error.name, parameters: error)
        } catch let error as any VarlinkTypedError {
            try? await sink.sendError(name: error.errorName, parameters: error)
        } catch is CancellationError {
            // The connection is gone; there is nobody to answer.
        } catch {
            let reply = unexpectedError(error, call)
            try? await sink.sendError(name: reply.name, parameters: reply)
        }
    }

    private func route(_ call: VarlinkIncomingCall, sink: any VarlinkReplySink) async throws {
        let interfaceName = String(call.interface)
        let member = String(call.member)
        if interfaceName == VarlinkError.serviceInterface {
            return try await serveServiceInterface(member, call: call, sink: sink)
        }
        guard let interface = interfaces[interfaceName] else {
            throw VarlinkError.interfaceNotFound(interfaceName)
        }
        guard let handler = interface.methods[member] else {
            throw VarlinkError.methodNotFound(member)
        }
        try await handler(call, sink)
    }

    // MARK: org.varlink.service

    private func serveServiceInterface(_ member: String, call: VarlinkIncomingCall, sink: any VarlinkReplySink)
        async throws
    {
        switch member {
        case "GetInfo":
            _ = try call.decodeParameters(VarlinkEmpty.self)
            let reply = ServiceInfoReply(info: info, interfaces: interfaceNames)
            try await sink.send(reply, continues: false)
        case "GetInterfaceDescription":
            let parameters = try call.decodeParameters(InterfaceDescriptionParameters.self)
            guard let description = description(of: parameters.interface) else {
                throw VarlinkError.interfaceNotFound(parameters.interface)
            }
            try await sink.send(InterfaceDescriptionReply(description: description), continues: false)
        default:
            throw VarlinkError.methodNotFound(member)
        }
    }

    /// The canonical description of org.varlink.service, with all errors of UAPI.20.
    public static let serviceDescription = """
        # The Varlink Service Interface is provided by every varlink service. It
        # describes the service and the interfaces it implements.
        interface org.varlink.service

        # Get a list of all the interfaces a service provides and information
        # about the implementation.
        method GetInfo() -> (
          vendor: string,
          product: string,
          version: string,
          url: string,
          interfaces: []string
        )

        # Get the description of an interface that is implemented by this service.
        method GetInterfaceDescription(interface: string) -> (description: string)

        # The requested interface was not found.
        error InterfaceNotFound (interface: string)

        # The requested method was not found
        error MethodNotFound (method: string)

        # The interface defines the requested method, but the service does not
        # implement it.
        error MethodNotImplemented (method: string)

        # One of the passed parameters is invalid.
        error InvalidParameter (parameter: string)

        # Client is denied access
        error PermissionDenied ()

        # Method is expected to be called with 'more' set to true, but wasn't
        error ExpectedMore ()

        # Method is expected to be called with 'upgrade' set to true, but wasn't
        error ExpectedUpgrade ()

        """
}

/// The sink of a oneway call: the protocol forbids any reply to it, even an error.
private struct DiscardingSink: VarlinkReplySink {
    func send(_ parameters: some VarlinkEncodable, continues: Bool) async throws {}
    func sendError(name: String, parameters: some VarlinkEncodable) async throws {}
}

// MARK: - org.varlink.service wire types

struct ServiceInfoReply: VarlinkCodable {
    var info: VarlinkServiceInfo
    var interfaces: [String]

    init(info: VarlinkServiceInfo, interfaces: [String]) {
        self.info = info
        self.interfaces = interfaces
    }

    init(json: JSONNode) throws(JSONDecodingError) {
        var fields = try json.structFields()
        info = VarlinkServiceInfo(
            vendor: try fields.required("vendor"),
            product: try fields.required("product"),
            version: try fields.required("version"),
            url: try fields.required("url")
        )
        interfaces = try fields.required("interfaces")
        try fields.finish(knownKeys: ["vendor", "product", "version", "url", "interfaces"])
    }

    func encode(to writer: inout JSONWriter) throws(JSONEncodingError) {
        writer.beginObject()
        writer.key("vendor")
        writer.string(info.vendor)
        writer.key("product")
        writer.string(info.product)
        writer.key("version")
        writer.string(info.version)
        writer.key("url")
        writer.string(info.url)
        writer.key("interfaces")
        try interfaces.encode(to: &writer)
        writer.endObject()
    }

    static var varlinkTypeName: String { "GetInfo reply" }
}

struct InterfaceDescriptionParameters: VarlinkCodable {
    var interface: String

    init(interface: String) { self.interface = interface }

    init(json: JSONNode) throws(JSONDecodingError) {
        var fields = try json.structFields()
        interface = try fields.required("interface")
        try fields.finish(knownKeys: ["interface"])
    }

    func encode(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("interface")
        writer.string(interface)
        writer.endObject()
    }

    static var varlinkTypeName: String { "(interface: string)" }
}

struct InterfaceDescriptionReply: VarlinkCodable {
    var description: String

    init(description: String) { self.description = description }

    init(json: JSONNode) throws(JSONDecodingError) {
        var fields = try json.structFields()
        description = try fields.required("description")
        try fields.finish(knownKeys: ["description"])
    }

    func encode(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("description")
        writer.string(description)
        writer.endObject()
    }

    static var varlinkTypeName: String { "(description: string)" }
}
