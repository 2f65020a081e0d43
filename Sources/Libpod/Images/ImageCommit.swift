import FileTreeArchive
import Foundation

/// What podman commit takes besides the container.
public struct CommitOptions: Sendable {
    /// The new image's name (`localhost/` and `:latest` added as needed); "" for none.
    public var name: String
    public var changes: ImageConfigOverrides?
    public var author: String
    public var message: String
    /// Pause a running container while its changes are read (podman's default).
    public var pause: Bool
    /// Docker's config has a top-level `comment` that carries the message; OCI's has none.
    public var dockerFormat: Bool

    public init(name: String = "", changes: ImageConfigOverrides? = nil, author: String = "", message: String = "", pause: Bool = true, dockerFormat: Bool = false) {
        self.name = name
        self.changes = changes
        self.author = author
        self.message = message
        self.pause = pause
        self.dockerFormat = dockerFormat
    }
}

extension Runtime {
    /// podman commit: the container's changes (its overlay upper directory) become one
    /// new layer on top of its image's, with the image's config, the `changes` applied and
    /// a history entry added. The layer's tar is kept, so the image can be pushed and
    /// saved like any other.
    public func commit(_ idOrName: String, options: CommitOptions) async throws(LibpodError) -> Image {
        try checkValid()
        guard config.storageDriver == .overlay else {
            throw .unsupported(
                feature: "commit with the \(config.storageDriver.rawValue) storage driver",
                advice: "commit reads a container's changes from its overlay upper directory; use storage_driver = \"overlay\"")
        }
        let container = try await self.container(idOrName)
        let names = options.name.isEmpty ? [] : [try ImageName.storageName(options.name)]
        let base = try images.image(container.config.imageID)
        var baseConfig: [String: Any]
        do {
            baseConfig = try JSONSerialization.jsonObject(with: Data(try images.configBytes(of: base))) as? [String: Any] ?? [:]
        } catch {
            throw .damaged(what: "the config of image \(base.id.prefix(12)) is not JSON", advice: "remove the image and pull or load it again")
        }
        let paused = options.pause && container.state.status == .running
        if paused { try await pauseContainer(container.id) }
        do throws(LibpodError) {
            let image = try await images.withWorkDirectory { work throws(LibpodError) in
                let upper = storage.upperDirectory(container.id)
                let tar = work.path + "/upper.tar"
                let packed: Result<Void, LibpodError> = await ImageStore.blockingResult { () throws(LibpodError) in
                    do throws(FileTreeArchive.Failure) {
                        try FileTreeArchive.packLayer(upper, to: tar)
                    } catch {
                        throw LibpodError.helperFailed(program: "libarchive", cause: error.description)
                    }
                }
                if paused { try? await unpauseContainer(container.id) }
                try packed.get()
                let layer = try await images.stageLayer(tar, number: 0, in: work, blobDigest: nil)
                let created = RFC3339.now()
                Self.apply(options, layer: layer.diffID, created: created, to: &baseConfig)
                let configBytes: [UInt8]
                do {
                    configBytes = Array(try JSONSerialization.data(withJSONObject: baseConfig, options: [.sortedKeys]))
                } catch {
                    throw .encoding(what: "the committed image's config", cause: "\(error)")
                }
                var layers = base.layers.map { ImageStore.StagedLayer(diffID: $0, directory: "", size: 0, tarSize: 0, blob: nil) }
                layers.append(layer)
                let distributable = try images.distributable(base.id)
                let manifest = try ImageStore.Distributable(
                    image: base, configBytes: configBytes,
                    layers: distributable.layers + [.init(diffID: layer.diffID, digest: layer.blob!.digest, size: layer.blob!.size, mediaType: layer.blob!.mediaType, path: "")],
                    originalManifest: nil
                ).manifest(options.dockerFormat ? .dockerV2Schema2 : .oci)
                return try await images.commit([
                    ImageStore.StagedImage(configBytes: configBytes, manifestBytes: manifest.bytes, names: names, layers: layers, created: created)
                ])[0]
            }
            record(Event(type: .image, status: "commit", id: image.id, name: names.first ?? ""))
            return image
        } catch {
            // Paused still when packing failed to start or was cut short.
            if paused, (try? await self.container(container.id))?.state.status == .paused { try? await unpauseContainer(container.id) }
            throw error
        }
    }

    /// The base config with the commit's layer, changes, author and history entry.
    static func apply(_ options: CommitOptions, layer diffID: String, created: String, to config: inout [String: Any]) {
        var section = config["config"] as? [String: Any] ?? [:]
        if let changes = options.changes {
            if let env = changes.env {
                var current = section["Env"] as? [String] ?? []
                for entry in env {
                    let key = entry.prefix { $0 != "=" }
                    current.removeAll { $0.prefix { $0 != "=" } == key }
                    current.append(entry)
                }
                section["Env"] = current
            }
            if let cmd = changes.cmd { section["Cmd"] = cmd }
            if let entrypoint = changes.entrypoint { section["Entrypoint"] = entrypoint }
            if let workingDir = changes.workingDir { section["WorkingDir"] = workingDir }
            if let user = changes.user { section["User"] = user }
            if let stopSignal = changes.stopSignal { section["StopSignal"] = stopSignal }
            if let labels = changes.labels {
                section["Labels"] = (section["Labels"] as? [String: String] ?? [:]).merging(labels) { $1 }
            }
            if let ports = changes.exposedPorts {
                var exposed = section["ExposedPorts"] as? [String: Any] ?? [:]
                for port in ports { exposed[port.contains("/") ? port : port + "/tcp"] = [String: Any]() }
                section["ExposedPorts"] = exposed
            }
            if let volumes = changes.volumes {
                var declared = section["Volumes"] as? [String: Any] ?? [:]
                for volume in volumes { declared[volume] = [String: Any]() }
                section["Volumes"] = declared
            }
        }
        config["config"] = section
        var rootfs = config["rootfs"] as? [String: Any] ?? ["type": "layers"]
        rootfs["diff_ids"] = (rootfs["diff_ids"] as? [String] ?? []) + [diffID]
        config["rootfs"] = rootfs
        config["created"] = created
        if !options.author.isEmpty { config["author"] = options.author } else { config.removeValue(forKey: "author") }
        if options.dockerFormat && !options.message.isEmpty { config["comment"] = options.message }
        var entry: [String: Any] = ["created": created, "created_by": "/bin/sh"]
        if !options.author.isEmpty { entry["author"] = options.author }
        if !options.message.isEmpty { entry["comment"] = options.message }
        config["history"] = (config["history"] as? [[String: Any]] ?? []) + [entry]
        // Docker's record of the container it was built from describes the base, not this.
        config.removeValue(forKey: "container")
        config.removeValue(forKey: "container_config")
    }

    /// podman export: the container's whole file system, as it sees it, as a tar at `path`.
    public func exportContainer(_ idOrName: String, to path: String) async throws(LibpodError) {
        try checkValid()
        let id = try await containerID(idOrName)
        let root = try await mountContainer(id)
        let result: Result<Void, LibpodError> = await ImageStore.blockingResult { () throws(LibpodError) in
            try Runtime.pack(root + "/.", as: ".", to: path)
        }
        try? await unmountContainer(id)
        if case .failure = result { unlink(path) }
        try result.get()
        record(Event(type: .container, status: "export", id: id, name: idOrName))
    }
}

extension ImageStore {
    /// `blocking`, with its failure kept as a value (for work whose cleanup must run first).
    static func blockingResult<T: Sendable>(_ body: @escaping @Sendable () throws(LibpodError) -> T) async -> Result<T, LibpodError> {
        do {
            return .success(try await blocking(body))
        } catch {
            return .failure(error)
        }
    }
}
