/// A reference to an image in a registry: `host[:port]/path[:tag|@digest]`, fully
/// qualified (short names are resolved before one of these is made).
public struct RegistryReference: Sendable, Equatable, CustomStringConvertible {
    /// `host[:port]` as written in the name (`docker.io`, `127.0.0.1:5000`).
    public var registry: String
    /// The repository inside the registry (`library/busybox`).
    public var repository: String
    public var tag: String?
    public var digest: String?

    /// Parses a qualified reference; a name without a registry is refused (resolve it
    /// through registries.conf first).
    public init(_ reference: String) throws(LibpodError) {
        var text = reference
        if text.hasPrefix("docker://") { text.removeFirst("docker://".count) }
        let parsed = ImageName.parse(text)
        try ImageName.validate(parsed, original: reference)
        guard ImageName.hasDomain(parsed.repository) else {
            throw .invalidArgument("\"\(reference)\" names no registry; give host[:port]/name, or resolve it through registries.conf")
        }
        let full = ImageName.qualifiedRepository(parsed.repository, defaultDomain: "docker.io")
        let slash = full.firstIndex(of: "/")!
        registry = String(full[..<slash])
        repository = String(full[full.index(after: slash)...])
        tag = parsed.tag
        digest = parsed.digest
        if tag == nil && digest == nil { tag = "latest" }
    }

    init(registry: String, repository: String, tag: String?, digest: String?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// What the manifest is asked for by: the digest when there is one, else the tag.
    public var manifestReference: String { digest ?? tag ?? "latest" }

    /// `registry/repository`, the form registries.conf prefixes match.
    public var name: String { registry + "/" + repository }

    /// The name the store records: tagged (a pull by digest alone records no tag).
    public var storageName: String? { tag.map { name + ":" + $0 } }

    public var description: String {
        if let digest { return name + "@" + digest }
        return name + ":" + (tag ?? "latest")
    }

    /// The same repository on another registry location (a mirror or a `location` of
    /// registries.conf replacing `prefix`).
    func relocated(prefix: String, to location: String) -> RegistryReference {
        let rewritten = location + name.dropFirst(prefix.count)
        let slash = rewritten.firstIndex(of: "/") ?? rewritten.endIndex
        let repository = slash == rewritten.endIndex ? self.repository : String(rewritten[rewritten.index(after: slash)...])
        return RegistryReference(registry: String(rewritten[..<slash]), repository: repository, tag: tag, digest: digest)
    }

    /// The host the API is served on: Docker Hub's names live on registry-1.docker.io.
    var apiHost: String { registry == "docker.io" ? "registry-1.docker.io" : registry }
}

/// One place to try a pull from: `name` is what the image will be called, `source`
/// where it is fetched (a mirror or a relocated registry, or the same).
struct PullSource: Sendable, Equatable {
    var name: RegistryReference
    var source: RegistryReference
    var insecure: Bool
}

extension RegistriesConfiguration {
    /// Where to try `reference` from, in order: for a short name each search registry
    /// (docker.io adds `library/`), for a qualified one itself; each through its
    /// registry entry (mirrors first, then its location). Blocked registries are errors.
    func pullSources(for reference: String) throws(LibpodError) -> [PullSource] {
        var text = reference
        if text.hasPrefix("docker://") { text.removeFirst("docker://".count) }
        let parsed = ImageName.parse(text)
        try ImageName.validate(parsed, original: reference)
        let qualified: [RegistryReference]
        if ImageName.hasDomain(parsed.repository) {
            qualified = [try RegistryReference(text)]
        } else {
            guard !unqualifiedSearchRegistries.isEmpty else {
                throw .invalidArgument(
                    "\"\(reference)\" is a short name and \(path.isEmpty ? "no registries.conf" : path) lists no unqualified-search-registries: give the full name (e.g. docker.io/library/\(parsed.repository)) or add a search registry there")
            }
            qualified = try unqualifiedSearchRegistries.map { registry throws(LibpodError) in
                try RegistryReference(registry + "/" + text)
            }
        }
        var sources: [PullSource] = []
        var blocked: [String] = []
        for candidate in qualified {
            guard let entry = registry(for: candidate.name) else {
                sources.append(PullSource(name: candidate, source: candidate, insecure: false))
                continue
            }
            if entry.blocked {
                blocked.append(candidate.registry)
                continue
            }
            if !entry.mirrorByDigestOnly || candidate.digest != nil {
                for mirror in entry.mirrors {
                    sources.append(
                        PullSource(name: candidate, source: candidate.relocated(prefix: entry.prefix, to: mirror.location), insecure: mirror.insecure))
                }
            }
            sources.append(PullSource(name: candidate, source: candidate.relocated(prefix: entry.prefix, to: entry.location), insecure: entry.insecure))
        }
        if sources.isEmpty {
            throw .invalidArgument(
                "\(reference): the registry \(blocked.joined(separator: ", ")) is blocked in \(path); remove blocked = true there to use it")
        }
        return sources
    }

    /// Whether a push or a one-off call to `registry` may use plain HTTP, and whether it
    /// is blocked.
    func access(for reference: RegistryReference) throws(LibpodError) -> (reference: RegistryReference, insecure: Bool) {
        guard let entry = registry(for: reference.name) else { return (reference, false) }
        if entry.blocked {
            throw .invalidArgument("the registry \(reference.registry) is blocked in \(path); remove blocked = true there to use it")
        }
        return (reference.relocated(prefix: entry.prefix, to: entry.location), entry.insecure)
    }
}
