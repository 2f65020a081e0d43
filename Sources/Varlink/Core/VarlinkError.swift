/// An error reply, as it travels on the wire: a fully qualified name and parameters.
///
/// Clients receive this for any error name they have no typed error for; servers send
/// it for the `org.varlink.service` errors and for anything a handler builds by hand.
public struct VarlinkError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Fully qualified, e.g. `org.varlink.service.MethodNotFound`.
    public var name: String
    /// The error's parameters; an empty object when it has none.
    public var parameters: [String: JSONValue]

    public init(name: String, parameters: [String: JSONValue] = [:]) {
        self.name = name
        self.parameters = parameters
    }

    public var description: String {
        parameters.isEmpty ? name : "\(name) \(JSONValue.object(parameters).jsonText)"
    }

    // MARK: org.varlink.service

    public static let serviceInterface = "org.varlink.service"

    public static func interfaceNotFound(_ interface: String) -> VarlinkError {
        VarlinkError(name: "org.varlink.service.InterfaceNotFound", parameters: ["interface": .string(interface)])
    }

    public static func methodNotFound(_ method: String) -> VarlinkError {
        VarlinkError(name: "org.varlink.service.MethodNotFound", parameters: ["method": .string(method)])
    }

    public static func methodNotImplemented(_ method: String) -> VarlinkError {
        VarlinkError(name: "org.varlink.service.MethodNotImplemented", parameters: ["method": .string(method)])
    }

    public static func invalidParameter(_ parameter: String) -> VarlinkError {
        VarlinkError(name: "org.varlink.service.InvalidParameter", parameters: ["parameter": .string(parameter)])
    }

    public static let permissionDenied = VarlinkError(name: "org.varlink.service.PermissionDenied")
    public static let expectedMore = VarlinkError(name: "org.varlink.service.ExpectedMore")
    public static let expectedUpgrade = VarlinkError(name: "org.varlink.service.ExpectedUpgrade")
}

extension VarlinkError: VarlinkEncodable {
    /// Encodes the error's parameters (the name travels in the reply's `error` key).
    public func encode(to writer: inout JSONWriter) throws(JSONEncodingError) {
        try parameters.encode(to: &writer)
    }
}

/// An error declared in an interface file. The generator makes one struct per `error`.
public protocol VarlinkTypedError: Error, VarlinkCodable {
    /// Fully qualified, e.g. `io.podman.ContainerNotFound`.
    static var errorName: String { get }
}

extension VarlinkTypedError {
    public var errorName: String { Self.errorName }
}
