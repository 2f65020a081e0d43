/// The runtime's registry operations: what podman pull, push, search, login and logout do.
extension Runtime {
    /// The configuration registry operations read now (registries.conf and policy.json
    /// are read again by every operation).
    public var registryEnvironment: RegistryEnvironment {
        .standard(policyPath: config.signaturePolicyPath, http: registryHTTP)
    }

    /// podman pull; records a `pull` event.
    public func pull(
        _ reference: String, options: PullOptions = PullOptions(), progress: @escaping @Sendable (PullEvent) -> Void = { _ in }
    ) async throws(LibpodError) -> Image {
        try checkValid()
        let image = try await images.pull(reference, options: options, environment: registryEnvironment, progress: progress)
        record(Event(type: .image, status: "pull", id: image.id, name: reference))
        return image
    }

    /// The image `reference` names locally, pulled first when the store lacks it (podman's
    /// `--pull missing`, what CreateContainer does).
    public func imageOrPull(_ reference: String) async throws(LibpodError) -> Image {
        do {
            return try images.image(reference)
        } catch {
            guard case .imageNotFound = error, !reference.isEmpty, !reference.utf8.allSatisfy(Digest.isLowerHex) else { throw error }
            do {
                return try await pull(reference)
            } catch let pullError {
                // A name that was never meant for a registry: say both what was looked for
                // and why fetching it failed.
                if case .invalidArgument(let message) = pullError { throw .imageNotFound("\(reference) (not in local storage, and \(message))") }
                throw pullError
            }
        }
    }

    /// podman login: checks the credentials against the registry (`GET /v2/`, through its
    /// challenge) and records them in the auth file.
    public func login(registry: String, credentials: RegistryCredentials) async throws(LibpodError) {
        try checkValid()
        let host = RegistryAuthFiles.host(ofKey: registry)
        guard !host.isEmpty else { throw .invalidArgument("login needs a registry (host[:port])") }
        let environment = registryEnvironment
        let registries = try RegistriesConfiguration.load(path: environment.registriesPath)
        let insecure = registries.registry(for: host)?.insecure ?? false
        let client = try RegistryClient(registry: host, insecure: insecure, http: registryHTTP, credentials: credentials, certsRoots: environment.certsRoots)
        try await client.ping()
        try environment.authFiles.store(credentials, for: host)
    }

    /// podman logout: forgets one registry's credentials, or all of them.
    public func logout(registry: String?) throws(LibpodError) {
        let environment = registryEnvironment
        let host = registry.map(RegistryAuthFiles.host(ofKey:))
        guard try environment.authFiles.remove(host) || host == nil else {
            throw .invalidArgument("not logged in to \(host!) (no entry in \(environment.authFiles.writePath))")
        }
    }

    public struct SearchResult: Sendable, Equatable {
        public var registry: String
        public var name: String
        public var description: String
        public var stars: Int
        public var official: Bool
        public var automated: Bool
    }

    /// podman search on distribution registries: their catalog, filtered by `term`. A
    /// term with a registry (`host/part`) searches that registry; otherwise every search
    /// registry of registries.conf. Registries that cannot be searched are reported in
    /// `failures` and do not hide the others' results.
    public func search(_ term: String, limit: Int, credentials: RegistryCredentials? = nil) async throws(LibpodError)
        -> (results: [SearchResult], failures: [String])
    {
        try checkValid()
        let environment = registryEnvironment
        let registries = try RegistriesConfiguration.load(path: environment.registriesPath)
        var query = term
        var targets: [String]
        if let slash = term.firstIndex(of: "/"), ImageName.hasDomain(term) {
            targets = [String(term[..<slash])]
            query = String(term[term.index(after: slash)...])
        } else {
            targets = registries.unqualifiedSearchRegistries
            guard !targets.isEmpty else {
                throw .invalidArgument(
                    "no registry to search: \(registries.path) lists no unqualified-search-registries; search with a registry in the term (HOST/NAME)")
            }
        }
        var results: [SearchResult] = []
        var failures: [String] = []
        for target in targets {
            do throws(LibpodError) {
                let entry = registries.registry(for: target)
                if entry?.blocked == true { throw .invalidArgument("\(target) is blocked in \(registries.path)") }
                let client = try environment.client(for: target, insecure: entry?.insecure ?? false, credentials: credentials)
                let names = try await client.catalog(limit: 10_000).filter { query.isEmpty || $0.contains(query) }
                for name in names.prefix(limit > 0 ? limit : 25) {
                    results.append(SearchResult(registry: target, name: target + "/" + name, description: "", stars: 0, official: false, automated: false))
                }
            } catch {
                failures.append("\(target): \(error)")
            }
        }
        if results.isEmpty && !failures.isEmpty && failures.count == targets.count {
            throw .registry(RegistryFailure(kind: .unsupported, registry: targets.joined(separator: ", "), operation: "searching for \"\(term)\"", message: failures.joined(separator: "; ")))
        }
        return (results, failures)
    }
}
