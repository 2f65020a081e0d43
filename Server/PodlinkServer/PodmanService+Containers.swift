import Foundation
import Libpod
import PodlinkInterfaces
import Varlink

/// The container lifecycle, queries and logs.
extension PodmanService {
    // MARK: - Lifecycle

    public func createContainer(_ parameters: IoPodman.Methods.CreateContainer.Parameters, call: VarlinkCall<IoPodman.Methods.CreateContainer.Reply>) async throws -> IoPodman.Methods.CreateContainer.Reply {
        let options: ContainerCreateOptions
        do {
            options = try CreateMapping.options(from: parameters.create)
        } catch {
            throw invalid(error.description)
        }
        return try await mapping { .init(container: try await runtime.createContainer(options).id) }
    }

    public func initContainer(_ parameters: IoPodman.Methods.InitContainer.Parameters, call: VarlinkCall<IoPodman.Methods.InitContainer.Reply>) async throws -> IoPodman.Methods.InitContainer.Reply {
        try await withContainer(parameters.name) { id in
            try await runtime.initContainer(id)
            return .init(container: id)
        }
    }

    public func startContainer(_ parameters: IoPodman.Methods.StartContainer.Parameters, call: VarlinkCall<IoPodman.Methods.StartContainer.Reply>) async throws -> IoPodman.Methods.StartContainer.Reply {
        try await withContainer(parameters.name) { id in
            try await runtime.startContainer(id)
            return .init(container: id)
        }
    }

    public func stopContainer(_ parameters: IoPodman.Methods.StopContainer.Parameters, call: VarlinkCall<IoPodman.Methods.StopContainer.Reply>) async throws -> IoPodman.Methods.StopContainer.Reply {
        let timeout = try stopTimeout(parameters.timeout)
        return try await withContainer(parameters.name) { id in
            try await runtime.stopContainer(id, timeout: timeout)
            return .init(container: id)
        }
    }

    public func restartContainer(_ parameters: IoPodman.Methods.RestartContainer.Parameters, call: VarlinkCall<IoPodman.Methods.RestartContainer.Reply>) async throws -> IoPodman.Methods.RestartContainer.Reply {
        let timeout = try stopTimeout(parameters.timeout)
        return try await withContainer(parameters.name) { id in
            try await runtime.restartContainer(id, timeout: timeout)
            return .init(container: id)
        }
    }

    /// A stop timeout in seconds: -1 for the container's own, else 0 or more.
    func stopTimeout(_ seconds: Int) throws -> UInt32? {
        guard seconds >= -1 else { throw invalid("timeout must be -1 (the container's own) or 0 or more seconds") }
        return seconds < 0 ? nil : UInt32(clamping: seconds)
    }

    public func killContainer(_ parameters: IoPodman.Methods.KillContainer.Parameters, call: VarlinkCall<IoPodman.Methods.KillContainer.Reply>) async throws -> IoPodman.Methods.KillContainer.Reply {
        guard (1...64).contains(parameters.signal) else { throw invalid("signal \(parameters.signal) is not a signal number (1-64)") }
        return try await withContainer(parameters.name) { id in
            try await runtime.killContainer(id, signal: Int32(parameters.signal))
            return .init(container: id)
        }
    }

    public func pauseContainer(_ parameters: IoPodman.Methods.PauseContainer.Parameters, call: VarlinkCall<IoPodman.Methods.PauseContainer.Reply>) async throws -> IoPodman.Methods.PauseContainer.Reply {
        try await withContainer(parameters.name) { id in
            try await runtime.pauseContainer(id)
            return .init(container: id)
        }
    }

    public func unpauseContainer(_ parameters: IoPodman.Methods.UnpauseContainer.Parameters, call: VarlinkCall<IoPodman.Methods.UnpauseContainer.Reply>) async throws -> IoPodman.Methods.UnpauseContainer.Reply {
        try await withContainer(parameters.name) { id in
            try await runtime.unpauseContainer(id)
            return .init(container: id)
        }
    }

    /// `interval` is a Go `time.Duration`, in nanoseconds, as podman-remote sends it
    /// (250000000); it bounds how long the wait goes without checking the state, while the
    /// exit itself is seen at once. 0 (python-podman sends none) is the default, 250 ms.
    public func waitContainer(_ parameters: IoPodman.Methods.WaitContainer.Parameters, call: VarlinkCall<IoPodman.Methods.WaitContainer.Reply>) async throws -> IoPodman.Methods.WaitContainer.Reply {
        guard parameters.interval >= 0 else { throw invalid("interval must be 0 or more nanoseconds") }
        let interval: Duration = parameters.interval == 0 ? .milliseconds(250) : max(.nanoseconds(parameters.interval), .milliseconds(1))
        return try await mapping {
            .init(exitcode: Int(try await runtime.waitContainer(parameters.name, pollInterval: interval)))
        }
    }

    public func removeContainer(_ parameters: IoPodman.Methods.RemoveContainer.Parameters, call: VarlinkCall<IoPodman.Methods.RemoveContainer.Reply>) async throws -> IoPodman.Methods.RemoveContainer.Reply {
        try await withContainer(parameters.name) { id in
            try await runtime.removeContainer(id, force: parameters.force, removeVolumes: parameters.removeVolumes)
            return .init(container: id)
        }
    }

    public func deleteStoppedContainers(_ parameters: IoPodman.Methods.DeleteStoppedContainers.Parameters, call: VarlinkCall<IoPodman.Methods.DeleteStoppedContainers.Reply>) async throws -> IoPodman.Methods.DeleteStoppedContainers.Reply {
        try await mapping { .init(containers: try await runtime.pruneContainers()) }
    }

    // MARK: - Queries

    public func listContainers(_ parameters: IoPodman.Methods.ListContainers.Parameters, call: VarlinkCall<IoPodman.Methods.ListContainers.Reply>) async throws -> IoPodman.Methods.ListContainers.Reply {
        try await mapping {
            let now = Date()
            return .init(containers: try await runtime.listContainers().map { Conversions.container($0, now: now) })
        }
    }

    public func getContainer(_ parameters: IoPodman.Methods.GetContainer.Parameters, call: VarlinkCall<IoPodman.Methods.GetContainer.Reply>) async throws -> IoPodman.Methods.GetContainer.Reply {
        try await mapping { .init(container: Conversions.container(try await runtime.inspectContainer(parameters.id, spec: false).container)) }
    }

    public func getContainersByStatus(_ parameters: IoPodman.Methods.GetContainersByStatus.Parameters, call: VarlinkCall<IoPodman.Methods.GetContainersByStatus.Reply>) async throws -> IoPodman.Methods.GetContainersByStatus.Reply {
        var statuses: Set<ContainerStatus> = []
        for text in parameters.status {
            guard let status = ContainerStatus(rawValue: text) else {
                throw invalid("unknown status \"\(text)\"; use one of \(ContainerStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            statuses.insert(status)
        }
        return try await mapping {
            let all = try await runtime.listContainers()
            return .init(containerS: all.filter { statuses.contains($0.state.status) }.map { Conversions.container($0) })
        }
    }

    /// podman's convention: 0 when it exists, 1 when it does not.
    public func containerExists(_ parameters: IoPodman.Methods.ContainerExists.Parameters, call: VarlinkCall<IoPodman.Methods.ContainerExists.Reply>) async throws -> IoPodman.Methods.ContainerExists.Reply {
        try await mapping { .init(exists: try await runtime.containerExists(parameters.name) ? 0 : 1) }
    }

    public func inspectContainer(_ parameters: IoPodman.Methods.InspectContainer.Parameters, call: VarlinkCall<IoPodman.Methods.InspectContainer.Reply>) async throws -> IoPodman.Methods.InspectContainer.Reply {
        try await mapping {
            let inspection = try await runtime.inspectContainer(parameters.name)
            let sizes = runtime.containerSizes(inspection.container)
            return .init(container: PodmanJSON.encode(ContainerInspectJSON(inspection, driver: runtime.config.storageDriver.rawValue, sizes: sizes)))
        }
    }

    public func top(_ parameters: IoPodman.Methods.Top.Parameters, call: VarlinkCall<IoPodman.Methods.Top.Reply>) async throws -> IoPodman.Methods.Top.Reply {
        try await mapping {
            .init(top: try await runtime.topContainer(parameters.nameOrID, descriptors: parameters.descriptors).map { $0.joined(separator: "\t") })
        }
    }

    /// podman ps's columns unless `opts` names at least two (podman ignored a single one).
    public func listContainerProcesses(_ parameters: IoPodman.Methods.ListContainerProcesses.Parameters, call: VarlinkCall<IoPodman.Methods.ListContainerProcesses.Reply>) async throws -> IoPodman.Methods.ListContainerProcesses.Reply {
        let descriptors = parameters.opts.count > 1 ? parameters.opts : ["user", "pid", "ppid", "pcpu", "etime", "tty", "time", "comm"]
        return try await mapping {
            .init(container: try await runtime.topContainer(parameters.name, descriptors: descriptors).map { $0.joined(separator: "\t") })
        }
    }

    public func getContainerStats(_ parameters: IoPodman.Methods.GetContainerStats.Parameters, call: VarlinkCall<IoPodman.Methods.GetContainerStats.Reply>) async throws -> IoPodman.Methods.GetContainerStats.Reply {
        try await mapping {
            let container = try await runtime.container(parameters.name)
            guard [.running, .paused].contains(container.state.status) else { throw IoPodman.NoContainerRunning() }
            return .init(container: Conversions.stats(try await runtime.containerStats(container.id)))
        }
    }

    /// CPU use since the statistics a client had (its `cpu_nano` and `system_nano`).
    public func getContainerStatsWithHistory(_ parameters: IoPodman.Methods.GetContainerStatsWithHistory.Parameters, call: VarlinkCall<IoPodman.Methods.GetContainerStatsWithHistory.Reply>) async throws -> IoPodman.Methods.GetContainerStatsWithHistory.Reply {
        let previous = parameters.previousStats
        return try await mapping {
            let stats = try await runtime.containerStats(previous.id)
            return .init(container: Conversions.stats(stats, previous: (previous.cpuNano, previous.systemNano)))
        }
    }

    public func listContainerChanges(_ parameters: IoPodman.Methods.ListContainerChanges.Parameters, call: VarlinkCall<IoPodman.Methods.ListContainerChanges.Reply>) async throws -> IoPodman.Methods.ListContainerChanges.Reply {
        try await mapping {
            let changes = try await runtime.containerChanges(parameters.name)
            func paths(_ kind: ContainerChange.Kind) -> [String] { changes.filter { $0.kind == kind }.map(\.path) }
            return .init(container: IoPodman.ContainerChanges(changed: paths(.changed), added: paths(.added), deleted: paths(.deleted)))
        }
    }

    // MARK: - Logs

    public func getContainerLogs(_ parameters: IoPodman.Methods.GetContainerLogs.Parameters, call: VarlinkCall<IoPodman.Methods.GetContainerLogs.Reply>) async throws -> IoPodman.Methods.GetContainerLogs.Reply {
        try await mapping {
            let stream = try await runtime.containerLogs(parameters.name, options: LogOptions(follow: call.wantsMore))
            var batch: [String] = []
            for try await line in stream {
                batch.append(line.text)
                if call.wantsMore {
                    try await call.sendContinues(.init(container: batch))
                    batch = []
                }
            }
            return .init(container: batch)
        }
    }

    public func getContainersLogs(_ parameters: IoPodman.Methods.GetContainersLogs.Parameters, call: VarlinkCall<IoPodman.Methods.GetContainersLogs.Reply>) async throws -> IoPodman.Methods.GetContainersLogs.Reply {
        guard call.wantsMore else { throw IoPodman.WantsMoreRequired(reason: "GetContainersLogs streams log lines: call it with more") }
        guard parameters.names.count == 1 || (parameters.latest && parameters.names.isEmpty) else {
            throw invalid("give exactly one container name (or latest); several at once are not supported yet")
        }
        let since = try time(parameters.since, "since")
        return try await mapping {
            let name: String
            if let first = parameters.names.first {
                name = first
            } else {
                guard let latest = try await runtime.containers().max(by: { $0.config.created < $1.config.created }) else {
                    throw LibpodError.containerNotFound("latest")
                }
                name = latest.id
            }
            let id = try await runtime.containerID(name)
            let options = LogOptions(tail: parameters.tail >= 0 ? parameters.tail : nil, since: since, follow: parameters.follow)
            // Each line goes out as it is read; the final reply, which varlink requires, is an
            // empty line (as podman 1.x sent).
            for try await line in try await runtime.containerLogs(id, options: options) {
                try await call.sendContinues(.init(log: Conversions.logLine(line, id: id)))
            }
            return .init(log: IoPodman.LogLine(device: "", parseLogType: "", time: "", msg: "", cid: id))
        }
    }

    // MARK: - podman-remote's plumbing

    /// podman ps: filtered, sorted and formatted as podman 1.9's service did (IDs cut to
    /// 12 characters and commands to 20 unless `noTrunc`).
    public func ps(_ parameters: IoPodman.Methods.Ps.Parameters, call: VarlinkCall<IoPodman.Methods.Ps.Reply>) async throws -> IoPodman.Methods.Ps.Reply {
        let options = parameters.opts
        var filters: [ContainerFilter] = []
        for text in options.filters ?? [] {
            do { filters.append(try ContainerFilter(parsing: text)) } catch { throw invalid(error.description) }
        }
        let sort = options.sort ?? ""
        guard ["", "command", "created", "id", "image", "names", "runningfor", "size", "status", "pod"].contains(sort) else {
            throw invalid("invalid sort \"\(sort)\": use command, created, id, image, names, runningfor, size or status")
        }
        return try await mapping {
            var containers = try await runtime.listContainers(filters: options.latest == true ? [] : filters)
            containers.sort { $0.config.created > $1.config.created }
            if options.latest == true {
                containers = Array(containers.prefix(1))
            } else if let last = options.last, last > 0 {
                containers = Array(containers.prefix(last))
            } else if !options.all && filters.isEmpty {
                containers = containers.filter { $0.state.status == .running }
            }
            let now = Date()
            let noTrunc = options.noTrunc ?? false
            var rows: [(container: Container, row: IoPodman.PsContainer)] = containers.map { container in
                let sizes = options.size == true ? runtime.containerSizes(container) : (0, 0)
                let namespaces = runtime.namespaceIDs(container)
                let arguments = container.config.command.dropFirst(container.config.entrypoint.count).joined(separator: " ")
                let command = noTrunc || arguments.count <= 20 ? arguments : String(arguments.prefix(17)) + "..."
                let state = container.state
                return (container, IoPodman.PsContainer(
                    id: noTrunc ? container.id : String(container.id.prefix(12)), image: container.config.imageName,
                    command: command, created: PodmanFormat.humanDuration(now.timeIntervalSince(container.config.created)) + " ago",
                    ports: Conversions.ports(container.config.portMappings), names: container.name, isInfra: false,
                    status: PodmanFormat.psStatus(state, now: now),
                    state: state.status == .stopping ? "running" : state.status.rawValue, pidNum: Int(state.pid),
                    rootFsSize: Int(sizes.0), rwSize: Int(sizes.1), pod: "",
                    createdAt: PodmanFormat.time(container.config.created), exitedAt: PodmanJSON.time(state.finishedAt),
                    startedAt: PodmanJSON.time(state.startedAt), labels: container.config.labels, nsPid: namespaces["pid"] ?? "",
                    cgroup: namespaces["cgroup"] ?? "", ipc: namespaces["ipc"] ?? "", mnt: namespaces["mnt"] ?? "",
                    net: namespaces["net"] ?? "", pidNs: namespaces["pid"] ?? "", user: namespaces["user"] ?? "",
                    uts: namespaces["uts"] ?? "", mounts: container.config.mounts.map(\.destination).joined(separator: " ")))
            }
            switch sort {
            case "command": rows.sort { $0.row.command < $1.row.command }
            case "id": rows.sort { $0.container.id < $1.container.id }
            case "image": rows.sort { $0.row.image < $1.row.image }
            case "names": rows.sort { $0.row.names < $1.row.names }
            case "runningfor": rows.sort { ($0.container.state.startedAt ?? .distantPast) > ($1.container.state.startedAt ?? .distantPast) }
            case "size": rows.sort { $0.row.rootFsSize < $1.row.rootFsSize }
            case "status": rows.sort { $0.row.status < $1.row.status }
            default: break
            }
            return .init(containers: rows.map(\.row))
        }
    }

    /// The full IDs of the named containers (all of them, or the newest), as
    /// podman-remote resolves its arguments; a missing one is ContainerNotFound.
    public func getContainersByContext(_ parameters: IoPodman.Methods.GetContainersByContext.Parameters, call: VarlinkCall<IoPodman.Methods.GetContainersByContext.Reply>) async throws -> IoPodman.Methods.GetContainersByContext.Reply {
        try await mapping {
            if parameters.all { return .init(containers: try await runtime.containers().map(\.id)) }
            if parameters.latest {
                guard let newest = try await runtime.containers().max(by: { $0.config.created < $1.config.created }) else {
                    throw LibpodError.containerNotFound("latest")
                }
                return .init(containers: [newest.id])
            }
            var ids: [String] = []
            for name in parameters.args { ids.append(try await runtime.containerID(name)) }
            return .init(containers: ids)
        }
    }

    /// podman rm -f's fallback for a container that cannot be removed normally.
    public func evictContainer(_ parameters: IoPodman.Methods.EvictContainer.Parameters, call: VarlinkCall<IoPodman.Methods.EvictContainer.Reply>) async throws -> IoPodman.Methods.EvictContainer.Reply {
        try await mapping { .init(container: try await runtime.evictContainer(parameters.name, removeVolumes: parameters.removeVolumes)) }
    }

    /// Changes of a container against its image, or of an image's top layer; podman's
    /// one-letter kinds (A, C, D).
    public func diff(_ parameters: IoPodman.Methods.Diff.Parameters, call: VarlinkCall<IoPodman.Methods.Diff.Reply>) async throws -> IoPodman.Methods.Diff.Reply {
        try await mapping {
            let changes: [ContainerChange]
            if try await runtime.containerExists(parameters.name) {
                changes = try await runtime.containerChanges(parameters.name)
            } else if try runtime.images.exists(parameters.name) {
                changes = try runtime.imageChanges(parameters.name)
            } else {
                throw IoPodman.ErrorOccurred(reason: "no container or image named \"\(parameters.name)\"; `podlink ps -a` and `podlink images` list them")
            }
            return .init(diffs: changes.map { IoPodman.DiffInfo(path: $0.path, changeType: $0.kind.rawValue) })
        }
    }

    public func mountContainer(_ parameters: IoPodman.Methods.MountContainer.Parameters, call: VarlinkCall<IoPodman.Methods.MountContainer.Reply>) async throws -> IoPodman.Methods.MountContainer.Reply {
        try await mapping { .init(path: try await runtime.mountContainer(parameters.name)) }
    }

    public func unmountContainer(_ parameters: IoPodman.Methods.UnmountContainer.Parameters, call: VarlinkCall<IoPodman.Methods.UnmountContainer.Reply>) async throws -> IoPodman.Methods.UnmountContainer.Reply {
        try await mapping {
            try await runtime.unmountContainer(parameters.name, force: parameters.force)
            return .init()
        }
    }

    public func listContainerMounts(_ parameters: IoPodman.Methods.ListContainerMounts.Parameters, call: VarlinkCall<IoPodman.Methods.ListContainerMounts.Reply>) async throws -> IoPodman.Methods.ListContainerMounts.Reply {
        try await mapping { .init(mounts: try await runtime.mountedContainers()) }
    }

    /// podman healthcheck run: "healthy" when this check passed, else "unhealthy".
    public func healthCheckRun(_ parameters: IoPodman.Methods.HealthCheckRun.Parameters, call: VarlinkCall<IoPodman.Methods.HealthCheckRun.Reply>) async throws -> IoPodman.Methods.HealthCheckRun.Reply {
        try await mapping { .init(healthCheckStatus: try await runtime.runHealthcheck(parameters.nameOrID).passed ? "healthy" : "unhealthy") }
    }

    /// Runs the command an image's label holds on this machine (podman runlabel), with
    /// `podman` meaning the podlink CLI pointed at this service. With `pull`, an image the
    /// store lacks is pulled first (podman 1.9.3 read the label from the registry's copy).
    public func containerRunlabel(_ parameters: IoPodman.Methods.ContainerRunlabel.Parameters, call: VarlinkCall<IoPodman.Methods.ContainerRunlabel.Reply>) async throws -> IoPodman.Methods.ContainerRunlabel.Reply {
        let label = parameters.runlabel
        guard !label.label.isEmpty else { throw invalid("runlabel.label names the label to run; it is empty") }
        return try await mapping {
            if label.pull, try !runtime.images.exists(label.image) {
                _ = try await runtime.pull(label.image)
            }
            let request = RunlabelRequest(
                image: label.image, label: label.label, name: label.name, options: label.opts, extraArguments: label.extraArgs,
                cli: runlabelCLI, environment: runlabelEnvironment)
            let result = try await runtime.runLabel(request)
            guard result.status == 0 else {
                throw IoPodman.ErrorOccurred(reason: "the \(label.label) command of \(label.image) exited with \(result.status): \(result.output.suffix(2000))")
            }
            return .init()
        }
    }
}
