import Foundation
import Glibc

/// Pods as podman 1.9 has them: a record, an infra container that holds the shared
/// namespaces and the published ports, and operations that act on every container of
/// the pod (the infra container first on the way up, last on the way down), each
/// container under its own lock. A failure of some containers is reported per container
/// (podman's PodContainerError) after the others were acted on.
extension Runtime {
    /// The image of Podlink's own infra containers: catatonit in pause mode, in a root
    /// file system the runtime makes (used while infra_image is podman's default, which
    /// would need a registry).
    static let builtInInfraImage = "localhost/podlink-pause:catatonit"
    static let seedInfraImage = "k8s.gcr.io/pause:3.1"

    /// podman pod create.
    public func createPod(_ options: PodCreateOptions) async throws(LibpodError) -> Pod {
        try checkValid()
        var share: [String] = []
        for namespace in options.share where !namespace.isEmpty {
            switch namespace {
            // podman's "none" drops what came before it.
            case "none": share = []
            case "mnt", "user":
                throw .invalidArgument("invalid share: the \(namespace) namespace cannot be shared on the pod level; share some of net, ipc, uts, pid")
            default:
                guard Pod.shareable.contains(namespace) else {
                    throw .invalidArgument("invalid share: \"\(namespace)\" is not a namespace; give some of net, pid, ipc, uts, cgroup, or none")
                }
                if !share.contains(namespace) { share.append(namespace) }
            }
        }
        if !options.infra && !options.portMappings.isEmpty {
            throw .invalidArgument("a pod without an infra container cannot publish ports: the ports live in the infra container's network namespace")
        }
        if !options.portMappings.isEmpty && !share.contains("net") {
            throw .invalidArgument("a pod that does not share its network namespace cannot publish ports; add net to share")
        }
        let name = options.name.isEmpty ? try await generateName() : options.name
        try ContainerNaming.validate(name: name)
        let draft = Pod(
            id: ContainerNaming.newID(), name: name, namespace: config.namespace, labels: options.labels,
            cgroupParent: options.cgroupParent, sharedNamespaces: options.infra ? share : [])
        return try await finishing { () async throws(LibpodError) -> Pod in
            var pod = draft
            pod.portMappings = options.portMappings
            try await self.state.addPod(pod)
            guard options.infra else {
                self.record(Event(type: .pod, status: "create", id: pod.id, name: pod.name))
                return pod
            }
            do throws(LibpodError) {
                let infra = try await self.createInfraContainer(for: pod, options)
                pod.infraContainerID = infra.id
                try await self.state.updatePod(pod)
            } catch {
                await self.bestEffort("removing pod \(pod.id.prefix(12)), whose infra container could not be created") { () async throws(LibpodError) in
                    for container in try await self.podContainers(pod.id) { try await self.removeContainer(container.id, force: true) }
                    try await self.state.removePod(id: pod.id)
                }
                throw error
            }
            self.record(Event(type: .pod, status: "create", id: pod.id, name: pod.name))
            return pod
        }
    }

    private func createInfraContainer(for pod: Pod, _ options: PodCreateOptions) async throws(LibpodError) -> Container {
        let image: String
        let command: [String]
        let configured = options.infraImage ?? config.infraImage
        if configured.isEmpty || configured == Self.seedInfraImage {
            image = try await builtInInfraImage()
            command = options.infraCommand ?? ["/catatonit", "-P"]
        } else {
            image = configured
            command = options.infraCommand ?? [config.infraCommand]
        }
        var create = ContainerCreateOptions(image: image)
        create.name = "\(pod.id.prefix(12))-infra"
        create.command = command
        create.entrypoint = []
        create.podID = pod.id
        create.isInfra = true
        create.imageVolumes = .ignore
        create.network = pod.sharedNamespaces.contains("net") ? (options.network ?? .bridge([])) : .none
        create.hostname = pod.name
        create.portMappings = options.portMappings
        create.cgroupParent = pod.cgroupParent
        create.labels = ["io.podlink.pod": pod.id]
        return try await createContainer(create)
    }

    /// Makes the built-in infra image when it is missing: a root file system holding only
    /// the host's static catatonit.
    private func builtInInfraImage() async throws(LibpodError) -> String {
        if (try? images.exists(Self.builtInInfraImage)) == true { return Self.builtInInfraImage }
        let catatonit = ["/usr/bin/catatonit", "/usr/libexec/catatonit/catatonit", "/usr/libexec/podman/catatonit"]
            .first(where: FileSystem.exists)
        guard let catatonit else {
            throw .unsupported(feature: "pods with an infra container", advice: "install catatonit (apt-get install catatonit), or set infra_image and infra_command to a local image")
        }
        let work = config.tmpDir + "/infra-image-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileSystem.removeTree(work) }
        try FileSystem.ensureDirectory(work + "/rootfs", mode: 0o755)
        guard let contents = FileManager.default.contents(atPath: catatonit),
            FileManager.default.createFile(atPath: work + "/rootfs/catatonit", contents: contents, attributes: [.posixPermissions: 0o755])
        else { throw FileSystem.failure("copying catatonit into", work) }
        try Self.pack(work + "/rootfs", as: ".", to: work + "/rootfs.tar")
        _ = try await images.importRootfs(tarball: work + "/rootfs.tar", reference: Self.builtInInfraImage, message: "Podlink's infra image: catatonit -P")
        return Self.builtInInfraImage
    }

    /// A pod's container needs the pod's infra container running (it joins its
    /// namespaces): started first, as podman does.
    func startInfraContainer(of id: String) async throws(LibpodError) {
        let config = try await state.container(id: id).config
        guard !config.isInfra, let podID = config.podID, let pod = try? await state.lookupPod(podID), let infra = pod.infraContainerID else { return }
        let status = try await state.container(id: infra).state.status
        guard status != .running else { return }
        if status == .paused {
            try await unpauseContainer(infra)
        } else {
            try await startContainer(infra)
        }
    }

    // MARK: - Queries

    public func pods() async throws(LibpodError) -> [Pod] {
        try checkValid()
        return try await state.pods()
    }

    public func pod(_ idOrName: String) async throws(LibpodError) -> Pod {
        try checkValid()
        return try await state.lookupPod(idOrName)
    }

    /// The pod's containers, the infra container first, then oldest first.
    public func podContainers(_ podID: String) async throws(LibpodError) -> [Container] {
        let members = try await state.containers().filter { $0.config.podID == podID }
        return members.filter(\.config.isInfra) + members.filter { !$0.config.isInfra }
    }

    /// The pod's state, derived from its containers' (podman's rules).
    public func podStatus(_ podID: String) async throws(LibpodError) -> PodStatus {
        PodStatus(containers: try await podContainers(podID).map(\.state.status))
    }

    // MARK: - Operations on every container

    /// podman pod start: the infra container first, then the others; running ones are
    /// left alone, a paused one is an error of its own. An empty pod is NoContainersInPod.
    @discardableResult
    public func startPod(_ idOrName: String) async throws(LibpodError) -> Pod {
        try await acting(on: idOrName, "start", infraFirst: true, requireContainers: true, skip: { $0 == .running }) { id throws(LibpodError) in
            try await self.startContainer(id)
        }
    }

    /// podman pod stop: the running containers (at once), then the infra container;
    /// `timeout` seconds (0: at once) before SIGKILL, each container's own when nil.
    @discardableResult
    public func stopPod(_ idOrName: String, timeout: UInt32? = nil) async throws(LibpodError) -> Pod {
        try await acting(on: idOrName, "stop", infraFirst: false, skip: { $0 != .running }) { id throws(LibpodError) in
            try await self.stopContainer(id, timeout: timeout)
        }
    }

    /// podman pod restart: running containers are stopped and started again, stopped
    /// ones started; paused ones are left alone.
    @discardableResult
    public func restartPod(_ idOrName: String) async throws(LibpodError) -> Pod {
        try await acting(on: idOrName, "restart", infraFirst: true, requireContainers: true, skip: { $0 == .paused }) { id throws(LibpodError) in
            if try await self.state.container(id: id).state.status == .running {
                try await self.restartContainer(id)
            } else {
                try await self.startContainer(id)
            }
        }
    }

    /// podman pod kill: the signal to every running container.
    @discardableResult
    public func killPod(_ idOrName: String, signal: Int32 = SIGKILL) async throws(LibpodError) -> Pod {
        guard (1...64).contains(signal) else { throw .invalidArgument("invalid signal: \(signal) is not a signal number (1-64)") }
        return try await acting(on: idOrName, "kill", infraFirst: false, skip: { $0 != .running }) { id throws(LibpodError) in
            try await self.killContainer(id, signal: signal)
        }
    }

    @discardableResult
    public func pausePod(_ idOrName: String) async throws(LibpodError) -> Pod {
        try await acting(on: idOrName, "pause", infraFirst: false, skip: { $0 != .running }) { id throws(LibpodError) in
            try await self.pauseContainer(id)
        }
    }

    @discardableResult
    public func unpausePod(_ idOrName: String) async throws(LibpodError) -> Pod {
        try await acting(on: idOrName, "unpause", infraFirst: true, skip: { $0 != .paused }) { id throws(LibpodError) in
            try await self.unpauseContainer(id)
        }
    }

    /// podman pod rm: the pod and its containers; running or paused containers are
    /// refused (nothing is removed) unless `force`, which stops them first. Returns the
    /// pod's ID.
    @discardableResult
    public func removePod(_ idOrName: String, force: Bool = false) async throws(LibpodError) -> String {
        let pod = try await self.pod(idOrName)
        return try await finishing { () async throws(LibpodError) -> String in
            try await self.locks.withPodLock(pod.id) { () async throws(LibpodError) -> String in
                try await self.removeLocked(pod, force: force)
            }
        }
    }

    private func removeLocked(_ pod: Pod, force: Bool) async throws(LibpodError) -> String {
        let members = try await self.podContainers(pod.id)
        let others = members.filter { !$0.config.isInfra }
        // A pod with only its infra container running is removed as if forced (podman).
        if !force && !others.isEmpty {
            if let running = members.first(where: { [.running, .paused, .stopping].contains($0.state.status) }) {
                throw .invalidArgument("pod \(pod.id.prefix(12)) has containers that are not ready to be removed: container \(running.id.prefix(12)) is \(running.state.status.rawValue); stop the pod first, or force the removal")
            }
        }
        var failures: [PodContainerFailure] = []
        // The infra container last: the others use its namespaces.
        for container in others + members.filter(\.config.isInfra) {
            do throws(LibpodError) {
                try await self.removeContainer(container.id, force: true, removeVolumes: false, podRemoval: true)
            } catch .containerNotFound {
                continue
            } catch {
                failures.append(PodContainerFailure(containerID: container.id, reason: error.description))
            }
        }
        guard failures.isEmpty else { throw .podContainerErrors(pod: pod.id, operation: "rm", failures: failures) }
        try await self.state.removePod(id: pod.id)
        self.record(Event(type: .pod, status: "remove", id: pod.id, name: pod.name))
        return pod.id
    }

    /// Runs `body` on each container of the pod whose state `skip` does not exclude: the
    /// infra container first or last; the others concurrently. No containers at all is
    /// NoContainersInPod; failures are collected per container.
    private func acting(
        on idOrName: String, _ operation: String, infraFirst: Bool, requireContainers: Bool = false,
        skip: @escaping @Sendable (ContainerStatus) -> Bool, _ body: @escaping @Sendable (String) async throws(LibpodError) -> Void
    ) async throws(LibpodError) -> Pod {
        let pod = try await self.pod(idOrName)
        let members = try await podContainers(pod.id)
        if requireContainers && members.isEmpty { throw .noContainersInPod(idOrName) }
        let infra = members.filter(\.config.isInfra).filter { !skip($0.state.status) }.map(\.id)
        let others = members.filter { !$0.config.isInfra && !skip($0.state.status) }.map(\.id)
        var failures: [PodContainerFailure] = []
        func run(_ ids: [String]) async {
            let results = await withTaskGroup(of: PodContainerFailure?.self) { group in
                for id in ids {
                    group.addTask {
                        do throws(LibpodError) {
                            try await body(id)
                            return nil
                        } catch {
                            return PodContainerFailure(containerID: id, reason: error.description)
                        }
                    }
                }
                var collected: [PodContainerFailure] = []
                for await failure in group { if let failure { collected.append(failure) } }
                return collected
            }
            failures += results
        }
        if infraFirst {
            await run(infra)
            // Without its infra container the others cannot join its namespaces.
            if failures.isEmpty { await run(others) }
        } else {
            await run(others)
            await run(infra)
        }
        guard failures.isEmpty else { throw .podContainerErrors(pod: pod.id, operation: operation, failures: failures) }
        record(Event(type: .pod, status: operation, id: pod.id, name: pod.name))
        return pod
    }
}
