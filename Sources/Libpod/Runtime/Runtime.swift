import Foundation
import Glibc
import Logging
import Synchronization

/// The libpod runtime: made once from defaults, a config file and options (in that
/// order); valid only when everything it needs was found and opened. Several runtimes
/// (in one process or many) may use the same directories at once: everything they share
/// is guarded by file locks and SQLite.
public final class Runtime: Sendable {
    public let config: RuntimeConfig
    /// The config file that was read, if any.
    public let configFile: String?
    public let ociRuntime: DiscoveredExecutable
    public let conmon: DiscoveredExecutable
    public let state: any StateStore
    public let locks: LockManager
    public let events: EventLog
    public let paths: RuntimePaths
    /// Whether creating this runtime performed the after-reboot refresh.
    public let didRefresh: Bool
    /// Local images and their layers.
    public let images: ImageStore
    let storage: ContainerStorage
    let exitWatcher: ExitWatcher
    /// hooks_dir's hooks and default_mounts_file's mounts, read once.
    let hooks: OCIHooks
    let defaultMounts: [BindMount]
    let networkTeardowns = NetworkTeardowns()
    /// Files sent by clients and prepared for them (SendFile, ReceiveFile).
    public var transfers: TransferArea {
        TransferArea(directory: config.staticDir + "/transfers", sizeLimit: config.maxTransferSize)
    }
    /// Where failures that must not fail the operation around them are reported (a
    /// cleanup step, an event that could not be recorded).
    public let logger: Logger
    /// The connection pool registry operations share.
    let registryHTTP = RegistryHTTP()
    private let valid = Atomic<Bool>(true)

    private init(
        config: RuntimeConfig, configFile: String?, ociRuntime: DiscoveredExecutable, conmon: DiscoveredExecutable,
        state: any StateStore, locks: LockManager, events: EventLog, paths: RuntimePaths, didRefresh: Bool,
        images: ImageStore, storage: ContainerStorage, exitWatcher: ExitWatcher, hooks: OCIHooks, defaultMounts: [BindMount],
        logger: Logger
    ) {
        self.config = config
        self.configFile = configFile
        self.ociRuntime = ociRuntime
        self.conmon = conmon
        self.state = state
        self.locks = locks
        self.events = events
        self.paths = paths
        self.didRefresh = didRefresh
        self.images = images
        self.storage = storage
        self.exitWatcher = exitWatcher
        self.hooks = hooks
        self.defaultMounts = defaultMounts
        self.logger = logger
    }

    /// Makes a runtime: defaults, then the config file `source` selects, then `options`.
    /// Finds the OCI runtime and conmon, creates the directories, opens the state, and
    /// refreshes it when the machine rebooted since the runtime last ran.
    public static func create(
        configFile source: ConfigFileSource = .standard,
        logger: Logger = Logger(label: "podlink.runtime"),
        options: (inout RuntimeConfig) -> Void = { _ in }
    ) async throws(LibpodError) -> Runtime {
        let environment = RuntimeConfig.processEnvironment()
        var config = try RuntimeConfig.defaults(environment: environment)
        let file = try ConfigFile.locate(source, uid: UserNamespace.current.hostUID, environment: environment)
        if let file { try ConfigFile.apply(path: file, to: &config) }
        options(&config)
        try validate(config)

        let ociRuntime = try ExecutableDiscovery.ociRuntime(paths: config.runtimePath)
        let conmon = try ExecutableDiscovery.conmon(paths: config.conmonPath)
        let hooks = try OCIHooks(directories: config.hooksDir, missingIsFatal: config.hooksDirNotExistFatal)
        let defaultMounts = try DefaultMounts.read(config.defaultMountsFile)

        let paths = RuntimePaths(config: config)
        try FileSystem.ensureDirectory(config.staticDir, mode: 0o700)
        try FileSystem.ensureDirectory(config.tmpDir, mode: 0o700)
        for directory in paths.perBootDirectories { try FileSystem.ensureDirectory(directory, mode: 0o700) }
        let locks = try LockManager(directory: paths.lockDir)
        let events = try EventLog(directory: paths.eventsDir)

        let state: any StateStore
        switch config.stateType {
        case .memory:
            state = InMemoryStateStore(namespace: config.namespace)
        case .sqlite:
            state = try SQLiteStateStore(
                path: paths.stateDatabase, namespace: config.namespace,
                paths: .init(
                    staticDir: config.staticDir, tmpDir: config.tmpDir, storageRoot: config.resolvedStorageRoot,
                    storageDriver: config.storageDriver.rawValue))
        }
        var exitWatcher: ExitWatcher?
        do {
            let images = try ImageStore(root: config.resolvedStorageRoot)
            let storage = ContainerStorage(
                root: config.resolvedStorageRoot + "/containers", driver: config.storageDriver,
                mountProgram: config.overlayMountProgram.isEmpty ? nil : config.overlayMountProgram)
            try FileSystem.ensureDirectory(storage.root, mode: 0o700)
            try FileSystem.ensureDirectory(paths.containersDir, mode: 0o700)
            let refreshed = try await RebootRefresh.runIfNeeded(paths: paths, state: state, events: events, logger: logger)
            exitWatcher = try ExitWatcher(directory: paths.exitsDir)
            let runtime = Runtime(
                config: config, configFile: file, ociRuntime: ociRuntime, conmon: conmon, state: state, locks: locks,
                events: events, paths: paths, didRefresh: refreshed, images: images, storage: storage,
                exitWatcher: exitWatcher!, hooks: hooks, defaultMounts: defaultMounts, logger: logger)
            if refreshed {
                await runtime.releaseNetworksAfterRefresh()
                await runtime.mountVolumesAfterRefresh()
                try await runtime.removeAfterRefresh()
            } else {
                await runtime.releaseNetworksLeftBehind()
            }
            runtime.transfers.sweep()
            return runtime
        } catch {
            exitWatcher?.stop()
            await state.close()
            throw error
        }
    }

    private static func validate(_ config: RuntimeConfig) throws(LibpodError) {
        func refuse(_ key: String, _ message: String) -> LibpodError { .config(ConfigError(file: "(configuration)", key: key, message: message)) }
        if config.cgroupManager == .systemd {
            throw refuse("cgroup_manager", "\"systemd\" is not supported: Podlink places containers in cgroups through cgroupfs; set cgroup_manager = \"cgroupfs\"")
        }
        if config.enableLabeling, FileSystem.exists("/sys/fs/selinux/enforce") {
            throw refuse("label", "SELinux is enabled on this machine and Podlink does not label containers; set label = false")
        }
        if config.imageDefaultTransport != "docker://" {
            throw refuse("image_default_transport", "\"\(config.imageDefaultTransport)\" is not supported; Podlink resolves bare image names as docker:// references")
        }
        for (key, value) in [("static_dir", config.staticDir), ("tmp_dir", config.tmpDir)] where !value.hasPrefix("/") {
            throw .config(ConfigError(file: "(options)", key: key, message: "expected an absolute path, found \"\(value)\""))
        }
        if !config.namespace.isEmpty {
            do { try ContainerNaming.validate(name: config.namespace) } catch {
                throw .config(ConfigError(file: "(options)", key: "namespace", message: "\"\(config.namespace)\" is not a valid namespace name"))
            }
        }
    }

    /// Fails once the runtime has been shut down.
    public func checkValid() throws(LibpodError) {
        guard valid.load(ordering: .acquiring) else { throw .runtimeStopped }
    }

    /// Stops using the runtime: with `force`, stops every running container of this
    /// namespace first (each with its own stop timeout); then closes the state.
    /// A second shutdown is an error, as in the seed.
    public func shutdown(force: Bool = false) async throws(LibpodError) {
        guard valid.load(ordering: .acquiring) else { throw .runtimeStopped }
        if force { await stopAllForShutdown() }
        guard valid.exchange(false, ordering: .acquiringAndReleasing) else { throw .runtimeStopped }
        await networkTeardowns.waitForAll()
        await registryHTTP.shutdown()
        exitWatcher.stop()
        await state.close()
    }

    // MARK: - Containers in the state

    /// The container with this full ID, name or unique ID prefix.
    public func container(_ idOrName: String) async throws(LibpodError) -> Container {
        try checkValid()
        return try await state.lookup(idOrName)
    }

    /// The full ID of the container with this full ID, name or unique ID prefix.
    public func containerID(_ idOrName: String) async throws(LibpodError) -> String {
        try checkValid()
        return try await state.lookupID(idOrName)
    }

    /// Every container this runtime's namespace sees, oldest first.
    public func containers() async throws(LibpodError) -> [Container] {
        try checkValid()
        return try await state.containers()
    }

    /// A generated `adjective_surname` name that no container or pod has.
    public func generateName() async throws(LibpodError) -> String {
        try checkValid()
        let state = self.state
        return try await NameGenerator.generate { name throws(LibpodError) in try await state.nameInUse(name) }
    }

    /// Registers a new container (state configured) from `draft`: an empty ID gets a new
    /// one, an empty name a generated one, an empty namespace this runtime's.
    @discardableResult
    public func addContainer(_ draft: ContainerConfig) async throws(LibpodError) -> Container {
        try checkValid()
        var config = draft
        if config.id.isEmpty { config.id = ContainerNaming.newID() }
        guard ContainerNaming.isFullID(config.id) else {
            throw .invalidArgument("container ID \"\(config.id)\" is not 64 lowercase hex digits")
        }
        if config.name.isEmpty { config.name = try await generateName() }
        try ContainerNaming.validate(name: config.name)
        if config.namespace.isEmpty { config.namespace = self.config.namespace }
        let container = Container(config: config)
        try await state.add(container)
        record(Event(type: .container, status: "create", id: config.id, name: config.name))
        return container
    }

    /// Reads the container, lets `body` change its state, saves it: all under the
    /// container's lock, so no update from another task or process is lost.
    @discardableResult
    public func updateContainer<R: Sendable>(
        _ id: String, _ body: (inout Container) async throws(LibpodError) -> R
    ) async throws(LibpodError) -> R {
        try checkValid()
        return try await locks.withContainerLock(id) { () async throws(LibpodError) -> R in
            var container = try await state.container(id: id)
            let before = container.state
            let result = try await body(&container)
            if container.state != before { try await state.save(container.state, id: id) }
            return result
        }
    }

    /// Appends to the event log. The operation the event reports has happened: a log
    /// that cannot be written is reported, never turned into the operation's failure.
    public func record(_ event: Event) {
        do {
            try events.append(event)
        } catch {
            logger.warning("could not record the event", metadata: ["event": "\(event.type.rawValue) \(event.status)", "error": "\(error)"])
        }
    }

    /// Runs a state change to its end even when its caller goes away: a client that hangs
    /// up in the middle of a stop must not leave the container `stopping`, nor cut a
    /// `crun create` short. The caller still waits for the result.
    func finishing<T: Sendable>(_ body: @escaping @Sendable () async throws(LibpodError) -> T) async throws(LibpodError) -> T {
        // An unstructured task: it does not inherit the caller's cancellation (nor its
        // executor preference, so it never runs on the caller's event loop).
        try await Self.result(of: Task { () async throws -> T in try await body() })
    }

    /// The result of a task that throws only `LibpodError` but, being a `Task`, is typed
    /// `any Error`.
    static func result<T: Sendable>(of task: Task<T, any Error>) async throws(LibpodError) -> T {
        do {
            return try await task.value
        } catch let error as LibpodError {
            throw error
        } catch {
            throw .cancelled("\(error)")
        }
    }

    /// Runs a step whose failure must not stop the operation around it (a cleanup after
    /// another failure, a signal to a process that may be gone already), and reports it.
    func bestEffort(_ what: @autoclosure () -> String, _ body: () throws(LibpodError) -> Void) {
        do {
            try body()
        } catch {
            logger.notice("\(what()) failed", metadata: ["error": "\(error)"])
        }
    }

    func bestEffort(_ what: @autoclosure () -> String, _ body: () async throws(LibpodError) -> Void) async {
        do {
            try await body()
        } catch {
            logger.notice("\(what()) failed", metadata: ["error": "\(error)"])
        }
    }

    /// Podman's `info`.
    public func info() async throws(LibpodError) -> RuntimeInfo {
        try checkValid()
        let containers = try await state.containers()
        let registries = HostProbe.registries()
        return RuntimeInfo(
            host: await HostProbe.host(config: config, runtime: ociRuntime, conmon: conmon),
            store: StoreInfo(
                staticDir: config.staticDir, tmpDir: config.tmpDir, storageRoot: config.resolvedStorageRoot,
                storageDriver: config.storageDriver.rawValue, stateType: config.stateType.rawValue,
                imageCount: (try? images.images().count) ?? 0, containerCount: containers.count,
                runningContainerCount: containers.count { $0.state.status == .running },
                pausedContainerCount: containers.count { $0.state.status == .paused },
                stoppedContainerCount: containers.count { [.stopped, .exited, .created, .configured].contains($0.state.status) },
                backingFilesystem: HostProbe.fileSystemName(config.resolvedStorageRoot)),
            registries: registries.search, insecureRegistries: registries.insecure, blockedRegistries: registries.blocked)
    }
}

/// Where a runtime keeps its files.
public struct RuntimePaths: Sendable, Equatable {
    public var stateDatabase: String
    /// Per boot (under tmp_dir): locks, events, conmon's exit files and sockets, run files.
    public var lockDir: String
    public var eventsDir: String
    public var exitsDir: String
    public var socketDir: String
    public var containersRunDir: String
    public var aliveFile: String
    public var aliveLock: String
    /// Containers' network namespaces, bind-mounted (per boot).
    public var netnsDir: String
    /// slirp4netns's API sockets of rootless containers with published ports (per boot).
    public var slirpDir: String
    /// What CNI gave each connected container (kept across reboots, to release it).
    public var networkStatusDir: String
    /// Persistent (under static_dir): bundles and logs.
    public var containersDir: String
    /// Named volumes, a directory each (podman's volume_path).
    public var volumesDir: String

    init(config: RuntimeConfig) {
        stateDatabase = config.staticDir + "/state.sqlite"
        lockDir = config.tmpDir + "/lock"
        eventsDir = config.tmpDir + "/events"
        exitsDir = config.tmpDir + "/exits"
        socketDir = config.tmpDir + "/socket"
        containersRunDir = config.tmpDir + "/containers"
        aliveFile = config.tmpDir + "/alive"
        aliveLock = config.tmpDir + "/alive.lck"
        netnsDir = config.tmpDir + "/netns"
        slirpDir = config.tmpDir + "/slirp"
        networkStatusDir = config.staticDir + "/cni/status"
        containersDir = config.staticDir + "/containers"
        volumesDir = config.staticDir + "/volumes"
    }

    var perBootDirectories: [String] { [lockDir, eventsDir, exitsDir, socketDir, containersRunDir] }
}
