/// The parts of a container's configuration beyond its command and image, grouped by
/// what they configure. Each is set at create and never changed; each is kept in the
/// container's config JSON, where a config written before a group existed reads as
/// that group's defaults.

/// cgroup limits: the OCI spec's linux.resources. nil is "no limit".
public struct ResourceLimits: Sendable, Codable, Equatable {
    /// Bytes.
    public var memory: Int64?
    public var memoryReservation: Int64?
    /// Memory plus swap, bytes; -1 is unlimited swap.
    public var memorySwap: Int64?
    /// 0-100.
    public var memorySwappiness: UInt64?
    public var kernelMemory: Int64?
    public var oomKillDisable = false
    /// The OOM killer's preference for the container's processes (-1000 to 1000).
    public var oomScoreAdj: Int?
    public var pids: Int64?
    public var cpuShares: UInt64?
    /// Microseconds.
    public var cpuPeriod: UInt64?
    public var cpuQuota: Int64?
    public var cpuRealtimePeriod: UInt64?
    public var cpuRealtimeRuntime: Int64?
    public var cpusetCpus: String?
    public var cpusetMems: String?
    /// 10-1000.
    public var blkioWeight: UInt16?
    public var blkioWeightDevices: [DeviceLimit] = []
    public var deviceReadBps: [DeviceLimit] = []
    public var deviceWriteBps: [DeviceLimit] = []
    public var deviceReadIOps: [DeviceLimit] = []
    public var deviceWriteIOps: [DeviceLimit] = []

    public init() {}

    /// Whether any limit is set (rootless containers on cgroup v1 can have none).
    public var isEmpty: Bool { self == ResourceLimits() }
}

/// A per-device limit: a weight or a rate, on the block device at `path` (major:minor
/// found when the spec is written).
public struct DeviceLimit: Sendable, Codable, Equatable {
    public var path: String
    public var value: UInt64

    public init(path: String, value: UInt64) {
        self.path = path
        self.value = value
    }
}

/// A host device made available in the container.
public struct DeviceMapping: Sendable, Codable, Equatable {
    public var hostPath: String
    public var containerPath: String
    /// Some of "rwm".
    public var permissions: String

    public init(hostPath: String, containerPath: String, permissions: String = "rwm") {
        self.hostPath = hostPath
        self.containerPath = containerPath
        self.permissions = permissions
    }
}

/// A tmpfs mounted in the container.
public struct TmpfsMount: Sendable, Codable, Equatable {
    public var destination: String
    /// Mount options (size=, mode=, noexec, ...) besides podman's defaults.
    public var options: [String]

    public init(destination: String, options: [String] = []) {
        self.destination = destination
        self.options = options
    }
}

/// A resource limit of the container's processes (`--ulimit nofile=1024:2048`).
public struct Ulimit: Sendable, Codable, Equatable {
    /// The name without RLIMIT_ and lowercase, as given: nofile, nproc, core, ...
    public var name: String
    public var soft: UInt64
    public var hard: UInt64

    public init(name: String, soft: UInt64, hard: UInt64) {
        self.name = name
        self.soft = soft
        self.hard = hard
    }
}

/// Privileges: what the container's processes may do.
public struct SecuritySettings: Sendable, Codable, Equatable {
    /// Every capability, every host device, no masked paths.
    public var privileged = false
    /// Capability names as CAP_X (or ALL).
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var noNewPrivileges = false
    /// Groups (names from the image's /etc/group, or numbers) added to the user's.
    public var groupAdd: [String] = []

    public init() {}
}

/// How the container shares one of the kernel's namespaces.
public enum NamespaceMode: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Its own (the default).
    case `private`
    /// The host's.
    case host
    /// Another container's (by ID).
    case container(String)
    /// The namespace at this path (`/proc/PID/ns/uts`, a bind mount).
    case path(String)

    /// podman's syntax: "", private, host, container:ID, ns:PATH.
    public init?(parsing text: String) {
        switch text {
        case "", "private": self = .private
        case "host": self = .host
        default:
            if text.hasPrefix("container:"), text.count > 10 {
                self = .container(String(text.dropFirst(10)))
            } else if text.hasPrefix("ns:"), text.dropFirst(3).hasPrefix("/") {
                self = .path(String(text.dropFirst(3)))
            } else {
                return nil
            }
        }
    }

    public var description: String {
        switch self {
        case .private: ""
        case .host: "host"
        case .container(let id): "container:\(id)"
        case .path(let path): "ns:\(path)"
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = NamespaceMode(parsing: text) ?? .private
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The IPC, PID and UTS namespaces (the network has its own settings).
public struct NamespaceSettings: Sendable, Codable, Equatable {
    public var ipc = NamespaceMode.private
    public var pid = NamespaceMode.private
    public var uts = NamespaceMode.private

    public init() {}
}

/// What the container's /etc/resolv.conf and /etc/hosts say.
public struct NameResolution: Sendable, Codable, Equatable {
    public var dnsServers: [String] = []
    public var dnsSearch: [String] = []
    public var dnsOptions: [String] = []
    /// `host:ip` entries added to /etc/hosts.
    public var extraHosts: [String] = []
    /// Leave the image's /etc/hosts alone.
    public var noHosts = false

    public init() {}
}

/// Where the container's output goes.
public struct LogSettings: Sendable, Codable, Equatable {
    public enum Driver: String, Sendable, Codable, CaseIterable {
        /// conmon's k8s-file format, which `logs` reads.
        case k8sFile = "k8s-file"
        /// Nothing is kept.
        case none
    }

    public var driver = Driver.k8sFile
    /// A log file chosen by the user instead of the container's own.
    public var path: String?
    /// Bytes after which conmon truncates the log; nil for the runtime's max_log_size.
    public var maxSize: Int64?
    public var tag: String?

    public init() {}
}

/// podman's healthcheck: a command run in the container every `interval`.
public struct HealthcheckConfig: Sendable, Codable, Equatable {
    /// As in images: ["CMD", arg...] runs the arguments, ["CMD-SHELL", text] runs
    /// `/bin/sh -c text`.
    public var test: [String]
    /// Seconds; 0 disables the timer (the check runs only when asked).
    public var interval: Double
    public var timeout: Double
    public var startPeriod: Double
    /// Failures in a row before the container is unhealthy.
    public var retries: Int

    public init(test: [String], interval: Double = 30, timeout: Double = 30, startPeriod: Double = 0, retries: Int = 3) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.retries = retries
    }

    /// The command line to run in the container.
    public var command: [String] {
        switch test.first {
        case "CMD": Array(test.dropFirst())
        case "CMD-SHELL": ["/bin/sh", "-c", test.dropFirst().joined(separator: " ")]
        default: test
        }
    }
}

/// What happens when the container's process exits on its own.
public struct RestartPolicy: Sendable, Codable, Equatable {
    public enum Name: String, Sendable, Codable, CaseIterable {
        case no, onFailure = "on-failure", always, unlessStopped = "unless-stopped"
    }

    public var name = Name.no
    /// For on-failure: at most this many restarts (0 = no limit).
    public var maximumRetries = 0

    public init(name: Name = .no, maximumRetries: Int = 0) {
        self.name = name
        self.maximumRetries = maximumRetries
    }

    /// podman's syntax: no, on-failure[:N], always, unless-stopped.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let first = parts.first, let name = Name(rawValue: first) else {
            if text.isEmpty { self.init(); return }
            return nil
        }
        var retries = 0
        if parts.count == 2 {
            guard name == .onFailure, let value = Int(parts[1]), value >= 0 else { return nil }
            retries = value
        }
        self.init(name: name, maximumRetries: retries)
    }

    public var description: String {
        name == .onFailure && maximumRetries > 0 ? "\(name.rawValue):\(maximumRetries)" : name.rawValue
    }
}
