import Foundation
import Synchronization

/// Where registry operations find their configuration: registries.conf, policy.json,
/// the auth files and the certs.d roots. The daemon reads them per operation, so an edit
/// applies to the next pull without a restart, as in podman.
public struct RegistryEnvironment: Sendable {
    public var registriesPath: String
    public var policyPath: String
    public var authFiles: RegistryAuthFiles
    public var certsRoots: [String]
    public var http: RegistryHTTP

    public init(registriesPath: String, policyPath: String, authFiles: RegistryAuthFiles, certsRoots: [String], http: RegistryHTTP) {
        self.registriesPath = registriesPath
        self.policyPath = policyPath
        self.authFiles = authFiles
        self.certsRoots = certsRoots
        self.http = http
    }

    /// containers/image's rules: `CONTAINERS_REGISTRIES_CONF`, the runtime's
    /// `signature_policy_path` (else /etc/containers/policy.json), the auth files of
    /// `RegistryAuthFiles.standard`, and certs.d under /etc/containers and /etc/docker
    /// (`PODLINK_CERTS_D` puts one root first, for tests and private setups).
    public static func standard(policyPath: String = "", http: RegistryHTTP, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> RegistryEnvironment
    {
        var roots = RegistryTLS.standardRoots
        if let extra = environment["PODLINK_CERTS_D"], !extra.isEmpty { roots.insert(extra, at: 0) }
        return RegistryEnvironment(
            registriesPath: environment["CONTAINERS_REGISTRIES_CONF"].flatMap { $0.isEmpty ? nil : $0 } ?? RegistriesConfiguration.defaultPath,
            policyPath: policyPath.isEmpty ? SignaturePolicy.defaultPath : policyPath,
            authFiles: .standard(environment: environment), certsRoots: roots, http: http)
    }

    func client(for registry: String, insecure: Bool, credentials: RegistryCredentials?) throws(LibpodError) -> RegistryClient {
        var found = credentials
        if found == nil { found = try authFiles.credentials(for: registry) }
        return try RegistryClient(registry: registry, insecure: insecure, http: http, credentials: found, certsRoots: certsRoots)
    }
}

/// What a pull reports while it runs, in the order it happens.
public enum PullEvent: Sendable, Equatable {
    case trying(String)
    case resolvedManifest(digest: String)
    case copyingBlob(digest: String, size: Int64?)
    /// A layer the store has already: not downloaded.
    case skippedBlob(digest: String)
    case copiedBlob(digest: String)
    case copyingConfig(digest: String)
    case storing
}

public struct PullOptions: Sendable {
    public var credentials: RegistryCredentials?
    /// The platform to take from a manifest list; nil parts are this machine's.
    public var os: String?
    public var architecture: String?
    public var variant: String?
    /// At most this many layers are downloaded at once.
    public var parallelDownloads: Int

    public init(credentials: RegistryCredentials? = nil, os: String? = nil, architecture: String? = nil, variant: String? = nil, parallelDownloads: Int = 3) {
        self.credentials = credentials
        self.os = os
        self.architecture = architecture
        self.variant = variant
        self.parallelDownloads = parallelDownloads
    }
}

extension ImageStore {
    /// podman pull: resolves `reference` (short names through registries.conf's search
    /// registries, mirrors first), checks policy.json, fetches the manifest (picking this
    /// platform from a list), the config and the layers the store lacks, verifies every
    /// blob while it streams, and adds the image only when all of it is here: an
    /// interrupted pull leaves a work directory that the next start removes, never a
    /// half image.
    public func pull(
        _ reference: String, options: PullOptions = PullOptions(), environment: RegistryEnvironment,
        progress: @escaping @Sendable (PullEvent) -> Void = { _ in }
    ) async throws(LibpodError) -> Image {
        let registries = try RegistriesConfiguration.load(path: environment.registriesPath)
        let policy = try SignaturePolicy.load(path: environment.policyPath)
        let sources = try registries.pullSources(for: reference)
        var failures: [(PullSource, LibpodError)] = []
        for source in sources {
            progress(.trying(source.source.description))
            do throws(LibpodError) {
                try policy.check(source.name)
                return try await pull(source, options: options, environment: environment, progress: progress)
            } catch {
                // The next candidate is tried only when this one does not have the image or
                // cannot be reached; a bad blob or a refused policy ends the pull.
                switch error {
                case .registry(let failure) where failure.kind == .notFound || failure.kind == .transport || failure.kind == .unauthorized:
                    failures.append((source, error))
                default:
                    throw error
                }
            }
        }
        if failures.count == 1 { throw failures[0].1 }
        let tried = failures.map { "\($0.0.source): \($0.1)" }.joined(separator: "; ")
        let first = failures.first { if case .registry(let failure) = $0.1 { return failure.kind != .notFound } else { return true } }?.1 ?? failures[0].1
        guard case .registry(var failure) = first else { throw first }
        failure.operation = "pulling \(reference)"
        failure.message = "no registry gave it (\(tried))"
        throw .registry(failure)
    }

    private func pull(
        _ source: PullSource, options: PullOptions, environment: RegistryEnvironment, progress: @escaping @Sendable (PullEvent) -> Void
    ) async throws(LibpodError) -> Image {
        let origin = source.source
        let client = try environment.client(for: origin.registry, insecure: source.insecure, credentials: options.credentials)
        var manifest = try await client.manifest(origin.repository, reference: origin.manifestReference)
        if manifest.mediaType == MediaType.ociIndex || manifest.mediaType == MediaType.dockerManifestList {
            let index = try OCIJSON.decode(OCIIndex.self, manifest.bytes, what: "the manifest list", archive: origin.description)
            let chosen = try Self.platform(in: index, options: options, reference: origin.description)
            manifest = try await client.manifest(origin.repository, reference: chosen.digest)
        }
        switch manifest.mediaType {
        case MediaType.ociManifest, MediaType.dockerManifest: break
        case MediaType.dockerManifestV1, MediaType.dockerManifestV1Signed:
            throw .registry(RegistryFailure(
                kind: .unsupported, registry: origin.registry, operation: "pulling \(origin)",
                message: "the registry offers only a Docker schema 1 manifest, which is deprecated and unsupported; push the image again with a current client (schema 2 or OCI)"))
        default:
            throw .registry(RegistryFailure(
                kind: .unsupported, registry: origin.registry, operation: "pulling \(origin)", message: "the manifest has the unknown media type \"\(manifest.mediaType)\""))
        }
        progress(.resolvedManifest(digest: manifest.digest))
        let parsed = try OCIJSON.decode(OCIManifest.self, manifest.bytes, what: "the manifest \(manifest.digest)", archive: origin.description)
        guard Digest.isValidSHA256(parsed.config.digest), parsed.layers.allSatisfy({ Digest.isValidSHA256($0.digest) }) else {
            throw .invalidArchive(path: origin.description, reason: "the manifest names a blob by a digest that is not sha256")
        }
        if let foreign = parsed.layers.first(where: { $0.mediaType == MediaType.dockerForeignLayer }) {
            throw .unsupported(feature: "foreign layers (\(foreign.digest), a Windows base layer)", advice: "pull an image built for linux")
        }
        let configBytes = try await client.blob(origin.repository, digest: parsed.config.digest, limit: Int(Self.maximumJSONSize))
        progress(.copyingConfig(digest: parsed.config.digest))
        let config = try OCIJSON.decode(OCIImageConfigFile.self, configBytes, what: "the config \(parsed.config.digest)", archive: origin.description)
        let diffIDs = try Self.diffIDs(config, layerCount: parsed.layers.count, what: parsed.config.digest, origin: origin.description)

        return try await withWorkDirectory { work throws(LibpodError) in
            let layers = try await fetchLayers(
                parsed.layers, diffIDs: diffIDs, from: client, repository: origin.repository, work: work,
                parallel: max(1, options.parallelDownloads), progress: progress)
            progress(.storing)
            let staged = StagedImage(
                configBytes: configBytes, manifestBytes: manifest.bytes, names: source.name.storageName.map { [$0] } ?? [],
                layers: layers, created: config.created ?? RFC3339.now(), repositories: [source.name.name])
            return try await commit([staged])[0]
        }
    }

    /// Downloads and extracts the layers the store lacks, at most `parallel` at once; each
    /// is checked against its manifest digest while it streams and against its diff_id as
    /// it is extracted.
    private func fetchLayers(
        _ descriptors: [OCIDescriptor], diffIDs: [String], from client: RegistryClient, repository: String, work: WorkDirectory,
        parallel: Int, progress: @escaping @Sendable (PullEvent) -> Void
    ) async throws(LibpodError) -> [StagedLayer] {
        let present = try readIndex().layers
        var layers = [StagedLayer?](repeating: nil, count: descriptors.count)
        var wanted: [Int] = []
        var firstOfDigest: [String: Int] = [:]
        for (position, descriptor) in descriptors.enumerated() {
            let diffID = diffIDs[position]
            if let record = present[diffID], record.blob != nil, FileSystem.isDirectory(layerDirectory(diffID)) {
                progress(.skippedBlob(digest: descriptor.digest))
                layers[position] = StagedLayer(diffID: diffID, directory: "", size: record.size, tarSize: 0, blob: nil)
            } else if firstOfDigest[descriptor.digest] == nil {
                firstOfDigest[descriptor.digest] = position
                wanted.append(position)
            }
        }
        let result: Result<[(Int, StagedLayer)], LibpodError> = await withTaskGroup(of: Result<(Int, StagedLayer), LibpodError>.self) { group in
            var pending = wanted[...]
            var done: [(Int, StagedLayer)] = []
            func start() {
                guard let position = pending.popFirst() else { return }
                let descriptor = descriptors[position]
                group.addTask {
                    do throws(LibpodError) {
                        let file = "\(work.path)/download-\(position)"
                        progress(.copyingBlob(digest: descriptor.digest, size: descriptor.size))
                        try await client.download(repository, digest: descriptor.digest, size: descriptor.size, to: file)
                        let layer = try await self.stageLayer(file, number: position, in: work, blobDigest: descriptor.digest)
                        guard layer.diffID == diffIDs[position] else {
                            throw .digestMismatch(
                                blob: "\(client.registry)/\(repository): layer \(descriptor.digest) (uncompressed)", expected: diffIDs[position], found: layer.diffID)
                        }
                        progress(.copiedBlob(digest: descriptor.digest))
                        return .success((position, layer))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            for _ in 0..<parallel { start() }
            while let next = await group.next() {
                switch next {
                case .success(let entry):
                    done.append(entry)
                    start()
                case .failure(let error):
                    group.cancelAll()
                    return .failure(error)
                }
            }
            return .success(done)
        }
        for (position, layer) in try result.get() { layers[position] = layer }
        // A layer listed twice is fetched once; its later places share the first one's.
        for (position, descriptor) in descriptors.enumerated() where layers[position] == nil {
            guard let first = firstOfDigest[descriptor.digest], let layer = layers[first] else { continue }
            layers[position] = StagedLayer(diffID: layer.diffID, directory: "", size: layer.size, tarSize: layer.tarSize, blob: nil)
        }
        return layers.map { $0! }
    }

    /// The manifest of a list for the wanted platform; an error lists what the list has.
    static func platform(in index: OCIIndex, options: PullOptions, reference: String) throws(LibpodError) -> OCIDescriptor {
        let os = options.os ?? "linux"
        let architecture = options.architecture ?? Self.architecture
        let candidates = index.manifests.filter { $0.platform?.os == os && $0.platform?.architecture == architecture }
        let chosen: OCIDescriptor?
        if let variant = options.variant {
            chosen = candidates.first { $0.platform?.variant == variant }
        } else {
            chosen = candidates.first { $0.platform?.variant == nil || $0.platform?.variant == "" } ?? candidates.first
        }
        guard let chosen else {
            let offered = index.manifests.compactMap { descriptor in
                descriptor.platform.map { [$0.os ?? "?", $0.architecture ?? "?", $0.variant].compactMap { $0 }.joined(separator: "/") }
            }
            let wanted = [os, architecture, options.variant].compactMap { $0 }.joined(separator: "/")
            throw .invalidArgument(
                "\(reference) has no image for \(wanted); it has \(offered.isEmpty ? "none with a platform" : offered.joined(separator: ", ")) (choose one with --override-os/--override-arch/--override-variant)")
        }
        return chosen
    }
}
