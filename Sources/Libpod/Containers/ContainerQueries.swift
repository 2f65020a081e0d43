import Foundation
import Glibc

/// A condition for listing containers; all given conditions must hold (podman ps --filter).
public enum ContainerFilter: Sendable, Equatable {
    case status(ContainerStatus)
    /// The name contains this text.
    case name(String)
    /// The ID starts with this prefix.
    case id(String)
    /// The label exists (value nil) or has this value.
    case label(String, String?)
    /// Made from this image (reference, ID or ID prefix).
    case ancestor(String)

    /// podman's `key=value` filter syntax: status=, name=, id=, label=k[=v], ancestor=.
    public init(parsing text: String) throws(LibpodError) {
        guard let equals = text.firstIndex(of: "=") else {
            throw .invalidArgument("invalid filter \"\(text)\": expected KEY=VALUE with KEY one of status, name, id, label, ancestor")
        }
        let key = String(text[..<equals])
        let value = String(text[text.index(after: equals)...])
        switch key {
        case "status":
            guard let status = ContainerStatus(rawValue: value) else {
                let known = ContainerStatus.allCases.map(\.rawValue).joined(separator: ", ")
                throw .invalidArgument("invalid filter \"\(text)\": status must be one of \(known)")
            }
            self = .status(status)
        case "name": self = .name(value)
        case "id": self = .id(value)
        case "label":
            if let inner = value.firstIndex(of: "=") {
                self = .label(String(value[..<inner]), String(value[value.index(after: inner)...]))
            } else {
                self = .label(value, nil)
            }
        case "ancestor": self = .ancestor(value)
        default:
            throw .invalidArgument("invalid filter \"\(text)\": unknown key \"\(key)\"; use status, name, id, label or ancestor")
        }
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
        var result: [Container] = []
        var imageIDs: [String: String?] = [:]
        for var container in try await state.containers() {
            if [.running, .paused, .stopping, .created].contains(container.state.status),
                FileSystem.exists(exitWatcher.exitFile(container.id))
            {
                container = (try? await updateContainer(container.id) { (fresh: inout Container) async throws(LibpodError) -> Container in
                    try await sync(&fresh)
                    return fresh
                }) ?? container
            }
            var matches = true
            for filter in filters where matches {
                switch filter {
                case .status(let status): matches = container.state.status == status
                case .name(let text): matches = container.name.contains(text)
                case .id(let prefix): matches = container.id.hasPrefix(prefix)
                case .label(let key, let value): matches = container.config.labels[key].map { value == nil || $0 == value } ?? false
                case .ancestor(let reference):
                    if imageIDs[reference] == nil { imageIDs[reference] = .some(try? images.image(reference).id) }
                    matches = imageIDs[reference]!.map { $0 == container.config.imageID } ?? false
                }
            }
            if matches { result.append(container) }
        }
        return result
    }

    public func containerExists(_ idOrName: String) async throws(LibpodError) -> Bool {
        do {
            _ = try await container(idOrName)
            return true
        } catch .containerNotFound {
            return false
        }
    }

    /// podman inspect.
    public func inspectContainer(_ idOrName: String) async throws(LibpodError) -> ContainerInspection {
        let id = try await state.lookupID(idOrName)
        let container = try await updateContainer(id) { (container: inout Container) async throws(LibpodError) -> Container in
            try await sync(&container)
            return container
        }
        return ContainerInspection(
            container: container, imageName: container.config.imageName, bundlePath: bundleDirectory(id),
            rootfsPath: storage.mountPoint(id), logPath: logPath(container.config), runDirectory: runDirectory(id),
            ociRuntimeName: ociCommand(for: container).name, conmonPidFile: runDirectory(id) + "/conmon.pid",
            exitFile: exitWatcher.exitFile(id))
    }

    private func requireRunning(_ idOrName: String, _ operation: String) async throws(LibpodError) -> Container {
        let container = try await container(idOrName)
        guard [.running, .paused].contains(container.state.status) else {
            throw .invalidState(id: container.id, state: container.state.status, operation: operation)
        }
        return container
    }

    /// The container's cgroup directory for `controller` (v1), or the unified one.
    private func cgroupDirectory(_ id: String, controller: String) -> String? {
        let relative = "/podlink/podlink-\(id)"
        for base in ["/sys/fs/cgroup/\(controller)", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
            let candidate = base + relative
            if FileSystem.exists(candidate + "/cgroup.procs") { return candidate }
        }
        return nil
    }

    /// podman top: the container's processes, with PIDs as the container sees them.
    public func topContainer(_ idOrName: String) async throws(LibpodError) -> [[String]] {
        let container = try await requireRunning(idOrName, "list the processes of")
        guard let directory = cgroupDirectory(container.id, controller: "pids") ?? cgroupDirectory(container.id, controller: "memory"),
            let procs = try FileSystem.readString(directory + "/cgroup.procs")
        else {
            throw .damaged(what: "the cgroup of container \(container.id.prefix(12)) was not found under /sys/fs/cgroup", advice: "restart the container")
        }
        var rows = [["PID", "PPID", "USER", "TIME", "COMMAND"]]
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        for hostPID in procs.split(separator: "\n") {
            guard let status = try? FileSystem.readString("/proc/\(hostPID)/status"),
                let stat = try? FileSystem.readString("/proc/\(hostPID)/stat")
            else { continue }
            func field(_ name: String) -> [Substring] {
                status.split(separator: "\n").first { $0.hasPrefix(name + ":") }?.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst()
                    .map { $0 } ?? []
            }
            let pid = field("NSpid").last.map(String.init) ?? String(hostPID)
            let ppid = field("PPid").first.map(String.init) ?? "0"
            let uid = field("Uid").first.map(String.init) ?? "?"
            // After the command name in parentheses: state, ppid, ..., utime is field 14, stime 15.
            let afterName = stat.split(separator: ")").last?.split(separator: " ") ?? []
            let cpu = afterName.count > 12 ? ((Double(afterName[11]) ?? 0) + (Double(afterName[12]) ?? 0)) / ticks : 0
            let seconds = Int(cpu)
            let time = String(format: "%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
            let commandBytes = (try? FileSystem.read("/proc/\(hostPID)/cmdline")) ?? nil
            let command = commandBytes.map { String(decoding: $0.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self) }?
                .trimmingCharacters(in: .whitespaces) ?? ""
            rows.append([pid, container.state.pid == Int32(hostPID) ? "0" : ppid, uid == "0" ? "root" : uid, time, command])
        }
        return rows
    }

    /// podman stats, from the container's cgroups (v1 and v2).
    public func containerStats(_ idOrName: String) async throws(LibpodError) -> ContainerStats {
        let container = try await requireRunning(idOrName, "read the statistics of")
        let id = container.id
        func number(_ controller: String, _ v1: String, _ v2: String) -> UInt64? {
            guard let directory = cgroupDirectory(id, controller: controller) else { return nil }
            let file = FileSystem.exists(directory + "/" + v1) ? v1 : v2
            return ((try? FileSystem.readString(directory + "/" + file)) ?? nil).flatMap { UInt64($0.filter(\.isNumber)) }
        }
        var cpu = number("cpuacct", "cpuacct.usage", "cpu.stat.none") ?? 0
        if cpu == 0, let directory = cgroupDirectory(id, controller: "cpu"),
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
        if let directory = cgroupDirectory(id, controller: "blkio") {
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
        let upper = storage.upperDirectory(container.id)
        var changes: [ContainerChange] = []
        func walk(_ relative: String) {
            for name in FileSystem.list(upper + relative).sorted() {
                let path = relative + "/" + name
                var info = stat()
                guard lstat(upper + path, &info) == 0 else { continue }
                let inLower = lowers.contains { FileSystem.exists($0 + path) || isSymlink($0 + path) }
                if info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0 {
                    changes.append(ContainerChange(kind: .deleted, path: path))
                    continue
                }
                changes.append(ContainerChange(kind: inLower ? .changed : .added, path: path))
                if info.st_mode & S_IFMT == S_IFDIR { walk(path) }
            }
        }
        walk("")
        return changes
    }

    private func isSymlink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
    }
}
