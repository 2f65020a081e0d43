/// Where a varlink service lives, in the address syntax every implementation shares:
/// `unix:/run/x.sock`, `unix:@abstract`, `tcp:127.0.0.1:12345`, `tcp:[::1]:12345`,
/// and (clients only) `exec:/usr/bin/service`.
public enum VarlinkAddress: Hashable, Sendable, CustomStringConvertible {
    /// A socket file. `mode` (from `;mode=0660`) is applied to the file after binding.
    case unix(path: String, mode: UInt32?)
    /// A socket in the abstract namespace (no file).
    case abstract(name: String)
    case tcp(host: String, port: Int)
    /// A program started with a connected socket on fd 3 (systemd's `exec:`).
    case exec(path: String)

    public init(_ text: String) throws(VarlinkAddressError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw VarlinkAddressError(address: text, reason: "it has no scheme; use unix:PATH, unix:@NAME or tcp:HOST:PORT")
        }
        let scheme = text[..<colon]
        // Properties after ';' configure the listener; unknown ones are ignored (the spec says so).
        let parts = text[text.index(after: colon)...].split(separator: ";", omittingEmptySubsequences: false)
        let body = String(parts.first ?? "")
        switch scheme {
        case "unix":
            guard !body.isEmpty else { throw VarlinkAddressError(address: text, reason: "the socket path is empty") }
            if body.hasPrefix("@") {
                let name = String(body.dropFirst())
                guard !name.isEmpty, name.utf8.count <= 106 else {
                    throw VarlinkAddressError(address: text, reason: "an abstract name must have 1 to 106 bytes")
                }
                self = .abstract(name: name)
                return
            }
            guard body.utf8.count <= 107 else {
                throw VarlinkAddressError(
                    address: text,
                    reason: "the socket path is \(body.utf8.count) bytes; unix sockets allow at most 107"
                )
            }
            var mode: UInt32?
            for property in parts.dropFirst() where property.hasPrefix("mode=") {
                guard let value = UInt32(property.dropFirst(5), radix: 8), value <= 0o7777 else {
                    throw VarlinkAddressError(address: text, reason: "mode must be octal, e.g. mode=0660")
                }
                mode = value
            }
            self = .unix(path: body, mode: mode)
        case "tcp":
            guard let portSeparator = body.lastIndex(of: ":") else {
                throw VarlinkAddressError(address: text, reason: "a tcp address needs host:port")
            }
            var host = String(body[..<portSeparator])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw VarlinkAddressError(address: text, reason: "the host is empty") }
            guard let port = Int(body[body.index(after: portSeparator)...]), (0...65535).contains(port) else {
                throw VarlinkAddressError(address: text, reason: "the port must be a number from 0 to 65535")
            }
            self = .tcp(host: host, port: port)
        case "exec":
            guard body.hasPrefix("/") else {
                throw VarlinkAddressError(address: text, reason: "exec: takes an absolute path to a program")
            }
            self = .exec(path: body)
        default:
            throw VarlinkAddressError(
                address: text,
                reason: "unknown scheme '\(scheme)'; use unix:PATH, unix:@NAME, tcp:HOST:PORT or exec:PATH"
            )
        }
    }

    public var description: String {
        switch self {
        case .unix(let path, let mode):
            mode.map { "unix:\(path);mode=0\(String($0, radix: 8))" } ?? "unix:\(path)"
        case .abstract(let name): "unix:@\(name)"
        case .tcp(let host, let port): host.contains(":") ? "tcp:[\(host)]:\(port)" : "tcp:\(host):\(port)"
        case .exec(let path): "exec:\(path)"
        }
    }
}

public struct VarlinkAddressError: Error, Hashable, Sendable, CustomStringConvertible {
    public var address: String
    public var reason: String
    public var description: String { "invalid varlink address '\(address)': \(reason)" }
}
