import Foundation
import Glibc

/// The subset of the OCI runtime spec (config.json) that Podlink writes. Field names
/// are the spec's; a nil field is left out.
struct OCISpec: Codable, Sendable {
    var ociVersion = "1.0.2"
    var process: Process
    var root: Root
    /// Left out when the container joins another UTS namespace: setting it there would
    /// rename the other container (a pod's infra container and all its members).
    var hostname: String?
    var mounts: [Mount]
    var annotations: [String: String]?
    var hooks: Hooks?
    var linux: Linux

    struct Process: Codable, Sendable {
        var terminal: Bool
        var user: User
        var args: [String]
        var env: [String]
        var cwd: String
        var capabilities: Capabilities
        var rlimits: [Rlimit]
        var noNewPrivileges: Bool
        var oomScoreAdj: Int?
    }

    struct User: Codable, Sendable {
        var uid: UInt32
        var gid: UInt32
        var additionalGids: [UInt32]?
    }

    struct Capabilities: Codable, Sendable {
        var bounding: [String]
        var effective: [String]
        var permitted: [String]
    }

    struct Rlimit: Codable, Sendable {
        var type: String
        var hard: UInt64
        var soft: UInt64
    }

    struct Root: Codable, Sendable {
        var path: String
        var readonly: Bool
    }

    struct Mount: Codable, Sendable {
        var destination: String
        var type: String
        var source: String
        var options: [String]
    }

    /// OCI hooks, by stage (prestart, createRuntime, poststart, poststop, ...).
    struct Hooks: Codable, Sendable {
        var prestart: [Hook]?
        var createRuntime: [Hook]?
        var createContainer: [Hook]?
        var startContainer: [Hook]?
        var poststart: [Hook]?
        var poststop: [Hook]?
    }

    struct Hook: Codable, Sendable, Equatable {
        var path: String
        var args: [String]?
        var env: [String]?
        var timeout: Int?
    }

    struct Linux: Codable, Sendable {
        var namespaces: [Namespace]
        var devices: [Device]?
        /// nil rootless where cgroups cannot be had (cgroup v1): then there is no cgroup
        /// and no resources.
        var resources: Resources?
        var sysctl: [String: String]?
        var cgroupsPath: String?
        var maskedPaths: [String]
        var readonlyPaths: [String]
    }

    struct Namespace: Codable, Sendable {
        var type: String
        var path: String?
    }

    struct Device: Codable, Sendable {
        var path: String
        var type: String
        var major: Int64
        var minor: Int64
        var fileMode: UInt32?
        var uid: UInt32?
        var gid: UInt32?
    }

    struct Resources: Codable, Sendable {
        var devices: [DeviceRule]
        var memory: Memory?
        var pids: Pids?
        var cpu: CPU?
        var blockIO: BlockIO?
    }

    struct DeviceRule: Codable, Sendable {
        var allow: Bool
        var type: String?
        var major: Int64?
        var minor: Int64?
        var access: String
    }

    struct Memory: Codable, Sendable {
        var limit: Int64?
        var reservation: Int64?
        var swap: Int64?
        var kernel: Int64?
        var swappiness: UInt64?
        var disableOOMKiller: Bool?
    }

    struct Pids: Codable, Sendable { var limit: Int64 }

    struct CPU: Codable, Sendable {
        var shares: UInt64?
        var quota: Int64?
        var period: UInt64?
        var realtimeRuntime: Int64?
        var realtimePeriod: UInt64?
        var cpus: String?
        var mems: String?
    }

    struct BlockIO: Codable, Sendable {
        var weight: UInt16?
        var weightDevice: [WeightDevice]?
        var throttleReadBpsDevice: [ThrottleDevice]?
        var throttleWriteBpsDevice: [ThrottleDevice]?
        var throttleReadIOPSDevice: [ThrottleDevice]?
        var throttleWriteIOPSDevice: [ThrottleDevice]?
    }

    struct WeightDevice: Codable, Sendable {
        var major: Int64
        var minor: Int64
        var weight: UInt16
    }

    struct ThrottleDevice: Codable, Sendable {
        var major: Int64
        var minor: Int64
        var rate: UInt64
    }
}

extension OCISpec {
    /// config.json's bytes (slashes left alone, for people who read it).
    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// Builds a container's config.json from its config and where its files are.
enum OCISpecBuilder {
    /// podman's default capability set.
    static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
    ]

    /// Every capability this kernel's headers name (Linux 5.9+).
    static let allCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    static let defaultMaskedPaths = [
        "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
    ]
    static let defaultReadonlyPaths = ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// Where the things a spec refers to outside the config were found when it was built.
    struct Environment {
        var rootfs: String
        var runDir: String
        var user: ResolvedUser
        var cgroupParent: String
        /// Paths of namespaces joined from elsewhere (another container's), by OCI type.
        var namespacePaths: [String: String] = [:]
        /// Mounts from default_mounts_file, before the container's own.
        var defaultMounts: [BindMount] = []
        var hooks: OCISpec.Hooks?
        /// Set when the runtime is rootless: what the user's namespace maps and allows.
        var rootless: RootlessHost?
    }

    static func build(config: ContainerConfig, environment: Environment) -> OCISpec {
        let security = config.security
        let privileged = security.privileged
        var mounts: [OCISpec.Mount] = [
            .init(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
            .init(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            .init(destination: "/dev/pts", type: "devpts", source: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
                      // The tty group; a namespace that maps only the user has no group 5.
                      + (environment.rootless.map { $0.namespace.mapsGID(5) } ?? true ? ["gid=5"] : [])),
            .init(destination: "/dev/shm", type: "tmpfs", source: "shm",
                  options: ["nosuid", "noexec", "nodev", "mode=1777", "size=\(config.shmSize)"]),
            .init(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            // Rootless in the host's network namespace (not the user's), sysfs cannot be
            // mounted: the host's is bound instead, as podman does.
            environment.rootless != nil && config.network == .host
                ? .init(destination: "/sys", type: "bind", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"])
                : .init(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev"] + (privileged ? ["rw"] : ["ro"])),
            .init(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
                  options: ["nosuid", "noexec", "nodev", "relatime"] + (privileged ? ["rw"] : ["ro"])),
        ]
        // Before the files bound into /run and /etc, which would otherwise be hidden.
        if config.readOnlyRootfs && config.readOnlyTmpfs {
            for directory in ["/run", "/tmp", "/var/tmp"] where !config.tmpfs.contains(where: { $0.destination == directory }) {
                mounts.append(.init(destination: directory, type: "tmpfs", source: "tmpfs", options: ["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]))
            }
        }
        let files = config.nameResolution.noHosts ? ["resolv.conf", "hostname"] : ["hosts", "resolv.conf", "hostname"]
        for file in files {
            mounts.append(.init(destination: "/etc/\(file)", type: "bind", source: "\(environment.runDir)/\(file)", options: ["bind", "rprivate"]))
        }
        // podman's marker: processes (and tools such as systemd) learn they are in a container.
        mounts.append(.init(
            destination: "/run/.containerenv", type: "bind", source: "\(environment.runDir)/.containerenv", options: ["bind", "rprivate", "ro"]))
        for mount in environment.defaultMounts + config.mounts {
            mounts.append(.init(
                destination: mount.destination, type: "bind", source: mount.source,
                options: ["rbind", "rprivate"] + (mount.readOnly ? ["ro"] : ["rw"])))
        }
        for tmpfs in config.tmpfs {
            let options = tmpfs.options.isEmpty ? ["rw", "noexec", "nosuid", "nodev"] : tmpfs.options
            mounts.append(.init(destination: tmpfs.destination, type: "tmpfs", source: "tmpfs", options: options))
        }
        var args = config.command
        if let initPath = config.initPath {
            mounts.append(.init(destination: "/dev/init", type: "bind", source: initPath, options: ["bind", "ro"]))
            args = ["/dev/init", "--"] + args
        }

        var namespaces: [OCISpec.Namespace] = [.init(type: "mount")]
        for (type, mode) in [("pid", config.namespaces.pid), ("ipc", config.namespaces.ipc), ("uts", config.namespaces.uts)] {
            switch mode {
            case .host: continue
            case .private: namespaces.append(.init(type: type))
            case .container, .path: namespaces.append(.init(type: type, path: environment.namespacePaths[type]))
            }
        }
        switch config.network {
        case .host: break
        case .none: namespaces.append(.init(type: "network"))
        case .bridge, .slirp4netns, .container, .path:
            namespaces.append(.init(type: "network", path: environment.namespacePaths["network"]))
        }

        let capabilities = Self.capabilities(security)
        // Rootless on cgroup v1 there is no cgroup (create refuses limits there); with a
        // delegated v2 cgroup, containers go under the user's own.
        let cgroups = environment.rootless.map(\.cgroupLimitsApply) ?? true
        let cgroupParent =
            !config.cgroupParent.isEmpty ? config.cgroupParent
            : environment.rootless?.delegatedCgroup.map { $0 + "/podlink" } ?? environment.cgroupParent
        let (devices, deviceRules) = Self.devices(config.devices, privileged: privileged)
        let resources = config.resources
        let hasCPU = resources.cpuShares != nil || resources.cpuQuota != nil || resources.cpuPeriod != nil
            || resources.cpuRealtimePeriod != nil || resources.cpuRealtimeRuntime != nil || resources.cpusetCpus != nil
            || resources.cpusetMems != nil
        let hasMemory = resources.memory != nil || resources.memoryReservation != nil || resources.memorySwap != nil
            || resources.kernelMemory != nil || resources.memorySwappiness != nil || resources.oomKillDisable
        return OCISpec(
            process: .init(
                terminal: config.tty,
                user: .init(
                    uid: environment.user.uid, gid: environment.user.gid,
                    additionalGids: environment.user.additionalGids.isEmpty ? nil : environment.user.additionalGids),
                args: args, env: config.env, cwd: config.workingDir.isEmpty ? "/" : config.workingDir,
                capabilities: .init(bounding: capabilities, effective: capabilities, permitted: capabilities),
                rlimits: rlimits(config.ulimits), noNewPrivileges: security.noNewPrivileges, oomScoreAdj: resources.oomScoreAdj),
            root: .init(path: environment.rootfs, readonly: config.readOnlyRootfs),
            hostname: config.namespaces.uts != .private ? nil : config.hostname.isEmpty ? String(config.id.prefix(12)) : config.hostname,
            mounts: mounts,
            annotations: annotations(config),
            hooks: environment.hooks,
            linux: .init(
                namespaces: namespaces,
                devices: devices.isEmpty ? nil : devices,
                resources: !cgroups ? nil : .init(
                    devices: deviceRules,
                    memory: hasMemory
                        ? .init(
                            limit: resources.memory, reservation: resources.memoryReservation, swap: resources.memorySwap,
                            kernel: resources.kernelMemory, swappiness: resources.memorySwappiness,
                            disableOOMKiller: resources.oomKillDisable ? true : nil)
                        : nil,
                    pids: resources.pids.map { .init(limit: $0) },
                    cpu: hasCPU
                        ? .init(
                            shares: resources.cpuShares, quota: resources.cpuQuota, period: resources.cpuPeriod,
                            realtimeRuntime: resources.cpuRealtimeRuntime, realtimePeriod: resources.cpuRealtimePeriod,
                            cpus: resources.cpusetCpus, mems: resources.cpusetMems)
                        : nil,
                    blockIO: blockIO(resources)),
                sysctl: config.sysctls.isEmpty ? nil : config.sysctls,
                cgroupsPath: cgroups ? "\(cgroupParent)/podlink-\(config.id)" : nil,
                maskedPaths: privileged ? [] : defaultMaskedPaths,
                readonlyPaths: privileged ? [] : defaultReadonlyPaths))
    }

    /// podman's annotations (which podman and CRI tools read back), then the container's.
    static func annotations(_ config: ContainerConfig) -> [String: String] {
        func flag(_ value: Bool) -> String { value ? "TRUE" : "FALSE" }
        var annotations = [
            "io.kubernetes.cri-o.TTY": config.tty ? "true" : "false",
            "io.podman.annotations.autoremove": flag(config.autoRemove),
            "io.podman.annotations.init": flag(config.initPath != nil),
            "io.podman.annotations.privileged": flag(config.security.privileged),
            "io.podman.annotations.publish-all": "FALSE",
        ]
        annotations.merge(config.annotations) { _, mine in mine }
        return annotations
    }

    /// podman's defaults, everything when privileged, then drops and additions in that order.
    static func capabilities(_ security: SecuritySettings) -> [String] {
        var set = security.privileged ? allCapabilities : defaultCapabilities
        if security.capDrop.contains("ALL") { set = [] }
        set.removeAll { security.capDrop.contains($0) }
        if security.capAdd.contains("ALL") { set = allCapabilities }
        for capability in security.capAdd where capability != "ALL" && !set.contains(capability) { set.append(capability) }
        return set
    }

    /// The device nodes to create and the cgroup rules that let the container use them:
    /// everything is denied but what the runtime always provides and what was asked for
    /// (all host devices when privileged).
    static func devices(_ mappings: [DeviceMapping], privileged: Bool) -> ([OCISpec.Device], [OCISpec.DeviceRule]) {
        var nodes: [OCISpec.Device] = []
        var rules: [OCISpec.DeviceRule] = [.init(allow: false, access: "rwm")]
        if privileged {
            rules = [.init(allow: true, access: "rwm")]
            let names = (try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? []
            for name in names.sorted() where !["console", "ptmx", "tty", "pts", "shm", "mqueue", "fd", "stdin", "stdout", "stderr"].contains(name) {
                if let node = node(host: "/dev/" + name, container: "/dev/" + name) { nodes.append(node) }
            }
        }
        for mapping in mappings {
            guard let node = node(host: mapping.hostPath, container: mapping.containerPath) else { continue }
            nodes.removeAll { $0.path == node.path }
            nodes.append(node)
            if !privileged {
                rules.append(.init(allow: true, type: node.type, major: node.major, minor: node.minor, access: mapping.permissions))
            }
        }
        return (nodes, rules)
    }

    private static func node(host: String, container: String) -> OCISpec.Device? {
        var info = stat()
        guard stat(host, &info) == 0 else { return nil }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFCHR || kind == S_IFBLK else { return nil }
        return .init(
            path: container, type: kind == S_IFCHR ? "c" : "b", major: Int64(DeviceNumber.major(info.st_rdev)),
            minor: Int64(DeviceNumber.minor(info.st_rdev)), fileMode: info.st_mode & 0o7777, uid: info.st_uid, gid: info.st_gid)
    }

    private static func blockIO(_ resources: ResourceLimits) -> OCISpec.BlockIO? {
        func numbers(_ path: String) -> (Int64, Int64)? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return (Int64(DeviceNumber.major(info.st_rdev)), Int64(DeviceNumber.minor(info.st_rdev)))
        }
        func throttle(_ limits: [DeviceLimit]) -> [OCISpec.ThrottleDevice]? {
            let devices = limits.compactMap { limit in numbers(limit.path).map { OCISpec.ThrottleDevice(major: $0.0, minor: $0.1, rate: limit.value) } }
            return devices.isEmpty ? nil : devices
        }
        let weights = resources.blkioWeightDevices.compactMap { limit in
            numbers(limit.path).map { OCISpec.WeightDevice(major: $0.0, minor: $0.1, weight: UInt16(clamping: limit.value)) }
        }
        let blockIO = OCISpec.BlockIO(
            weight: resources.blkioWeight, weightDevice: weights.isEmpty ? nil : weights,
            throttleReadBpsDevice: throttle(resources.deviceReadBps), throttleWriteBpsDevice: throttle(resources.deviceWriteBps),
            throttleReadIOPSDevice: throttle(resources.deviceReadIOps), throttleWriteIOPSDevice: throttle(resources.deviceWriteIOps))
        let empty = blockIO.weight == nil && blockIO.weightDevice == nil && blockIO.throttleReadBpsDevice == nil
            && blockIO.throttleWriteBpsDevice == nil && blockIO.throttleReadIOPSDevice == nil && blockIO.throttleWriteIOPSDevice == nil
        return empty ? nil : blockIO
    }

    /// podman's defaults (nofile 1048576, nproc 4194304) with the container's own limits
    /// over them, never above what this process may set: without CAP_SYS_RESOURCE the
    /// runtime fails to raise a hard limit.
    static func rlimits(_ ulimits: [Ulimit]) -> [OCISpec.Rlimit] {
        var limits: [(String, UInt64, UInt64)] = [("nofile", 1_048_576, 1_048_576), ("nproc", 4_194_304, 4_194_304)]
        for ulimit in ulimits {
            limits.removeAll { $0.0 == ulimit.name }
            limits.append((ulimit.name, ulimit.soft, ulimit.hard))
        }
        return limits.map { name, soft, hard in
            let ceiling = hardLimit(name)
            return .init(type: "RLIMIT_" + name.uppercased(), hard: min(hard, ceiling), soft: min(soft, ceiling))
        }
    }

    /// This process's hard limit of the resource podman calls `name`.
    static func hardLimit(_ name: String) -> UInt64 {
        guard let number = ContainerCreateOptions.rlimitNames[name] else { return .max }
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(UInt32(number)), &limit) == 0 else { return .max }
        return UInt64(limit.rlim_max)
    }

    /// The files bind-mounted over /etc/hosts, /etc/resolv.conf and /etc/hostname: the
    /// host's entries and name servers (loopback ones dropped: they mean nothing in the
    /// container's namespace), the container's own name on its address, and what the
    /// container asked for; and /run/.containerenv. `update` rewrites hosts and resolv.conf in place once
    /// the network is connected (the OCI runtime has bind-mounted them by then).
    static func writeEtcFiles(config: ContainerConfig, runDir: String, network: ContainerNetworkStatus? = nil, update: Bool = false)
        throws(LibpodError)
    {
        let hostname = config.hostname.isEmpty ? String(config.id.prefix(12)) : config.hostname
        let names = config.nameResolution
        let hostHosts = (try FileSystem.readString("/etc/hosts")) ?? ""
        let hostResolv = (try FileSystem.readString("/etc/resolv.conf")) ?? ""
        var hosts: String
        var resolv: String
        switch config.network {
        case .host:
            hosts = hostHosts
            resolv = hostResolv
        case .none:
            hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t\(hostname) \(config.name)\n"
            resolv = ""
        default:
            hosts = hostHosts.isEmpty ? "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" : hostHosts
            if !hosts.hasSuffix("\n") { hosts += "\n" }
            hosts += "\(network?.primaryAddress ?? "127.0.1.1")\t\(hostname) \(config.name)\n"
            let servers = (network?.nameServers ?? []) + hostResolv.split(separator: "\n").compactMap { line -> String? in
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 2, fields[0] == "nameserver" else { return nil }
                let server = String(fields[1])
                return server.hasPrefix("127.") || server == "::1" ? nil : server
            }
            let searches = (network?.connections.flatMap(\.searchDomains) ?? [])
                + hostResolv.split(separator: "\n").filter { $0.hasPrefix("search ") }.flatMap { $0.split(separator: " ").dropFirst().map(String.init) }
            var lines: [String] = []
            if !searches.isEmpty { lines.append("search " + searches.joined(separator: " ")) }
            // podman's fallback when the host has only loopback resolvers.
            lines += (servers.isEmpty ? ["8.8.8.8", "8.8.4.4"] : servers).map { "nameserver " + $0 }
            lines += hostResolv.split(separator: "\n").filter { $0.hasPrefix("options ") }.map(String.init)
            resolv = lines.joined(separator: "\n") + "\n"
        }
        for entry in names.extraHosts {
            // host:ip (podman's --add-host); the address may itself contain colons (IPv6).
            guard let colon = entry.firstIndex(of: ":") else { continue }
            hosts += "\(entry[entry.index(after: colon)...])\t\(entry[..<colon])\n"
        }
        if !names.dnsServers.isEmpty || !names.dnsSearch.isEmpty || !names.dnsOptions.isEmpty {
            var lines = resolv.split(separator: "\n").map(String.init)
            if !names.dnsServers.isEmpty { lines.removeAll { $0.hasPrefix("nameserver") } }
            if !names.dnsSearch.isEmpty { lines.removeAll { $0.hasPrefix("search") } }
            if !names.dnsOptions.isEmpty { lines.removeAll { $0.hasPrefix("options") } }
            if !names.dnsSearch.isEmpty { lines.append("search " + names.dnsSearch.joined(separator: " ")) }
            lines += names.dnsServers.map { "nameserver " + $0 }
            if !names.dnsOptions.isEmpty { lines.append("options " + names.dnsOptions.joined(separator: " ")) }
            resolv = lines.joined(separator: "\n") + "\n"
        }
        if update {
            if !names.noHosts { try FileSystem.overwrite(runDir + "/hosts", Array(hosts.utf8)) }
            try FileSystem.overwrite(runDir + "/resolv.conf", Array(resolv.utf8))
            return
        }
        if !names.noHosts { try FileSystem.writeAtomically(runDir + "/hosts", Array(hosts.utf8)) }
        try FileSystem.writeAtomically(
            runDir + "/.containerenv",
            Array("engine=\"podlink\"\nname=\"\(config.name)\"\nid=\"\(config.id)\"\nimage=\"\(config.imageName)\"\nimageid=\"\(config.imageID)\"\n".utf8))
        try FileSystem.writeAtomically(runDir + "/resolv.conf", Array(resolv.utf8))
        try FileSystem.writeAtomically(runDir + "/hostname", Array((hostname + "\n").utf8))
    }
}

/// A container user as numbers, resolved against the container's own /etc/passwd and
/// /etc/group (never the host's).
struct ResolvedUser: Equatable {
    var uid: UInt32
    var gid: UInt32
    var additionalGids: [UInt32]

    /// `user` is "", "name", "uid", "name:group", "uid:gid"; `groupAdd` names or numbers
    /// of further groups.
    static func resolve(_ user: String, groupAdd: [String] = [], rootfs: String) throws(LibpodError) -> ResolvedUser {
        let passwd = (try? FileSystem.readString(rootfs + "/etc/passwd")) ?? nil
        let groups = (try? FileSystem.readString(rootfs + "/etc/group")) ?? nil
        func group(_ name: String) throws(LibpodError) -> UInt32 {
            if let number = UInt32(name) { return number }
            guard let entry = entries(groups).first(where: { $0.first == name }), let number = UInt32(entry[safe: 2] ?? "") else {
                throw .invalidArgument("group \"\(name)\" is not in the image's /etc/group; give a numeric gid instead")
            }
            return number
        }
        var additional: [UInt32] = []
        for name in groupAdd { additional.append(try group(name)) }
        if user.isEmpty { return ResolvedUser(uid: 0, gid: 0, additionalGids: additional) }
        let parts = user.split(separator: ":", maxSplits: 1).map(String.init)
        var uid: UInt32
        var gid: UInt32 = 0
        if let number = UInt32(parts[0]) {
            uid = number
            if let entry = entries(passwd).first(where: { UInt32($0[safe: 2] ?? "") == number }), let group = UInt32(entry[safe: 3] ?? "") {
                gid = group
            }
        } else {
            guard let entry = entries(passwd).first(where: { $0.first == parts[0] }),
                let number = UInt32(entry[safe: 2] ?? ""), let group = UInt32(entry[safe: 3] ?? "")
            else {
                throw .invalidArgument("user \"\(parts[0])\" is not in the image's /etc/passwd; give a numeric uid[:gid] instead")
            }
            uid = number
            gid = group
        }
        if parts.count == 2 { gid = try group(parts[1]) }
        return ResolvedUser(uid: uid, gid: gid, additionalGids: additional)
    }

    private static func entries(_ text: String?) -> [[String]] {
        (text ?? "").split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

/// glibc's major()/minor() are macros the Glibc module does not export.
enum DeviceNumber {
    static func major(_ device: dev_t) -> UInt64 {
        let value = UInt64(device)
        return ((value >> 8) & 0xfff) | ((value >> 32) & ~UInt64(0xfff))
    }

    static func minor(_ device: dev_t) -> UInt64 {
        let value = UInt64(device)
        return (value & 0xff) | ((value >> 12) & ~UInt64(0xff))
    }
}

/// What the specs Podlink writes start from, for callers that report differences from it.
public enum OCISpecDefaults {
    /// podman's default capability set.
    public static var capabilities: [String] { OCISpecBuilder.defaultCapabilities }
}
