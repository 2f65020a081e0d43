/// The manifest a push writes.
public enum PushFormat: Sendable, Equatable {
    /// The manifest the image came with when it still describes the stored layers (a
    /// pulled image keeps its digest), else an OCI manifest.
    case keep
    case oci
    case dockerV2Schema2
}

public struct PushOptions: Sendable {
    public var format: PushFormat
    public var credentials: RegistryCredentials?
    /// Accepted for podman's flag; layers go as they are stored (a pulled layer
    /// compressed, a committed one as a plain tar, which registries accept).
    public var compress: Bool

    public init(format: PushFormat = .keep, credentials: RegistryCredentials? = nil, compress: Bool = false) {
        self.format = format
        self.credentials = credentials
        self.compress = compress
    }
}

public enum PushEvent: Sendable, Equatable {
    case started
    case copyingBlob(String)
    /// The registry has it already.
    case skippedBlob(String)
    case copyingConfig(String)
    case writingManifest
}

extension ImageStore {
    /// What push and save need of an image: its config, the stored tar of each layer
    /// (bottom first) and a manifest that describes exactly those.
    struct Distributable: Sendable {
        struct Layer: Sendable {
            var diffID: String
            var digest: String
            var size: Int64
            var mediaType: String
            var path: String
        }

        var image: Image
        var configBytes: [UInt8]
        var layers: [Layer]
        /// The stored manifest when it still describes the stored blobs.
        var originalManifest: (bytes: [UInt8], mediaType: String)?

        func manifest(_ format: PushFormat) throws(LibpodError) -> (bytes: [UInt8], mediaType: String) {
            if format == .keep, let originalManifest { return originalManifest }
            let docker = format == .dockerV2Schema2
            func layerType(_ stored: String) -> String {
                guard docker else { return stored }
                switch stored {
                case MediaType.ociLayerGzip: return MediaType.dockerLayerGzip
                case MediaType.ociLayerTar: return "application/vnd.docker.image.rootfs.diff.tar"
                default: return stored
                }
            }
            let manifest = OCIManifest(
                schemaVersion: 2, mediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest,
                config: OCIDescriptor(
                    mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig, digest: Digest.sha256(configBytes), size: Int64(configBytes.count)),
                layers: layers.map { OCIDescriptor(mediaType: layerType($0.mediaType), digest: $0.digest, size: $0.size) })
            return (try OCIJSON.encode(manifest), manifest.mediaType!)
        }
    }

    func distributable(_ reference: String) throws(LibpodError) -> Distributable {
        let index = try readIndex()
        let record = try resolve(reference, in: index).record
        let image = try self.image(record.id)
        var layers: [Distributable.Layer] = []
        for diffID in record.layers {
            guard let layer = index.layers[diffID], let blob = layer.blob, let size = layer.blobSize,
                FileSystem.exists(blobPath(blob))
            else {
                throw .damaged(
                    what: "the store has no tar of layer \(diffID) of image \(record.id.prefix(12)) (stored before layers were kept, or removed by hand)",
                    advice: "pull, load or import the image again")
            }
            layers.append(.init(diffID: diffID, digest: blob, size: size, mediaType: layer.blobMediaType ?? MediaType.ociLayerTar, path: blobPath(blob)))
        }
        let configBytes = try self.configBytes(of: image)
        var original: (bytes: [UInt8], mediaType: String)?
        if let bytes = try FileSystem.read(imagesDirectory + "/" + record.id + "/manifest.json"),
            let manifest = try? OCIJSON.decode(OCIManifest.self, bytes, what: "manifest.json", archive: record.id),
            manifest.config.digest == Digest.sha256(configBytes), manifest.layers.map(\.digest) == layers.map(\.digest)
        {
            original = (bytes, manifest.mediaType ?? MediaType.ociManifest)
        }
        return Distributable(image: image, configBytes: configBytes, layers: layers, originalManifest: original)
    }

    /// podman push: the image's stored layers (those the registry lacks), its config and a
    /// manifest, under `destination`'s tag (or by digest).
    func push(
        _ reference: String, to destination: String, options: PushOptions, environment: RegistryEnvironment,
        progress: @escaping @Sendable (PushEvent) -> Void
    ) async throws(LibpodError) -> String {
        let source = try distributable(reference)
        let registries = try RegistriesConfiguration.load(path: environment.registriesPath)
        var name = destination.hasPrefix("docker://") ? String(destination.dropFirst("docker://".count)) : destination
        if !ImageName.hasDomain(ImageName.parse(name).repository) { name = "docker.io/" + name }
        let (target, insecure) = try registries.access(for: try RegistryReference(name))
        let client = try environment.client(for: target.registry, insecure: insecure, credentials: options.credentials)
        progress(.started)
        for layer in source.layers {
            if try await client.hasBlob(target.repository, digest: layer.digest) {
                progress(.skippedBlob(layer.digest))
                continue
            }
            progress(.copyingBlob(layer.digest))
            try await client.upload(target.repository, digest: layer.digest, body: .file(layer.path, size: layer.size))
        }
        let configDigest = Digest.sha256(source.configBytes)
        progress(.copyingConfig(configDigest))
        if try await !client.hasBlob(target.repository, digest: configDigest) {
            try await client.upload(target.repository, digest: configDigest, body: .bytes(source.configBytes))
        }
        let manifest = try source.manifest(options.format)
        progress(.writingManifest)
        let digest = Digest.sha256(manifest.bytes)
        try await client.putManifest(target.repository, reference: target.digest ?? target.tag ?? digest, bytes: manifest.bytes, mediaType: manifest.mediaType)
        return digest
    }
}

extension Runtime {
    /// podman push; returns the digest of the manifest written. Records a `push` event.
    @discardableResult
    public func push(
        _ reference: String, to destination: String, options: PushOptions = PushOptions(),
        progress: @escaping @Sendable (PushEvent) -> Void = { _ in }
    ) async throws(LibpodError) -> String {
        try checkValid()
        let digest = try await images.push(reference, to: destination, options: options, environment: registryEnvironment, progress: progress)
        record(Event(type: .image, status: "push", id: try images.image(reference).id, name: destination))
        return digest
    }
}
