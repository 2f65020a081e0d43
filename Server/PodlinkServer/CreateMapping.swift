import Foundation
import Libpod
import PodlinkInterfaces

/// io.podman's `Create` (podman's CLI flags as strings, only the ones given are sent)
/// onto Libpod's create options. Every field is honoured, ignored because it only
/// matters to a CLI, or refused by name with what would make it work; a field left at
/// podman's default (absent, false, empty, zero) is always fine.
enum CreateMapping {
    static func options(from create: IoPodman.Create) throws(CreateError) -> ContainerCreateOptions {
        try refuseUnsupported(create)
        guard let image = create.args.first, !image.isEmpty else {
            throw CreateError(field: "args", message: "must hold the image as args[0], then the command")
        }
        var options = ContainerCreateOptions(image: image)
        switch create.pull ?? "" {
        case "", "missing": options.pull = .missing
        case "always": options.pull = .always
        case "never": options.pull = .never
        case let other: throw CreateError(field: "pull", message: "\"\(other)\" is not a pull policy; use always, missing or never")
        }
        try command(create, &options)
        try identity(create, &options)
        try resources(create, &options)
        try security(create, &options)
        try namespaces(create, &options)
        try filesystem(create, &options)
        try lifecycle(create, &options)
        return options
    }

    // MARK: - What is not built yet

    /// Fields whose capability Podlink does not have yet, with what would bring it. Each
    /// is refused only when set to something other than podman's default.
    private static func refuseUnsupported(_ create: IoPodman.Create) throws(CreateError) {
        let userNamespaces = "per-container user namespaces are not built: a rootless podlinkd (started by the user) runs every container in that user's namespace"
        let platforms = "the runtime pulls only this machine's platform for containers; pull the image for another platform with `podlink pull --override-arch` and give its ID"
        for (field, value) in [("uidmap", create.uidmap), ("gidmap", create.gidmap)] where !(value ?? []).isEmpty {
            throw CreateError(field: field, message: "is not supported: \(userNamespaces)")
        }
        for (field, value) in [("subuidname", create.subuidname), ("subgidname", create.subgidname)] where !(value ?? "").isEmpty {
            throw CreateError(field: field, message: "is not supported: \(userNamespaces)")
        }
        if let userns = create.userns, !["", "host"].contains(userns) {
            throw CreateError(field: "userns", message: "\"\(userns)\" is not supported: \(userNamespaces)")
        }
        let host = (os: "linux", arch: PodmanService.architecture)
        if let os = create.overrideOS, !["", host.os].contains(os) {
            throw CreateError(field: "overrideOS", message: "\"\(os)\" is not supported: this machine runs \(host.os) images: \(platforms)")
        }
        if let arch = create.overrideArch, !["", host.arch].contains(arch) {
            throw CreateError(field: "overrideArch", message: "\"\(arch)\" is not supported: this machine runs \(host.arch) images: \(platforms)")
        }
        if create.rootfs == true {
            throw CreateError(field: "rootfs", message: "is not supported: import the directory as an image (`tar -C DIR -c . | podlink import - NAME`) and use that")
        }
        if let options = create.storageOpt, !options.isEmpty {
            throw CreateError(field: "storageOpt", message: "is not supported: per-container storage options need a quota-capable file system")
        }
        if let systemd = create.systemd, systemd == "always" {
            throw CreateError(field: "systemd", message: "\"always\" is not supported: Podlink does not prepare containers for systemd as init")
        }
    }

    // MARK: - Command and environment

    private static func command(_ create: IoPodman.Create, _ options: inout ContainerCreateOptions) throws(CreateError) {
        // podman 1.x ran args[1...] and ignored `command`; python-podman sends both, the
        // same. `command` alone (args holding only the image) is honoured too.
        let arguments = Array(create.args.dropFirst())
        if !arguments.isEmpty {
            options.command = arguments
        } else if let command = create.command, !command.isEmpty {
            options.command = command
        }
        if let entrypoint = create.entrypoint, !entrypoint.isEmpty {
            // podman takes a JSON array or a single command.
            if let array = try? JSONDecoder().decode([String].self, from: Data(entrypoint.utf8)) {
                options.entrypoint = array
            } else {
                options.entrypoint = [entrypoint]
            }
        }
        options.env = create.env ?? []
        options.envFiles = create.envFile ?? []
        if let workDir = create.workDir, !workDir.isEmpty { options.workingDir = workDir }
        if let user = create.user, !user.isEmpty { options.user = user }
        options.tty = create.tty ?? false
        options.openStdin = create.interactive ?? false
        if let keys = create.detachKeys, !keys.isEmpty { options.detachKeys = keys }
        if create.`init` == true {
            let candidates = [create.initPath].compactMap { $0 }.filter { !$0.isEmpty }
                + ["/usr/libexec/podman/catatonit", "/usr/bin/catatonit", "/usr/bin/tini", "/sbin/tini"]
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw CreateError(field: "init", message: "needs an init on the daemon's machine: install catatonit (Debian: apt-get install catatonit) or give initPath")
            }
            options.initPath = found
        } else if let path = create.initPath, !path.isEmpty {
            throw CreateError(field: "initPath", message: "is set but init is not; set init as well")
        }
    }

    // MARK: - Name, labels, logs

    private static func identity(_ create: IoPodman.Create, _ options: inout ContainerCreateOptions) throws(CreateError) {
        if let name = create.name { options.name = name }
        if let hostname = create.hostname { options.hostname = hostname }
        for entry in create.label ?? [] {
            let (key, value) = pair(entry)
            options.labels[key] = value
        }
        options.labelFiles = create.labelFile ?? []
        for entry in create.annotation ?? [] {
            let (key, value) = pair(entry)
            guard !key.isEmpty else { throw CreateError(field: "annotation", message: "\"\(entry)\" must be key=value") }
            options.annotations[key] = value
        }
        if let driver = create.logDriver, !driver.isEmpty {
            switch driver {
            case "k8s-file", "json-file": options.log.driver = .k8sFile
            case "none": options.log.driver = .none
            default:
                throw CreateError(field: "logDriver", message: "\"\(driver)\" is not supported: use k8s-file or none (there is no journald on this machine)")
            }
        }
        for option in create.logOpt ?? [] {
            let (key, value) = pair(option)
            switch key {
            case "path":
                guard value.hasPrefix("/") else { throw CreateError(field: "logOpt", message: "path \"\(value)\" must be absolute") }
                options.log.path = value
            case "max-size":
                guard let bytes = PodmanFormat.bytes(value), bytes > 0 else {
                    throw CreateError(field: "logOpt", message: "max-size \"\(value)\" is not a size such as 10m")
                }
                options.log.maxSize = bytes
            case "tag": options.log.tag = value
            default: throw CreateError(field: "logOpt", message: "\"\(option)\" is not supported: use path=, max-size= or tag=")
            }
        }
        for port in create.expose ?? [] {
            let parts = port.split(separator: "/", maxSplits: 1).map(String.init)
            guard let number = parts.first.flatMap({ Int($0.split(separator: "-").first ?? "") }), (1...65535).contains(number),
                parts.count == 1 || ["tcp", "udp", "sctp"].contains(parts[1])
            else { throw CreateError(field: "expose", message: "\"\(port)\" is not a port such as 80 or 53/udp") }
            options.exposedPorts.append(port)
        }
    }

    // MARK: - Resources

    private static func resources(_ create: IoPodman.Create, _ options: inout ContainerCreateOptions) throws(CreateError) {
        var limits = ResourceLimits()
        limits.memory = try size(create.memory, "memory")
        limits.memoryReservation = try size(create.memoryReservation, "memoryReservation")
        limits.kernelMemory = try size(create.kernelMemory, "kernelMemory")
        if let swap = create.memorySwap, !swap.isEmpty {
            limits.memorySwap = swap == "-1" ? -1 : try size(swap, "memorySwap")
        }
        if let swappiness = create.memorySwappiness, swappiness >= 0 {
            guard swappiness <= 100 else { throw CreateError(field: "memorySwappiness", message: "\(swappiness) must be 0-100") }
            limits.memorySwappiness = UInt64(swappiness)
        }
        limits.oomKillDisable = create.oomKillDisable ?? false
        if let adjustment = create.oomScoreAdj, adjustment != 0 {
            guard (-1000...1000).contains(adjustment) else { throw CreateError(field: "oomScoreAdj", message: "\(adjustment) must be -1000 to 1000") }
            limits.oomScoreAdj = adjustment
        }
        if let pids = create.pidsLimit, pids != 0 { limits.pids = Int64(pids) }
        if let shares = create.cpuShares, shares != 0 {
            guard shares > 0 else { throw CreateError(field: "cpuShares", message: "must be positive") }
            limits.cpuShares = UInt64(shares)
        }
        if let period = create.cpuPeriod, period != 0 {
            guard period > 0 else { throw CreateError(field: "cpuPeriod", message: "must be positive") }
            limits.cpuPeriod = UInt64(period)
        }
        if let quota = create.cpuQuota, quota != 0 { limits.cpuQuota = Int64(quota) }
        if let period = create.cpuRtPeriod, period != 0 {
            guard period > 0 else { throw CreateError(field: "cpuRtPeriod", message: "must be positive") }
            limits.cpuRealtimePeriod = UInt64(period)
        }
        if let runtime = create.cpuRtRuntime, runtime != 0 { limits.cpuRealtimeRuntime = Int64(runtime) }
        if let cpus = create.cpus, cpus != 0 {
            guard cpus > 0, limits.cpuQuota == nil else {
                throw CreateError(field: "cpus", message: cpus > 0 ? "cannot be combined with cpuQuota" : "must be positive")
            }
            // podman: --cpus N is a quota of N periods of 100 ms.
            let period = limits.cpuPeriod ?? 100_000
            limits.cpuPeriod = period
            limits.cpuQuota = Int64((cpus * Double(period)).rounded())
        }
        if let set = create.cpuSetCpus, !set.isEmpty { limits.cpusetCpus = set }
        if let set = create.cpuSetMems, !set.isEmpty { limits.cpusetMems = set }
        if let weight = create.blkioWeight, !weight.isEmpty {
            guard let value = UInt16(weight) else { throw CreateError(field: "blkioWeight", message: "\"\(weight)\" must be 10-1000") }
            limits.blkioWeight = value
        }
        limits.blkioWeightDevices = try deviceLimits(create.blkioWeightDevice, "blkioWeightDevice", rate: false)
        limits.deviceReadBps = try deviceLimits(create.deviceReadBps, "deviceReadBps", rate: true)
        limits.deviceWriteBps = try deviceLimits(create.deviceWriteBps, "deviceWriteBps", rate: true)
        limits.deviceReadIOps = try deviceLimits(create.deviceReadIops, "deviceReadIops", rate: false)
        limits.deviceWriteIOps = try deviceLimits(create.deviceWriteIops, "deviceWriteIops", rate: false)
        options.resources = limits
        for entry in create.ulimit ?? [] {
            // name=soft[:hard]
            let (name, values) = pair(entry)
            let numbers = values.split(separator: ":").map { $0 == "-1" ? UInt64.max : UInt64($0) }
            guard !name.isEmpty, (1...2).contains(numbers.count), let soft = numbers.first ?? nil, let hard = numbers.last ?? nil else {
                throw CreateError(field: "ulimit", message: "\"\(entry)\" must be name=soft[:hard], such as nofile=1024:2048")
            }
            options.ulimits.append(Ulimit(name: name, soft: soft, hard: hard))
        }
        for entry in create.sysctl ?? [] {
            let (key, value) = pair(entry)
            guard !key.isEmpty, entry.contains("=") else { throw CreateError(field: "sysctl", message: "\"\(entry)\" must be key=value") }
            options.sysctls[key] = value
        }
        if let shm = create.shmSize, !shm.isEmpty { options.shmSize = try size(shm, "shmSize") }
        if let parent = create.cgroupParent, !parent.isEmpty {
            guard parent.hasPrefix("/"), !parent.split(separator: "/").contains("..") else {
                throw CreateError(field: "cgroupParent", message: "\"\(parent)\" must be an absolute cgroup path without '..'")
            }
            options.cgroupParent = parent
        }
    }

    // MARK: - Security

    private static func security(_ create: IoPodman.Create, _ options: inout ContainerCreateOptions) throws(CreateError) {
        var security = SecuritySettings()
        security.privileged = create.privileged ?? false
        security.capAdd = (create.capAdd ?? []).map(capability)
        security.capDrop = (create.capDrop ?? []).map(capability)
        security.groupAdd = create.groupadd ?? []
        for option in create.securityOpt ?? [] {
            let (key, value) = option.contains("=") ? pair(option) : (option, "")
            switch key {
            case "no-new-privileges":
                guard ["", "true", "false"].contains(value) else {
                    throw CreateError(field: "securityOpt", message: "\"\(option)\": no-new-privileges takes true or false")
                }
                security.noNewPrivileges = value != "false"
            case "label" where value == "disable", "seccomp" where value == "unconfined", "apparmor" where value == "unconfined":
                // SELinux and AppArmor are not enabled on these machines and Podlink applies no
                // seccomp profile: already what was asked.
                continue
            default:
                throw CreateError(
                    field: "securityOpt",
                    message: "\"\(option)\" is not supported: Podlink applies no SELinux, AppArmor or seccomp profile; no-new-privileges, label=disable, seccomp=unconfined and apparmor=unconfined are accepted")
            }
        }
        options.security = security
        for entry in create.device ?? [] {
            // /dev/host[:/dev/container][:rwm]
            let parts = entry.split(separator: ":").map(String.init)
            guard let host = parts.first, parts.count <= 3 else {
                throw CreateError(field: "device", message: "\"\(entry)\" must be /dev/HOST[:/dev/CONTAINER][:PERMISSIONS]")
            }
            var mapping = DeviceMapping(hostPath: host, containerPath: host)
            if parts.count >= 2 {
                if parts[1].hasPrefix("/") { mapping.containerPath = parts[1] } else { mapping.permissions = parts[1] }
            }
            if parts.count == 3 { mapping.permissions = parts[2] }
            options.devices.append(mapping)
        }
    }

    private static func capability(_ name: String) -> String {
        let upper = name.uppercased()
        return upper == "ALL" || upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
    }

    // MARK: - Namespaces and name resolution

    private static func namespaces(_ create: IoPodman.Create, _ options: inout ContainerCreateOptions) throws(CreateError) {
        for (field, value, keyPath) in [
            ("ipc", create.ipc, \NamespaceSettings.ipc), ("pid", create.pid, \NamespaceSettings.pid), ("uts", create.uts, \NamespaceSettings.uts),
        ] {
            guard let value, !value.isEmpty else { continue }
            guard let mode = NamespaceMode(parsing: value) else {
                throw CreateError(field: field, message: "\"\(value)\" must be private, host, container:NAME or ns:PATH")
            }
            options.namespaces[keyPath: keyPath] = mode
        }
        // podman's default is its bridge network.
        options.network = NetworkMode(parsing: create.network ?? "")
        if case .bridge(let names) = options.network, names.contains(where: { $0.isEmpty || $0.contains(":") }) {
            throw CreateError(field: "network", message: "\"\(create.network ?? "")\" must be bridge, none, host, container:NAME, ns:PATH or network names")
        }
        for entry in create.publish ?? [] {
            do { options.portMappings += try PortMapping.parse(entry) } catch { throw CreateError(field: "publish", message: error.description) }
        }
        options.publishAll = create.publishAll ?? false
        if let ip = create.ip, !ip.isEmpty { options.staticIP = ip }
        if let mac = create.macAddress, !mac.isEmpty { options.staticMAC = mac.lowercased() }
        var names = NameResolution()
        names.dnsServers = (create.dns ?? []) + (create.dnsServers ?? [])
        names.dnsSearch = create.dnsSearch ?? []
        names.dnsOptions = create.dnsOpt ?? []
        for server in names.dnsServers where !isIPAddress(server) {
            throw CreateError(field: "dns", message: "\"\(server)\" is not an IP address")
        }
        for entry in create.addHost ?? [] {
            guard let colon = entry.firstIndex(of: ":"), colon != entry.startIndex, isIPAddress(String(entry[entry.index(after: colon)...])) else {
                throw CreateError(field: "addHost", message: "\"\(entry)\" must be HOST:IP")
            }
            names.extraHosts.append(entry)
        }
        names.noHosts = create.noHosts ?? false
        if names.noHosts && !names.extraHosts.isEmpty {
            throw CreateError(field: "addHost", message: "cannot be combined with noHosts, which leaves /etc/hosts to the image")
        }
        options.nameResolution = names
    }

    private static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    // MARK: - File systems

    private static func filesystem(_ create: IoPodman.Create, _ options: inout ContainerCreateOptions) throws(CreateError) {
        options.readOnlyRootfs = create.readonly ?? false
        options.readOnlyTmpfs = create.readonlytmpfs ?? true
        if let pod = create.pod, !pod.isEmpty {
            options.pod = pod
            // podman joins the pod's network only when the caller named none ("pod" forces it).
            options.joinsPodNetwork = (create.network ?? "").isEmpty || create.network == "pod"
        }
        switch create.imageVolume ?? "" {
        case "", "bind": options.imageVolumes = .anonymous
        case "tmpfs": options.imageVolumes = .tmpfs
        case "ignore": options.imageVolumes = .ignore
        case let mode: throw CreateError(field: "imageVolume", message: "\"\(mode)\" is not a mode; use bind (anonymous volumes), tmpfs or ignore")
        }
        for volume in create.volume ?? [] {
            switch try volumeMount(volume) {
            case .bind(let mount): options.mounts.append(mount)
            case .volume(let mount): options.volumes.append(mount)
            }
        }
        for specification in create.mount ?? [] {
            try mount(specification, &options)
        }
        for entry in create.tmpfs ?? [] {
            let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
            guard let destination = parts.first, destination.hasPrefix("/") else {
                throw CreateError(field: "tmpfs", message: "\"\(entry)\" must be /PATH[:OPTIONS]")
            }
            options.tmpfs.append(TmpfsMount(destination: destination, options: parts.count == 2 ? parts[1].split(separator: ",").map(String.init) : []))
        }
        options.volumesFrom = create.volumesFrom ?? []
    }

    enum VolumeSpecification {
        case bind(BindMount)
        case volume(VolumeMount)
    }

    /// `-v /host:/container[:options]`, `-v NAME:/container[:options]` (a named volume),
    /// `-v /container` (an anonymous volume).
    private static func volumeMount(_ volume: String) throws(CreateError) -> VolumeSpecification {
        let parts = volume.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 {
            guard parts[0].hasPrefix("/") else {
                throw CreateError(field: "volume", message: "\"\(volume)\" must be /host/path:/container/path, NAME:/container/path or /container/path")
            }
            return .volume(VolumeMount(name: "", destination: parts[0]))
        }
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, parts[1].hasPrefix("/") else {
            throw CreateError(field: "volume", message: "\"\(volume)\" must be /host/path:/container/path[:ro|rw] or NAME:/container/path[:ro|rw]")
        }
        var readOnly = false
        for option in parts.count == 3 ? parts[2].split(separator: ",").map(String.init) : [] {
            switch option {
            case "ro": readOnly = true
            case "rw": readOnly = false
            // SELinux relabelling and propagation: no SELinux here, and mounts are private.
            case "z", "Z", "rprivate", "private": continue
            default:
                throw CreateError(field: "volume", message: "option \"\(option)\" in \"\(volume)\" is not supported; use ro or rw")
            }
        }
        guard parts[0].hasPrefix("/") else {
            return .volume(VolumeMount(name: parts[0], destination: parts[1], readOnly: readOnly))
        }
        return .bind(BindMount(source: parts[0], destination: parts[1], readOnly: readOnly))
    }

    /// `--mount type=bind,source=/a,destination=/b[,ro]` and `type=tmpfs,destination=/t[,tmpfs-size=...]`.
    private static func mount(_ specification: String, _ options: inout ContainerCreateOptions) throws(CreateError) {
        var fields: [String: String] = [:]
        var flags: Set<String> = []
        for item in specification.split(separator: ",").map(String.init) {
            if item.contains("=") {
                let (key, value) = pair(item)
                fields[key] = value
            } else {
                flags.insert(item)
            }
        }
        let destination = fields["destination"] ?? fields["dst"] ?? fields["target"] ?? ""
        guard destination.hasPrefix("/") else {
            throw CreateError(field: "mount", message: "\"\(specification)\" needs destination=/PATH")
        }
        let readOnly = flags.contains("ro") || flags.contains("readonly") || fields["ro"] == "true" || fields["readonly"] == "true"
        switch fields["type"] {
        case "bind":
            guard let source = fields["source"] ?? fields["src"], source.hasPrefix("/") else {
                throw CreateError(field: "mount", message: "\"\(specification)\" needs source=/HOST/PATH")
            }
            options.mounts.append(BindMount(source: source, destination: destination, readOnly: readOnly))
        case "tmpfs":
            var tmpfsOptions = ["rw", "noexec", "nosuid", "nodev"]
            if let size = fields["tmpfs-size"] { tmpfsOptions.append("size=\(size)") }
            if let mode = fields["tmpfs-mode"] { tmpfsOptions.append("mode=\(mode)") }
            if readOnly { tmpfsOptions[0] = "ro" }
            options.tmpfs.append(TmpfsMount(destination: destination, options: tmpfsOptions))
        case "volume":
            // Without a source, an anonymous volume.
            options.volumes.append(VolumeMount(name: fields["source"] ?? fields["src"] ?? "", destination: destination, readOnly: readOnly))
        default:
            throw CreateError(field: "mount", message: "\"\(specification)\" needs type=bind, type=volume or type=tmpfs")
        }
    }

    // MARK: - Lifecycle

    private static func lifecycle(_ create: IoPodman.Create, _ options: inout ContainerCreateOptions) throws(CreateError) {
        options.autoRemove = create.rm ?? false
        if let signal = create.stopSignal, !signal.isEmpty {
            guard let number = try? Signals.number(signal) else {
                throw CreateError(field: "stopSignal", message: "\"\(signal)\" is not a signal name or number")
            }
            options.stopSignal = number
        }
        if let timeout = create.stopTimeout {
            guard timeout >= 0, timeout <= Int(UInt32.max) else { throw CreateError(field: "stopTimeout", message: "must be 0 or more seconds") }
            options.stopTimeout = UInt32(timeout)
        }
        if let restart = create.restart, !restart.isEmpty {
            guard let policy = RestartPolicy(parsing: restart) else {
                throw CreateError(field: "restart", message: "\"\(restart)\" must be no, on-failure[:N], always or unless-stopped")
            }
            options.restartPolicy = policy
        }
        if let cidFile = create.cidFile, !cidFile.isEmpty {
            guard cidFile.hasPrefix("/") else { throw CreateError(field: "cidFile", message: "\"\(cidFile)\" must be an absolute path") }
            guard !FileManager.default.fileExists(atPath: cidFile) else {
                throw CreateError(field: "cidFile", message: "\(cidFile) exists already; remove it or choose another path")
            }
            options.cidFile = cidFile
        }
        if let pidfile = create.conmonPidfile, !pidfile.isEmpty {
            guard pidfile.hasPrefix("/") else { throw CreateError(field: "conmonPidfile", message: "\"\(pidfile)\" must be an absolute path") }
            options.conmonPidFile = pidfile
        }
        options.healthcheck = try healthcheck(create)
    }

    /// podman's healthcheck flags: the command as a JSON array (CMD or CMD-SHELL first)
    /// or a shell command; "none" turns the image's off.
    private static func healthcheck(_ create: IoPodman.Create) throws(CreateError) -> HealthcheckConfig? {
        guard let text = create.healthcheckCommand, !text.isEmpty, text.lowercased() != "none" else {
            let tuned = [
                ("healthcheckInterval", create.healthcheckInterval), ("healthcheckTimeout", create.healthcheckTimeout),
                ("healthcheckStartPeriod", create.healthcheckStartPeriod),
                ("healthcheckRetries", create.healthcheckRetries.map(String.init)),
            ].first { !($0.1 ?? "").isEmpty }
            if let (field, _) = tuned { throw CreateError(field: field, message: "needs healthcheckCommand, the check to run") }
            return nil
        }
        var test: [String]
        if let array = try? JSONDecoder().decode([String].self, from: Data(text.utf8)), !array.isEmpty {
            test = array
            if !["CMD", "CMD-SHELL"].contains(array[0]) { test = ["CMD"] + array }
        } else {
            test = ["CMD-SHELL", text]
        }
        var config = HealthcheckConfig(test: test)
        if let interval = create.healthcheckInterval, !interval.isEmpty {
            config.interval = interval == "disable" ? 0 : try duration(interval, "healthcheckInterval")
        }
        if let timeout = create.healthcheckTimeout, !timeout.isEmpty { config.timeout = try duration(timeout, "healthcheckTimeout") }
        if let start = create.healthcheckStartPeriod, !start.isEmpty { config.startPeriod = try duration(start, "healthcheckStartPeriod") }
        if let retries = create.healthcheckRetries { config.retries = retries }
        return config
    }

    // MARK: - Values

    /// `key=value` (a value may hold `=`); `key` alone is an empty value.
    private static func pair(_ text: String) -> (String, String) {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
    }

    private static func size(_ text: String?, _ field: String) throws(CreateError) -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        guard let bytes = PodmanFormat.bytes(text), bytes >= 0 else {
            throw CreateError(field: field, message: "\"\(text)\" is not a size such as 512m or 1g")
        }
        return bytes
    }

    /// Go durations as podman's flags take them: `30s`, `1m30s`, `500ms`, `1h`.
    static func duration(_ text: String, _ field: String) throws(CreateError) -> Double {
        var total = 0.0
        var number = ""
        var rest = Substring(text)
        while let first = rest.first {
            if first.isNumber || first == "." {
                number.append(first)
                rest.removeFirst()
                continue
            }
            let unit = String(rest.prefix { !$0.isNumber && $0 != "." })
            rest.removeFirst(unit.count)
            let scale: Double? = ["h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 0.000_001, "µs": 0.000_001, "ns": 0.000_000_001][unit]
            guard let value = Double(number), let scale else {
                throw CreateError(field: field, message: "\"\(text)\" is not a duration such as 30s or 1m30s")
            }
            total += value * scale
            number = ""
        }
        guard number.isEmpty, !text.isEmpty else {
            throw CreateError(field: field, message: "\"\(text)\" is not a duration such as 30s or 1m30s (give a unit)")
        }
        return total
    }

    /// `/dev/sda:500` (a weight or IOPS) or `/dev/sda:1mb` (bytes per second).
    private static func deviceLimits(_ entries: [String]?, _ field: String, rate: Bool) throws(CreateError) -> [DeviceLimit] {
        try (entries ?? []).map { (entry: String) throws(CreateError) -> DeviceLimit in
            guard let colon = entry.lastIndex(of: ":") else {
                throw CreateError(field: field, message: "\"\(entry)\" must be /dev/DEVICE:VALUE")
            }
            let path = String(entry[..<colon])
            let text = String(entry[entry.index(after: colon)...])
            let value = rate ? PodmanFormat.bytes(text).flatMap { UInt64(exactly: $0) } : UInt64(text)
            guard let value, path.hasPrefix("/") else {
                throw CreateError(field: field, message: "\"\(entry)\" must be /dev/DEVICE:\(rate ? "RATE such as 1mb" : "NUMBER")")
            }
            return DeviceLimit(path: path, value: value)
        }
    }
}

/// A Create field that cannot be honoured.
struct CreateError: Error, CustomStringConvertible {
    var field: String
    var message: String
    var description: String { "create.\(field) \(message)" }
}
