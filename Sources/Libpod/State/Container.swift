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

public enum NetworkMode: String, Sendable, Codable, CaseIterable {
    /// Its own network namespace with only loopback.
    case none
    /// The host's network namespace.
    case host
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

/// What a container is: fixed when it is created, never changed after. Kept as JSON.
public struct ContainerConfig: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var namespace: String
    public var created: Date
    /// The image ID (sha256 hex) and the reference the user gave.
    public var imageID: String
    public var imageName: String
    /// The full command (entrypoint + cmd resolved against the image).
    public var command: [String]
    public var env: [String]
    public var workingDir: String
    public var user: String
    public var hostname: String
    public var labels: [String: String]
    public var tty: Bool
    public var readOnlyRootfs: Bool
    public var memoryLimit: Int64?
    public var pidsLimit: Int64?
    public var cpuShares: UInt64?
    public var network: NetworkMode
    public var mounts: [BindMount]
    public var stopSignal: Int32
    public var stopTimeout: UInt32
    /// Podman's `--rm`: removed when it exits.
    public var autoRemove: Bool
    /// The OCI runtime that runs it (a path); a runtime made with another one still
    /// manages it with this one.
    public var ociRuntime: String

    public init(
        id: String, name: String, namespace: String = "", created: Date = Date(),
        imageID: String = "", imageName: String = "", command: [String] = [], env: [String] = [],
        workingDir: String = "/", user: String = "", hostname: String = "", labels: [String: String] = [:],
        tty: Bool = false, readOnlyRootfs: Bool = false, memoryLimit: Int64? = nil, pidsLimit: Int64? = nil,
        cpuShares: UInt64? = nil, network: NetworkMode = .none, mounts: [BindMount] = [],
        stopSignal: Int32 = 15, stopTimeout: UInt32 = 10, autoRemove: Bool = false, ociRuntime: String = ""
    ) {
        self.id = id
        self.name = name
        self.namespace = namespace
        self.created = created
        self.imageID = imageID
        self.imageName = imageName
        self.command = command
        self.env = env
        self.workingDir = workingDir
        self.user = user
        self.hostname = hostname
        self.labels = labels
        self.tty = tty
        self.readOnlyRootfs = readOnlyRootfs
        self.memoryLimit = memoryLimit
        self.pidsLimit = pidsLimit
        self.cpuShares = cpuShares
        self.network = network
        self.mounts = mounts
        self.stopSignal = stopSignal
        self.stopTimeout = stopTimeout
        self.autoRemove = autoRemove
        self.ociRuntime = ociRuntime
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
