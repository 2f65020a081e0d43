import Glibc

/// What a caller asks for when creating a container; unset fields come from the image.
/// Every field is validated, and a value Podlink cannot honour is refused with the
/// field's name rather than ignored.
public struct ContainerCreateOptions: Sendable, Equatable {
    /// Image reference, ID or ID prefix.
    public var image: String
    /// When the image is fetched from a registry (podman's --pull).
    public var pull = PullPolicy.missing
    public var name = ""
    /// Replaces the image's Cmd; nil keeps it.
    public var command: [String]?
    /// Replaces the image's Entrypoint; nil keeps it.
    public var entrypoint: [String]?
    /// `NAME=value` entries over the image's; a bare `NAME` takes the image's value for it
    /// (and is dropped when the image has none), as podman does.
    public var env: [String] = []
    /// Files on this machine of `NAME=value` lines (`#` comments, bare names as above),
    /// read before `env`.
    public var envFiles: [String] = []
    public var workingDir: String?
    public var user: String?
    public var hostname = ""
    public var labels: [String: String] = [:]
    /// Files on this machine of `key=value` lines, read before `labels`.
    public var labelFiles: [String] = []
    public var annotations: [String: String] = [:]
    public var tty = false
    public var openStdin = false
    public var detachKeys: String?
    public var readOnlyRootfs = false
    public var readOnlyTmpfs = true
    public var resources = ResourceLimits()
    public var security = SecuritySettings()
    public var namespaces = NamespaceSettings()
    /// The pod (name or ID) to join: the container takes the namespaces the pod shares
    /// from its infra container.
    public var pod: String?
    /// Whether a container in a pod takes the pod's network (when the pod shares it);
    /// false keeps `network` (podman joins only when the caller gave no network).
    public var joinsPodNetwork = true
    /// Set by the runtime for a pod's infra container.
    var podID: String?
    var isInfra = false
    public var network = NetworkMode.none
    /// Published ports (`-p`); a host port of 0 is any free one, chosen at create.
    public var portMappings: [PortMapping] = []
    /// Publish every port the image exposes, each on a free host port (`-P`).
    public var publishAll = false
    public var staticIP: String?
    public var staticMAC: String?
    public var nameResolution = NameResolution()
    /// `80`, `80/tcp`, `53/udp`, `8000-8010/tcp`: added to the image's.
    public var exposedPorts: [String] = []
    public var mounts: [BindMount] = []
    /// Named volumes (`-v NAME:/path`), created on first use; a volume of "" is an
    /// anonymous one (`-v /path`).
    public var volumes: [VolumeMount] = []
    /// What the image's VOLUME paths get (podman's --image-volume).
    public var imageVolumes = ImageVolumeMode.anonymous
    /// Containers (names or IDs) whose bind mounts this one gets too (`ID[:ro|rw]`).
    public var volumesFrom: [String] = []
    public var tmpfs: [TmpfsMount] = []
    public var devices: [DeviceMapping] = []
    public var ulimits: [Ulimit] = []
    public var sysctls: [String: String] = [:]
    public var shmSize: Int64?
    public var initPath: String?
    public var cgroupParent = ""
    public var log = LogSettings()
    public var healthcheck: HealthcheckConfig?
    public var restartPolicy = RestartPolicy()
    public var stopSignal: Int32?
    /// Seconds.
    public var stopTimeout: UInt32?
    public var autoRemove = false
    public var conmonPidFile: String?
    /// A file on this machine that gets the new container's ID.
    public var cidFile: String?

    public init(image: String) {
        self.image = image
    }

    /// The checks that need no image.
    func validate() throws(LibpodError) {
        func fail(_ field: String, _ message: String) -> LibpodError { .invalidArgument("invalid \(field): \(message)") }
        if !name.isEmpty { try ContainerNaming.validate(name: name) }
        for entry in env {
            if entry.hasPrefix("=") { throw fail("env", "\"\(entry)\" has no name: give NAME=value or NAME") }
            if entry.contains("\0") { throw fail("env", "\"\(entry.prefix(40))\" contains a NUL byte") }
        }
        if let workingDir, !workingDir.hasPrefix("/") { throw fail("workdir", "\"\(workingDir)\" must be an absolute path") }
        if !hostname.isEmpty {
            let bytes = Array(hostname.utf8)
            let allowed = bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x41 && $0 <= 0x5a) || $0 == 0x2d || $0 == 0x2e }
            guard allowed, bytes.count <= 253, bytes.first != 0x2d else {
                throw fail("hostname", "\"\(hostname)\" is not a valid host name (letters, digits, '-' and '.', at most 253)")
            }
        }
        try validateResources(fail)
        if let stopSignal, !(1...64).contains(stopSignal) { throw fail("stop-signal", "\(stopSignal) is not a signal number (1-64)") }
        if let command, command.contains(where: { $0.contains("\0") }) { throw fail("command", "an argument contains a NUL byte") }
        for mount in mounts {
            guard mount.source.hasPrefix("/"), FileSystem.exists(mount.source) else {
                throw fail("mount", "source \"\(mount.source)\" must be an existing absolute path on the host")
            }
            try Self.checkDestination(mount.destination, "mount", fail)
        }
        for mount in tmpfs { try Self.checkDestination(mount.destination, "tmpfs", fail) }
        for device in devices {
            var info = stat()
            guard device.hostPath.hasPrefix("/"), stat(device.hostPath, &info) == 0,
                (info.st_mode & S_IFMT) == S_IFCHR || (info.st_mode & S_IFMT) == S_IFBLK
            else { throw fail("device", "\"\(device.hostPath)\" is not a character or block device on this machine") }
            try Self.checkDestination(device.containerPath, "device", fail)
            guard !device.permissions.isEmpty, device.permissions.allSatisfy({ "rwm".contains($0) }) else {
                throw fail("device", "permissions \"\(device.permissions)\" must be some of r, w and m")
            }
        }
        for ulimit in ulimits {
            guard Self.rlimitNames[ulimit.name] != nil else {
                throw fail("ulimit", "\"\(ulimit.name)\" is not a limit; use one of \(Self.rlimitNames.keys.sorted().joined(separator: ", "))")
            }
            guard ulimit.soft <= ulimit.hard else { throw fail("ulimit", "\(ulimit.name): the soft limit \(ulimit.soft) is above the hard limit \(ulimit.hard)") }
        }
        for key in sysctls.keys {
            guard Self.namespacedSysctl(key) else {
                throw fail("sysctl", "\"\(key)\" is not namespaced: only kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* and net.* may be set per container")
            }
        }
        if let shmSize, shmSize <= 0 { throw fail("shm-size", "must be more than 0 bytes") }
        for capability in security.capAdd + security.capDrop where !Self.isCapability(capability) {
            throw fail("cap-add/cap-drop", "\"\(capability)\" is not a capability name such as CAP_NET_ADMIN (or ALL)")
        }
        if let healthcheck {
            guard !healthcheck.command.isEmpty else { throw fail("healthcheck-command", "the command is empty") }
            guard healthcheck.retries >= 1 else { throw fail("healthcheck-retries", "must be at least 1") }
            guard healthcheck.timeout > 0 else { throw fail("healthcheck-timeout", "must be more than 0") }
            guard healthcheck.interval >= 0, healthcheck.startPeriod >= 0 else {
                throw fail("healthcheck-interval", "durations cannot be negative")
            }
        }
        if !network.usesCNI {
            if !portMappings.isEmpty || publishAll { throw fail("publish", "ports are published on a bridge network only, not with network \(network)") }
            if staticIP != nil || staticMAC != nil { throw fail("ip/mac-address", "addresses are given on a bridge network only, not with network \(network)") }
        }
        if case .bridge(let networks) = network, networks.count > 1, staticIP != nil || staticMAC != nil {
            throw fail("ip/mac-address", "a static address needs a single network, not \(networks.joined(separator: ", "))")
        }
        if let ip = staticIP {
            var v4 = in_addr()
            guard inet_pton(AF_INET, ip, &v4) == 1 else { throw fail("ip", "\"\(ip)\" is not an IPv4 address") }
        }
        if let mac = staticMAC {
            let parts = mac.split(separator: ":")
            guard parts.count == 6, parts.allSatisfy({ $0.count == 2 && UInt8($0, radix: 16) != nil }) else {
                throw fail("mac-address", "\"\(mac)\" is not a MAC address such as 92:d0:c6:0a:29:33")
            }
        }
        if case .container(let other) = network, other.isEmpty { throw fail("network", "container: needs a container name or ID") }
        if case .path(let path) = network, !FileSystem.exists(path) {
            throw fail("network", "\(path) does not exist; give the path of a network namespace (ns:/proc/PID/ns/net)")
        }
        if autoRemove && restartPolicy.name != .no {
            throw fail("restart", "a container removed on exit (--rm) cannot have a restart policy")
        }
        for (key, _) in labels where key.isEmpty { throw fail("label", "a label key must not be empty") }
    }

    private func validateResources(_ fail: (String, String) -> LibpodError) throws(LibpodError) {
        let limits = resources
        if let memory = limits.memory, memory < 6 * 1024 * 1024 { throw fail("memory", "\(memory) bytes is below the minimum of 6 MiB") }
        if let reservation = limits.memoryReservation, reservation < 0 { throw fail("memory-reservation", "cannot be negative") }
        if let swap = limits.memorySwap, swap != -1 {
            guard let memory = limits.memory else { throw fail("memory-swap", "needs a memory limit too") }
            guard swap >= memory else { throw fail("memory-swap", "\(swap) must be at least the memory limit \(memory), or -1 for unlimited") }
        }
        if let swappiness = limits.memorySwappiness, swappiness > 100 { throw fail("memory-swappiness", "\(swappiness) must be 0-100") }
        if let pids = limits.pids, pids < 1 && pids != -1 { throw fail("pids-limit", "\(pids) must be at least 1 (or -1 for none)") }
        if let shares = limits.cpuShares, !(2...262_144).contains(shares) { throw fail("cpu-shares", "\(shares) must be between 2 and 262144") }
        if let period = limits.cpuPeriod, !(1000...1_000_000).contains(period) { throw fail("cpu-period", "\(period) must be 1000-1000000 microseconds") }
        if let quota = limits.cpuQuota, quota < 1000 && quota != -1 { throw fail("cpu-quota", "\(quota) must be at least 1000 microseconds") }
        if let weight = limits.blkioWeight, !(10...1000).contains(weight) { throw fail("blkio-weight", "\(weight) must be 10-1000") }
        for (field, set) in [("cpuset-cpus", limits.cpusetCpus), ("cpuset-mems", limits.cpusetMems)] {
            guard let set else { continue }
            guard !set.isEmpty, set.allSatisfy({ $0.isNumber || $0 == "," || $0 == "-" }) else {
                throw fail(field, "\"\(set)\" is not a list such as 0-2,4")
            }
        }
        let deviceLimits = limits.blkioWeightDevices + limits.deviceReadBps + limits.deviceWriteBps + limits.deviceReadIOps + limits.deviceWriteIOps
        for limit in deviceLimits {
            var info = stat()
            guard stat(limit.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFBLK else {
                throw fail("device limits", "\"\(limit.path)\" is not a block device on this machine")
            }
        }
    }

    private static func checkDestination(_ path: String, _ field: String, _ fail: (String, String) -> LibpodError) throws(LibpodError) {
        guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw fail(field, "destination \"\(path)\" must be an absolute path without '..'")
        }
    }

    /// RLIMIT_ numbers by podman's lowercase names.
    static let rlimitNames: [String: Int32] = [
        "cpu": 0, "fsize": 1, "data": 2, "stack": 3, "core": 4, "rss": 5, "nproc": 6, "nofile": 7, "memlock": 8,
        "as": 9, "locks": 10, "sigpending": 11, "msgqueue": 12, "nice": 13, "rtprio": 14, "rttime": 15,
    ]

    /// The sysctls the kernel scopes to a namespace (the only ones a container may set).
    static func namespacedSysctl(_ key: String) -> Bool {
        ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
         "kernel.shm_rmid_forced", "kernel.domainname", "kernel.hostname"].contains(key)
            || key.hasPrefix("fs.mqueue.") || key.hasPrefix("net.")
    }

    static func isCapability(_ name: String) -> Bool {
        name == "ALL" || OCISpecBuilder.allCapabilities.contains(name)
    }
}

/// What a container gets at the paths its image declares as VOLUME.
public enum ImageVolumeMode: String, Sendable {
    /// A new anonymous volume each, with the image's content copied in (podman's `bind`).
    case anonymous
    /// A tmpfs each.
    case tmpfs
    /// Nothing: the paths stay part of the container's root file system.
    case ignore
}

/// podman's --pull: `missing` fetches an image the store lacks, `always` fetches it again
/// (layers the store has are not downloaded), `never` uses only the store.
public enum PullPolicy: String, Sendable, Equatable {
    case missing, always, never
}
