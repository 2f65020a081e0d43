import Foundation

/// A named volume: a directory under static_dir/volumes that containers mount and that
/// outlives them. podman's `local` driver is the only one; its options (`type`, `o`,
/// `device`) make the directory a mount of its own (a tmpfs, a bind, a device).
public struct Volume: Sendable, Codable, Equatable {
    public var name: String
    public var driver: String
    public var labels: [String: String]
    /// The local driver's `type`, `o` and `device`, as given.
    public var options: [String: String]
    /// The directory containers see: static_dir/volumes/NAME/_data.
    public var mountPoint: String
    public var createdAt: Date
    /// Made for one container (an image's VOLUME, `-v /path`): removed with it when asked.
    public var anonymous: Bool

    public init(
        name: String, driver: String = Volume.localDriver, labels: [String: String] = [:], options: [String: String] = [:],
        mountPoint: String, createdAt: Date = Date(), anonymous: Bool = false
    ) {
        self.name = name
        self.driver = driver
        self.labels = labels
        self.options = options
        self.mountPoint = mountPoint
        self.createdAt = createdAt
        self.anonymous = anonymous
    }

    public static let localDriver = "local"

    /// Whether the volume's directory is a mount of its own (options were given).
    public var needsMount: Bool { options["type"] != nil || options["device"] != nil || options["o"] != nil }
}

/// What `volume create` takes.
public struct VolumeCreateOptions: Sendable {
    /// A new name is made when absent.
    public var name: String?
    public var driver: String?
    public var labels: [String: String] = [:]
    public var options: [String: String] = [:]
    public var anonymous = false

    public init(name: String? = nil, driver: String? = nil, labels: [String: String] = [:], options: [String: String] = [:]) {
        self.name = name
        self.driver = driver
        self.labels = labels
        self.options = options
    }
}

/// A named volume mounted into a container.
public struct VolumeMount: Sendable, Codable, Equatable {
    public var name: String
    public var destination: String
    public var readOnly: Bool

    public init(name: String, destination: String, readOnly: Bool = false) {
        self.name = name
        self.destination = destination
        self.readOnly = readOnly
    }
}
