import Foundation
import Glibc

/// A user name and password (or identity token) for one registry.
public struct RegistryCredentials: Sendable, Equatable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// `user:password`, base64, as auth.json and the Basic scheme carry it.
    var basicToken: String { Data("\(username):\(password)".utf8).base64EncodedString() }
}

/// containers-auth.json(5): `{"auths": {"HOST[:PORT]": {"auth": base64("user:password")}}}`,
/// the file podman login writes, and docker's config.json of the same shape.
///
/// Reading tries, in order, `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`
/// (or `/run/containers/UID/auth.json`), then `$HOME/.docker/config.json`; the first file
/// with an entry for the registry wins. Writing (login, logout) goes to the first of those
/// that podman would write: the explicit file, else the runtime directory's.
public struct RegistryAuthFiles: Sendable, Equatable {
    public var readOrder: [String]
    public var writePath: String

    public init(readOrder: [String], writePath: String) {
        self.readOrder = readOrder
        self.writePath = writePath
    }

    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment, uid: uid_t = UserNamespace.current.hostUID) -> RegistryAuthFiles {
        var order: [String] = []
        if let explicit = environment["REGISTRY_AUTH_FILE"], !explicit.isEmpty { order.append(explicit) }
        let runtimeDirectory = environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/run/containers/\(uid)"
        let runtimeFile = runtimeDirectory + (runtimeDirectory.hasPrefix("/run/containers/") ? "/auth.json" : "/containers/auth.json")
        order.append(runtimeFile)
        if let home = environment["HOME"], !home.isEmpty { order.append(home + "/.docker/config.json") }
        return RegistryAuthFiles(readOrder: order, writePath: order[0])
    }

    /// The credentials stored for `registry` (`host[:port]`), if any file has them.
    public func credentials(for registry: String) throws(LibpodError) -> RegistryCredentials? {
        for path in readOrder {
            guard let entries = try Self.read(path) else { continue }
            for (key, entry) in entries where Self.host(ofKey: key) == registry {
                guard let auth = entry["auth"] as? String, !auth.isEmpty else { continue }
                guard let decoded = Data(base64Encoded: auth).flatMap({ String(data: $0, encoding: .utf8) }),
                    let colon = decoded.firstIndex(of: ":")
                else {
                    throw .config(ConfigError(file: path, message: "the auth of \"\(key)\" is not base64 of user:password; log in again"))
                }
                return RegistryCredentials(username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
            }
        }
        return nil
    }

    /// Records `credentials` for `registry` in the write file (mode 0600), keeping the
    /// file's other entries and keys.
    public func store(_ credentials: RegistryCredentials, for registry: String) throws(LibpodError) {
        try rewrite { auths in auths[registry] = ["auth": credentials.basicToken] }
    }

    /// Forgets `registry` (every registry when nil). Returns whether anything was removed.
    @discardableResult
    public func remove(_ registry: String?) throws(LibpodError) -> Bool {
        var removed = false
        try rewrite { auths in
            let keys = auths.keys.filter { registry == nil || Self.host(ofKey: $0) == registry }
            removed = !keys.isEmpty
            for key in keys { auths.removeValue(forKey: key) }
        }
        return removed
    }

    private func rewrite(_ change: (inout [String: Any]) -> Void) throws(LibpodError) {
        var document: [String: Any] = [:]
        if let bytes = try FileSystem.read(writePath), !bytes.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw .config(ConfigError(file: writePath, message: "not a JSON object; fix or remove the file"))
            }
            document = object
        }
        var auths = document["auths"] as? [String: Any] ?? [:]
        change(&auths)
        document["auths"] = auths
        let data: Data
        do {
            data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        } catch {
            throw .encoding(what: writePath, cause: "\(error)")
        }
        let directory = String(writePath[..<(writePath.lastIndex(of: "/") ?? writePath.startIndex)])
        if !directory.isEmpty { try FileSystem.ensureDirectory(directory, mode: 0o700) }
        try FileSystem.writeAtomically(writePath, Array(data), mode: 0o600, durable: true)
    }

    private static func read(_ path: String) throws(LibpodError) -> [String: [String: Any]]? {
        guard let bytes = try FileSystem.read(path) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw .config(ConfigError(file: path, message: "not a JSON object; fix or remove the file"))
        }
        return (object["auths"] as? [String: Any])?.compactMapValues { $0 as? [String: Any] }
    }

    /// docker's keys may carry a scheme and a path (`https://index.docker.io/v1/`).
    static func host(ofKey key: String) -> String {
        var host = Substring(key)
        if let scheme = host.range(of: "://") { host = host[scheme.upperBound...] }
        host = host.prefix { $0 != "/" }
        return host == "index.docker.io" || host == "registry-1.docker.io" ? "docker.io" : String(host)
    }
}
