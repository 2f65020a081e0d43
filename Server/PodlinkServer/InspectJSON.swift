import Foundation
import Libpod
import Varlink

// The JSON documents io.podman returns as strings (InspectContainer, ContainerInspectData,
// ContainerConfig, ContainerStateData, InspectImage), in podman 1.9's keys and types, so
// that what podman-remote and python-podman decode them into reads ours. Times are RFC
// 3339 with nanoseconds, the zero time Go's; a key Go wrote as null is written as null.

enum PodmanJSON {
    /// Compact, slashes as they are.
    static func encode(_ value: some Encodable) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    /// `value`'s object with `key` holding `json`, a document already encoded (the OCI
    /// spec, read from disk): put in as it is rather than parsed and written again.
    static func encode(_ value: some Encodable, embedding key: String, _ json: [UInt8]) -> String {
        var object = bytes(value)
        guard object.first == UInt8(ascii: "{"), !json.isEmpty else { return String(decoding: object, as: UTF8.self) }
        let member = Array("\"\(key)\":".utf8) + json + (object.count > 2 ? [UInt8(ascii: ",")] : [])
        object.insert(contentsOf: member, at: 1)
        return String(decoding: object, as: UTF8.self)
    }

    private static func bytes(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Every value here is plain data: encoding cannot fail.
        return (try? encoder.encode(value)).map { Array($0) } ?? Array("{}".utf8)
    }

    /// Go's zero time.Time, which podman writes for "never".
    static let zeroTime = "0001-01-01T00:00:00Z"

    static func time(_ date: Date?) -> String { date.map(PodmanFormat.time) ?? zeroTime }
}

/// A field Go writes as `null` when it has no value (a nil slice, map or pointer without
/// omitempty); a plain optional would leave the key out, and clients that read the key
/// (python-podman's inspect does) would fail.
@propertyWrapper
struct Nullable<Value: Encodable>: Encodable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// A key named at run time, for maps encoded in order.
struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ text: String) { stringValue = text }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension JSONValue {
    /// A member of the object, if it is one.
    subscript(_ key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var strings: [String] {
        guard case .array(let elements) = self else { return [] }
        return elements.compactMap { if case .string(let text) = $0 { text } else { nil } }
    }
}

// MARK: - Containers

/// podman's InspectContainerData (`podman inspect`, ContainerInspectData).
struct ContainerInspectJSON: Encodable {
    struct State: Encodable {
        var OciVersion: String
        var Status: String
        var Running: Bool
        var Paused: Bool
        var Restarting = false
        var OOMKilled: Bool
        var Dead: Bool
        var Pid: Int32
        var ConmonPid: Int32?
        var ExitCode: Int32
        var Error = ""
        var StartedAt: String
        var FinishedAt: String
        var Healthcheck: Health
    }

    struct Health: Encodable {
        struct Check: Encodable {
            var Start: String
            var End: String
            var ExitCode: Int
            var Output: String
        }

        var Status: String
        var FailingStreak: Int
        @Nullable var Log: [Check]?
    }

    struct GraphDriver: Encodable {
        var Name: String
        var Data: [String: String]
    }

    struct Mount: Encodable {
        var `Type` = "bind"
        var Name = ""
        var Source: String
        var Destination: String
        var Driver = ""
        var Mode = ""
        var Options: [String]
        var RW: Bool
        var Propagation = "rprivate"
    }

    struct NetworkSettings: Encodable {
        /// One network's part of it: podman's InspectAdditionalNetwork.
        struct Network: Encodable {
            var EndpointID = ""
            var Gateway: String
            var IPAddress: String
            var IPPrefixLen: Int
            var IPv6Gateway = ""
            var GlobalIPv6Address = ""
            var GlobalIPv6PrefixLen = 0
            var MacAddress: String
            var NetworkID: String
        }

        var EndpointID = ""
        var Gateway = ""
        var IPAddress = ""
        var IPPrefixLen = 0
        var IPv6Gateway = ""
        var GlobalIPv6Address = ""
        var GlobalIPv6PrefixLen = 0
        var MacAddress = ""
        var Bridge = ""
        var SandboxID = ""
        var HairpinMode = false
        var LinkLocalIPv6Address = ""
        var LinkLocalIPv6PrefixLen = 0
        var Ports: [PortMapping] = []
        var SandboxKey = ""
        var Networks: [String: Network]?

        init(_ container: Container, status: ContainerNetworkStatus?) {
            Ports = container.config.portMappings.map {
                .init(hostPort: Int($0.hostPort), containerPort: Int($0.containerPort), protocol: $0.protocol, hostIP: $0.hostIP)
            }
            let running = container.state.status == .running || container.state.status == .paused
            switch container.config.network {
            case .host: SandboxKey = ""
            case .bridge: SandboxKey = status?.namespacePath ?? ""
            default: SandboxKey = running && container.state.pid > 0 ? "/proc/\(container.state.pid)/ns/net" : ""
            }
            guard let status else { return }
            var networks: [String: Network] = [:]
            for connection in status.connections {
                let address = connection.address ?? ""
                let parts = address.split(separator: "/")
                networks[connection.networkName] = Network(
                    Gateway: connection.gateway ?? "", IPAddress: parts.first.map(String.init) ?? "",
                    IPPrefixLen: parts.count > 1 ? Int(parts[1]) ?? 0 : 0, MacAddress: connection.macAddress ?? "",
                    NetworkID: connection.networkName)
            }
            // The first network's figures are the container's, as podman shows them.
            if let first = status.connections.first, let network = networks[first.networkName] {
                Gateway = network.Gateway
                IPAddress = network.IPAddress
                IPPrefixLen = network.IPPrefixLen
                MacAddress = network.MacAddress
                Bridge = first.bridge ?? ""
            }
            Networks = networks
        }
    }

    struct PortMapping: Encodable {
        var hostPort: Int
        var containerPort: Int
        var `protocol`: String
        var hostIP: String
    }

    struct Config: Encodable {
        var Hostname: String
        var Domainname = ""
        var User: String
        var AttachStdin = false
        var AttachStdout = false
        var AttachStderr = false
        var Tty: Bool
        var OpenStdin: Bool
        var StdinOnce = false
        var Env: [String]
        @Nullable var Cmd: [String]?
        var Image: String
        @Nullable var Volumes: [String: [String: String]]? = nil
        var WorkingDir: String
        /// A string in podman 1.9, not a list (podman-remote decodes it so).
        var Entrypoint: String
        @Nullable var OnBuild: [String]? = nil
        @Nullable var Labels: [String: String]?
        @Nullable var Annotations: [String: String]?
        var StopSignal: UInt32
        var Healthcheck: HealthConfig?
    }

    struct HealthConfig: Encodable {
        var Test: [String]
        var Interval: Int64
        var Timeout: Int64
        var StartPeriod: Int64
        var Retries: Int
    }

    struct HostConfig: Encodable {
        struct LogConfig: Encodable {
            var `Type`: String
            @Nullable var Config: [String: String]? = nil
        }

        struct RestartPolicy: Encodable {
            var Name: String
            var MaximumRetryCount: Int
        }

        struct Ulimit: Encodable {
            var Name: String
            var Soft: UInt64
            var Hard: UInt64
        }

        struct WeightDevice: Encodable {
            var Path: String
            var Weight: UInt64
        }

        struct ThrottleDevice: Encodable {
            var Path: String
            var Rate: UInt64
        }

        struct Device: Encodable {
            var PathOnHost: String
            var PathInContainer: String
            var CgroupPermissions: String
        }

        struct PortBinding: Encodable {
            var HostIp: String
            var HostPort: String
        }

        var Binds: [String]
        var ContainerIDFile = ""
        var LogConfig: LogConfig
        var NetworkMode: String
        var PortBindings: [String: [PortBinding]] = [:]
        var RestartPolicy: RestartPolicy
        var AutoRemove: Bool
        var VolumeDriver = ""
        @Nullable var VolumesFrom: [String]? = nil
        var CapAdd: [String]
        var CapDrop: [String]
        var Dns: [String]
        var DnsOptions: [String]
        var DnsSearch: [String]
        var ExtraHosts: [String]
        var GroupAdd: [String]
        var IpcMode: String
        var Cgroup = ""
        var Cgroups = "default"
        @Nullable var Links: [String]? = nil
        var OomScoreAdj: Int
        var PidMode: String
        var Privileged: Bool
        var PublishAllPorts = false
        var ReadonlyRootfs: Bool
        var SecurityOpt: [String]
        var Tmpfs: [String: String]
        var UTSMode: String
        var UsernsMode = ""
        var ShmSize: Int64
        var Runtime = "oci"
        var ConsoleSize: [UInt] = [0, 0]
        var Isolation = ""
        var CpuShares: UInt64
        var Memory: Int64
        var NanoCpus: Int64
        var CgroupParent: String
        var BlkioWeight: UInt16
        @Nullable var BlkioWeightDevice: [WeightDevice]? = nil
        @Nullable var BlkioDeviceReadBps: [ThrottleDevice]? = nil
        @Nullable var BlkioDeviceWriteBps: [ThrottleDevice]? = nil
        @Nullable var BlkioDeviceReadIOps: [ThrottleDevice]? = nil
        @Nullable var BlkioDeviceWriteIOps: [ThrottleDevice]? = nil
        var CpuPeriod: UInt64
        var CpuQuota: Int64
        var CpuRealtimePeriod: UInt64
        var CpuRealtimeRuntime: Int64
        var CpusetCpus: String
        var CpusetMems: String
        var Devices: [Device]
        var DiskQuota: UInt64 = 0
        var KernelMemory: Int64
        var MemoryReservation: Int64
        var MemorySwap: Int64
        var MemorySwappiness: Int64
        var OomKillDisable: Bool
        var Init: Bool? = nil
        var PidsLimit: Int64
        var Ulimits: [Ulimit]
        var CpuCount: UInt64 = 0
        var CpuPercent: UInt64 = 0
        var IOMaximumIOps: UInt64 = 0
        var IOMaximumBandwidth: UInt64 = 0
    }

    var Id: String
    var Created: String
    var Path: String
    var Args: [String]
    var State: State
    var Image: String
    var ImageName: String
    var Rootfs = ""
    var Pod = ""
    var ResolvConfPath: String
    var HostnamePath: String
    var HostsPath: String
    var StaticDir: String
    var OCIConfigPath: String?
    var OCIRuntime: String?
    var LogPath: String
    var LogTag: String
    var ConmonPidFile: String
    var Name: String
    var RestartCount: Int
    var Driver: String
    var MountLabel = ""
    var ProcessLabel = ""
    var AppArmorProfile = ""
    var EffectiveCaps: [String]
    var BoundingCaps: [String]
    var ExecIDs: [String] = []
    var GraphDriver: GraphDriver
    var SizeRw: Int64?
    var SizeRootFs: Int64?
    var Mounts: [Mount]
    var Dependencies: [String] = []
    var NetworkSettings: NetworkSettings
    var ExitCommand: [String] = []
    var Namespace: String
    var IsInfra = false
    var Config: Config
    var HostConfig: HostConfig

    init(_ inspection: ContainerInspection, driver: String, sizes: (rootfs: Int64, writable: Int64)? = nil) {
        let container = inspection.container
        let config = container.config
        let state = container.state
        let spec = (try? JSONValue(parsing: inspection.spec)) ?? .null
        let process = spec["process"]
        let arguments = process?["args"]?.strings ?? config.command
        let capabilities = process?["capabilities"]
        Id = container.id
        Created = PodmanFormat.time(config.created)
        Path = arguments.first ?? ""
        // podman repeats Path in Args when the command has one word.
        Args = arguments.count > 1 ? Array(arguments.dropFirst()) : arguments
        let health = inspection.health
        self.State = .init(
            OciVersion: { if case .string(let version)? = spec["ociVersion"] { version } else { "1.0.2" } }(),
            Status: state.status.rawValue, Running: state.status == .running, Paused: state.status == .paused,
            OOMKilled: state.oomKilled, Dead: state.status == .unknown, Pid: state.pid,
            ConmonPid: state.conmonPID == 0 ? nil : state.conmonPID, ExitCode: state.exitCode,
            StartedAt: PodmanJSON.time(state.startedAt), FinishedAt: PodmanJSON.time(state.finishedAt),
            Healthcheck: .init(
                Status: health?.status.rawValue ?? "", FailingStreak: health?.failingStreak ?? 0,
                Log: health?.log.map {
                    .init(Start: PodmanFormat.time($0.start), End: PodmanFormat.time($0.end), ExitCode: $0.exitCode, Output: $0.output)
                }))
        Image = config.imageID
        ImageName = config.imageName
        let run = inspection.runDirectory
        ResolvConfPath = run + "/resolv.conf"
        HostnamePath = run + "/hostname"
        HostsPath = config.nameResolution.noHosts ? "" : run + "/hosts"
        StaticDir = inspection.bundlePath
        let initialized = FileManager.default.fileExists(atPath: inspection.bundlePath + "/config.json")
        OCIConfigPath = initialized ? inspection.bundlePath + "/config.json" : nil
        OCIRuntime = inspection.ociRuntimeName
        LogPath = inspection.logPath
        LogTag = config.log.tag ?? ""
        ConmonPidFile = inspection.conmonPidFile
        Name = config.name
        RestartCount = state.restartCount
        Driver = driver
        EffectiveCaps = capabilities?["effective"]?.strings ?? []
        BoundingCaps = capabilities?["bounding"]?.strings ?? []
        var graphData: [String: String] = [:]
        if !inspection.upperDirectory.isEmpty {
            graphData["UpperDir"] = inspection.upperDirectory
            graphData["WorkDir"] = inspection.workDirectory
            if !inspection.lowerDirectories.isEmpty { graphData["LowerDir"] = inspection.lowerDirectories.joined(separator: ":") }
        }
        if inspection.mounted { graphData["MergedDir"] = inspection.rootfsPath }
        self.GraphDriver = .init(Name: driver, Data: graphData)
        SizeRw = sizes?.writable
        SizeRootFs = sizes.flatMap { $0.rootfs == 0 ? nil : $0.rootfs }
        Mounts = config.mounts.map { mount in
            // A named volume's bind shows as podman shows a volume: its name and driver.
            if let volume = config.volumes.first(where: { $0.destination == mount.destination }) {
                return .init(Type: "volume", Name: volume.name, Source: mount.source, Destination: mount.destination, Driver: "local",
                    Options: ["nosuid", "nodev", "rbind"], RW: !mount.readOnly)
            }
            return .init(Source: mount.source, Destination: mount.destination, Options: ["rbind"], RW: !mount.readOnly)
        }
        self.NetworkSettings = .init(container, status: inspection.network)
        Namespace = config.namespace
        let healthcheck = config.healthcheck.map {
            HealthConfig(
                Test: $0.test, Interval: Int64($0.interval * 1e9), Timeout: Int64($0.timeout * 1e9),
                StartPeriod: Int64($0.startPeriod * 1e9), Retries: $0.retries)
        }
        self.Config = .init(
            Hostname: config.hostname.isEmpty ? String(container.id.prefix(12)) : config.hostname, User: config.user,
            Tty: config.tty, OpenStdin: config.openStdin, Env: process?["env"]?.strings ?? config.env,
            Cmd: config.command.count > config.entrypoint.count ? Array(config.command.dropFirst(config.entrypoint.count)) : nil,
            Image: config.imageName, WorkingDir: config.workingDir, Entrypoint: config.entrypoint.joined(separator: " "),
            Labels: config.labels.isEmpty ? nil : config.labels, Annotations: config.annotations.isEmpty ? nil : config.annotations,
            StopSignal: UInt32(config.stopSignal), Healthcheck: healthcheck)
        self.HostConfig = Self.hostConfig(config, boundingCapabilities: Set(BoundingCaps))
    }

    private static func hostConfig(_ config: ContainerConfig, boundingCapabilities bounding: Set<String>) -> ContainerInspectJSON.HostConfig {
        typealias Host = ContainerInspectJSON.HostConfig
        let resources = config.resources
        let names = config.nameResolution
        let defaults = Set(OCISpecDefaults.capabilities)
        let binds: [String] = config.mounts.map { "\($0.source):\($0.destination):\($0.readOnly ? "ro" : "rw"),rprivate,rbind" }
        let restart = Host.RestartPolicy(
            Name: config.restartPolicy.name == .no ? "" : config.restartPolicy.name.rawValue,
            MaximumRetryCount: config.restartPolicy.maximumRetries)
        let tmpfs: [String: String] = Dictionary(config.tmpfs.map { ($0.destination, $0.options.joined(separator: ",")) }) { first, _ in first }
        let devices: [Host.Device] = config.devices.map {
            Host.Device(PathOnHost: $0.hostPath, PathInContainer: $0.containerPath, CgroupPermissions: $0.permissions)
        }
        let ulimits: [Host.Ulimit] = config.ulimits.map { Host.Ulimit(Name: "RLIMIT_" + $0.name.uppercased(), Soft: $0.soft, Hard: $0.hard) }
        let nanoCPUs: Int64 = resources.cpuPeriod == 100_000 ? (resources.cpuQuota ?? 0) * 10_000 : 0
        let swappiness: Int64 = resources.memorySwappiness.map { Int64($0) } ?? -1
        var host = Host(
            Binds: binds, LogConfig: Host.LogConfig(Type: config.log.driver.rawValue),
            NetworkMode: config.network.description, RestartPolicy: restart, AutoRemove: config.autoRemove,
            CapAdd: bounding.subtracting(defaults).sorted(), CapDrop: defaults.subtracting(bounding).sorted(),
            Dns: names.dnsServers, DnsOptions: names.dnsOptions, DnsSearch: names.dnsSearch, ExtraHosts: names.extraHosts,
            GroupAdd: config.security.groupAdd, IpcMode: config.namespaces.ipc.description, OomScoreAdj: resources.oomScoreAdj ?? 0,
            PidMode: config.namespaces.pid.description, Privileged: config.security.privileged, ReadonlyRootfs: config.readOnlyRootfs,
            SecurityOpt: config.security.noNewPrivileges ? ["no-new-privileges"] : [], Tmpfs: tmpfs,
            UTSMode: config.namespaces.uts.description, ShmSize: config.shmSize, CpuShares: resources.cpuShares ?? 0,
            Memory: resources.memory ?? 0, NanoCpus: nanoCPUs, CgroupParent: config.cgroupParent,
            BlkioWeight: resources.blkioWeight ?? 0, CpuPeriod: resources.cpuPeriod ?? 0, CpuQuota: resources.cpuQuota ?? 0,
            CpuRealtimePeriod: resources.cpuRealtimePeriod ?? 0, CpuRealtimeRuntime: resources.cpuRealtimeRuntime ?? 0,
            CpusetCpus: resources.cpusetCpus ?? "", CpusetMems: resources.cpusetMems ?? "", Devices: devices,
            KernelMemory: resources.kernelMemory ?? 0, MemoryReservation: resources.memoryReservation ?? 0,
            MemorySwap: resources.memorySwap ?? 0, MemorySwappiness: swappiness, OomKillDisable: resources.oomKillDisable,
            PidsLimit: resources.pids ?? 0, Ulimits: ulimits)
        host.Init = config.initPath == nil ? nil : true
        for mapping in config.portMappings {
            host.PortBindings["\(mapping.containerPort)/\(mapping.protocol)", default: []].append(.init(HostIp: mapping.hostIP, HostPort: String(mapping.hostPort)))
        }
        host.BlkioWeightDevice = weights(resources.blkioWeightDevices)
        host.BlkioDeviceReadBps = rates(resources.deviceReadBps)
        host.BlkioDeviceWriteBps = rates(resources.deviceWriteBps)
        host.BlkioDeviceReadIOps = rates(resources.deviceReadIOps)
        host.BlkioDeviceWriteIOps = rates(resources.deviceWriteIOps)
        return host
    }

    private static func weights(_ limits: [DeviceLimit]) -> [ContainerInspectJSON.HostConfig.WeightDevice]? {
        limits.isEmpty ? nil : limits.map { .init(Path: $0.path, Weight: $0.value) }
    }

    private static func rates(_ limits: [DeviceLimit]) -> [ContainerInspectJSON.HostConfig.ThrottleDevice]? {
        limits.isEmpty ? nil : limits.map { .init(Path: $0.path, Rate: $0.value) }
    }
}

/// libpod's ContainerConfig as podman 1.9 stored it (ContainerConfig): what
/// podman-remote's container lookups decode.
struct ContainerConfigJSON: Encodable {
    struct IDMappings: Encodable {
        struct AutoUserNs: Encodable {
            var Size = 0
            var InitialSize = 0
            var PasswdFile = ""
            var GroupFile = ""
            @Nullable var AdditionalUIDMappings: [String]? = nil
            @Nullable var AdditionalGIDMappings: [String]? = nil
        }

        var HostUIDMapping = true
        var HostGIDMapping = true
        @Nullable var UIDMap: [String]? = nil
        @Nullable var GIDMap: [String]? = nil
        var AutoUserNs = false
        var AutoUserNsOpts = AutoUserNs()
    }

    struct HealthConfig: Encodable {
        var Test: [String]
        var StartPeriod: Int64
        var Interval: Int64
        var Timeout: Int64
        var Retries: Int
    }

    // The spec is embedded as it was written (PodmanJSON.encode(_:embedding:_:)).
    var id: String
    var name: String
    var namespace: String?
    var lockID: UInt32 = 0
    var RawImageName: String?
    var idMappingsOptions = IDMappings()
    var rootfsImageID: String?
    var rootfsImageName: String?
    var shmSize: Int64
    var staticDir: String
    var mounts: [String]?
    var privileged: Bool
    var user: String?
    var groups: [String]?
    @Nullable var Dependencies: [String]? = nil
    var createNetNS: Bool
    var staticIP: String
    /// Go's net.HardwareAddr: the bytes, base64.
    @Nullable var staticMAC: String? = nil
    var portMappings: [PortMappingJSON]?
    var UseImageResolvConf = false
    var dnsServer: [String]?
    var dnsSearch: [String]?
    var dnsOption: [String]?
    var UseImageHosts: Bool
    var hostsAdd: [String]?
    var networks: [String]?
    var networkMode: String?
    var userVolumes: [String]?
    var entrypoint: [String]?
    var command: [String]?
    var stdin: Bool?
    var labels: [String: String]?
    var stopSignal: UInt32?
    var stopTimeout: UInt32?
    var createdTime: String
    var cgroupParent: String
    var logPath: String
    var logTag: String
    var logDriver: String
    var conmonPidFile: String?
    var restart_policy: String?
    var restart_retries: UInt?
    var postConfigureNetNS = false
    var runtime: String?
    var pause = false
    var systemd = false
    @Nullable var healthcheck: HealthConfig?

    init(_ inspection: ContainerInspection) {
        let config = inspection.container.config
        id = config.id
        name = config.name
        namespace = config.namespace.isEmpty ? nil : config.namespace
        RawImageName = config.imageName
        rootfsImageID = config.imageID
        rootfsImageName = config.imageName
        shmSize = config.shmSize
        staticDir = inspection.bundlePath
        mounts = config.mounts.isEmpty ? nil : config.mounts.map(\.destination)
        privileged = config.security.privileged
        user = config.user.isEmpty ? nil : config.user
        groups = config.security.groupAdd.isEmpty ? nil : config.security.groupAdd
        createNetNS = config.network.usesCNI
        staticIP = config.staticIP ?? ""
        staticMAC = config.staticMAC.map { mac in Data(mac.split(separator: ":").compactMap { UInt8($0, radix: 16) }).base64EncodedString() }
        portMappings = config.portMappings.isEmpty ? nil : config.portMappings.map {
            .init(hostPort: Int($0.hostPort), containerPort: Int($0.containerPort), protocol: $0.protocol, hostIP: $0.hostIP)
        }
        if case .bridge(let names) = config.network, !names.isEmpty { networks = names }
        let names = config.nameResolution
        dnsServer = names.dnsServers.isEmpty ? nil : names.dnsServers
        dnsSearch = names.dnsSearch.isEmpty ? nil : names.dnsSearch
        dnsOption = names.dnsOptions.isEmpty ? nil : names.dnsOptions
        UseImageHosts = names.noHosts
        hostsAdd = names.extraHosts.isEmpty ? nil : names.extraHosts
        networkMode = config.network.description
        userVolumes = config.mounts.isEmpty ? nil : config.mounts.map(\.destination)
        entrypoint = config.entrypoint.isEmpty ? nil : config.entrypoint
        let arguments = Array(config.command.dropFirst(config.entrypoint.count))
        command = arguments.isEmpty ? nil : arguments
        stdin = config.openStdin ? true : nil
        labels = config.labels.isEmpty ? nil : config.labels
        stopSignal = UInt32(config.stopSignal)
        stopTimeout = config.stopTimeout
        createdTime = PodmanFormat.time(config.created)
        cgroupParent = config.cgroupParent.isEmpty ? "/podlink" : config.cgroupParent
        logPath = inspection.logPath
        logTag = config.log.tag ?? ""
        logDriver = config.log.driver.rawValue
        conmonPidFile = inspection.conmonPidFile
        restart_policy = config.restartPolicy.name == .no ? nil : config.restartPolicy.name.rawValue
        restart_retries = config.restartPolicy.maximumRetries == 0 ? nil : UInt(config.restartPolicy.maximumRetries)
        runtime = inspection.ociRuntimeName
        healthcheck = config.healthcheck.map {
            .init(Test: $0.test, StartPeriod: Int64($0.startPeriod * 1e9), Interval: Int64($0.interval * 1e9),
                  Timeout: Int64($0.timeout * 1e9), Retries: $0.retries)
        }
    }
}

/// ocicni's PortMapping, as libpod's ContainerConfig keeps them.
struct PortMappingJSON: Encodable {
    var hostPort: Int
    var containerPort: Int
    var `protocol`: String
    var hostIP: String
}

/// libpod's ContainerState as podman 1.9 stored it (ContainerStateData): `state` is the
/// status as a number; podman-remote reads state, pid, exitCode and the times.
struct ContainerStateJSON: Encodable {
    var state: Int
    var configPath: String?
    var runDir: String?
    var mounted: Bool?
    var mountPoint: String?
    var startedTime: String
    var finishedTime: String
    var exitCode: Int32?
    var exited: Bool?
    var oomKilled: Bool?
    var pid: Int32?
    var conmonPid: Int32?
    var bindMounts: [String: String]?
    var stoppedByUser: Bool?
    var restartCount: Int?

    init(_ inspection: ContainerInspection) {
        let container = inspection.container
        let state = container.state
        self.state = state.status == .stopping ? ContainerStatus.running.code : state.status.code
        let initialized = FileManager.default.fileExists(atPath: inspection.bundlePath + "/config.json")
        configPath = initialized ? inspection.bundlePath + "/config.json" : nil
        runDir = inspection.runDirectory
        mounted = state.mountPoint.isEmpty ? nil : true
        mountPoint = state.mountPoint.isEmpty ? nil : state.mountPoint
        startedTime = PodmanJSON.time(state.startedAt)
        finishedTime = PodmanJSON.time(state.finishedAt)
        exitCode = state.exitCode == 0 ? nil : state.exitCode
        exited = state.status == .exited || state.status == .stopped ? true : nil
        oomKilled = state.oomKilled ? true : nil
        pid = state.pid == 0 ? nil : state.pid
        conmonPid = state.conmonPID == 0 ? nil : state.conmonPID
        if state.status == .running || state.status == .paused {
            var binds: [String: String] = [:]
            for file in ["hostname", "resolv.conf"] + (container.config.nameResolution.noHosts ? [] : ["hosts"]) {
                binds["/etc/\(file)"] = inspection.runDirectory + "/" + file
            }
            binds["/run/.containerenv"] = inspection.runDirectory + "/.containerenv"
            bindMounts = binds
        }
        stoppedByUser = state.stoppedByUser ? true : nil
        restartCount = state.restartCount == 0 ? nil : state.restartCount
    }
}

// MARK: - Images

/// podman's inspect.ImageData (`podman image inspect`, InspectImage).
struct ImageInspectJSON: Encodable {
    struct Config: Encodable {
        var User: String?
        var ExposedPorts: [String: [String: String]]?
        var Env: [String]?
        var Entrypoint: [String]?
        @Nullable var Cmd: [String]?
        var Volumes: [String: [String: String]]?
        var WorkingDir: String?
        @Nullable var Labels: [String: String]?
        var StopSignal: String?
    }

    struct GraphDriver: Encodable {
        var Name: String
        var Data: [String: String]
    }

    struct RootFS: Encodable {
        var `Type` = "layers"
        var Layers: [String]
    }

    struct History: Encodable {
        var created: String?
        var created_by: String?
        var author: String?
        var comment: String?
        var empty_layer: Bool?
    }

    var Id: String
    var Digest: String
    @Nullable var RepoTags: [String]?
    @Nullable var RepoDigests: [String]?
    var Parent = ""
    var Comment: String
    @Nullable var Created: String?
    var Config: Config
    var Version = ""
    var Author: String
    var Architecture: String
    var Os: String
    var Size: Int64
    var VirtualSize: Int64
    var GraphDriver: GraphDriver
    var RootFS: RootFS
    @Nullable var Labels: [String: String]?
    var Annotations: [String: String] = [:]
    var ManifestType = "application/vnd.oci.image.manifest.v1+json"
    var User: String
    @Nullable var History: [History]?
    @Nullable var NamesHistory: [String]? = nil

    init(_ image: Libpod.Image, driver: String, layerDirectories: [String]) {
        let config = image.config
        Id = image.id
        Digest = image.digest
        RepoTags = image.names.isEmpty ? nil : image.names
        RepoDigests = image.names.isEmpty ? nil : Conversions.repoDigests(image)
        Comment = config.history.first?.comment ?? ""
        Created = PodmanFormat.time(image.created)
        func set(_ values: [String]) -> [String: [String: String]]? {
            values.isEmpty ? nil : Dictionary(values.map { ($0, [:]) }) { first, _ in first }
        }
        self.Config = .init(
            User: config.user.isEmpty ? nil : config.user, ExposedPorts: set(config.exposedPorts),
            Env: config.env.isEmpty ? nil : config.env, Entrypoint: config.entrypoint.isEmpty ? nil : config.entrypoint,
            Cmd: config.cmd.isEmpty ? nil : config.cmd, Volumes: set(config.volumes),
            WorkingDir: config.workingDir.isEmpty ? nil : config.workingDir, Labels: config.labels.isEmpty ? nil : config.labels,
            StopSignal: config.stopSignal)
        Author = config.author
        Architecture = config.architecture
        Os = config.os
        Size = image.size
        VirtualSize = image.size
        var data: [String: String] = [:]
        if let top = layerDirectories.first { data["UpperDir"] = top }
        if layerDirectories.count > 1 { data["LowerDir"] = layerDirectories.dropFirst().joined(separator: ":") }
        self.GraphDriver = .init(Name: driver, Data: data)
        self.RootFS = .init(Layers: image.layers)
        Labels = config.labels.isEmpty ? nil : config.labels
        User = config.user
        self.History = config.history.isEmpty ? nil : config.history.map {
            ImageInspectJSON.History(
                created: $0.created.map(PodmanFormat.time), created_by: $0.createdBy.isEmpty ? nil : $0.createdBy,
                author: $0.author.isEmpty ? nil : $0.author, comment: $0.comment.isEmpty ? nil : $0.comment,
                empty_layer: $0.emptyLayer ? true : nil)
        }
    }
}
