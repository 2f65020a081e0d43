/// What went wrong talking to a registry, in words that say what to do about it.
public struct RegistryFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// 401/403: missing or wrong credentials, or no access to the repository.
        case unauthorized
        /// 404 or MANIFEST_UNKNOWN / NAME_UNKNOWN / BLOB_UNKNOWN.
        case notFound
        /// Connection refused, TLS failure, timeout.
        case transport
        /// An answer that breaks the distribution API (a bad status, a malformed manifest).
        case protocolError
        /// Something the registry offers that Podlink does not read (schema 1 manifests).
        case unsupported
    }

    public var kind: Kind
    /// `host[:port]`.
    public var registry: String
    /// What was being done: "fetching the manifest of 127.0.0.1:5000/busybox:latest".
    public var operation: String
    public var message: String

    public init(kind: Kind, registry: String, operation: String, message: String) {
        self.kind = kind
        self.registry = registry
        self.operation = operation
        self.message = message
    }

    public var description: String {
        var text = "\(operation): \(message)"
        switch kind {
        case .unauthorized:
            text += "; log in with `podlink login \(registry)` or pass credentials (podman's creds) that may read it"
        case .transport where message.contains("SSL") || message.contains("TLS") || message.contains("certificate") || message.contains("handshake"):
            text += "; if \(registry) serves plain HTTP, mark it `insecure = true` in registries.conf; if its certificate comes from a private CA, put the CA as ca.crt in /etc/containers/certs.d/\(registry)/"
        case .transport:
            text += "; check that \(registry) is reachable from this machine"
        case .notFound, .protocolError, .unsupported:
            break
        }
        return text
    }
}
