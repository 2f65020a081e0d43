import Glibc

/// What `podman info` reports: the host, the store, the registries.
public struct RuntimeInfo: Sendable, Equatable {
    public var host: HostInfo
    public var store: StoreInfo
    /// Search registries from registries.conf, when that file exists.
    public var registries: [String]
    public var insecureRegistries: [String]
    public var blockedRegistries: [String]
}

public struct HostInfo: Sendable, Equatable {
    public var kernel: String
    public var os: String
    public var distribution: String
    public var distributionVersion: String
    public var arch: String
    public var cpus: Int
    public var memTotal: Int64
    public var memFree: Int64
    public var swapTotal: Int64
    public var swapFree: Int64
    public var hostname: String
    public var uptimeSeconds: Double
    public var cgroupVersion: String
    public var cgroupManager: String
    public var ociRuntimeName: String
    public var ociRuntimePath: String
    public var ociRuntimeVersion: String
    public var conmonPath: String
    public var conmonVersion: String
    public var rootless: Bool
}

public struct StoreInfo: Sendable, Equatable {
    public var staticDir: String
    public var tmpDir: String
    public var storageRoot: String
    public var storageDriver: String
    public var stateType: String
    public var imageCount: Int
    public var containerCount: Int
    public var runningContainerCount: Int
    public var pausedContainerCount: Int
    public var stoppedContainerCount: Int
    /// The file system under storage_root, in podman's words: extfs, xfs, tmpfs, btrfs...
    public var backingFilesystem: String
}

enum HostProbe {
    static func host(config: RuntimeConfig, runtime: DiscoveredExecutable, conmon: DiscoveredExecutable) async -> HostInfo {
        async let runtimeVersion = ProcessRunner.version(of: runtime.path)
        async let conmonVersion = ProcessRunner.version(of: conmon.path)
        var names = utsname()
        uname(&names)
        let kernel = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let machine = withUnsafeBytes(of: &names.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let release = osRelease()
        let memory = meminfo()
        var hostname = [CChar](repeating: 0, count: 256)
        gethostname(&hostname, hostname.count - 1)
        let uptime = ((try? FileSystem.readString("/proc/uptime")) ?? nil).flatMap { $0.split(separator: " ").first.flatMap { Double($0) } }
        return HostInfo(
            kernel: kernel, os: "linux", distribution: release["ID"] ?? "unknown",
            distributionVersion: release["VERSION_ID"] ?? "", arch: goArch(machine), cpus: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))),
            memTotal: memory["MemTotal"] ?? 0, memFree: memory["MemFree"] ?? 0,
            swapTotal: memory["SwapTotal"] ?? 0, swapFree: memory["SwapFree"] ?? 0,
            hostname: String(decoding: hostname.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), uptimeSeconds: uptime ?? 0,
            cgroupVersion: CgroupLayout.current().version.rawValue, cgroupManager: config.cgroupManager.rawValue,
            ociRuntimeName: runtime.name, ociRuntimePath: runtime.path, ociRuntimeVersion: await runtimeVersion ?? "unknown",
            conmonPath: conmon.path, conmonVersion: await conmonVersion ?? "unknown", rootless: UserNamespace.current.isRootless)
    }

    /// The name podman (containers/storage) gives the file system at `path`, from the
    /// mount table entry with the longest matching mount point.
    static func fileSystemName(_ path: String) -> String {
        let table = ((try? FileSystem.readString("/proc/self/mounts")) ?? nil) ?? ""
        var best: (length: Int, type: String) = (-1, "")
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 2 else { continue }
            let mountPoint = String(fields[1])
            let covers = mountPoint == "/" || path == mountPoint || path.hasPrefix(mountPoint + "/")
            if covers && mountPoint.count > best.length { best = (mountPoint.count, String(fields[2])) }
        }
        let names = ["ext2": "extfs", "ext3": "extfs", "ext4": "extfs", "overlay": "overlayfs"]
        return names[best.type] ?? best.type
    }

    /// podman reports Go's architecture names.
    static func goArch(_ machine: String) -> String {
        switch machine {
        case "x86_64": "amd64"
        case "aarch64": "arm64"
        case "i686", "i386": "386"
        case "armv7l": "arm"
        default: machine
        }
    }

    static func osRelease() -> [String: String] {
        guard let text = (try? FileSystem.readString("/etc/os-release")) ?? nil else { return [:] }
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            var value = line[line.index(after: equals)...]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            result[String(line[..<equals])] = String(value)
        }
        return result
    }

    /// /proc/meminfo in bytes.
    static func meminfo() -> [String: Int64] {
        guard let text = (try? FileSystem.readString("/proc/meminfo")) ?? nil else { return [:] }
        var result: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " })
            guard parts.count >= 2, let kilobytes = Int64(parts[1]) else { continue }
            result[String(parts[0])] = kilobytes * 1024
        }
        return result
    }

    /// Search and insecure registries from registries.conf: the v2 format
    /// (`unqualified-search-registries`, `[[registry]] insecure`) and the v1 format
    /// (`[registries.search] registries`, `[registries.insecure] registries`).
    static func registries(path: String = "/etc/containers/registries.conf") -> (search: [String], insecure: [String], blocked: [String]) {
        guard let configuration = try? RegistriesConfiguration.load(path: path) else { return ([], [], []) }
        return (
            configuration.unqualifiedSearchRegistries, configuration.registries.filter(\.insecure).map(\.prefix),
            configuration.registries.filter(\.blocked).map(\.prefix)
        )
    }
}
