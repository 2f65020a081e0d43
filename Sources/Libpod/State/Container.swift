import Foundation

/// podman's container states, with podman 1.x's names on the wire.
public enum ContainerStatus: String, Sendable, Codable, CaseIterable {
    case unknown, configured, created, running, stopped, paused, exited, removing, stopping

    /// The number podman stores (`define.ContainerStatus`), kept for the SQLite column.
    public var code: Int {
        switch self {
        case .unknown: 0
        case .configured: 1
        case .created: 2
        case .running: 3
        case .stopped: 4
        case .paused: 5
        case .exited: 6
        case .removing: 7
        case .stopping: 8
        }
    }

    public init(code: Int) {
        self = Self.allCases.first { $0.code == code } ?? .unknown
    }

    /// The state after a reboot: nothing runs any more, nothing is created in the OCI runtime.
    var afterReboot: ContainerStatus {
        switch self {
        case .running, .paused, .stopped, .stopping, .exited: .exited
        case .configured, .created, .unknown: .configured
        case .removing: .removing
        }
    }
}

/// Where a container's network comes from.
public enum NetworkMode: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    /// Its own network namespace, connected by CNI to these networks (the default one when
    /// empty): podman's `bridge`.
    case bridge([String])
    /// Its own network namespace with only loopback.
    case none
    /// The host's network namespace.
    case host
    /// Another container's network namespace (by ID).
    case container(String)
    /// The network namespace at this path.
    case path(String)
    /// Its own network namespace, connected by slirp4netns: the rootless default.
    case slirp4netns

    /// podman's syntax: bridge, NETWORK[,NETWORK...], none, host, container:ID, ns:PATH.
    /// A bare name other than these is a CNI network.
    public init(parsing text: String) {
        switch text {
        case "", "bridge", "default": self = .bridge([])
        case "none": self = .none
        case "host": self = .host
        case "slirp4netns": self = .slirp4netns
        default:
            if text.hasPrefix("container:") {
                self = .container(String(text.dropFirst(10)))
            } else if text.hasPrefix("ns:") {
                self = .path(String(text.dropFirst(3)))
            } else {
                self = .bridge(text.split(separator: ",").map(String.init))
            }
        }
    }

    /// The text `init(parsing:)` reads back.
    public var description: String {
        switch self {
        case .bridge(let networks): networks.isEmpty ? "bridge" : networks.joined(separator: ",")
        case .none: "none"
        case .host: "host"
        case .container(let id): "container:\(id)"
        case .path(let path): "ns:\(path)"
        case .slirp4netns: "slirp4netns"
        }
    }

    /// Whether the runtime makes the container's namespace and connects it with CNI.
    public var usesCNI: Bool {
        if case .bridge = self { return true }
        return false
    }

    /// Whether the runtime makes the container's namespace (for CNI or slirp4netns).
    public var hasRuntimeNamespace: Bool { usesCNI || self == .slirp4netns }

    public init(from decoder: any Decoder) throws {
        self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A host path bind-mounted into the container.
public struct BindMount: Sendable, Codable, Equatable {
    public var source: String
    public var destination: String
    public var readOnly: Bool

    public init(source: String, destination: String, readOnly: Bool = false) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
    }
}

/// What a container is: fixed when it is created, never changed after. Kept as JSON;
/// a key that a config written by an older Podlink lacks reads as its default.
public struct ContainerConfig: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var namespace: String
    public var created: Date
    /// The image ID (sha256 hex) and the reference the user gave.
    public var imageID: String
    public var imageName: String
    /// The full command: the entrypoint, then the arguments (user's or the image's Cmd).
    public var command: [String]
    /// The leading part of `command` that is the entrypoint.
    public var entrypoint: [String]
    public var env: [String]
    public var workingDir: String
    public var user: String
    public var hostname: String
    public var labels: [String: String]
    /// OCI annotations, written into the spec.
    public var annotations: [String: String]
    public var tty: Bool
    /// Keep the container's stdin open (`-i`).
    public var openStdin: Bool
    /// The key sequence that detaches an attached client; nil for the default.
    public var detachKeys: String?
    public var readOnlyRootfs: Bool
    /// With a read-only root: tmpfs on /run, /tmp and /var/tmp.
    public var readOnlyTmpfs: Bool
    public var resources: ResourceLimits
    public var security: SecuritySettings
    public var namespaces: NamespaceSettings
    public var network: NetworkMode
    /// Published ports (bridge networks only).
    public var portMappings: [PortMapping]
    /// An address and a MAC address asked for on the (first) network.
    public var staticIP: String?
    public var staticMAC: String?
    public var nameResolution: NameResolution
    /// Ports the image or the user declared (`80/tcp`).
    public var exposedPorts: [String]
    public var mounts: [BindMount]
    /// The named volumes among `mounts` (their sources are the volumes' directories).
    public var volumes: [VolumeMount] = []
    /// The pod the container belongs to.
    public var podID: String?
    /// The pod's infra container, which holds the namespaces its containers share.
    public var isInfra = false
    public var tmpfs: [TmpfsMount]
    public var devices: [DeviceMapping]
    public var ulimits: [Ulimit]
    public var sysctls: [String: String]
    /// Bytes of /dev/shm.
    public var shmSize: Int64
    /// An init (catatonit, tini) bind-mounted at /dev/init that runs the command as its child.
    public var initPath: String?
    /// A cgroup parent other than the runtime's.
    public var cgroupParent: String
    public var log: LogSettings
    public var healthcheck: HealthcheckConfig?
    public var restartPolicy: RestartPolicy
    public var stopSignal: Int32
    public var stopTimeout: UInt32
    /// Podman's `--rm`: removed when it exits.
    public var autoRemove: Bool
    /// Another file (besides the container's own) that gets conmon's PID.
    public var conmonPidFile: String?
    /// The OCI runtime that runs it (a path); a runtime made with another one still
    /// manages it with this one.
    public var ociRuntime: String

    /// 64 MiB, podman's default /dev/shm.
    public static let defaultShmSize: Int64 = 64 << 20

    public init(
        id: String, name: String, namespace: String = "", created: Date = Date(),
        imageID: String = "", imageName: String = "", command: [String] = [], entrypoint: [String] = [], env: [String] = [],
        workingDir: String = "/", user: String = "", hostname: String = "", labels: [String: String] = [:],
        annotations: [String: String] = [:], tty: Bool = false, openStdin: Bool = false, detachKeys: String? = nil,
        readOnlyRootfs: Bool = false, readOnlyTmpfs: Bool = true, resources: ResourceLimits = ResourceLimits(),
        security: SecuritySettings = SecuritySettings(), namespaces: NamespaceSettings = NamespaceSettings(),
        network: NetworkMode = .none, portMappings: [PortMapping] = [], staticIP: String? = nil, staticMAC: String? = nil,
        nameResolution: NameResolution = NameResolution(), exposedPorts: [String] = [],
        mounts: [BindMount] = [], tmpfs: [TmpfsMount] = [], devices: [DeviceMapping] = [], ulimits: [Ulimit] = [],
        sysctls: [String: String] = [:], shmSize: Int64 = ContainerConfig.defaultShmSize, initPath: String? = nil,
        cgroupParent: String = "", log: LogSettings = LogSettings(), healthcheck: HealthcheckConfig? = nil,
        restartPolicy: RestartPolicy = RestartPolicy(), stopSignal: Int32 = 15, stopTimeout: UInt32 = 10,
        autoRemove: Bool = false, conmonPidFile: String? = nil, ociRuntime: String = ""
    ) {
        self.id = id
        self.name = name
        self.namespace = namespace
        self.created = created
        self.imageID = imageID
        self.imageName = imageName
        self.command = command
        self.entrypoint = entrypoint
        self.env = env
        self.workingDir = workingDir
        self.user = user
        self.hostname = hostname
        self.labels = labels
        self.annotations = annotations
        self.tty = tty
        self.openStdin = openStdin
        self.detachKeys = detachKeys
        self.readOnlyRootfs = readOnlyRootfs
        self.readOnlyTmpfs = readOnlyTmpfs
        self.resources = resources
        self.security = security
        self.namespaces = namespaces
        self.network = network
        self.portMappings = portMappings
        self.staticIP = staticIP
        self.staticMAC = staticMAC
        self.nameResolution = nameResolution
        self.exposedPorts = exposedPorts
        self.mounts = mounts
        self.tmpfs = tmpfs
        self.devices = devices
        self.ulimits = ulimits
        self.sysctls = sysctls
        self.shmSize = shmSize
        self.initPath = initPath
        self.cgroupParent = cgroupParent
        self.log = log
        self.healthcheck = healthcheck
        self.restartPolicy = restartPolicy
        self.stopSignal = stopSignal
        self.stopTimeout = stopTimeout
        self.autoRemove = autoRemove
        self.conmonPidFile = conmonPidFile
        self.ociRuntime = ociRuntime
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, namespace, created, imageID, imageName, command, entrypoint, env, workingDir, user, hostname
        case labels, annotations, tty, openStdin, detachKeys, readOnlyRootfs, readOnlyTmpfs, resources, security
        case namespaces, network, portMappings, staticIP, staticMAC, nameResolution, exposedPorts, mounts, volumes, podID, isInfra, tmpfs, devices, ulimits, sysctls, shmSize
        case initPath, cgroupParent, log, healthcheck, restartPolicy, stopSignal, stopTimeout, autoRemove
        case conmonPidFile, ociRuntime
        // Written by Podlink 0.1, before the limits were grouped in `resources`.
        case memoryLimit, pidsLimit, cpuShares
    }

    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try keys.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        let defaults = ContainerConfig(id: "", name: "")
        id = try keys.decode(String.self, forKey: .id)
        name = try keys.decode(String.self, forKey: .name)
        namespace = try value(.namespace, defaults.namespace)
        created = try keys.decode(Date.self, forKey: .created)
        imageID = try value(.imageID, defaults.imageID)
        imageName = try value(.imageName, defaults.imageName)
        command = try value(.command, defaults.command)
        entrypoint = try value(.entrypoint, defaults.entrypoint)
        env = try value(.env, defaults.env)
        workingDir = try value(.workingDir, defaults.workingDir)
        user = try value(.user, defaults.user)
        hostname = try value(.hostname, defaults.hostname)
        labels = try value(.labels, defaults.labels)
        annotations = try value(.annotations, defaults.annotations)
        tty = try value(.tty, defaults.tty)
        openStdin = try value(.openStdin, defaults.openStdin)
        detachKeys = try keys.decodeIfPresent(String.self, forKey: .detachKeys)
        readOnlyRootfs = try value(.readOnlyRootfs, defaults.readOnlyRootfs)
        readOnlyTmpfs = try value(.readOnlyTmpfs, defaults.readOnlyTmpfs)
        var resources = try value(.resources, defaults.resources)
        if let legacy = try keys.decodeIfPresent(Int64.self, forKey: .memoryLimit) { resources.memory = legacy }
        if let legacy = try keys.decodeIfPresent(Int64.self, forKey: .pidsLimit) { resources.pids = legacy }
        if let legacy = try keys.decodeIfPresent(UInt64.self, forKey: .cpuShares) { resources.cpuShares = legacy }
        self.resources = resources
        security = try value(.security, defaults.security)
        namespaces = try value(.namespaces, defaults.namespaces)
        network = try value(.network, defaults.network)
        portMappings = try value(.portMappings, defaults.portMappings)
        staticIP = try keys.decodeIfPresent(String.self, forKey: .staticIP)
        staticMAC = try keys.decodeIfPresent(String.self, forKey: .staticMAC)
        nameResolution = try value(.nameResolution, defaults.nameResolution)
        exposedPorts = try value(.exposedPorts, defaults.exposedPorts)
        mounts = try value(.mounts, defaults.mounts)
        volumes = try value(.volumes, defaults.volumes)
        tmpfs = try value(.tmpfs, defaults.tmpfs)
        devices = try value(.devices, defaults.devices)
        ulimits = try value(.ulimits, defaults.ulimits)
        sysctls = try value(.sysctls, defaults.sysctls)
        shmSize = try value(.shmSize, defaults.shmSize)
        initPath = try keys.decodeIfPresent(String.self, forKey: .initPath)
        cgroupParent = try value(.cgroupParent, defaults.cgroupParent)
        log = try value(.log, defaults.log)
        healthcheck = try keys.decodeIfPresent(HealthcheckConfig.self, forKey: .healthcheck)
        restartPolicy = try value(.restartPolicy, defaults.restartPolicy)
        stopSignal = try value(.stopSignal, defaults.stopSignal)
        stopTimeout = try value(.stopTimeout, defaults.stopTimeout)
        autoRemove = try value(.autoRemove, defaults.autoRemove)
        conmonPidFile = try keys.decodeIfPresent(String.self, forKey: .conmonPidFile)
        ociRuntime = try value(.ociRuntime, defaults.ociRuntime)
        podID = try keys.decodeIfPresent(String.self, forKey: .podID)
        isInfra = try value(.isInfra, false)
    }

    public func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: CodingKeys.self)
        try keys.encode(id, forKey: .id)
        try keys.encode(name, forKey: .name)
        try keys.encode(namespace, forKey: .namespace)
        try keys.encode(created, forKey: .created)
        try keys.encode(imageID, forKey: .imageID)
        try keys.encode(imageName, forKey: .imageName)
        try keys.encode(command, forKey: .command)
        try keys.encode(entrypoint, forKey: .entrypoint)
        try keys.encode(env, forKey: .env)
        try keys.encode(workingDir, forKey: .workingDir)
        try keys.encode(user, forKey: .user)
        try keys.encode(hostname, forKey: .hostname)
        try keys.encode(labels, forKey: .labels)
        try keys.encode(annotations, forKey: .annotations)
        try keys.encode(tty, forKey: .tty)
        try keys.encode(openStdin, forKey: .openStdin)
        try keys.encodeIfPresent(detachKeys, forKey: .detachKeys)
        try keys.encode(readOnlyRootfs, forKey: .readOnlyRootfs)
        try keys.encode(readOnlyTmpfs, forKey: .readOnlyTmpfs)
        try keys.encode(resources, forKey: .resources)
        try keys.encode(security, forKey: .security)
        try keys.encode(namespaces, forKey: .namespaces)
        try keys.encode(network, forKey: .network)
        try keys.encode(portMappings, forKey: .portMappings)
        try keys.encodeIfPresent(staticIP, forKey: .staticIP)
        try keys.encodeIfPresent(staticMAC, forKey: .staticMAC)
        try keys.encode(nameResolution, forKey: .nameResolution)
        try keys.encode(exposedPorts, forKey: .exposedPorts)
        try keys.encode(mounts, forKey: .mounts)
        try keys.encode(volumes, forKey: .volumes)
        try keys.encode(tmpfs, forKey: .tmpfs)
        try keys.encode(devices, forKey: .devices)
        try keys.encode(ulimits, forKey: .ulimits)
        try keys.encode(sysctls, forKey: .sysctls)
        try keys.encode(shmSize, forKey: .shmSize)
        try keys.encodeIfPresent(initPath, forKey: .initPath)
        try keys.encode(cgroupParent, forKey: .cgroupParent)
        try keys.encode(log, forKey: .log)
        try keys.encodeIfPresent(healthcheck, forKey: .healthcheck)
        try keys.encode(restartPolicy, forKey: .restartPolicy)
        try keys.encode(stopSignal, forKey: .stopSignal)
        try keys.encode(stopTimeout, forKey: .stopTimeout)
        try keys.encode(autoRemove, forKey: .autoRemove)
        try keys.encodeIfPresent(conmonPidFile, forKey: .conmonPidFile)
        try keys.encode(ociRuntime, forKey: .ociRuntime)
        try keys.encodeIfPresent(podID, forKey: .podID)
        if isInfra { try keys.encode(isInfra, forKey: .isInfra) }
    }
}

/// What a container is doing: changes with every transition. Kept as columns.
public struct ContainerState: Sendable, Equatable {
    public var status: ContainerStatus = .configured
    public var pid: Int32 = 0
    public var conmonPID: Int32 = 0
    public var exitCode: Int32 = 0
    public var oomKilled = false
    public var startedAt: Date?
    public var finishedAt: Date?
    /// Where the root filesystem is mounted while the container has one.
    public var mountPoint = ""
    public var restartCount = 0
    /// The last stop was asked for (stop, or kill): restart policies leave the container be.
    public var stoppedByUser = false

    public init() {}

    /// podman's resetContainerState: what survives a reboot.
    mutating func resetForReboot() {
        status = status.afterReboot
        pid = 0
        conmonPID = 0
        mountPoint = ""
    }
}

/// A container as the state store holds it.
public struct Container: Sendable, Equatable {
    public var config: ContainerConfig
    public var state: ContainerState

    public var id: String { config.id }
    public var name: String { config.name }

    public init(config: ContainerConfig, state: ContainerState = ContainerState()) {
        self.config = config
        self.state = state
    }
}

/// Container IDs and names: podman's rules.
public enum ContainerNaming {
    /// A new random 64-hex ID.
    public static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        text.reserveCapacity(64)
        for _ in 0..<4 {
            let word = generator.next() as UInt64
            let hex = String(word, radix: 16)
            text += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return text
    }

    public static func isFullID(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy(isHexDigit)
    }

    public static func isIDPrefix(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64 && text.utf8.allSatisfy(isHexDigit)
    }

    /// `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most 253 bytes (a hostname's limit; podman uses it as one).
    public static func validate(name: String) throws(LibpodError) {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 253, isAlphanumeric(first),
            bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") })
        else { throw .invalidName(name) }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
