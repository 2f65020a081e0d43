import Foundation
import Glibc
import PodlinkInterfaces
import Varlink
import VarlinkNIO

/// A connection to a Podlink (or podman 1.x) io.podman service.
///
/// `api` is the generated client: every io.podman method, typed, with io.podman's errors
/// thrown as typed errors (`IoPodman.ContainerNotFound`, `IoPodman.InvalidState`, ...).
/// The methods here are the thin idiomatic layer over it for the common cases.
///
/// ```swift
/// let podman = try await PodmanClient.connect()
/// let exit = try await podman.run(image: "busybox", command: ["echo", "hello"])
/// ```
public struct PodmanClient: Sendable {
    /// Every io.podman method, as generated from interfaces/io.podman.varlink.
    public let api: IoPodman.Client
    /// Podlink's methods beyond io.podman (networks, copies), from interfaces/io.podlink.varlink.
    public let podlink: IoPodlink.Client
    private let connection: VarlinkConnection
    /// Where the daemon is: upgraded calls (files, exec, attach) take a connection of their own.
    public let address: VarlinkAddress

    /// The socket podlinkd listens on by default: `/run/podlink/io.podman` as root,
    /// `$XDG_RUNTIME_DIR/podlink/io.podman` otherwise.
    public static var defaultAddress: String {
        if geteuid() == 0 { return "unix:/run/podlink/io.podman" }
        let runtimeDirectory = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"] ?? "/run/user/\(geteuid())"
        return "unix:\(runtimeDirectory)/podlink/io.podman"
    }

    /// Connects to `address`, else `$PODLINK_ADDRESS`, else the default socket.
    public static func connect(to address: String? = nil) async throws -> PodmanClient {
        let text = address ?? ProcessInfo.processInfo.environment["PODLINK_ADDRESS"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultAddress
        let address = try VarlinkAddress(text)
        let connection = try await VarlinkConnection.connect(to: address)
        return PodmanClient(connection: connection, address: address)
    }

    private init(connection: VarlinkConnection, address: VarlinkAddress) {
        self.connection = connection
        self.address = address
        self.api = IoPodman.Client(transport: connection)
        self.podlink = IoPodlink.Client(transport: connection)
    }

    /// Closes the connection; calls in flight fail.
    public func close() async {
        await connection.close()
    }

    // MARK: - Containers

    /// What `create` takes beyond the image; every field maps onto io.podman's Create.
    public struct CreateOptions: Sendable {
        public var name: String?
        public var env: [String: String] = [:]
        public var labels: [String: String] = [:]
        public var workingDirectory: String?
        public var user: String?
        public var hostname: String?
        /// `512m`, `1g`, or bytes.
        public var memory: String?
        /// `bridge` (podman's default, when nil), a network's name (or several, comma
        /// separated), `none`, `host`, `container:NAME`, `ns:PATH`.
        public var network: String?
        /// `[ip:][hostPort:]containerPort[/tcp|udp]`, as podman's `-p`.
        public var publish: [String] = []
        /// Every port the image exposes, on a free host port (`-P`).
        public var publishAll = false
        /// A static address on the (single) network.
        public var ip: String?
        public var macAddress: String?
        /// Name servers, search domains and extra /etc/hosts entries (`host:ip`).
        public var dns: [String] = []
        public var dnsSearch: [String] = []
        public var addHosts: [String] = []
        /// `/host:/container[:ro]`
        public var volumes: [String] = []
        /// The pod (name or ID) to join: the container shares the pod's network, IPC and
        /// UTS namespaces with its infra container.
        public var pod: String?
        public var readOnly = false
        public var removeWhenDone = false
        public var tty = false
        /// Any other of podman's create flags, on io.podman's Create as podman-remote sends
        /// them (`create.restart = "always"`, `create.capAdd = ["NET_ADMIN"]`, ...).
        public var customize: @Sendable (inout IoPodman.Create) -> Void = { _ in }

        public init() {}
    }

    /// Creates a container from `image` running `command` (the image's own when empty);
    /// returns its ID.
    public func create(image: String, command: [String] = [], options: CreateOptions = CreateOptions()) async throws -> String {
        var create = IoPodman.Create(args: [image] + command)
        create.name = options.name
        create.env = options.env.isEmpty ? nil : options.env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        create.label = options.labels.isEmpty ? nil : options.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        create.workDir = options.workingDirectory
        create.user = options.user
        create.hostname = options.hostname
        create.memory = options.memory
        create.network = options.network
        create.publish = options.publish.isEmpty ? nil : options.publish
        create.publishAll = options.publishAll ? true : nil
        create.ip = options.ip
        create.macAddress = options.macAddress
        create.dns = options.dns.isEmpty ? nil : options.dns
        create.dnsSearch = options.dnsSearch.isEmpty ? nil : options.dnsSearch
        create.addHost = options.addHosts.isEmpty ? nil : options.addHosts
        create.volume = options.volumes.isEmpty ? nil : options.volumes
        create.pod = options.pod
        create.readonly = options.readOnly ? true : nil
        create.rm = options.removeWhenDone ? true : nil
        create.tty = options.tty ? true : nil
        options.customize(&create)
        return try await api.createContainer(create: create).container
    }

    public func start(_ nameOrID: String) async throws { _ = try await api.startContainer(name: nameOrID) }

    /// Stops with the stop signal, then SIGKILL after `timeout` (the container's own when nil).
    public func stop(_ nameOrID: String, timeout: Duration? = nil) async throws {
        _ = try await api.stopContainer(name: nameOrID, timeout: timeout.map { Int($0.components.seconds) } ?? -1)
    }

    public func kill(_ nameOrID: String, signal: Int32 = 9) async throws { _ = try await api.killContainer(name: nameOrID, signal: Int(signal)) }
    public func pause(_ nameOrID: String) async throws { _ = try await api.pauseContainer(name: nameOrID) }
    public func unpause(_ nameOrID: String) async throws { _ = try await api.unpauseContainer(name: nameOrID) }

    public func restart(_ nameOrID: String, timeout: Duration? = nil) async throws {
        _ = try await api.restartContainer(name: nameOrID, timeout: timeout.map { Int($0.components.seconds) } ?? -1)
    }

    /// Waits for the container to exit and returns its exit code. (The interval, a Go
    /// duration in nanoseconds as io.podman defines it, only bounds how long the service
    /// goes without re-checking; it sees the exit at once.)
    public func wait(_ nameOrID: String) async throws -> Int {
        try await api.waitContainer(name: nameOrID, interval: 250_000_000).exitcode
    }

    /// Removes a container; with `removeVolumes`, its anonymous volumes too (`rm -v`).
    public func remove(_ nameOrID: String, force: Bool = false, removeVolumes: Bool = false) async throws {
        _ = try await api.removeContainer(name: nameOrID, force: force, removeVolumes: removeVolumes)
    }

    /// Create, start, wait and remove (`podman run --rm`): returns the exit code. The
    /// container is created to be removed when it exits, so the daemon gives it a
    /// disposable writable layer and removes it itself once `wait` has seen the exit.
    public func run(image: String, command: [String] = [], options: CreateOptions = CreateOptions()) async throws -> Int {
        var options = options
        options.removeWhenDone = true
        let id = try await create(image: image, command: command, options: options)
        do {
            try await start(id)
            let code = try await wait(id)
            try await removeIfPresent(id)
            return code
        } catch {
            try? await removeIfPresent(id)
            throw error
        }
    }

    /// The daemon may have removed it already (it was created to be removed on exit).
    private func removeIfPresent(_ id: String) async throws {
        do {
            try await remove(id, force: true)
        } catch is IoPodman.ContainerNotFound {
            return
        }
    }

    public func containers() async throws -> [IoPodman.Container] { try await api.listContainers().containers }

    /// What `ps` asks for: every container or the running ones, filtered (podman's
    /// `key=value` filters), the newest `last`, sorted by a podman sort key.
    public struct ListOptions: Sendable {
        public var all = false
        public var filters: [String] = []
        public var last: Int?
        public var latest = false
        public var sizes = false
        public var sort = "created"
        public var noTruncation = false

        public init() {}
    }

    /// podman ps: the service's rows, formatted as podman 1.9 formats them.
    public func list(_ options: ListOptions = ListOptions()) async throws -> [IoPodman.PsContainer] {
        try await api.ps(opts: IoPodman.PsOpts(
            all: options.all, filters: options.filters, last: options.last ?? -1, latest: options.latest,
            noTrunc: options.noTruncation, pod: false, quiet: false, size: options.sizes, sort: options.sort, sync: false)).containers
    }

    /// podman top: a header row, then a row per process, in the columns asked for
    /// (podman's defaults when none are).
    public func top(_ nameOrID: String, descriptors: [String] = []) async throws -> [[String]] {
        try await api.top(nameOrID: nameOrID, descriptors: descriptors).top.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Mounts the container's root file system on the daemon's machine; returns where.
    public func mount(_ nameOrID: String) async throws -> String { try await api.mountContainer(name: nameOrID).path }

    public func unmount(_ nameOrID: String, force: Bool = false) async throws {
        _ = try await api.unmountContainer(name: nameOrID, force: force)
    }

    /// Changes against the image: (kind A/C/D, path).
    public func diff(_ nameOrID: String) async throws -> [(kind: String, path: String)] {
        try await api.diff(name: nameOrID).diffs.map { ($0.changeType, $0.path) }
    }

    /// Removes every container that is not running; returns their IDs.
    public func pruneContainers() async throws -> [String] { try await api.deleteStoppedContainers().containers }

    /// Runs the container's healthcheck now; whether it passed.
    public func healthcheck(_ nameOrID: String) async throws -> Bool {
        try await api.healthCheckRun(nameOrID: nameOrID).healthCheckStatus == "healthy"
    }

    public func exists(_ nameOrID: String) async throws -> Bool { try await api.containerExists(name: nameOrID).exists == 0 }

    /// podman's inspect JSON for the container.
    public func inspect(_ nameOrID: String) async throws -> String { try await api.inspectContainer(name: nameOrID).container }

    /// The container's output as lines: what is there, then (with `follow`) new lines
    /// until the container stops.
    public func logs(_ nameOrID: String, follow: Bool = false, tail: Int? = nil) -> AsyncThrowingStream<IoPodman.LogLine, any Error> {
        let replies = api.stream(
            IoPodman.Methods.GetContainersLogs.self,
            .init(names: [nameOrID], follow: follow, latest: false, since: "", tail: tail ?? -1, timestamps: false))
        return Self.items(of: replies) { $0.log.device.isEmpty ? nil : $0.log }
    }

    /// Events as they happen (and from `since`, if given), until the consumer stops.
    public func events(filters: [String] = [], since: String = "") -> AsyncThrowingStream<IoPodman.Event, any Error> {
        let replies = api.stream(IoPodman.Methods.GetEvents.self, .init(filter: filters, since: since, until: ""))
        return Self.items(of: replies) { $0.events.status.isEmpty ? nil : $0.events }
    }

    /// The items of a `more` stream; `item` returns nil for the empty final reply the
    /// service ends such streams with.
    private static func items<M: VarlinkInterfaceMethod, Item: Sendable>(
        of replies: VarlinkReplyStream<M>, _ item: @escaping @Sendable (M.Reply) -> Item?
    ) -> AsyncThrowingStream<Item, any Error> where M.Reply: Sendable {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await reply in replies {
                        if let value = item(reply) { continuation.yield(value) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: - Exec and attach

    /// What `exec` takes besides the command.
    public struct ExecOptions: Sendable {
        /// Give the process input (`write`, `closeInput`); without it, it reads end-of-file.
        public var interactive = false
        /// A terminal for the process (its output then comes as stdout only).
        public var tty = false
        public var privileged = false
        public var user: String?
        public var workingDirectory: String?
        public var env: [String: String] = [:]
        /// Keys that detach from the session (podman's `ctrl-p,ctrl-q` by default).
        public var detachKeys: String?

        public init() {}
    }

    /// Runs `command` in the running container `nameOrID` (podman exec).
    public func exec(_ nameOrID: String, command: [String], options: ExecOptions = ExecOptions()) async throws -> AttachedProcess {
        let opts = IoPodman.ExecOpts(
            name: nameOrID, tty: options.tty, privileged: options.privileged, cmd: command, user: options.user ?? "",
            workdir: options.workingDirectory ?? "", env: options.env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
            detachKeys: options.detachKeys ?? "")
        return try await AttachedProcess.start(address: address, interactive: options.interactive) { client, body in
            try await client.varlink.upgrade(IoPodman.Methods.ExecContainer.self, .init(opts: opts)) { _, raw in try await body(raw) }
        }
    }

    /// Runs `command` in the container to its end and collects what it wrote.
    public func execCollecting(_ nameOrID: String, command: [String], input: [UInt8]? = nil, options: ExecOptions = ExecOptions())
        async throws -> (exitCode: Int32, stdout: [UInt8], stderr: [UInt8])
    {
        var options = options
        options.interactive = input != nil
        let process = try await exec(nameOrID, command: command, options: options)
        if let input {
            process.write(input)
            process.closeInput()
        }
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        for try await chunk in process.output {
            switch chunk {
            case .stdout(let bytes): stdout += bytes
            case .stderr(let bytes): stderr += bytes
            }
        }
        return (try await process.exitCode(), stdout, stderr)
    }

    /// Attaches to the container's input and output (podman attach); with `start`, starts
    /// it first without losing its first output (podman start -a, run). `interactive`
    /// sends input, for a container created with `openStdin`.
    public func attach(_ nameOrID: String, start: Bool = false, interactive: Bool = false, detachKeys: String? = nil) async throws
        -> AttachedProcess
    {
        try await AttachedProcess.start(address: address, interactive: interactive) { client, body in
            try await client.varlink.upgrade(
                IoPodman.Methods.Attach.self, .init(name: nameOrID, detachKeys: detachKeys ?? "", start: start)
            ) { _, raw in try await body(raw) }
        }
    }

    // MARK: - Networks

    /// The container's published ports (`podman port`).
    public func ports(_ nameOrID: String) async throws -> [IoPodman.ContainerPortMappings] {
        try await api.getContainer(id: nameOrID).container.ports
    }

    /// The CNI networks of the daemon (`podman network ls`).
    public func networks() async throws -> [IoPodlink.Network] { try await podlink.listNetworks().networks }

    // MARK: - Pods

    /// Creates a pod with an infra container (unless `infra` is false) that holds the
    /// namespaces its containers share and the ports it publishes; returns its ID.
    @discardableResult
    public func createPod(
        _ name: String? = nil, labels: [String: String] = [:], publish: [String] = [], share: [String]? = nil, infra: Bool = true
    ) async throws -> String {
        try await api.createPod(create: .init(
            name: name ?? "", cgroupParent: "", labels: labels, share: share ?? ["ipc", "net", "uts"], infra: infra,
            infraCommand: "", infraImage: "", publish: publish)).pod
    }

    /// Every pod, with its containers.
    public func pods() async throws -> [IoPodman.ListPodData] { try await api.listPods().pods }

    public func pod(_ nameOrID: String) async throws -> IoPodman.ListPodData { try await api.getPod(name: nameOrID).pod }

    /// podman's pod inspect document, as JSON.
    public func inspectPod(_ nameOrID: String) async throws -> String { try await api.inspectPod(name: nameOrID).pod }

    public func startPod(_ nameOrID: String) async throws { _ = try await api.startPod(name: nameOrID) }

    /// Stops the pod's containers, then its infra container; `timeout` seconds before
    /// SIGKILL (each container's own stop timeout when nil).
    public func stopPod(_ nameOrID: String, timeout: Int? = nil) async throws { _ = try await api.stopPod(name: nameOrID, timeout: timeout ?? -1) }

    public func restartPod(_ nameOrID: String) async throws { _ = try await api.restartPod(name: nameOrID) }

    public func killPod(_ nameOrID: String, signal: Int32 = SIGKILL) async throws { _ = try await api.killPod(name: nameOrID, signal: Int(signal)) }

    public func pausePod(_ nameOrID: String) async throws { _ = try await api.pausePod(name: nameOrID) }

    public func unpausePod(_ nameOrID: String) async throws { _ = try await api.unpausePod(name: nameOrID) }

    /// Removes the pod; one with containers is refused unless `force`, which removes them.
    public func removePod(_ nameOrID: String, force: Bool = false) async throws { _ = try await api.removePod(name: nameOrID, force: force) }

    // MARK: - Kubernetes

    /// A pod (or a single container) as Kubernetes v1 Pod YAML, and a Service's YAML for
    /// its ports when `service` is true ("" otherwise).
    public func generateKube(_ nameOrID: String, service: Bool = false) async throws -> (pod: String, service: String) {
        let reply = try await api.generateKube(name: nameOrID, service: service).pod
        return (reply.pod, reply.service)
    }

    /// Creates (and starts, unless `start` is false) the pods of Kubernetes Pod YAML.
    @discardableResult
    public func playKube(_ yaml: String, start: Bool = true) async throws -> [IoPodlink.PlayedPod] {
        try await podlink.playKube(yaml: yaml, start: start).pods
    }

    // MARK: - Volumes

    /// Creates a named volume (a new name is made when `name` is nil); returns its name.
    /// `options` are the local driver's `type`, `o` and `device` (a tmpfs, a bind).
    @discardableResult
    public func createVolume(_ name: String? = nil, labels: [String: String] = [:], options: [String: String] = [:]) async throws -> String {
        try await api.volumeCreate(options: .init(volumeName: name ?? "", driver: "", labels: labels, options: options)).volumeName
    }

    /// Every volume.
    public func volumes() async throws -> [IoPodman.Volume] { try await api.getVolumes(args: [], all: true).volumes }

    /// The volume's inspect document (podman's InspectVolumeData) as JSON.
    public func inspectVolume(_ name: String) async throws -> String { try await api.inspectVolume(name: name).volume }

    /// Removes a volume; one in use is refused unless `force`, which removes its containers.
    public func removeVolume(_ name: String, force: Bool = false) async throws {
        let reply = try await api.volumeRemove(options: .init(volumes: [name], all: false, force: force))
        if let failure = reply.failures[name] { throw PodmanClientError(failure) }
    }

    /// Removes every volume no container uses; returns their names.
    public func pruneVolumes() async throws -> [String] {
        let reply = try await api.volumesPrune()
        if let failure = reply.prunedErrors.first { throw PodmanClientError(failure) }
        return reply.prunedNames
    }

    /// The network's configuration file, as JSON (`podman network inspect`).
    public func inspectNetwork(_ name: String) async throws -> String { try await podlink.inspectNetwork(name: name).config }

    /// A new bridge network (`podman network create`); what `create` leaves out is chosen.
    @discardableResult
    public func createNetwork(_ create: IoPodlink.NetworkCreate) async throws -> IoPodlink.Network {
        try await podlink.createNetwork(create: create).network
    }

    /// Removes a network (`podman network rm`); with `force`, the containers on it first,
    /// whose names are returned.
    @discardableResult
    public func removeNetwork(_ name: String, force: Bool = false) async throws -> [String] {
        try await podlink.removeNetwork(name: name, force: force).removedContainers
    }

    // MARK: - Images

    public func images() async throws -> [IoPodman.Image] { try await api.listImages().images }

    /// What a pull reports: its progress lines as they happen, then the image's ID.
    public enum PullProgress: Sendable, Equatable {
        case log(String)
        case pulled(imageID: String)
    }

    /// podman pull: the daemon fetches `reference` (short names through its
    /// registries.conf) with `credentials`, or those its auth file keeps for the registry.
    /// The sequence ends with `.pulled`; a failure ends it with the daemon's error.
    /// A platform to take from a manifest list (podman's --override-os/arch/variant);
    /// nil parts are the daemon's machine's.
    public struct Platform: Sendable, Equatable {
        public var os: String?
        public var architecture: String?
        public var variant: String?

        public init(os: String? = nil, architecture: String? = nil, variant: String? = nil) {
            self.os = os
            self.architecture = architecture
            self.variant = variant
        }
    }

    public func pull(
        _ reference: String, credentials: (username: String, password: String)? = nil, platform: Platform? = nil
    ) -> AsyncThrowingStream<PullProgress, any Error> {
        @Sendable func progress(_ logs: [String], _ id: String) -> PullProgress { id.isEmpty ? .log(logs.joined()) : .pulled(imageID: id) }
        guard let platform else {
            let creds = IoPodman.AuthConfig(username: credentials?.username ?? "", password: credentials?.password ?? "")
            return Self.items(of: api.stream(IoPodman.Methods.PullImage.self, .init(name: reference, creds: creds))) { progress($0.reply.logs, $0.reply.id) }
        }
        // io.podman's PullImage has no platform: io.podlink's Pull does.
        let parameters = IoPodlink.Methods.Pull.Parameters(
            name: reference, username: credentials?.username, password: credentials?.password, os: platform.os, arch: platform.architecture,
            variant: platform.variant)
        return Self.items(of: podlink.stream(IoPodlink.Methods.Pull.self, parameters)) { progress($0.logs, $0.id) }
    }

    /// Pulls and returns the image's ID, without the progress.
    public func pullImage(
        _ reference: String, credentials: (username: String, password: String)? = nil, platform: Platform? = nil
    ) async throws -> String {
        for try await step in pull(reference, credentials: credentials, platform: platform) {
            if case .pulled(let id) = step { return id }
        }
        throw PodmanClientError("the daemon ended the pull of \(reference) without an image ID")
    }

    /// podman push of `image` to `destination` (`host[:port]/name[:tag]`); `format` is
    /// "" (keep), "oci" or "v2s2". Returns the daemon's progress lines.
    @discardableResult
    public func push(_ image: String, to destination: String, format: String = "") async throws -> [String] {
        try await api.pushImage(name: image, tag: destination, compress: false, format: format, removeSignatures: false, signBy: "").reply.logs
    }

    /// Repositories of the daemon's search registries (or of `HOST/` in `term`) whose
    /// names contain the term.
    public func search(_ term: String, limit: Int = 25) async throws -> [IoPodman.ImageSearchResult] {
        try await api.searchImages(query: term, limit: limit, filter: IoPodman.ImageSearchFilter(isOfficial: nil, isAutomated: nil, starCount: 0)).results
    }

    /// podman save into the local file `path`: `format` is docker-archive, oci-archive or
    /// oci-dir (a tarball of the layout); `names` are the tags recorded (the image's own
    /// name when empty).
    public func save(_ image: String, to path: String, format: String = "docker-archive", names: [String] = []) async throws {
        let options = IoPodman.ImageSaveOptions(name: image, format: format, output: path, outputType: "", moreTags: names, quiet: true, compress: false)
        let remote = try await api.imageSave(options: options).reply.id
        try await receiveFile(remote, to: path)
    }

    /// podman export: the container's file system as a tar in the local file `path`.
    public func export(_ container: String, to path: String) async throws {
        let remote = try await api.exportContainer(name: container, path: "").tarfile
        try await receiveFile(remote, to: path)
    }

    /// podman commit; returns the new image's ID. `changes` are Dockerfile instructions
    /// (`CMD ["sh"]`, `ENV A=1`, `LABEL k=v`, ...).
    public func commit(
        _ container: String, as name: String = "", changes: [String] = [], author: String = "", message: String = "", pause: Bool = true,
        format: String = "oci"
    ) async throws -> String {
        try await api.commit(name: container, imageName: name, changes: changes, author: author, message: message, pause: pause, manifestType: format).reply.id
    }

    /// podman history: newest step first.
    public func history(_ image: String) async throws -> [IoPodman.ImageHistory] { try await api.historyImage(name: image).history }

    /// Checks the credentials with the registry and has the daemon keep them.
    public func login(_ registry: String, username: String, password: String) async throws {
        _ = try await podlink.login(registry: registry, username: username, password: password)
    }

    /// Forgets one registry's credentials (all of them when `registry` is nil).
    public func logout(_ registry: String?) async throws {
        _ = try await podlink.logout(registry: registry ?? "", all: registry == nil)
    }

    // MARK: - Files

    /// Runs `body` with a client on a connection of its own, closed afterwards: an
    /// upgraded call ends its connection.
    func withOwnConnection<T: Sendable>(_ body: (IoPodman.Client) async throws -> T) async throws -> T {
        let own = try await VarlinkConnection.connect(to: address)
        do {
            let result = try await body(IoPodman.Client(transport: own))
            await own.close()
            return result
        } catch {
            await own.close()
            throw error
        }
    }

    /// Sends the local file at `path` to the daemon (SendFile); returns the path the daemon
    /// keeps it at until a call uses it (`importImage(tarball:...delete:)`, `loadImage`).
    public func sendFile(_ path: String) async throws -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw PodmanClientError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw PodmanClientError("\(path) is not a regular file") }
        let length = Int(info.st_size)
        let file = LocalFile(descriptor: descriptor)
        return try await withOwnConnection { client in
            try await client.varlink.upgrade(IoPodman.Methods.SendFile.self, .init(type: "", length: length)) { _, raw in
                var buffer = [UInt8](repeating: 0, count: 1 << 20)
                var sent = 0
                while sent < length {
                    let count = buffer.withUnsafeMutableBytes { read(file.descriptor, $0.baseAddress, min($0.count, length - sent)) }
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { throw PodmanClientError("\(path) ended after \(sent) of \(length) bytes") }
                    try await raw.write(buffer[..<count])
                    sent += count
                }
                // The daemon answers with the file's path and a colon.
                var answer: [UInt8] = []
                for try await chunk in raw.inbound {
                    answer += chunk
                    if answer.last == UInt8(ascii: ":") { break }
                }
                guard answer.last == UInt8(ascii: ":") else { throw PodmanClientError("the daemon closed the connection before it took the file") }
                return String(decoding: answer.dropLast(), as: UTF8.self)
            }
        }
    }

    /// Fetches a file the daemon prepared (ImageSave, ExportContainer) into `localPath`
    /// (ReceiveFile); the daemon deletes its copy.
    public func receiveFile(_ remotePath: String, to localPath: String) async throws {
        let descriptor = open(localPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw PodmanClientError("cannot create \(localPath): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(descriptor) }
        let file = LocalFile(descriptor: descriptor)
        try await withOwnConnection { client in
            try await client.varlink.upgrade(IoPodman.Methods.ReceiveFile.self, .init(path: remotePath, delete: true)) { reply, raw in
                var received = 0
                for try await chunk in raw.inbound {
                    try file.writeAll(chunk, path: localPath)
                    received += chunk.count
                    if received >= reply.len { break }
                }
                guard received == reply.len else { throw PodmanClientError("received \(received) of \(reply.len) bytes of \(remotePath)") }
            }
        }
    }

    /// Extracts the local tar `archive` at `destination` in the container (into it when
    /// it is a directory there, otherwise as it): `cp` without the packing, which is
    /// the caller's (the podlink CLI packs with FileTreeArchive).
    public func copyArchive(_ archive: String, into container: String, at destination: String) async throws {
        let remote = try await sendFile(archive)
        _ = try await podlink.copyIntoContainer(container: container, archive: remote, destination: destination)
    }

    /// Writes `path` of the container, as a tar whose entries start with the path's last
    /// component, to the local file `archive`.
    public func copyArchive(from container: String, path: String, to archive: String) async throws {
        let remote = try await podlink.copyFromContainer(container: container, path: path).archive
        try await receiveFile(remote, to: archive)
    }

    /// Imports a rootfs tarball on this machine as `reference`: it is sent to the daemon
    /// first (which deletes its copy once imported). Returns the image ID.
    public func importImage(localTarball path: String, reference: String, changes: [String] = []) async throws -> String {
        let remote = try await sendFile(path)
        return try await api.importImage(source: remote, reference: reference, message: "", changes: changes, delete: true).image
    }

    /// Imports a rootfs tarball (a path on the daemon's machine) as `reference`; returns the image ID.
    public func importImage(tarball: String, reference: String, changes: [String] = []) async throws -> String {
        try await api.importImage(source: tarball, reference: reference, message: "", changes: changes, delete: false).image
    }

    /// Loads a docker-archive or oci-archive tarball (a path on the daemon's machine).
    public func loadImage(archive: String, name: String = "") async throws -> [String] {
        let reply = try await api.loadImage(name: name, inputFile: archive, quiet: true, deleteFile: false).reply
        return reply.id.split(separator: ",").map(String.init)
    }

    public func removeImage(_ reference: String, force: Bool = false) async throws {
        _ = try await api.removeImage(name: reference, force: force)
    }

    public func tagImage(_ reference: String, as tag: String) async throws {
        _ = try await api.tagImage(name: reference, tagged: tag)
    }

    /// Removes dangling images (or, with `all`, every image no container uses).
    public func pruneImages(all: Bool = false) async throws -> [String] {
        all ? try await api.deleteUnusedImages().images : try await api.imagesPrune(all: false, filter: []).pruned
    }

    /// Removes every container and image; the daemon goes on serving.
    public func reset() async throws { _ = try await api.reset() }
}

/// A failure on the client's side of a call (a local file, a stream that ended early).
public struct PodmanClientError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A local file's descriptor, used by one task at a time.
struct LocalFile: Sendable {
    let descriptor: Int32

    func writeAll(_ bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw PodmanClientError("writing \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }
}
