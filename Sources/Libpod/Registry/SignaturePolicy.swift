import Foundation

/// containers-policy.json(5), the part that decides whether an image from a registry may
/// be pulled: `default` and `transports.docker` scopes (`host`, `host/path`, `host/path:tag`,
/// most specific first), each a list of requirements that must all hold.
///
/// `insecureAcceptAnything` accepts and `reject` refuses. `signedBy` and
/// `sigstoreSigned` need signature verification, which Podlink does not do yet: an image
/// they govern is refused with an error that says so, never pulled unverified.
public struct SignaturePolicy: Sendable, Equatable {
    public enum Requirement: Sendable, Equatable {
        case acceptAnything
        case reject
        case needsSignatures(String)
    }

    var defaultRequirements: [Requirement]
    var dockerScopes: [String: [Requirement]]
    var path: String

    public static let defaultPath = "/etc/containers/policy.json"

    /// No file: everything is accepted, as podman does without policy.json.
    public static let acceptAnything = SignaturePolicy(defaultRequirements: [.acceptAnything], dockerScopes: [:], path: "")

    public static func load(path: String) throws(LibpodError) -> SignaturePolicy {
        guard let bytes = try FileSystem.read(path) else { return SignaturePolicy(defaultRequirements: [.acceptAnything], dockerScopes: [:], path: path) }
        return try parse(bytes, path: path)
    }

    static func parse(_ bytes: [UInt8], path: String) throws(LibpodError) -> SignaturePolicy {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw .config(ConfigError(file: path, message: "not a JSON object; see containers-policy.json(5)"))
        }
        guard let defaults = object["default"] else {
            throw .config(ConfigError(file: path, message: "has no \"default\" requirements; add e.g. \"default\": [{\"type\": \"insecureAcceptAnything\"}]"))
        }
        var scopes: [String: [Requirement]] = [:]
        if let transports = object["transports"] as? [String: Any], let docker = transports["docker"] as? [String: Any] {
            for (scope, value) in docker { scopes[scope] = try requirements(value, where: "transports.docker[\"\(scope)\"]", path: path) }
        }
        return SignaturePolicy(defaultRequirements: try requirements(defaults, where: "default", path: path), dockerScopes: scopes, path: path)
    }

    private static func requirements(_ value: Any, where key: String, path: String) throws(LibpodError) -> [Requirement] {
        guard let list = value as? [[String: Any]], !list.isEmpty else {
            throw .config(ConfigError(file: path, message: "\(key) must be a non-empty list of requirements"))
        }
        var result: [Requirement] = []
        for entry in list {
            switch entry["type"] as? String {
            case "insecureAcceptAnything": result.append(.acceptAnything)
            case "reject": result.append(.reject)
            case "signedBy", "sigstoreSigned": result.append(.needsSignatures(entry["type"] as! String))
            case let other:
                throw .config(ConfigError(file: path, message: "\(key) has the requirement type \(other.map { "\"\($0)\"" } ?? "(none)"), which is not one of insecureAcceptAnything, reject, signedBy, sigstoreSigned"))
            }
        }
        return result
    }

    /// The requirements for `reference`: the most specific docker scope that matches
    /// (`host/path:tag`, then `host/path`, its parents, `host`), else `default`.
    func requirements(for reference: RegistryReference) -> [Requirement] {
        var candidates: [String] = []
        if let tag = reference.tag { candidates.append(reference.name + ":" + tag) }
        if let digest = reference.digest { candidates.append(reference.name + "@" + digest) }
        var name = Substring(reference.name)
        while true {
            candidates.append(String(name))
            guard let slash = name.lastIndex(of: "/") else { break }
            name = name[..<slash]
        }
        for candidate in candidates { if let found = dockerScopes[candidate] { return found } }
        return dockerScopes[""] ?? defaultRequirements
    }

    /// Throws unless `reference` may be pulled without signatures.
    func check(_ reference: RegistryReference) throws(LibpodError) {
        for requirement in requirements(for: reference) {
            switch requirement {
            case .acceptAnything: continue
            case .reject:
                throw .policyDenied(reference: reference.description, reason: "\(path) rejects it (type reject)")
            case .needsSignatures(let type):
                throw .policyDenied(
                    reference: reference.description,
                    reason: "\(path) requires signatures (\(type)) and Podlink does not verify signatures yet; use insecureAcceptAnything for this scope to pull it unverified")
            }
        }
    }
}
