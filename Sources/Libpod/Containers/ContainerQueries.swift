import Foundation
import Glibc

/// A condition for listing containers; all given conditions must hold (podman ps --filter).
public enum ContainerFilter: Sendable, Equatable {
    case status(ContainerStatus)
    /// The name matches this regular expression (unanchored, as podman's).
    case name(String)
    /// The ID contains this text.
    case id(String)
    /// The label exists (value nil) or has this value.
    case label(String, String?)
    /// Made from this image (reference, ID or ID prefix, or part of its name).
    case ancestor(String)
    /// Exited with this code.
    case exited(Int32)
    /// Created before, or after, the container with this name or ID.
    case before(String)
    case since(String)
    /// Mounts this host path (`SOURCE`) or this source at this destination (`SOURCE:DEST`).
    case volume(String)
    /// Its healthcheck says this: starting, healthy or unhealthy.
    case health(HealthState.Status)
    /// Created before this time.
    case until(Date)

    static let keys = ["status", "name", "id", "label", "ancestor", "exited", "before", "since", "volume", "health", "until"]

    /// podman's `key=value` filter syntax.
    public init(parsing text: String) throws(LibpodError) {
        guard let equals = text.firstIndex(of: "=") else {
            throw .invalidArgument("invalid filter \"\(text)\": expected KEY=VALUE with KEY one of \(Self.keys.joined(separator: ", "))")
        }
        let key = String(text[..<equals])
        let value = String(text[text.index(after: equals)...])
        func invalid(_ reason: String) -> LibpodError { .invalidArgument("invalid filter \"\(text)\": \(reason)") }
        switch key {
        case "status":
            // podman's ps says created for configured and exited for stopped.
            let aliases: [String: ContainerStatus] = ["created": .created, "configured": .configured, "stopped": .exited]
            guard let status = aliases[value] ?? ContainerStatus(rawValue: value) else {
                let known = ContainerStatus.allCases.map(\.rawValue).joined(separator: ", ")
                throw invalid("status must be one of \(known)")
            }
            self = .status(status)
        case "name":
            guard (try? NSRegularExpression(pattern: value)) != nil else { throw invalid("\"\(value)\" is not a regular expression") }
            self = .name(value)
        case "id": self = .id(value)
        case "label":
            if let inner = value.firstIndex(of: "=") {
                self = .label(String(value[..<inner]), String(value[value.index(after: inner)...]))
            } else {
                self = .label(value, nil)
            }
        case "ancestor": self = .ancestor(value)
        case "exited":
            guard let code = Int32(value) else { throw invalid("\"\(value)\" is not an exit code") }
            self = .exited(code)
        case "before": self = .before(value)
        case "since": self = .since(value)
        case "volume": self = .volume(value)
        case "health":
            guard let status = HealthState.Status(rawValue: value) else { throw invalid("health must be starting, healthy or unhealthy") }
            self = .health(status)
        case "until":
            guard let date = Self.time(value) else { throw invalid("\"\(value)\" is not a time (RFC 3339 or unix seconds)") }
            self = .until(date)
        default:
            throw invalid("unknown key \"\(key)\"; use \(Self.keys.joined(separator: ", "))")
        }
    }

    private static func time(_ text: String) -> Date? {
        if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
        return RFC3339.parse(text)
    }
}

/// Everything known about one container: `podman inspect`.
public struct ContainerInspection: Sendable, Equatable {
    public var container: Container
    public var imageName: String
    public var bundlePath: String
    public var rootfsPath: String
    public var logPath: String
    public var runDirectory: String
    public var ociRuntimeName: String
    public var conmonPidFile: String
    public var exitFile: String
    /// The overlay's directories: the image's layers (top first), the container's own
    /// layer and its work directory (empty with vfs).
    public var lowerDirectories: [String]
    public var upperDirectory: String
    public var workDirectory: String
    /// Whether the root file system is mounted now.
    public var mounted: Bool
    /// The OCI spec the container runs with (or would, before it first starts), as JSON.
    public var spec: [UInt8]
    /// Its health, when it has a healthcheck.
    public var health: HealthState?
    /// What CNI gave it, while it is connected to networks.
    public var network: ContainerNetworkStatus?
}

/// One container's resource use: `podman stats`.
public struct ContainerStats: Sendable, Equatable {
    public var id: String
    public var name: String
    public var cpuNanoseconds: UInt64
    public var memoryUsage: UInt64
    /// nil when unlimited.
    public var memoryLimit: UInt64?
    public var pids: UInt64
    public var blockRead: UInt64
    public var blockWrite: UInt64
}

/// A file system change in a container against its image: `podman diff`.
public struct ContainerChange: Sendable, Equatable {
    public enum Kind: String, Sendable { case added = "A", changed = "C", deleted = "D" }
    public var kind: Kind
    public var path: String
}

extension Runtime {
    /// podman ps: every container this namespace sees that matches all `filters`, each
    /// brought up to date with conmon first.
    public func listContainers(filters: [ContainerFilter] = []) async throws(LibpodError) -> [Container] {
        try checkValid()
        var all: [Container] = []
        for container in try await state.containers() {
            if [.running, .paused, .stopping, .created].contains(container.state.status),
                FileSystem.exists(exitWatcher.exitFile(container.id))
            {
                all.append((try? await syncedContainer(container.id)) ?? container)
            } else {
                all.append(container)
            }
        }
        guard !filters.isEmpty else { return all }
        var imageIDs: [String: String?] = [:]
        var created: [String: Date] = [:]
        for filter in filters {
            switch filter {
            case .ancestor(let reference) where imageIDs[reference] == nil:
                imageIDs[reference] = .some(try? images.image(reference).id)
            case .before(let name), .since(let name):
                created[name] = try await container(name).config.created
            default: break
            }
        }
        return all.filter { container in
            filters.allSatisfy { filter in
                switch filter {
                case .status(let status): container.state.status == status
                case .name(let pattern):
                    container.name.range(of: pattern, options: .regularExpression) != nil
                case .id(let text): container.id.contains(text)
                case .label(let key, let value): container.config.labels[key].map { value == nil || $0 == value } ?? false
                case .ancestor(let reference):
                    imageIDs[reference]!.map { $0 == container.config.imageID }
                        ?? (container.config.imageID.contains(reference) || container.config.imageName.contains(reference))
                case .exited(let code): container.state.status == .exited && container.state.exitCode == code
                case .before(let name): container.config.created < created[name]!
                case .since(let name): container.config.created > created[name]!
                case .volume(let text):
                    container.config.mounts.contains { text == $0.source || text == "\($0.source):\($0.destination)" }
                case .health(let status): container.config.healthcheck != nil && health(of: container.id)?.status == status
                case .until(let date): container.config.created <= date
                }
            }
        }
    }

    public func containerExists(_ idOrName: String) async throws(LibpodError) -> Bool {
        do {
            _ = try await container(idOrName)
            return true
        } catch .containerNotFound {
            return false
        }
    }

    /// podman inspect. With `spec`, the OCI spec comes too (it is read from disk, and
    /// most callers do not need it).
    public func inspectContainer(_ idOrName: String, spec includingSpec: Bool = true) async throws(LibpodError) -> ContainerInspection {
        let container = try await syncedContainer(try await state.lookupID(idOrName))
        let id = container.id
        let overlay = config.storageDriver == .overlay
        let lowers = overlay ? ((try? images.layerDirectories(of: images.image(container.config.imageID))) ?? []) : []
        return ContainerInspection(
            container: container, imageName: container.config.imageName, bundlePath: bundleDirectory(id),
            rootfsPath: storage.mountPoint(id), logPath: logPath(container.config), runDirectory: runDirectory(id),
            ociRuntimeName: ociCommand(for: container).name, conmonPidFile: runDirectory(id) + "/conmon.pid",
            exitFile: exitWatcher.exitFile(id), lowerDirectories: lowers,
            upperDirectory: overlay ? storage.upperDirectory(id) : "", workDirectory: overlay ? storage.directory(id) + "/work" : "",
            mounted: storage.users(id) > 0, spec: includingSpec ? try await spec(of: container) : [],
            health: container.config.healthcheck == nil ? nil : health(of: id),
            network: container.config.network.usesCNI ? networkStatus(id) : nil)
    }

    /// The container as it is now: brought up to date with conmon first when conmon has
    /// recorded an exit. Without one there is nothing to learn, so no lock is taken.
    func syncedContainer(_ id: String) async throws(LibpodError) -> Container {
        let container = try await state.container(id: id)
        guard [.running, .paused, .stopping, .created].contains(container.state.status),
            FileSystem.exists(exitWatcher.exitFile(id))
        else { return container }
        return try await updateContainer(id) { (fresh: inout Container) async throws(LibpodError) -> Container in
            try await sync(&fresh)
            return fresh
        }
    }

    /// podman's Spec: the OCI spec of the container as JSON: the one it was started with,
    /// or, before its first start, the one it would get (users named in the image are
    /// resolved once its root file system is mounted).
    public func containerSpec(_ idOrName: String) async throws(LibpodError) -> [UInt8] {
        try await spec(of: try await container(idOrName))
    }

    private func spec(of container: Container) async throws(LibpodError) -> [UInt8] {
        if let written = try FileSystem.read(bundleDirectory(container.id) + "/config.json") { return written }
        var environment = try await specEnvironment(
            container.config, rootfs: storage.mountPoint(container.id), runDir: runDirectory(container.id), resolvingUser: false)
        environment.rootfs = storage.mountPoint(container.id)
        let spec = OCISpecBuilder.build(config: container.config, environment: environment)
        do {
            return Array(try spec.encoded())
        } catch {
            throw .encoding(what: "the spec of \(container.id.prefix(12))", cause: "\(error)")
        }
    }

    private func requireRunning(_ idOrName: String, _ operation: String) async throws(LibpodError) -> Container {
        let container = try await container(idOrName)
        guard [.running, .paused].contains(container.state.status) else {
            throw .invalidState(id: container.id, state: container.state.status, operation: operation)
        }
        return container
    }

    /// The container's cgroup directory for `controller` (v1), or the unified one.
    func cgroupDirectory(_ container: Container, controller: String) -> String? {
        let parent = container.config.cgroupParent.isEmpty ? "/podlink" : container.config.cgroupParent
        let relative = "\(parent)/podlink-\(container.id)"
        for base in ["/sys/fs/cgroup/\(controller)", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
            let candidate = base + relative
            if FileSystem.exists(candidate + "/cgroup.procs") { return candidate }
        }
        return nil
    }

    /// podman top: a header row, then a row per process of the container, with the
    /// columns `descriptors` names (podman's defaults when empty) and PIDs as the
    /// container sees them.
    public func topContainer(_ idOrName: String, descriptors: [String] = []) async throws(LibpodError) -> [[String]] {
        let columns = try ProcessTable.descriptors(descriptors)
        let container = try await requireRunning(idOrName, "list the processes of")
        guard let directory = cgroupDirectory(container, controller: "pids") ?? cgroupDirectory(container, controller: "memory"),
            let procs = try FileSystem.readString(directory + "/cgroup.procs")
        else {
            throw .damaged(what: "the cgroup of container \(container.id.prefix(12)) was not found under /sys/fs/cgroup", advice: "restart the container")
        }
        let pids = procs.split(separator: "\n").compactMap { Int32($0) }.sorted()
        return ProcessTable.rows(descriptors: columns, hostPIDs: pids, rootPID: container.state.pid, rootfs: container.state.mountPoint)
    }

    /// podman stats, from the container's cgroups (v1 and v2).
    public func containerStats(_ idOrName: String) async throws(LibpodError) -> ContainerStats {
        let container = try await requireRunning(idOrName, "read the statistics of")
        let id = container.id
        func number(_ controller: String, _ v1: String, _ v2: String) -> UInt64? {
            guard let directory = cgroupDirectory(container, controller: controller) else { return nil }
            let file = FileSystem.exists(directory + "/" + v1) ? v1 : v2
            return ((try? FileSystem.readString(directory + "/" + file)) ?? nil).flatMap { UInt64($0.filter(\.isNumber)) }
        }
        var cpu = number("cpuacct", "cpuacct.usage", "cpu.stat.none") ?? 0
        if cpu == 0, let directory = cgroupDirectory(container, controller: "cpu"),
            let text = try? FileSystem.readString(directory + "/cpu.stat"),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("usage_usec") }),
            let micro = UInt64(line.split(separator: " ").last ?? "")
        {
            cpu = micro * 1000
        }
        let memory = number("memory", "memory.usage_in_bytes", "memory.current") ?? 0
        var limit = number("memory", "memory.limit_in_bytes", "memory.max")
        if let value = limit, value >= 1 << 62 { limit = nil }
        let pids = number("pids", "pids.current", "pids.current") ?? 0
        var read: UInt64 = 0
        var written: UInt64 = 0
        if let directory = cgroupDirectory(container, controller: "blkio") {
            for file in ["blkio.throttle.io_service_bytes", "io.stat"] {
                guard let text = (try? FileSystem.readString(directory + "/" + file)) ?? nil else { continue }
                for line in text.split(separator: "\n") {
                    let parts = line.split(separator: " ")
                    if parts.count == 3, parts[1] == "Read" { read += UInt64(parts[2]) ?? 0 }
                    if parts.count == 3, parts[1] == "Write" { written += UInt64(parts[2]) ?? 0 }
                    for part in parts where part.hasPrefix("rbytes=") { read += UInt64(part.dropFirst(7)) ?? 0 }
                    for part in parts where part.hasPrefix("wbytes=") { written += UInt64(part.dropFirst(7)) ?? 0 }
                }
            }
        }
        return ContainerStats(
            id: id, name: container.name, cpuNanoseconds: cpu, memoryUsage: memory, memoryLimit: limit, pids: pids,
            blockRead: read, blockWrite: written)
    }

    /// podman diff: what the container changed in its root file system (overlay only:
    /// the upper dir holds exactly the changes).
    public func containerChanges(_ idOrName: String) async throws(LibpodError) -> [ContainerChange] {
        let container = try await container(idOrName)
        guard config.storageDriver == .overlay else {
            throw .invalidArgument("changes are only tracked with storage_driver = \"overlay\"")
        }
        let image = try images.image(container.config.imageID)
        let lowers = try images.layerDirectories(of: image)
        // What the runtime itself puts there (mount points of the files it binds) is not
        // the container's doing; podman leaves these out too.
        let runtimeOwned: Set<String> = [
            "/dev", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/proc", "/run", "/run/.containerenv", "/run/secrets", "/sys",
        ]
        return Self.changes(in: storage.upperDirectory(container.id), over: lowers).filter { !runtimeOwned.contains($0.path) }
    }
}
