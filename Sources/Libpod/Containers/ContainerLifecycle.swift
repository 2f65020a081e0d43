import Foundation
import Glibc

/// The container lifecycle, podman's state machine: create (configured), init (created),
/// start (running), stop, kill, pause, unpause, restart, wait, remove. Every transition
/// runs under the container's lock (which holds across processes) and saves the new
/// state before the lock is released.
extension Runtime {
    // MARK: - Paths

    func bundleDirectory(_ id: String) -> String { "\(paths.containersDir)/\(id)/userdata" }
    func runDirectory(_ id: String) -> String { "\(paths.containersRunDir)/\(id)" }
    /// The container's log file: its own under the bundle, or the one it asked for.
    public func logPath(_ config: ContainerConfig) -> String { config.log.path ?? bundleDirectory(config.id) + "/ctr.log" }

    func ociCommand(for container: Container) -> OCIRuntimeCommand {
        let path = container.config.ociRuntime.isEmpty ? ociRuntime.path : container.config.ociRuntime
        let name = String(path.split(separator: "/").last ?? "runtime")
        return OCIRuntimeCommand(path: path, stateRoot: "\(config.tmpDir)/oci/\(name)", environment: conmonEnvironment)
    }

    /// The environment conmon and the runtime get: conmon_env_vars and nothing of ours.
    var conmonEnvironment: [String: String] {
        var result: [String: String] = [:]
        for entry in config.conmonEnvVars {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            result[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return result
    }

    // MARK: - Create

    /// podman create: resolves the image, merges its config under the options, and
    /// records the container (configured) with its storage prepared.
    @discardableResult
    public func createContainer(_ options: ContainerCreateOptions) async throws(LibpodError) -> Container {
        try await finishing { () async throws(LibpodError) in try await self.create(options) }
    }

    private func create(_ options: ContainerCreateOptions) async throws(LibpodError) -> Container {
        try checkValid()
        try options.validate()
        let image: Image
        switch options.pull {
        case .never: image = try images.image(options.image)
        case .missing: image = try await imageOrPull(options.image)
        case .always: image = try await pull(options.image)
        }
        let imageConfig = image.config
        let entrypoint = options.entrypoint ?? imageConfig.entrypoint
        let command = entrypoint + (options.command ?? (options.entrypoint != nil ? [] : imageConfig.cmd))
        guard !command.isEmpty else {
            throw .invalidArgument("no command given and image \(options.image) has none; give a command")
        }
        var labels = imageConfig.labels
        for file in options.labelFiles {
            for line in try Self.settingLines(file, what: "label file") {
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                labels[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
        }
        labels.merge(options.labels) { _, mine in mine }
        var stopSignal = options.stopSignal ?? SIGTERM
        if options.stopSignal == nil, let name = imageConfig.stopSignal { stopSignal = try Signals.number(name) }
        var mounts = options.mounts
        var tmpfs = options.tmpfs
        var volumeMounts = options.volumes.filter { !$0.name.isEmpty }
        var anonymousPaths = options.volumes.filter { $0.name.isEmpty }.map(\.destination)
        let taken = Set(mounts.map(\.destination) + tmpfs.map(\.destination) + options.volumes.map(\.destination))
        switch options.imageVolumes {
        case .anonymous: anonymousPaths += imageConfig.volumes.filter { !taken.contains($0) }
        case .tmpfs: tmpfs += imageConfig.volumes.filter { !taken.contains($0) }.map { TmpfsMount(destination: $0) }
        case .ignore: break
        }
        for source in options.volumesFrom {
            let (shared, sharedVolumes) = try await mountsShared(from: source, into: mounts)
            mounts += shared
            volumeMounts += sharedVolumes
        }
        if let initPath = options.initPath, !FileSystem.exists(initPath) {
            throw .invalidArgument("invalid init-path: \(initPath) does not exist on this machine; install catatonit or tini, or give its path")
        }
        var exposedPorts = imageConfig.exposedPorts
        for port in options.exposedPorts {
            let normalized = port.contains("/") ? port : port + "/tcp"
            if !exposedPorts.contains(normalized) { exposedPorts.append(normalized) }
        }
        let portMappings = try publishedPorts(options, exposed: exposedPorts)
        if let rootless = RootlessHost.current {
            try rootless.checkLimits(options.resources)
            try rootless.checkPorts(portMappings)
        }
        var namespaces = try await resolved(options.namespaces)
        var network = try await resolved(options.network)
        if RootlessHost.current != nil, case .bridge(let names) = network {
            // CNI's bridge needs root on the host; a rootless container's own network is
            // slirp4netns (podman's rootless default, which python-podman's "bridge" means).
            guard names.isEmpty || names == [config.cniDefaultNetwork] else {
                throw .unsupported(
                    feature: "CNI networks (\(names.joined(separator: ", "))) for rootless containers",
                    advice: "CNI's bridge needs root on the host: use the default network (slirp4netns), --network none or host, or run as root")
            }
            network = .slirp4netns
        }
        var podID = options.podID
        var hostname = options.hostname
        var cgroupParent = options.cgroupParent
        if let podName = options.pod, !podName.isEmpty {
            let pod = try await state.lookupPod(podName)
            podID = pod.id
            if cgroupParent.isEmpty { cgroupParent = pod.cgroupParent }
            if let infra = pod.infraContainerID {
                if pod.shares("net") && options.joinsPodNetwork {
                    guard portMappings.isEmpty else {
                        throw .invalidArgument("invalid publish: a container in pod \(pod.name) shares the pod's network; publish ports on the pod (pod create -p)")
                    }
                    network = .container(infra)
                }
                if pod.shares("ipc") { namespaces.ipc = .container(infra) }
                if pod.shares("uts") {
                    namespaces.uts = .container(infra)
                    // The pod's hostname, in /etc/hostname and /etc/hosts too.
                    hostname = pod.name
                }
                if pod.shares("pid") { namespaces.pid = .container(infra) }
            }
        }

        let draft = ContainerConfig(
            id: ContainerNaming.newID(), name: options.name, namespace: config.namespace, imageID: image.id,
            imageName: image.names.first ?? options.image, command: command, entrypoint: entrypoint,
            env: try environment(options, tty: options.tty, imageEnv: imageConfig.env),
            workingDir: options.workingDir ?? (imageConfig.workingDir.isEmpty ? "/" : imageConfig.workingDir),
            user: options.user ?? imageConfig.user, hostname: hostname, labels: labels,
            annotations: options.annotations, tty: options.tty, openStdin: options.openStdin, detachKeys: options.detachKeys,
            readOnlyRootfs: options.readOnlyRootfs, readOnlyTmpfs: options.readOnlyTmpfs, resources: options.resources,
            security: options.security, namespaces: namespaces, network: network,
            portMappings: portMappings, staticIP: options.staticIP, staticMAC: options.staticMAC,
            nameResolution: options.nameResolution, exposedPorts: exposedPorts.sorted(), mounts: mounts, tmpfs: tmpfs,
            devices: options.devices, ulimits: options.ulimits, sysctls: options.sysctls,
            shmSize: options.shmSize ?? ContainerConfig.defaultShmSize, initPath: options.initPath,
            cgroupParent: cgroupParent, log: options.log, healthcheck: options.healthcheck,
            restartPolicy: options.restartPolicy, stopSignal: stopSignal, stopTimeout: options.stopTimeout ?? 10,
            autoRemove: options.autoRemove, conmonPidFile: options.conmonPidFile, ociRuntime: ociRuntime.path)
        var config = draft
        config.podID = podID
        config.isInfra = options.isInfra
        let prepared = try await prepareVolumes(volumeMounts, anonymousPaths: anonymousPaths)
        config.volumes = prepared.volumes
        config.mounts += prepared.mounts
        try storage.create(config.id)
        var container: Container
        do {
            try FileSystem.ensureDirectory(bundleDirectory(config.id), mode: 0o700)
            // Under the volumes' locks: a volume cannot be removed between being found
            // and being recorded as this container's.
            // And under the pod's: a pod cannot go between being found and being joined.
            let record = { () async throws(LibpodError) -> Container in
                try await self.withVolumeLocks(Set(config.volumes.map(\.name)).sorted()) { () async throws(LibpodError) -> Container in
                    for volume in config.volumes { _ = try await self.state.volume(named: volume.name) }
                    return try await self.addContainer(config)
                }
            }
            if let podID = config.podID, !config.isInfra {
                container = try await locks.withPodLock(podID) { () async throws(LibpodError) -> Container in
                    _ = try await self.state.lookupPod(podID)
                    return try await record()
                }
            } else {
                container = try await record()
            }
        } catch {
            bestEffort("removing the storage of the container that could not be created") { () throws(LibpodError) in
                try storage.remove(config.id)
                try FileSystem.removeTree("\(paths.containersDir)/\(config.id)")
            }
            await discardVolumes(prepared.created)
            throw error
        }
        if !config.volumes.isEmpty {
            do throws(LibpodError) {
                try await copyUp(config.volumes, container: container.id)
                container = try await state.container(id: container.id)
            } catch {
                await bestEffort("removing container \(container.id.prefix(12)), whose volumes could not be filled") { () async throws(LibpodError) in
                    try await remove(container.id, force: true)
                }
                await discardVolumes(prepared.created)
                throw error
            }
        }
        if let cidFile = options.cidFile {
            try FileSystem.writeAtomically(cidFile, Array(container.id.utf8))
        }
        return container
    }

    /// The image's environment, then the env files, then `env`; a bare `NAME` keeps the
    /// value the image gives it (podman's rule). PATH is always set, TERM with a terminal.
    private func environment(_ options: ContainerCreateOptions, tty: Bool, imageEnv: [String]) throws(LibpodError) -> [String] {
        var env = imageEnv
        func key(_ entry: String) -> Substring { entry.prefix { $0 != "=" } }
        func apply(_ entry: String) {
            var entry = entry
            if !entry.contains("=") {
                guard let inherited = imageEnv.first(where: { key($0) == entry }) else { return }
                entry = inherited
            }
            env.removeAll { key($0) == key(entry) }
            env.append(entry)
        }
        for file in options.envFiles {
            for line in try Self.settingLines(file, what: "env file") { apply(line) }
        }
        for entry in options.env { apply(entry) }
        if !env.contains(where: { $0.hasPrefix("PATH=") }) {
            env.insert("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", at: 0)
        }
        if tty, !env.contains(where: { $0.hasPrefix("TERM=") }) { env.append("TERM=xterm") }
        return env
    }

    /// The non-empty, non-comment lines of a settings file on this machine.
    private static func settingLines(_ path: String, what: String) throws(LibpodError) -> [String] {
        guard let text = try FileSystem.readString(path) else {
            throw .invalidArgument("invalid \(what): \(path) does not exist on the machine podlinkd runs on")
        }
        return text.split(separator: "\n").map { String($0).trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// `--volumes-from ID[:ro|rw]`: the other container's bind mounts, except where this
    /// one mounts something at the same place.
    private func mountsShared(from source: String, into existing: [BindMount]) async throws(LibpodError) -> ([BindMount], [VolumeMount]) {
        let parts = source.split(separator: ":", maxSplits: 1).map(String.init)
        guard let name = parts.first, parts.count == 1 || ["ro", "rw"].contains(parts[1]) else {
            throw .invalidArgument("invalid volumes-from \"\(source)\": give CONTAINER[:ro|rw]")
        }
        let other = try await container(name)
        let readOnly = parts.count == 2 ? parts[1] == "ro" : nil
        let shared = other.config.mounts.filter { mount in !existing.contains { $0.destination == mount.destination } }
        // The other container's volumes are this one's too: in use while either exists.
        let volumes = other.config.volumes.filter { volume in shared.contains { $0.destination == volume.destination } }
            .map { VolumeMount(name: $0.name, destination: $0.destination, readOnly: readOnly ?? $0.readOnly) }
        return (shared.map { BindMount(source: $0.source, destination: $0.destination, readOnly: readOnly ?? $0.readOnly) }, volumes)
    }

    /// Runs `body` holding the locks of the volumes `names` (sorted, so that two callers
    /// never wait on each other in opposite orders).
    private func withVolumeLocks<R: Sendable>(_ names: [String], _ body: () async throws(LibpodError) -> R) async throws(LibpodError) -> R {
        guard let first = names.first else { return try await body() }
        return try await locks.withVolumeLock(first) { () async throws(LibpodError) -> R in
            try await withVolumeLocks(Array(names.dropFirst()), body)
        }
    }

    /// The ports to publish: those asked for (a host port of 0 gets a free one now) and,
    /// with publishAll, every exposed port on a free host port. A host port asked for twice
    /// is refused.
    private func publishedPorts(_ options: ContainerCreateOptions, exposed: [String]) throws(LibpodError) -> [PortMapping] {
        var mappings = options.portMappings
        if options.publishAll {
            for port in exposed {
                let parts = port.split(separator: "/").map(String.init)
                guard let number = UInt16(parts[0].split(separator: "-").first ?? ""),
                    !mappings.contains(where: { $0.containerPort == number && $0.protocol == (parts.count > 1 ? parts[1] : "tcp") })
                else { continue }
                mappings.append(PortMapping(hostPort: 0, containerPort: number, protocol: parts.count > 1 ? parts[1] : "tcp"))
            }
        }
        for index in mappings.indices where mappings[index].hostPort == 0 {
            mappings[index].hostPort = try PortReservation.freePort(hostIP: mappings[index].hostIP, protocol: mappings[index].protocol)
        }
        var seen = Set<String>()
        for mapping in mappings where !seen.insert("\(mapping.hostIP):\(mapping.hostPort)/\(mapping.protocol)").inserted {
            throw .invalidArgument("invalid publish: host port \(mapping.hostPort)/\(mapping.protocol) is asked for twice")
        }
        return mappings
    }

    /// `container:NAME` resolved to the full ID.
    private func resolved(_ network: NetworkMode) async throws(LibpodError) -> NetworkMode {
        guard case .container(let name) = network else { return network }
        return .container(try await containerID(name))
    }

    /// Namespace modes with `container:NAME` resolved to the full ID (the mode is kept by ID).
    private func resolved(_ namespaces: NamespaceSettings) async throws(LibpodError) -> NamespaceSettings {
        var result = namespaces
        for keyPath in [\NamespaceSettings.ipc, \NamespaceSettings.pid, \NamespaceSettings.uts] {
            if case .container(let name) = namespaces[keyPath: keyPath] {
                result[keyPath: keyPath] = .container(try await containerID(name))
            }
        }
        return result
    }

    // MARK: - Sync with conmon

    /// Brings the recorded state up to date with what conmon saw: an exit file means the
    /// container's process is gone (stopped), and then it is cleaned up (exited).
    /// Called under the container's lock.
    func sync(_ container: inout Container) async throws(LibpodError) {
        let status = container.state.status
        guard [.created, .running, .paused, .stopping, .stopped].contains(status) else { return }
        if status != .stopped {
            let exitFile = exitWatcher.exitFile(container.id)
            var info = stat()
            if stat(exitFile, &info) == 0 {
                let text = (try FileSystem.readString(exitFile)) ?? ""
                container.state.exitCode = Int32(text.filter { $0.isNumber || $0 == "-" }) ?? 255
                container.state.finishedAt = Date(
                    timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
            } else if try await diedWithConmon(container) {
                container.state.exitCode = 255
                container.state.finishedAt = Date()
            } else {
                return
            }
            container.state.status = .stopped
            container.state.pid = 0
            record(Event(type: .container, status: "died", id: container.id, name: container.name,
                                     attributes: ["exitCode": String(container.state.exitCode)]))
        }
        try await cleanup(&container)
    }

    /// podman's cleanupRuntime: the runtime forgets the container and its root file
    /// system is unmounted. Stopped -> exited, created -> configured.
    func cleanup(_ container: inout Container) async throws(LibpodError) {
        try await ociCommand(for: container).delete(container.id, force: true)
        if container.config.network.hasRuntimeNamespace { beginDisconnecting(container.id) }
        // Exec sessions end with the container; what a killed daemon left of theirs goes.
        let execDirectory = execDirectory(container.id)
        bestEffort("removing the exec sessions of \(container.id.prefix(12))") { () throws(LibpodError) in
            if FileSystem.exists(execDirectory) { try FileSystem.removeTree(execDirectory) }
        }
        if !container.state.mountPoint.isEmpty {
            try storage.unmount(container.id)
            container.state.mountPoint = ""
        }
        container.state.conmonPID = 0
        container.state.pid = 0
        container.state.status = container.state.status == .created ? .configured : .exited
    }

    // MARK: - Init and start

    /// podman init: the container exists in the OCI runtime, under conmon, not started.
    public func initContainer(_ idOrName: String) async throws(LibpodError) {
        let id = try await state.lookupID(idOrName)
        try await finishing { () async throws(LibpodError) in
            try await self.updateContainer(id) { (container: inout Container) async throws(LibpodError) in
                try await self.sync(&container)
                try await self.initialize(&container, operation: "initialize")
            }
        }
    }

    /// What the spec needs from outside the config: the user as numbers (from the image's
    /// own /etc/passwd and /etc/group), the namespaces joined from elsewhere.
    /// Without `resolvingUser` (a spec shown before the root file system exists) names
    /// the image's files would resolve read as 0, and other containers' namespaces need
    /// not be running.
    func specEnvironment(
        _ config: ContainerConfig, rootfs: String, runDir: String, resolvingUser: Bool = true
    ) async throws(LibpodError) -> OCISpecBuilder.Environment {
        let user: ResolvedUser
        if resolvingUser {
            user = try ResolvedUser.resolve(config.user, groupAdd: config.security.groupAdd, rootfs: rootfs)
        } else {
            user = (try? ResolvedUser.resolve(config.user, groupAdd: config.security.groupAdd, rootfs: rootfs))
                ?? ResolvedUser(uid: 0, gid: 0, additionalGids: [])
        }
        var environment = OCISpecBuilder.Environment(
            rootfs: rootfs, runDir: runDir, user: user, cgroupParent: "/podlink",
            // A default mount whose source is not on this machine is skipped, as podman does.
            defaultMounts: defaultMounts.filter { mount in
                FileSystem.exists(mount.source) && !config.mounts.contains { $0.destination == mount.destination }
            },
            hooks: hooks.hooks(for: config), rootless: RootlessHost.current)
        switch config.network {
        case .path(let path): environment.namespacePaths["network"] = path
        case .container(let other) where resolvingUser:
            let owner = try await state.container(id: other)
            guard owner.state.status == .running, owner.state.pid > 0 else {
                throw .invalidState(id: other, state: owner.state.status, operation: "share the network namespace of; start it first")
            }
            environment.namespacePaths["network"] =
                owner.config.network.hasRuntimeNamespace ? networkNamespacePath(other) : "/proc/\(owner.state.pid)/ns/net"
        default: break
        }
        for (type, mode) in [("pid", config.namespaces.pid), ("ipc", config.namespaces.ipc), ("uts", config.namespaces.uts)] {
            switch mode {
            case .private, .host: continue
            case .container where !resolvingUser: continue
            case .path(let path):
                guard FileSystem.exists(path) else {
                    throw .invalidArgument("the \(type) namespace \(path) does not exist; give the path of a namespace (/proc/PID/ns/\(type))")
                }
                environment.namespacePaths[type] = path
            case .container(let other):
                let owner = try await state.container(id: other)
                guard owner.state.status == .running, owner.state.pid > 0 else {
                    throw .invalidState(id: other, state: owner.state.status, operation: "share the \(type) namespace of; start it first")
                }
                environment.namespacePaths[type] = "/proc/\(owner.state.pid)/ns/\(type)"
            }
        }
        return environment
    }

    private func initialize(_ container: inout Container, operation: String) async throws(LibpodError) {
        guard [.configured, .exited, .stopped].contains(container.state.status) else {
            throw .invalidState(id: container.id, state: container.state.status, operation: operation)
        }
        if container.state.status == .stopped { try await cleanup(&container) }
        let id = container.id
        let config = container.config
        // Host ports held for the container: conmon keeps them once it runs.
        var reservedPorts: [Int32] = []
        defer { for descriptor in reservedPorts { close(descriptor) } }
        // CNI's ADD (tens of milliseconds of plugins) runs while the root file system is
        // mounted and the OCI runtime creates the container in the namespace made for it;
        // the process starts only once it is connected.
        var connecting: Task<ContainerNetworkStatus, any Error>?
        // Rootless: slirp4netns, whose exit pipe conmon must hold, so it is started (a few
        // milliseconds) before conmon is.
        var slirp: Task<(ContainerNetworkStatus, Int32), any Error>?
        var slirpExitDescriptor: Int32 = -1
        defer { if slirpExitDescriptor >= 0 { close(slirpExitDescriptor) } }
        if config.network.usesCNI {
            await waitForTeardowns(before: config)
            if self.config.enablePortReservation { reservedPorts = try PortReservation.reserve(config.portMappings) }
            _ = try await makeNetworkNamespace(id)
            connecting = Task { () async throws -> ContainerNetworkStatus in try await self.attachNetworks(config) }
        } else if config.network == .slirp4netns {
            await waitForTeardowns(before: config)
            _ = try await makeNetworkNamespace(id)
            slirp = Task { () async throws -> (ContainerNetworkStatus, Int32) in try await self.attachSlirp(config) }
        }
        var createdInRuntime = false
        do throws(LibpodError) {
            let image = try images.image(config.imageID)
            let rootfs = try storage.mount(id, layers: try images.layerDirectories(of: image), volatile: config.autoRemove) {
                layers, target throws(LibpodError) in
                try images.copyLayers(layers, into: target)
            }
            container.state.mountPoint = rootfs
            let runDir = runDirectory(id)
            try FileSystem.ensureDirectory(runDir, mode: 0o700)
            try OCISpecBuilder.writeEtcFiles(config: config, runDir: runDir)
            var environment = try await specEnvironment(config, rootfs: rootfs, runDir: runDir)
            if connecting != nil || slirp != nil { environment.namespacePaths["network"] = networkNamespacePath(id) }
            let spec = OCISpecBuilder.build(config: config, environment: environment)
            let encoded: Data
            do { encoded = try spec.encoded() } catch { throw LibpodError.encoding(what: "config.json", cause: "\(error)") }
            try FileSystem.writeAtomically(bundleDirectory(id) + "/config.json", encoded)
            try FileSystem.removeFile(exitWatcher.exitFile(id))
            try FileSystem.removeFile(runDir + "/pidfile")
            // A process killed in the middle of an earlier init may have left the container
            // in the OCI runtime; it would make this create fail.
            if container.state.status == .configured, FileSystem.exists(runDir + "/conmon.pid") {
                try await ociCommand(for: container).delete(id, force: true)
            }
            let launcher = ConmonLauncher(
                conmonPath: conmon.path, runtime: ociCommand(for: container), exitsDir: paths.exitsDir,
                socketDir: paths.socketDir, maxLogSize: self.config.maxLogSize, noPivotRoot: self.config.noPivotRoot,
                environment: self.config.conmonEnvVars)
            if let slirp {
                let (network, exitDescriptor) = try await Self.result(of: slirp)
                slirpExitDescriptor = exitDescriptor
                try OCISpecBuilder.writeEtcFiles(config: config, runDir: runDir, network: network, update: true)
            }
            let started = try await launcher.create(
                config: config, bundle: bundleDirectory(id), runDir: runDir, logPath: logPath(config),
                heldDescriptors: reservedPorts + (slirpExitDescriptor >= 0 ? [slirpExitDescriptor] : []))
            createdInRuntime = true
            if let connecting {
                let network = try await Self.result(of: connecting)
                try OCISpecBuilder.writeEtcFiles(config: config, runDir: runDir, network: network, update: true)
            }
            if let copy = config.conmonPidFile {
                try FileSystem.writeAtomically(copy, Array("\(started.conmonPID)\n".utf8))
            }
            container.state.pid = started.pid
            container.state.conmonPID = started.conmonPID
            container.state.exitCode = 0
            container.state.status = .created
        } catch {
            // The state must say what is true: nothing runs, nothing is mounted or connected.
            if createdInRuntime {
                await bestEffort("deleting \(id.prefix(12)) from the OCI runtime after a failed start") { () async throws(LibpodError) in
                    try await ociCommand(for: container).delete(id, force: true)
                }
            }
            if let connecting {
                _ = try? await connecting.value
                await disconnectNetworks(id)
            }
            if let slirp {
                // Its exit pipe, if the failure came before it was taken, is closed with
                // the one taken (the defer): slirp4netns then ends.
                if slirpExitDescriptor < 0, let (_, exitDescriptor) = try? await slirp.value { slirpExitDescriptor = exitDescriptor }
                await disconnectNetworks(id)
            }
            bestEffort("unmounting the root file system of \(id.prefix(12)) after a failed start") { () throws(LibpodError) in
                try storage.unmount(id)
            }
            container.state.mountPoint = ""
            await bestEffort("saving the state of \(id.prefix(12)) after a failed start") { () async throws(LibpodError) in
                try await state.save(container.state, id: id)
            }
            throw error
        }
        record(Event(type: .container, status: "init", id: id, name: container.name))
    }

    /// podman start: initializes when needed, then starts the container's process.
    public func startContainer(_ idOrName: String) async throws(LibpodError) {
        let id = try await state.lookupID(idOrName)
        try await startInfraContainer(of: id)
        try await finishing { () async throws(LibpodError) in
            try await self.updateContainer(id) { (container: inout Container) async throws(LibpodError) in
                try await self.sync(&container)
                try await self.start(&container)
            }
        }
    }

    private func start(_ container: inout Container) async throws(LibpodError) {
        switch container.state.status {
        case .configured, .exited, .stopped: try await initialize(&container, operation: "start")
        case .created: break
        default: throw .invalidState(id: container.id, state: container.state.status, operation: "start")
        }
        try await ociCommand(for: container).start(container.id)
        container.state.status = .running
        container.state.stoppedByUser = false
        container.state.startedAt = Date()
        if container.config.healthcheck != nil {
            let id = container.id
            bestEffort("marking the health of \(id.prefix(12)) as starting") { () throws(LibpodError) in try writeHealth(.started, id: id) }
        }
        container.state.finishedAt = nil
        record(Event(type: .container, status: "start", id: container.id, name: container.name))
    }

    // MARK: - Stop, kill, pause

    /// podman stop: the stop signal, then SIGKILL after `timeout` seconds (the
    /// container's own stop timeout when nil). Stopping a stopped container succeeds.
    /// A stop whose caller goes away still finishes: the container never stays `stopping`.
    public func stopContainer(_ idOrName: String, timeout: UInt32? = nil) async throws(LibpodError) {
        let id = try await state.lookupID(idOrName)
        try await finishing { () async throws(LibpodError) in try await self.stop(id, timeout: timeout) }
    }

    private func stop(_ id: String, timeout: UInt32?) async throws(LibpodError) {
        let container: Container? = try await updateContainer(id) { (container: inout Container) async throws(LibpodError) -> Container? in
            try await sync(&container)
            switch container.state.status {
            case .exited, .stopped: return nil
            case .running, .created, .stopping:
                container.state.status = .stopping
                container.state.stoppedByUser = true
                return container
            default: throw .invalidState(id: container.id, state: container.state.status, operation: "stop")
            }
        }
        guard let container else { return }
        // The lock is not held while waiting, so that others can look at the container.
        do {
            try await stopProcess(container, timeout: timeout ?? container.config.stopTimeout)
        } catch {
            // The process would not die: the state must still say what is true.
            await bestEffort("settling the state of \(id.prefix(12)) after a failed stop") { () async throws(LibpodError) in
                try await updateContainer(id) { (container: inout Container) async throws(LibpodError) in
                    try await sync(&container)
                    if container.state.status == .stopping { container.state.status = .running }
                }
            }
            throw error
        }
        try await updateContainer(id) { (container: inout Container) async throws(LibpodError) in
            try await sync(&container)
        }
        record(Event(type: .container, status: "stop", id: id, name: container.name))
    }

    /// Sends the stop signal, waits, then SIGKILL; returns once the container has exited.
    private func stopProcess(_ container: Container, timeout: UInt32) async throws(LibpodError) {
        let runtime = ociCommand(for: container)
        if timeout > 0 && container.state.status != .created {
            // The process may be gone already; the wait below tells.
            await bestEffort("sending the stop signal to \(container.id.prefix(12))") { () async throws(LibpodError) in
                try await runtime.kill(container.id, signal: container.config.stopSignal)
            }
            if await waitForExit(container, timeout: .seconds(Int(timeout))) { return }
        }
        await bestEffort("sending SIGKILL to \(container.id.prefix(12))") { () async throws(LibpodError) in try await runtime.kill(container.id, signal: SIGKILL) }
        if await waitForExit(container, timeout: .seconds(30)) { return }
        throw .timedOut("container \(container.id.prefix(12)) did not exit 30 s after SIGKILL; is conmon (pid \(container.state.conmonPID)) alive?")
    }

    /// Waits for conmon's exit file. A conmon that was killed writes none, so while
    /// waiting its liveness is checked too: once it is gone, the OCI runtime's word on
    /// the container is what counts.
    private func waitForExit(_ container: Container, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        // A cancelled task's waits return at once: without the check this would spin.
        while ContinuousClock.now < deadline && !Task.isCancelled {
            let slice = min(.milliseconds(250), deadline - ContinuousClock.now)
            if await exitWatcher.waitForExitFile(container.id, timeout: slice) { return true }
            if (try? await diedWithConmon(container)) == true { return true }
        }
        return FileSystem.exists(exitWatcher.exitFile(container.id))
    }

    /// Whether conmon is gone without writing an exit file (it was killed) and the
    /// container went with it: the OCI runtime no longer knows it, or calls it stopped.
    private func diedWithConmon(_ container: Container) async throws(LibpodError) -> Bool {
        guard container.state.conmonPID > 0, kill(container.state.conmonPID, 0) != 0, errno == ESRCH else { return false }
        let runtimeStatus = try await ociCommand(for: container).status(container.id)
        return runtimeStatus == nil || runtimeStatus == "stopped"
    }

    /// podman kill: any signal to a running (or paused, or stopping) container. SIGKILL
    /// also waits for conmon to record the exit, so the state says so on return.
    public func killContainer(_ idOrName: String, signal: Int32 = SIGKILL) async throws(LibpodError) {
        guard (1...64).contains(signal) else { throw .invalidArgument("invalid signal: \(signal) is not a signal number (1-64)") }
        let id = try await state.lookupID(idOrName)
        try await finishing { () async throws(LibpodError) in try await self.signal(id, signal) }
    }

    private func signal(_ id: String, _ signal: Int32) async throws(LibpodError) {
        try await updateContainer(id) { (container: inout Container) async throws(LibpodError) in
            try await sync(&container)
            guard [.running, .paused, .stopping].contains(container.state.status) else {
                throw .invalidState(id: container.id, state: container.state.status, operation: "kill")
            }
            let runtime = ociCommand(for: container)
            try await runtime.kill(container.id, signal: signal)
            container.state.stoppedByUser = true
            // A frozen process only dies once thawed (cgroup v1 freezer).
            if container.state.status == .paused && signal == SIGKILL {
                await bestEffort("thawing \(id.prefix(12)) so that SIGKILL takes") { () async throws(LibpodError) in try await runtime.resume(container.id) }
                container.state.status = .running
            }
            record(Event(type: .container, status: "kill", id: container.id, name: container.name, attributes: ["signal": String(signal)]))
        }
        if signal == SIGKILL {
            // SIGKILL is final: wait for conmon to record the exit so the state says so.
            _ = await exitWatcher.waitForExitFile(id, timeout: .seconds(10))
            try await updateContainer(id) { (container: inout Container) async throws(LibpodError) in try await sync(&container) }
        }
    }

    public func pauseContainer(_ idOrName: String) async throws(LibpodError) {
        let id = try await state.lookupID(idOrName)
        try await finishing { () async throws(LibpodError) in
            try await self.updateContainer(id) { (container: inout Container) async throws(LibpodError) in
                try await self.sync(&container)
                guard container.state.status == .running else {
                    throw .invalidState(id: container.id, state: container.state.status, operation: "pause")
                }
                try await self.ociCommand(for: container).pause(container.id)
                container.state.status = .paused
                self.record(Event(type: .container, status: "pause", id: container.id, name: container.name))
            }
        }
    }

    public func unpauseContainer(_ idOrName: String) async throws(LibpodError) {
        let id = try await state.lookupID(idOrName)
        try await finishing { () async throws(LibpodError) in
            try await self.updateContainer(id) { (container: inout Container) async throws(LibpodError) in
                try await self.sync(&container)
                guard container.state.status == .paused else {
                    throw .invalidState(id: container.id, state: container.state.status, operation: "unpause")
                }
                try await self.ociCommand(for: container).resume(container.id)
                container.state.status = .running
                self.record(Event(type: .container, status: "unpause", id: container.id, name: container.name))
            }
        }
    }

    /// podman restart: stop when running, then start again.
    public func restartContainer(_ idOrName: String, timeout: UInt32? = nil) async throws(LibpodError) {
        let id = try await state.lookupID(idOrName)
        try await finishing { () async throws(LibpodError) in try await self.restart(id, timeout: timeout) }
    }

    private func restart(_ id: String, timeout: UInt32?) async throws(LibpodError) {
        let current = try await state.container(id: id)
        if [.running, .stopping, .created].contains(current.state.status) {
            try await stop(id, timeout: timeout)
        }
        try await updateContainer(id) { (container: inout Container) async throws(LibpodError) in
            try await sync(&container)
            try await start(&container)
            container.state.restartCount += 1
        }
        record(Event(type: .container, status: "restart", id: id, name: current.name))
    }

    // MARK: - Wait

    /// podman wait: returns the exit code once the container's process has exited.
    /// Driven by conmon's exit file (inotify), so it returns as soon as the file is
    /// written; `pollInterval` bounds how long it goes without also checking the state
    /// (a conmon killed before writing the file is noticed that way). A container removed
    /// after it exited (one created to be removed on exit) is answered from the exit codes
    /// the state keeps for a while, by full ID.
    public func waitContainer(_ idOrName: String, pollInterval: Duration = .seconds(1)) async throws(LibpodError) -> Int32 {
        // The full ID once known: a container removed meanwhile (by its own --rm, or by
        // someone else) is looked up by it among the kept exit codes.
        var id = idOrName
        do throws(LibpodError) {
            id = try await state.lookupID(idOrName)
            while true {
                let container = try await updateContainer(id) { (container: inout Container) async throws(LibpodError) -> Container in
                    try await sync(&container)
                    return container
                }
                if [.exited, .stopped].contains(container.state.status) {
                    if container.config.autoRemove {
                        await bestEffort("removing \(id.prefix(12)) on exit (--rm)") { () async throws(LibpodError) in
                            try await removeContainer(id, force: false)
                        }
                    }
                    return container.state.exitCode
                }
                _ = await exitWatcher.waitForExitFile(id, timeout: pollInterval)
                if Task.isCancelled { throw .cancelled("waiting for container \(id.prefix(12))") }
            }
        } catch .containerNotFound(let name) {
            if let code = try await state.exitCode(ofRemoved: id) { return code }
            throw .containerNotFound(name)
        }
    }

    // MARK: - Remove

    /// podman rm: a running container is refused unless `force`, which kills it first.
    /// Removes the container from the runtime, its storage, its files and its record.
    /// With `removeVolumes`, the container's anonymous volumes go too (podman rm -v). A
    /// pod's infra container goes only with its pod (`podRemoval`).
    public func removeContainer(_ idOrName: String, force: Bool = false, removeVolumes: Bool = false) async throws(LibpodError) {
        try await removeContainer(idOrName, force: force, removeVolumes: removeVolumes, podRemoval: false)
    }

    func removeContainer(_ idOrName: String, force: Bool, removeVolumes: Bool, podRemoval: Bool) async throws(LibpodError) {
        try checkValid()
        let id = try await state.lookupID(idOrName)
        try await finishing { () async throws(LibpodError) in
            let config = try await self.state.container(id: id).config
            if config.isInfra, !podRemoval, let pod = config.podID, (try? await self.state.lookupPod(pod)) != nil {
                throw .invalidArgument("container \(id.prefix(12)) is the infra container of pod \(pod.prefix(12)); remove the pod instead")
            }
            try await self.remove(id, force: force)
            if removeVolumes || config.autoRemove { await self.removeAnonymousVolumes(of: config) }
        }
    }

    private func remove(_ id: String, force: Bool) async throws(LibpodError) {
        let lock = try await locks.containerLock(id)
        do throws(LibpodError) {
            var container = try await state.container(id: id)
            try await sync(&container)
            if [.running, .paused, .stopping, .created].contains(container.state.status) {
                guard force || container.state.status == .created else {
                    throw LibpodError.invalidState(
                        id: id, state: container.state.status, operation: "remove it without force; stop it first")
                }
                let runtime = ociCommand(for: container)
                if container.state.status == .paused {
                    await bestEffort("thawing \(id.prefix(12)) before removing it") { () async throws(LibpodError) in try await runtime.resume(id) }
                }
                await bestEffort("killing \(id.prefix(12)) before removing it") { () async throws(LibpodError) in
                    try await runtime.kill(id, signal: SIGKILL)
                }
                _ = await exitWatcher.waitForExitFile(id, timeout: .seconds(10))
                try await sync(&container)
            }
            // Anything but an exited or configured container may still be known to the
            // runtime (cleanup already deleted the others); so may one whose record a
            // crash cut short between `crun create` and saving the state, whose init
            // process would otherwise wait on its exec fifo forever.
            let runtime = ociCommand(for: container)
            let needsDelete = ![.exited, .configured].contains(container.state.status)
                || FileSystem.exists("\(runtime.stateRoot)/\(id)")
            let exitCode = container.state.status == .exited ? container.state.exitCode : nil
            // A daemon killed between connecting and saving the state leaves a connection
            // the state does not know about.
            if FileSystem.exists(networkStatusPath(id)), !networkTeardowns.isPending(id) { await disconnectNetworks(id) }
            container.state.status = .removing
            try await state.save(container.state, id: id)
            if needsDelete { try await runtime.delete(id, force: true) }
            try storage.remove(id)
            try FileSystem.removeTree("\(paths.containersDir)/\(id)")
            try FileSystem.removeTree(runDirectory(id))
            try FileSystem.removeTree("\(paths.socketDir)/\(id)")
            try FileSystem.removeFile(exitWatcher.exitFile(id))
            try await state.remove(id: id, exitCode: exitCode)
            locks.retire(lock)
            record(Event(type: .container, status: "remove", id: id, name: container.name))
        } catch {
            lock.release()
            throw error
        }
    }

    /// podman container prune: removes every container that is not running.
    public func pruneContainers() async throws(LibpodError) -> [String] {
        var removed: [String] = []
        // Infra containers go with their pods.
        for container in try await containers() where [.exited, .stopped, .configured].contains(container.state.status) && !container.config.isInfra {
            do {
                try await removeContainer(container.id)
                removed.append(container.id)
            } catch .containerNotFound {
                continue
            }
        }
        return removed
    }

    // MARK: - Runtime-wide

    /// After a reboot: containers that asked to be removed when they exit, and those
    /// caught in the middle of a removal, are removed (podman does the same).
    func removeAfterRefresh() async throws(LibpodError) {
        for container in try await state.containers()
        where container.state.status == .removing || (container.config.autoRemove && container.state.status == .exited) {
            await bestEffort("removing \(container.id.prefix(12)) after the reboot") { () async throws(LibpodError) in
                try await removeContainer(container.id, force: true)
            }
        }
    }

    /// Shutdown(force: true): every running container of this namespace is stopped.
    func stopAllForShutdown() async {
        guard let all = try? await state.containers() else { return }
        await withTaskGroup(of: Void.self) { group in
            for container in all where [.running, .paused, .stopping, .created].contains(container.state.status) {
                group.addTask {
                    if container.state.status == .paused { try? await self.unpauseContainer(container.id) }
                    try? await self.stopContainer(container.id)
                }
            }
        }
    }
}

/// Signal names as images and users write them.
public enum Signals {
    public static let names: [String: Int32] = [
        "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8, "KILL": 9, "USR1": 10,
        "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16, "CHLD": 17, "CONT": 18,
        "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26,
        "PROF": 27, "WINCH": 28, "IO": 29, "PWR": 30, "SYS": 31,
    ]

    /// "SIGTERM", "TERM", "15" -> 15.
    public static func number(_ text: String) throws(LibpodError) -> Int32 {
        if let value = Int32(text), (1...64).contains(value) { return value }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        guard let value = names[name] else { throw .invalidArgument("invalid signal: \"\(text)\" is not a signal name or number") }
        return value
    }
}

extension Runtime {
    /// What a long-running owner of the runtime (the daemon) calls from time to time:
    /// containers whose exit conmon has recorded are cleaned up (root file system
    /// unmounted, runtime state deleted) without waiting for someone to look at them;
    /// those that asked to be removed on exit are removed, and those whose restart
    /// policy says so are started again.
    public func reapExitedContainers() async {
        guard let all = try? await state.containers() else { return }
        for container in all
        where [.running, .paused, .stopping, .created].contains(container.state.status) && FileSystem.exists(exitWatcher.exitFile(container.id)) {
            let synced = try? await updateContainer(container.id) { (fresh: inout Container) async throws(LibpodError) -> Container in
                try await sync(&fresh)
                return fresh
            }
            guard let synced, synced.state.status == .exited else { continue }
            if synced.config.autoRemove {
                await bestEffort("removing \(synced.id.prefix(12)) on exit (--rm)") { () async throws(LibpodError) in
                    try await removeContainer(synced.id)
                }
            } else if Self.restarts(synced) {
                await bestEffort("restarting \(synced.id.prefix(12)) (restart policy \(synced.config.restartPolicy.description))") {
                    () async throws(LibpodError) in
                    try await finishing { () async throws(LibpodError) in
                        try await self.updateContainer(synced.id) { (container: inout Container) async throws(LibpodError) in
                            // Someone else may have acted on it meanwhile.
                            guard container.state.status == .exited, !container.state.stoppedByUser else { return }
                            try await self.start(&container)
                            container.state.restartCount += 1
                        }
                    }
                }
            }
        }
    }

    /// podman's rules: always and unless-stopped restart unless the user stopped the
    /// container; on-failure restarts a non-zero exit, at most `maximumRetries` times.
    static func restarts(_ container: Container) -> Bool {
        let policy = container.config.restartPolicy
        guard !container.state.stoppedByUser else { return false }
        switch policy.name {
        case .no: return false
        case .always, .unlessStopped: return true
        case .onFailure:
            return container.state.exitCode != 0 && (policy.maximumRetries == 0 || container.state.restartCount < policy.maximumRetries)
        }
    }
}
