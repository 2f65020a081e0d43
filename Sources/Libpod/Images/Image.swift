import Foundation

/// An image in the local store: the index entry and what its OCI config says about
/// running it.
public struct Image: Sendable, Equatable {
    /// The sha256 of the config bytes, 64 hex digits (podman's image ID).
    public var id: String
    /// Fully qualified references (`localhost/busybox:latest`); empty for a dangling image.
    public var names: [String]
    /// The manifest digest, `sha256:...`.
    public var digest: String
    public var created: Date
    /// Bytes of the extracted layers (file contents; approximate).
    public var size: Int64
    /// The layers' diffIDs (`sha256:...`), bottom first.
    public var layers: [String]
    public var config: ImageConfig

    public init(
        id: String, names: [String], digest: String, created: Date, size: Int64, layers: [String], config: ImageConfig
    ) {
        self.id = id
        self.names = names
        self.digest = digest
        self.created = created
        self.size = size
        self.layers = layers
        self.config = config
    }
}

/// The parts of an OCI image config a container is made from.
public struct ImageConfig: Sendable, Equatable {
    public var env: [String]
    public var cmd: [String]
    public var entrypoint: [String]
    public var workingDir: String
    public var user: String
    public var labels: [String: String]
    public var stopSignal: String?
    /// `80/tcp` style, sorted.
    public var exposedPorts: [String]
    /// The image's VOLUME paths, sorted.
    public var volumes: [String]
    public var author: String
    public var architecture: String
    public var os: String
    /// How the image was built, oldest step first (empty layers included).
    public var history: [ImageHistoryEntry]

    public init(
        env: [String] = [], cmd: [String] = [], entrypoint: [String] = [], workingDir: String = "", user: String = "",
        labels: [String: String] = [:], stopSignal: String? = nil, exposedPorts: [String] = [], volumes: [String] = [],
        author: String = "", architecture: String = "", os: String = "", history: [ImageHistoryEntry] = []
    ) {
        self.env = env
        self.cmd = cmd
        self.entrypoint = entrypoint
        self.workingDir = workingDir
        self.user = user
        self.labels = labels
        self.stopSignal = stopSignal
        self.exposedPorts = exposedPorts
        self.volumes = volumes
        self.author = author
        self.architecture = architecture
        self.os = os
        self.history = history
    }
}

/// One step of an image's history, as its config records it.
public struct ImageHistoryEntry: Sendable, Equatable {
    public var created: Date?
    public var createdBy: String
    public var author: String
    public var comment: String
    /// The step made no layer (ENV, CMD, ...).
    public var emptyLayer: Bool

    public init(created: Date?, createdBy: String, author: String, comment: String, emptyLayer: Bool) {
        self.created = created
        self.createdBy = createdBy
        self.author = author
        self.comment = comment
        self.emptyLayer = emptyLayer
    }
}

/// What `podman import --change` may set; nil keeps the default.
public struct ImageConfigOverrides: Sendable, Equatable {
    /// Added to the default `PATH=...`; an entry for a variable already there replaces it.
    public var env: [String]?
    public var cmd: [String]?
    public var entrypoint: [String]?
    public var workingDir: String?
    public var user: String?
    public var labels: [String: String]?
    public var stopSignal: String?
    public var exposedPorts: [String]?
    public var volumes: [String]?

    public init(
        env: [String]? = nil, cmd: [String]? = nil, entrypoint: [String]? = nil, workingDir: String? = nil,
        user: String? = nil, labels: [String: String]? = nil, stopSignal: String? = nil, exposedPorts: [String]? = nil,
        volumes: [String]? = nil
    ) {
        self.env = env
        self.cmd = cmd
        self.entrypoint = entrypoint
        self.workingDir = workingDir
        self.user = user
        self.labels = labels
        self.stopSignal = stopSignal
        self.exposedPorts = exposedPorts
        self.volumes = volumes
    }
}

/// What `remove` did: podman's rmi reports untagged names and deleted IDs separately.
public struct ImageRemoval: Sendable, Equatable {
    public var untagged: [String]
    /// The image ID, when the image itself was deleted (not only a name).
    public var deleted: String?
    /// diffIDs of layers deleted because no image uses them any more.
    public var deletedLayers: [String]

    public init(untagged: [String], deleted: String?, deletedLayers: [String]) {
        self.untagged = untagged
        self.deleted = deleted
        self.deletedLayers = deletedLayers
    }
}
