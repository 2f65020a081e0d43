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
            try await runtime.removeContainer(id, force: parameters.force)
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
        try await mapping { .init(container: Conversions.container(try await runtime.inspectContainer(parameters.id).container)) }
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
            return .init(container: ContainerInspectJSON(inspection, driver: runtime.config.storageDriver.rawValue).inspectJSON())
        }
    }

    public func top(_ parameters: IoPodman.Methods.Top.Parameters, call: VarlinkCall<IoPodman.Methods.Top.Reply>) async throws -> IoPodman.Methods.Top.Reply {
        guard parameters.descriptors.isEmpty else {
            throw invalid("top descriptors are not supported; Podlink reports PID, PPID, USER, TIME and COMMAND")
        }
        return try await mapping { .init(top: try await runtime.topContainer(parameters.nameOrID).map { $0.joined(separator: "\t") }) }
    }

    public func listContainerProcesses(_ parameters: IoPodman.Methods.ListContainerProcesses.Parameters, call: VarlinkCall<IoPodman.Methods.ListContainerProcesses.Reply>) async throws -> IoPodman.Methods.ListContainerProcesses.Reply {
        guard parameters.opts.isEmpty else {
            throw invalid("process list options are not supported; Podlink reports PID, PPID, USER, TIME and COMMAND")
        }
        return try await mapping { .init(container: try await runtime.topContainer(parameters.name).map { $0.joined(separator: "\t") }) }
    }

    public func getContainerStats(_ parameters: IoPodman.Methods.GetContainerStats.Parameters, call: VarlinkCall<IoPodman.Methods.GetContainerStats.Reply>) async throws -> IoPodman.Methods.GetContainerStats.Reply {
        try await mapping { .init(container: Conversions.stats(try await runtime.containerStats(parameters.name))) }
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
}
