import Foundation
import Libpod
import PodlinkInterfaces
import Varlink

/// io.podman on Libpod. Each method is a thin mapping: parameters in, one Libpod call,
/// io.podman's reply or error out. Nothing is kept between calls but the runtime.
public struct PodmanService: IoPodman.ServiceProtocol {
    public static let version = "0.1.0"
    public let runtime: Runtime

    public init(runtime: Runtime) {
        self.runtime = runtime
    }

    /// io.podman's clients were written against podman's Go service, which read an
    /// absent field as its zero value and ignored unknown ones (python-podman 1.6 leaves
    /// out fields newer interfaces added; podman-remote sends only the flags given).
    public var parameterDecoding: JSONDecodingMode { .goCompatible }

    // MARK: - System

    public func getVersion(_ parameters: IoPodman.Methods.GetVersion.Parameters, call: VarlinkCall<IoPodman.Methods.GetVersion.Reply>) async throws -> IoPodman.Methods.GetVersion.Reply {
        IoPodman.Methods.GetVersion.Reply(
            version: Self.version, goVersion: "swift", gitCommit: "", built: "", osArch: "linux/\(Self.architecture)",
            remoteApiVersion: 1)
    }

    static var architecture: String {
        #if arch(x86_64)
        "amd64"
        #elseif arch(arm64)
        "arm64"
        #else
        "unknown"
        #endif
    }

    public func getInfo(_ parameters: IoPodman.Methods.GetInfo.Parameters, call: VarlinkCall<IoPodman.Methods.GetInfo.Reply>) async throws -> IoPodman.Methods.GetInfo.Reply {
        try await PodmanErrors.mapping {
            let info = try await runtime.info()
            let host = info.host
            let uptime = PodmanFormat.duration(host.uptimeSeconds)
            return IoPodman.Methods.GetInfo.Reply(info: IoPodman.PodmanInfo(
                host: IoPodman.InfoHost(
                    buildahVersion: "", distribution: IoPodman.InfoDistribution(distribution: host.distribution, version: host.distributionVersion),
                    memFree: Int(host.memFree), memTotal: Int(host.memTotal), swapFree: Int(host.swapFree),
                    swapTotal: Int(host.swapTotal), arch: host.arch, cpus: host.cpus, hostname: host.hostname,
                    kernel: host.kernel, os: host.os, uptime: uptime, eventlogger: "file"),
                registries: IoPodman.InfoRegistry(search: info.registries, insecure: info.insecureRegistries, blocked: []),
                store: IoPodman.InfoStore(
                    containers: info.store.containerCount, images: info.store.imageCount,
                    graphDriverName: info.store.storageDriver, graphDriverOptions: "", graphRoot: info.store.storageRoot,
                    graphStatus: IoPodman.InfoGraphStatus(backingFilesystem: "", nativeOverlayDiff: "", supportsDType: "true"),
                    runRoot: info.store.tmpDir),
                podman: IoPodman.InfoPodmanBinary(compiler: "swiftc", goVersion: "swift", podmanVersion: Self.version, gitCommit: "")))
        }
    }

    public func getEvents(_ parameters: IoPodman.Methods.GetEvents.Parameters, call: VarlinkCall<IoPodman.Methods.GetEvents.Reply>) async throws -> IoPodman.Methods.GetEvents.Reply {
        guard call.wantsMore else { throw IoPodman.WantsMoreRequired(reason: "GetEvents streams events: call it with more") }
        var filters: [(String, String)] = []
        for filter in parameters.filter {
            let parts = filter.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, ["type", "status", "event", "container", "image", "id", "name"].contains(parts[0]) else {
                throw IoPodman.ErrorOccurred(reason: "invalid filter \"\(filter)\": use type=, event=, container=, image=, id= or name=")
            }
            filters.append((parts[0], parts[1]))
        }
        guard parameters.since.isEmpty || PodmanFormat.parseTime(parameters.since) != nil else {
            throw IoPodman.ErrorOccurred(reason: "invalid since \"\(parameters.since)\": give RFC 3339, unix seconds or a duration like 10m")
        }
        guard parameters.until.isEmpty || PodmanFormat.parseTime(parameters.until) != nil else {
            throw IoPodman.ErrorOccurred(reason: "invalid until \"\(parameters.until)\": give RFC 3339, unix seconds or a duration like 10m")
        }
        let since = PodmanFormat.parseTime(parameters.since)
        let until = PodmanFormat.parseTime(parameters.until)
        func matches(_ event: Event) -> Bool {
            filters.allSatisfy { key, value in
                switch key {
                case "type": event.type.rawValue == value
                case "status", "event": event.status == value
                case "container", "name": event.name == value || event.id.hasPrefix(value)
                case "id": event.id.hasPrefix(value)
                default: event.attributes["image"] == value || (event.type == .image && (event.name == value || event.id.hasPrefix(value)))
                }
            }
        }
        // Every event goes out as soon as it is written. Without `until` the stream follows
        // until the client hangs up (sending then fails); with it, it ends at that time.
        // The final reply, which varlink requires, is an empty event.
        if let until, until <= Date() {
            for event in try runtime.events.read(since: since).events where event.time <= until && matches(event) {
                try await call.sendContinues(IoPodman.Methods.GetEvents.Reply(events: Conversions.event(event)))
            }
        } else {
            for try await event in runtime.events.follow(since: since) {
                if let until, event.time > until { break }
                guard matches(event) else { continue }
                try await call.sendContinues(IoPodman.Methods.GetEvents.Reply(events: Conversions.event(event)))
            }
        }
        return IoPodman.Methods.GetEvents.Reply(events: IoPodman.Event(id: "", image: "", name: "", status: "", time: "", type: ""))
    }

    // MARK: - Container lifecycle

    public func createContainer(_ parameters: IoPodman.Methods.CreateContainer.Parameters, call: VarlinkCall<IoPodman.Methods.CreateContainer.Reply>) async throws -> IoPodman.Methods.CreateContainer.Reply {
        let options: ContainerCreateOptions
        do {
            options = try CreateMapping.options(from: parameters.create)
        } catch {
            throw IoPodman.ErrorOccurred(reason: error.description)
        }
        return try await PodmanErrors.mapping {
            IoPodman.Methods.CreateContainer.Reply(container: try await runtime.createContainer(options).id)
        }
    }

    private func resolved(_ name: String) async throws -> String {
        try await PodmanErrors.mapping { try await runtime.container(name).id }
    }

    public func initContainer(_ parameters: IoPodman.Methods.InitContainer.Parameters, call: VarlinkCall<IoPodman.Methods.InitContainer.Reply>) async throws -> IoPodman.Methods.InitContainer.Reply {
        let id = try await resolved(parameters.name)
        try await PodmanErrors.mapping { try await runtime.initContainer(id) }
        return IoPodman.Methods.InitContainer.Reply(container: id)
    }

    public func startContainer(_ parameters: IoPodman.Methods.StartContainer.Parameters, call: VarlinkCall<IoPodman.Methods.StartContainer.Reply>) async throws -> IoPodman.Methods.StartContainer.Reply {
        let id = try await resolved(parameters.name)
        try await PodmanErrors.mapping { try await runtime.startContainer(id) }
        return IoPodman.Methods.StartContainer.Reply(container: id)
    }

    public func stopContainer(_ parameters: IoPodman.Methods.StopContainer.Parameters, call: VarlinkCall<IoPodman.Methods.StopContainer.Reply>) async throws -> IoPodman.Methods.StopContainer.Reply {
        let id = try await resolved(parameters.name)
        guard parameters.timeout >= -1 else { throw IoPodman.ErrorOccurred(reason: "timeout must be -1 (the container's own) or more seconds") }
        try await PodmanErrors.mapping {
            try await runtime.stopContainer(id, timeout: parameters.timeout < 0 ? nil : UInt32(clamping: parameters.timeout))
        }
        return IoPodman.Methods.StopContainer.Reply(container: id)
    }

    public func restartContainer(_ parameters: IoPodman.Methods.RestartContainer.Parameters, call: VarlinkCall<IoPodman.Methods.RestartContainer.Reply>) async throws -> IoPodman.Methods.RestartContainer.Reply {
        let id = try await resolved(parameters.name)
        try await PodmanErrors.mapping {
            try await runtime.restartContainer(id, timeout: parameters.timeout < 0 ? nil : UInt32(clamping: parameters.timeout))
        }
        return IoPodman.Methods.RestartContainer.Reply(container: id)
    }

    public func killContainer(_ parameters: IoPodman.Methods.KillContainer.Parameters, call: VarlinkCall<IoPodman.Methods.KillContainer.Reply>) async throws -> IoPodman.Methods.KillContainer.Reply {
        let id = try await resolved(parameters.name)
        guard (1...64).contains(parameters.signal) else {
            throw IoPodman.ErrorOccurred(reason: "signal \(parameters.signal) is not a signal number (1-64)")
        }
        try await PodmanErrors.mapping { try await runtime.killContainer(id, signal: Int32(parameters.signal)) }
        return IoPodman.Methods.KillContainer.Reply(container: id)
    }

    public func pauseContainer(_ parameters: IoPodman.Methods.PauseContainer.Parameters, call: VarlinkCall<IoPodman.Methods.PauseContainer.Reply>) async throws -> IoPodman.Methods.PauseContainer.Reply {
        let id = try await resolved(parameters.name)
        try await PodmanErrors.mapping { try await runtime.pauseContainer(id) }
        return IoPodman.Methods.PauseContainer.Reply(container: id)
    }

    public func unpauseContainer(_ parameters: IoPodman.Methods.UnpauseContainer.Parameters, call: VarlinkCall<IoPodman.Methods.UnpauseContainer.Reply>) async throws -> IoPodman.Methods.UnpauseContainer.Reply {
        let id = try await resolved(parameters.name)
        try await PodmanErrors.mapping { try await runtime.unpauseContainer(id) }
        return IoPodman.Methods.UnpauseContainer.Reply(container: id)
    }

    /// `interval` is in milliseconds, as podman documented but did not do; it bounds how
    /// long the wait goes without checking the state (the exit itself is seen at once).
    public func waitContainer(_ parameters: IoPodman.Methods.WaitContainer.Parameters, call: VarlinkCall<IoPodman.Methods.WaitContainer.Reply>) async throws -> IoPodman.Methods.WaitContainer.Reply {
        guard parameters.interval >= 0 else { throw IoPodman.ErrorOccurred(reason: "interval must be 0 or more milliseconds") }
        let interval: Duration = parameters.interval == 0 ? .milliseconds(250) : .milliseconds(parameters.interval)
        return try await PodmanErrors.mapping {
            IoPodman.Methods.WaitContainer.Reply(exitcode: Int(try await runtime.waitContainer(parameters.name, pollInterval: interval)))
        }
    }

    public func removeContainer(_ parameters: IoPodman.Methods.RemoveContainer.Parameters, call: VarlinkCall<IoPodman.Methods.RemoveContainer.Reply>) async throws -> IoPodman.Methods.RemoveContainer.Reply {
        let id = try await resolved(parameters.name)
        try await PodmanErrors.mapping { try await runtime.removeContainer(id, force: parameters.force) }
        return IoPodman.Methods.RemoveContainer.Reply(container: id)
    }

    public func deleteStoppedContainers(_ parameters: IoPodman.Methods.DeleteStoppedContainers.Parameters, call: VarlinkCall<IoPodman.Methods.DeleteStoppedContainers.Reply>) async throws -> IoPodman.Methods.DeleteStoppedContainers.Reply {
        try await PodmanErrors.mapping { IoPodman.Methods.DeleteStoppedContainers.Reply(containers: try await runtime.pruneContainers()) }
    }

    // MARK: - Container queries

    public func listContainers(_ parameters: IoPodman.Methods.ListContainers.Parameters, call: VarlinkCall<IoPodman.Methods.ListContainers.Reply>) async throws -> IoPodman.Methods.ListContainers.Reply {
        try await PodmanErrors.mapping {
            let now = Date()
            return IoPodman.Methods.ListContainers.Reply(containers: try await runtime.listContainers().map { Conversions.container($0, now: now) })
        }
    }

    public func getContainer(_ parameters: IoPodman.Methods.GetContainer.Parameters, call: VarlinkCall<IoPodman.Methods.GetContainer.Reply>) async throws -> IoPodman.Methods.GetContainer.Reply {
        try await PodmanErrors.mapping {
            IoPodman.Methods.GetContainer.Reply(container: Conversions.container(try await runtime.inspectContainer(parameters.id).container))
        }
    }

    public func getContainersByStatus(_ parameters: IoPodman.Methods.GetContainersByStatus.Parameters, call: VarlinkCall<IoPodman.Methods.GetContainersByStatus.Reply>) async throws -> IoPodman.Methods.GetContainersByStatus.Reply {
        var statuses: Set<ContainerStatus> = []
        for text in parameters.status {
            guard let status = ContainerStatus(rawValue: text) else {
                throw IoPodman.ErrorOccurred(reason: "unknown status \"\(text)\"; use one of \(ContainerStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            statuses.insert(status)
        }
        return try await PodmanErrors.mapping {
            let all = try await runtime.listContainers()
            return IoPodman.Methods.GetContainersByStatus.Reply(containerS: all.filter { statuses.contains($0.state.status) }.map { Conversions.container($0) })
        }
    }

    /// podman's convention: 0 when it exists, 1 when it does not.
    public func containerExists(_ parameters: IoPodman.Methods.ContainerExists.Parameters, call: VarlinkCall<IoPodman.Methods.ContainerExists.Reply>) async throws -> IoPodman.Methods.ContainerExists.Reply {
        try await PodmanErrors.mapping { IoPodman.Methods.ContainerExists.Reply(exists: try await runtime.containerExists(parameters.name) ? 0 : 1) }
    }

    public func inspectContainer(_ parameters: IoPodman.Methods.InspectContainer.Parameters, call: VarlinkCall<IoPodman.Methods.InspectContainer.Reply>) async throws -> IoPodman.Methods.InspectContainer.Reply {
        try await PodmanErrors.mapping {
            let inspection = try await runtime.inspectContainer(parameters.name)
            return IoPodman.Methods.InspectContainer.Reply(container: ContainerInspectJSON(inspection, driver: runtime.config.storageDriver.rawValue).inspectJSON())
        }
    }

    public func top(_ parameters: IoPodman.Methods.Top.Parameters, call: VarlinkCall<IoPodman.Methods.Top.Reply>) async throws -> IoPodman.Methods.Top.Reply {
        guard parameters.descriptors.isEmpty else {
            throw IoPodman.ErrorOccurred(reason: "top descriptors are not supported; Podlink reports PID, PPID, USER, TIME and COMMAND")
        }
        return try await PodmanErrors.mapping {
            IoPodman.Methods.Top.Reply(top: try await runtime.topContainer(parameters.nameOrID).map { $0.joined(separator: "\t") })
        }
    }

    public func listContainerProcesses(_ parameters: IoPodman.Methods.ListContainerProcesses.Parameters, call: VarlinkCall<IoPodman.Methods.ListContainerProcesses.Reply>) async throws -> IoPodman.Methods.ListContainerProcesses.Reply {
        guard parameters.opts.isEmpty else {
            throw IoPodman.ErrorOccurred(reason: "process list options are not supported; Podlink reports PID, PPID, USER, TIME and COMMAND")
        }
        return try await PodmanErrors.mapping {
            IoPodman.Methods.ListContainerProcesses.Reply(container: try await runtime.topContainer(parameters.name).map { $0.joined(separator: "\t") })
        }
    }

    public func getContainerStats(_ parameters: IoPodman.Methods.GetContainerStats.Parameters, call: VarlinkCall<IoPodman.Methods.GetContainerStats.Reply>) async throws -> IoPodman.Methods.GetContainerStats.Reply {
        try await PodmanErrors.mapping { IoPodman.Methods.GetContainerStats.Reply(container: Conversions.stats(try await runtime.containerStats(parameters.name))) }
    }

    public func listContainerChanges(_ parameters: IoPodman.Methods.ListContainerChanges.Parameters, call: VarlinkCall<IoPodman.Methods.ListContainerChanges.Reply>) async throws -> IoPodman.Methods.ListContainerChanges.Reply {
        try await PodmanErrors.mapping {
            let changes = try await runtime.containerChanges(parameters.name)
            func paths(_ kind: ContainerChange.Kind) -> [String] { changes.filter { $0.kind == kind }.map(\.path) }
            return IoPodman.Methods.ListContainerChanges.Reply(container: IoPodman.ContainerChanges(changed: paths(.changed), added: paths(.added), deleted: paths(.deleted)))
        }
    }

    // MARK: - Logs

    public func getContainerLogs(_ parameters: IoPodman.Methods.GetContainerLogs.Parameters, call: VarlinkCall<IoPodman.Methods.GetContainerLogs.Reply>) async throws -> IoPodman.Methods.GetContainerLogs.Reply {
        try await PodmanErrors.mapping {
            let stream = try await runtime.containerLogs(parameters.name, options: LogOptions(follow: call.wantsMore))
            var batch: [String] = []
            for try await line in stream {
                batch.append(line.text)
                if call.wantsMore {
                    try await call.sendContinues(IoPodman.Methods.GetContainerLogs.Reply(container: batch))
                    batch = []
                }
            }
            return IoPodman.Methods.GetContainerLogs.Reply(container: batch)
        }
    }

    public func getContainersLogs(_ parameters: IoPodman.Methods.GetContainersLogs.Parameters, call: VarlinkCall<IoPodman.Methods.GetContainersLogs.Reply>) async throws -> IoPodman.Methods.GetContainersLogs.Reply {
        guard call.wantsMore else { throw IoPodman.WantsMoreRequired(reason: "GetContainersLogs streams log lines: call it with more") }
        guard parameters.names.count == 1 || (parameters.latest && parameters.names.isEmpty) else {
            throw IoPodman.ErrorOccurred(reason: "give exactly one container name (or latest); several at once are not supported yet")
        }
        guard parameters.since.isEmpty || PodmanFormat.parseTime(parameters.since) != nil else {
            throw IoPodman.ErrorOccurred(reason: "invalid since \"\(parameters.since)\": give RFC 3339, unix seconds or a duration like 10m")
        }
        return try await PodmanErrors.mapping {
            let name: String
            if let first = parameters.names.first {
                name = first
            } else {
                guard let latest = try await runtime.containers().max(by: { $0.config.created < $1.config.created }) else {
                    throw LibpodError.containerNotFound("latest")
                }
                name = latest.id
            }
            let id = try await runtime.container(name).id
            let options = LogOptions(
                tail: parameters.tail >= 0 ? parameters.tail : nil, since: PodmanFormat.parseTime(parameters.since),
                follow: parameters.follow)
            // Each line goes out as it is read; the final reply, which varlink requires, is an
            // empty line (as podman 1.x sent).
            for try await line in try await runtime.containerLogs(id, options: options) {
                try await call.sendContinues(IoPodman.Methods.GetContainersLogs.Reply(log: Conversions.logLine(line, id: id)))
            }
            return IoPodman.Methods.GetContainersLogs.Reply(log: IoPodman.LogLine(device: "", parseLogType: "", time: "", msg: "", cid: id))
        }
    }

    // MARK: - Images

    private func usage() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for container in try await runtime.containers() { counts[container.config.imageID, default: 0] += 1 }
        return counts
    }

    public func listImages(_ parameters: IoPodman.Methods.ListImages.Parameters, call: VarlinkCall<IoPodman.Methods.ListImages.Reply>) async throws -> IoPodman.Methods.ListImages.Reply {
        try await PodmanErrors.mapping {
            let counts = try await usage()
            return IoPodman.Methods.ListImages.Reply(images: try runtime.images.images().map { Conversions.image($0, containers: counts[$0.id] ?? 0) })
        }
    }

    public func getImage(_ parameters: IoPodman.Methods.GetImage.Parameters, call: VarlinkCall<IoPodman.Methods.GetImage.Reply>) async throws -> IoPodman.Methods.GetImage.Reply {
        try await PodmanErrors.mapping {
            let image = try runtime.images.image(parameters.id)
            return IoPodman.Methods.GetImage.Reply(image: Conversions.image(image, containers: try await usage()[image.id] ?? 0))
        }
    }

    public func imageExists(_ parameters: IoPodman.Methods.ImageExists.Parameters, call: VarlinkCall<IoPodman.Methods.ImageExists.Reply>) async throws -> IoPodman.Methods.ImageExists.Reply {
        try await PodmanErrors.mapping { IoPodman.Methods.ImageExists.Reply(exists: try runtime.images.exists(parameters.name) ? 0 : 1) }
    }

    public func inspectImage(_ parameters: IoPodman.Methods.InspectImage.Parameters, call: VarlinkCall<IoPodman.Methods.InspectImage.Reply>) async throws -> IoPodman.Methods.InspectImage.Reply {
        try await PodmanErrors.mapping { IoPodman.Methods.InspectImage.Reply(image: ImageInspectJSON(try runtime.images.image(parameters.name)).inspectJSON()) }
    }

    public func tagImage(_ parameters: IoPodman.Methods.TagImage.Parameters, call: VarlinkCall<IoPodman.Methods.TagImage.Reply>) async throws -> IoPodman.Methods.TagImage.Reply {
        try await PodmanErrors.mapping {
            let image = try await runtime.images.tag(parameters.name, as: parameters.tagged)
            return IoPodman.Methods.TagImage.Reply(image: image.id)
        }
    }

    public func untagImage(_ parameters: IoPodman.Methods.UntagImage.Parameters, call: VarlinkCall<IoPodman.Methods.UntagImage.Reply>) async throws -> IoPodman.Methods.UntagImage.Reply {
        try await PodmanErrors.mapping {
            let image = try await runtime.images.untag(parameters.name, name: parameters.tag)
            return IoPodman.Methods.UntagImage.Reply(image: image.id)
        }
    }

    public func removeImage(_ parameters: IoPodman.Methods.RemoveImage.Parameters, call: VarlinkCall<IoPodman.Methods.RemoveImage.Reply>) async throws -> IoPodman.Methods.RemoveImage.Reply {
        try await PodmanErrors.mapping { IoPodman.Methods.RemoveImage.Reply(image: try await runtime.removeImage(parameters.name, force: parameters.force)) }
    }

    public func imagesPrune(_ parameters: IoPodman.Methods.ImagesPrune.Parameters, call: VarlinkCall<IoPodman.Methods.ImagesPrune.Reply>) async throws -> IoPodman.Methods.ImagesPrune.Reply {
        guard parameters.filter.isEmpty else { throw IoPodman.ErrorOccurred(reason: "prune filters are not supported yet; call without filters") }
        guard !parameters.all else { throw IoPodman.ErrorOccurred(reason: "pruning all unused images is not supported yet; only dangling ones") }
        return try await PodmanErrors.mapping { IoPodman.Methods.ImagesPrune.Reply(pruned: try await runtime.pruneImages()) }
    }

    /// The tarball is a path on the daemon's machine (as in podman 1.x), read as the daemon.
    public func importImage(_ parameters: IoPodman.Methods.ImportImage.Parameters, call: VarlinkCall<IoPodman.Methods.ImportImage.Reply>) async throws -> IoPodman.Methods.ImportImage.Reply {
        let overrides: ImageConfigOverrides?
        do {
            overrides = try ImportChanges.parse(parameters.changes)
        } catch {
            throw IoPodman.ErrorOccurred(reason: error.description)
        }
        return try await PodmanErrors.mapping {
            let image = try await runtime.images.importRootfs(tarball: parameters.source, reference: parameters.reference, config: overrides)
            try? runtime.events.append(Event(type: .image, status: "import", id: image.id, name: parameters.reference))
            if parameters.delete { unlink(parameters.source) }
            return IoPodman.Methods.ImportImage.Reply(image: image.id)
        }
    }

    /// Parameters bound by name (podman 1.x swapped `name` and `inputFile`).
    public func loadImage(_ parameters: IoPodman.Methods.LoadImage.Parameters, call: VarlinkCall<IoPodman.Methods.LoadImage.Reply>) async throws -> IoPodman.Methods.LoadImage.Reply {
        try await PodmanErrors.mapping {
            var images = try await runtime.images.load(path: parameters.inputFile)
            if !parameters.name.isEmpty, let first = images.first {
                images[0] = try await runtime.images.tag(first.id, as: parameters.name)
            }
            for image in images { try? runtime.events.append(Event(type: .image, status: "loaded", id: image.id, name: image.names.first ?? "")) }
            if parameters.deleteFile { unlink(parameters.inputFile) }
            let logs = parameters.quiet ? [] : images.map { "Loaded image: \($0.names.first ?? $0.id)" }
            return IoPodman.Methods.LoadImage.Reply(reply: IoPodman.MoreResponse(logs: logs, id: images.map(\.id).joined(separator: ",")))
        }
    }
}

/// podman import's `--change` instructions (Dockerfile syntax) for a rootfs image.
enum ImportChanges {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ changes: [String]) throws(Invalid) -> ImageConfigOverrides? {
        guard !changes.isEmpty else { return nil }
        var overrides = ImageConfigOverrides()
        for change in changes {
            let parts = change.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw Invalid(description: "change \"\(change)\" must be INSTRUCTION VALUE") }
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            let list = (try? JSONDecoder().decode([String].self, from: Data(value.utf8))) ?? ["/bin/sh", "-c", value]
            switch parts[0].uppercased() {
            case "CMD": overrides.cmd = list
            case "ENTRYPOINT": overrides.entrypoint = list
            case "ENV":
                let pair = value.contains("=") ? value : value.replacingOccurrences(of: " ", with: "=", options: [], range: value.range(of: " "))
                overrides.env = (overrides.env ?? []) + [pair]
            case "WORKDIR": overrides.workingDir = value
            case "USER": overrides.user = value
            case "LABEL":
                let pair = value.split(separator: "=", maxSplits: 1).map(String.init)
                overrides.labels = (overrides.labels ?? [:]).merging([pair[0]: pair.count > 1 ? pair[1] : ""]) { $1 }
            case "STOPSIGNAL": overrides.stopSignal = value
            case "EXPOSE": overrides.exposedPorts = (overrides.exposedPorts ?? []) + [value]
            default:
                throw Invalid(description: "change \"\(change)\": \(parts[0]) is not supported; use CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, STOPSIGNAL or EXPOSE")
            }
        }
        return overrides
    }
}
