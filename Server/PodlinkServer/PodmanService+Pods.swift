import Foundation
import Libpod
import PodlinkInterfaces
import Varlink

/// The 16 pod methods with podman 1.9.3's replies and errors (PodNotFound for a name
/// it does not know, PodContainerError listing the containers an operation failed for,
/// NoContainersInPod from StartPod and RestartPod). Where podman 1.9.3 misbehaved, the
/// deviation is deliberate and in docs/io.podman.md: one reply per call (podman sent an
/// error and then a success), no padding in PodContainerError's list, labels filled in.
extension PodmanService {
    public func createPod(_ parameters: IoPodman.Methods.CreatePod.Parameters, call: VarlinkCall<IoPodman.Methods.CreatePod.Reply>) async throws -> IoPodman.Methods.CreatePod.Reply {
        let create = parameters.create
        // Over varlink podman shared nothing and made no infra container unless asked.
        if !create.share.isEmpty && !create.infra {
            throw invalid("You cannot share kernel namespaces on the pod level without an infra container; set infra")
        }
        if create.share.isEmpty && create.infra {
            throw invalid("You must share kernel namespaces to run an infra container; give share, e.g. [\"ipc\", \"net\", \"uts\"]")
        }
        if !create.publish.isEmpty && !create.infra {
            throw invalid("you must have an infra container to publish port bindings to the host; set infra")
        }
        var options = PodCreateOptions()
        options.name = create.name
        options.labels = create.labels
        options.cgroupParent = create.cgroupParent
        options.share = create.share
        options.infra = create.infra
        // podman 1.9.3 ignored infraImage and infraCommand (podman-remote sends one in
        // both); the runtime's infra_image and infra_command decide.
        for entry in create.publish {
            do { options.portMappings += try PortMapping.parse(entry) } catch { throw invalid("publish \(entry): \(error.description)") }
        }
        return try await mapping { .init(pod: try await runtime.createPod(options).id) }
    }

    /// Sorted by ID, as podman's store listed them.
    public func listPods(_ parameters: IoPodman.Methods.ListPods.Parameters, call: VarlinkCall<IoPodman.Methods.ListPods.Reply>) async throws -> IoPodman.Methods.ListPods.Reply {
        try await mapping {
            var result: [IoPodman.ListPodData] = []
            for pod in try await runtime.pods().sorted(by: { $0.id < $1.id }) { result.append(try await listPodData(pod)) }
            return .init(pods: result)
        }
    }

    public func getPod(_ parameters: IoPodman.Methods.GetPod.Parameters, call: VarlinkCall<IoPodman.Methods.GetPod.Reply>) async throws -> IoPodman.Methods.GetPod.Reply {
        try await withPod(parameters.name) { pod in .init(pod: try await listPodData(pod)) }
    }

    /// Exact, case-sensitive states (Created, Running, Paused, Stopped, Exited, Error).
    public func getPodsByStatus(_ parameters: IoPodman.Methods.GetPodsByStatus.Parameters, call: VarlinkCall<IoPodman.Methods.GetPodsByStatus.Reply>) async throws -> IoPodman.Methods.GetPodsByStatus.Reply {
        let wanted = Set(parameters.statuses)
        return try await mapping {
            var ids: [String] = []
            for pod in try await runtime.pods().sorted(by: { $0.id < $1.id }) where wanted.contains(try await runtime.podStatus(pod.id).rawValue) {
                ids.append(pod.id)
            }
            return .init(pods: ids)
        }
    }

    /// Every pod, the newest, or the named ones; a name that matches no pod fails the
    /// whole call (ErrorOccurred, as podman).
    public func getPodsByContext(_ parameters: IoPodman.Methods.GetPodsByContext.Parameters, call: VarlinkCall<IoPodman.Methods.GetPodsByContext.Reply>) async throws -> IoPodman.Methods.GetPodsByContext.Reply {
        do {
            let pods = try await runtime.pods()
            if parameters.all { return .init(pods: pods.map(\.id).sorted()) }
            if parameters.latest {
                guard let newest = pods.max(by: { $0.created < $1.created }) else { throw invalid("no such pod: there are no pods") }
                return .init(pods: [newest.id])
            }
            var ids: [String] = []
            for name in parameters.args { ids.append(try await runtime.pod(name).id) }
            return .init(pods: ids)
        } catch let error as LibpodError {
            throw invalid(error.description)
        }
    }

    public func inspectPod(_ parameters: IoPodman.Methods.InspectPod.Parameters, call: VarlinkCall<IoPodman.Methods.InspectPod.Reply>) async throws -> IoPodman.Methods.InspectPod.Reply {
        try await withPod(parameters.name) { pod in .init(pod: PodmanJSON.encode(try await podInspect(pod))) }
    }

    /// InspectPod's document; an unknown pod is ErrorOccurred here (podman's own rule).
    public func podStateData(_ parameters: IoPodman.Methods.PodStateData.Parameters, call: VarlinkCall<IoPodman.Methods.PodStateData.Reply>) async throws -> IoPodman.Methods.PodStateData.Reply {
        do {
            let pod = try await runtime.pod(parameters.name)
            return .init(config: PodmanJSON.encode(try await podInspect(pod)))
        } catch let error as LibpodError {
            throw invalid(error.description)
        }
    }

    /// An empty pod is NoContainersInPod naming the pod as the caller did (podman).
    public func startPod(_ parameters: IoPodman.Methods.StartPod.Parameters, call: VarlinkCall<IoPodman.Methods.StartPod.Reply>) async throws -> IoPodman.Methods.StartPod.Reply {
        try await withPod(parameters.name) { _ in .init(pod: try await runtime.startPod(parameters.name).id) }
    }

    /// `timeout` seconds before SIGKILL: 0 kills at once, a negative value means each
    /// container's own stop timeout.
    public func stopPod(_ parameters: IoPodman.Methods.StopPod.Parameters, call: VarlinkCall<IoPodman.Methods.StopPod.Reply>) async throws -> IoPodman.Methods.StopPod.Reply {
        let timeout: UInt32? = parameters.timeout < 0 ? nil : UInt32(clamping: parameters.timeout)
        return try await withPod(parameters.name) { pod in .init(pod: try await runtime.stopPod(pod.id, timeout: timeout).id) }
    }

    public func restartPod(_ parameters: IoPodman.Methods.RestartPod.Parameters, call: VarlinkCall<IoPodman.Methods.RestartPod.Reply>) async throws -> IoPodman.Methods.RestartPod.Reply {
        try await withPod(parameters.name) { _ in .init(pod: try await runtime.restartPod(parameters.name).id) }
    }

    /// -1 is SIGTERM, as podman.
    public func killPod(_ parameters: IoPodman.Methods.KillPod.Parameters, call: VarlinkCall<IoPodman.Methods.KillPod.Reply>) async throws -> IoPodman.Methods.KillPod.Reply {
        let signal = parameters.signal == -1 ? SIGTERM : Int32(clamping: parameters.signal)
        return try await withPod(parameters.name) { pod in .init(pod: try await runtime.killPod(pod.id, signal: signal).id) }
    }

    public func pausePod(_ parameters: IoPodman.Methods.PausePod.Parameters, call: VarlinkCall<IoPodman.Methods.PausePod.Reply>) async throws -> IoPodman.Methods.PausePod.Reply {
        try await withPod(parameters.name) { pod in .init(pod: try await runtime.pausePod(pod.id).id) }
    }

    public func unpausePod(_ parameters: IoPodman.Methods.UnpausePod.Parameters, call: VarlinkCall<IoPodman.Methods.UnpausePod.Reply>) async throws -> IoPodman.Methods.UnpausePod.Reply {
        try await withPod(parameters.name) { pod in .init(pod: try await runtime.unpausePod(pod.id).id) }
    }

    public func removePod(_ parameters: IoPodman.Methods.RemovePod.Parameters, call: VarlinkCall<IoPodman.Methods.RemovePod.Reply>) async throws -> IoPodman.Methods.RemovePod.Reply {
        try await withPod(parameters.name) { pod in .init(pod: try await runtime.removePod(pod.id, force: parameters.force)) }
    }

    /// The processes of the pod's running containers: one header, then each container's
    /// rows (podman joined each PID namespace once; here each container is its own).
    public func topPod(_ parameters: IoPodman.Methods.TopPod.Parameters, call: VarlinkCall<IoPodman.Methods.TopPod.Reply>) async throws -> IoPodman.Methods.TopPod.Reply {
        let descriptors = parameters.descriptors.flatMap { $0.split(separator: ",").map(String.init) }
        let name = parameters.latest ? try await latestPodID() : parameters.pod
        return try await withPod(name) { pod in
            guard try await runtime.podStatus(pod.id) == .running else {
                throw invalid("pod top can only be used on pods with at least one running container")
            }
            var lines: [String] = []
            for container in try await runtime.podContainers(pod.id).sorted(by: { $0.id < $1.id }) where container.state.status == .running {
                let rows = try await runtime.topContainer(container.id, descriptors: descriptors)
                lines += (lines.isEmpty ? rows : Array(rows.dropFirst())).map { $0.joined(separator: "\t") }
            }
            return .init(stats: lines)
        }
    }

    /// Statistics of the pod's running containers; none running is NoContainerRunning.
    public func getPodStats(_ parameters: IoPodman.Methods.GetPodStats.Parameters, call: VarlinkCall<IoPodman.Methods.GetPodStats.Reply>) async throws -> IoPodman.Methods.GetPodStats.Reply {
        try await withPod(parameters.name) { pod in
            var stats: [IoPodman.ContainerStats] = []
            for container in try await runtime.podContainers(pod.id) where [.running, .paused].contains(container.state.status) {
                stats.append(Conversions.stats(try await runtime.containerStats(container.id)))
            }
            guard !stats.isEmpty else { throw IoPodman.NoContainerRunning() }
            return .init(pod: pod.id, containers: stats)
        }
    }

    // MARK: - Helpers

    /// Looks the pod up (PodNotFound with the name as given), then runs `body`, mapping
    /// Libpod's errors.
    func withPod<T>(_ name: String, _ body: (Pod) async throws -> T) async throws -> T {
        let pod: Pod
        do {
            pod = try await runtime.pod(name)
        } catch {
            throw IoPodman.PodNotFound(name: name, reason: error.description)
        }
        return try await mapping { try await body(pod) }
    }

    private func latestPodID() async throws -> String {
        guard let newest = try await runtime.pods().max(by: { $0.created < $1.created }) else {
            throw IoPodman.PodNotFound(name: "latest", reason: "no such pod: there are no pods")
        }
        return newest.id
    }

    /// ListPodData: the infra container counted among the containers, which are in ID order.
    func listPodData(_ pod: Pod) async throws -> IoPodman.ListPodData {
        let members = try await runtime.podContainers(pod.id).sorted { $0.id < $1.id }
        return IoPodman.ListPodData(
            id: pod.id, name: pod.name, createdat: PodmanFormat.seconds(pod.created), cgroup: pod.cgroupParent.isEmpty ? Self.podCgroupParent : pod.cgroupParent,
            status: PodStatus(containers: members.map(\.state.status)).rawValue, labels: pod.labels, numberofcontainers: String(members.count),
            containersinfo: members.map { .init(name: $0.name, id: $0.id, status: $0.state.status.rawValue) })
    }

    /// The cgroup parent pods' containers are under unless one is given.
    static let podCgroupParent = "/podlink"

    func podInspect(_ pod: Pod) async throws -> PodInspectJSON {
        let members = try await runtime.podContainers(pod.id).sorted { $0.id < $1.id }
        return PodInspectJSON(pod, containers: members, cgroupParent: pod.cgroupParent.isEmpty ? Self.podCgroupParent : pod.cgroupParent)
    }
}

/// podman 1.9's PodInspect: Config (the stored PodConfig), State, Containers.
struct PodInspectJSON: Encodable {
    struct Config: Encodable {
        struct Infra: Encodable {
            struct PortBinding: Encodable {
                var hostPort: Int
                var containerPort: Int
                var `protocol`: String
                var hostIP: String
            }
            var makeInfraContainer: Bool
            @Nullable var infraPortBindings: [PortBinding]?
        }
        var id: String
        var name: String
        var hostname: String
        var labels: [String: String]
        var cgroupParent: String
        // Go's omitempty: present only when true.
        var sharesCgroup: Bool?
        var sharesPid: Bool?
        var sharesIpc: Bool?
        var sharesNet: Bool?
        var sharesUts: Bool?
        var infraConfig: Infra
        var created: String
        var lockID: Int
    }
    struct State: Encodable {
        var cgroupPath: String
        var infraContainerID: String
        var status: String
    }
    struct Member: Encodable {
        var id: String
        var state: String
    }

    var Config: Config
    var State: State
    @Nullable var Containers: [Member]?

    init(_ pod: Pod, containers: [Container], cgroupParent: String) {
        func flag(_ namespace: String) -> Bool? { pod.shares(namespace) ? true : nil }
        let bindings = pod.portMappings.map {
            Self.Config.Infra.PortBinding(hostPort: Int($0.hostPort), containerPort: Int($0.containerPort), protocol: $0.protocol, hostIP: $0.hostIP)
        }
        self.Config = .init(
            id: pod.id, name: pod.name, hostname: pod.name, labels: pod.labels, cgroupParent: cgroupParent,
            sharesCgroup: true, sharesPid: flag("pid"), sharesIpc: flag("ipc"), sharesNet: flag("net"), sharesUts: flag("uts"),
            infraConfig: .init(makeInfraContainer: pod.infraContainerID != nil, infraPortBindings: bindings.isEmpty ? nil : bindings),
            created: PodmanFormat.time(pod.created), lockID: 0)
        self.State = .init(
            cgroupPath: cgroupParent, infraContainerID: pod.infraContainerID ?? "",
            status: PodStatus(containers: containers.map(\.state.status)).rawValue)
        self.Containers = containers.isEmpty ? nil : containers.map { Member(id: $0.id, state: $0.state.status.rawValue) }
    }
}
