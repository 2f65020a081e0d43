import Foundation
import Glibc

/// The subset of the OCI runtime spec (config.json) that Podlink writes. Field names
/// are the spec's.
struct OCISpec: Encodable {
    var ociVersion = "1.0.2"
    var process: Process
    var root: Root
    var hostname: String
    var mounts: [Mount]
    var linux: Linux

    struct Process: Encodable {
        var terminal: Bool
        var user: User
        var args: [String]
        var env: [String]
        var cwd: String
        var capabilities: Capabilities
        var rlimits: [Rlimit]
        var noNewPrivileges: Bool
    }

    struct User: Encodable {
        var uid: UInt32
        var gid: UInt32
        var additionalGids: [UInt32]?
    }

    struct Capabilities: Encodable {
        var bounding: [String]
        var effective: [String]
        var permitted: [String]
    }

    struct Rlimit: Encodable {
        var type: String
        var hard: UInt64
        var soft: UInt64
    }

    struct Root: Encodable {
        var path: String
        var readonly: Bool
    }

    struct Mount: Encodable {
        var destination: String
        var type: String
        var source: String
        var options: [String]
    }

    struct Linux: Encodable {
        var namespaces: [Namespace]
        var resources: Resources
        var cgroupsPath: String
        var maskedPaths: [String]
        var readonlyPaths: [String]
    }

    struct Namespace: Encodable {
        var type: String
    }

    struct Resources: Encodable {
        var devices: [DeviceRule]
        var memory: Memory?
        var pids: Pids?
        var cpu: CPU?
    }

    struct DeviceRule: Encodable {
        var allow: Bool
        var access: String
    }

    struct Memory: Encodable { var limit: Int64 }
    struct Pids: Encodable { var limit: Int64 }
    struct CPU: Encodable { var shares: UInt64 }
}

/// Builds a container's config.json from its config and where its files are.
enum OCISpecBuilder {
    /// podman's default capability set.
    static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
    ]

    static func build(config: ContainerConfig, rootfs: String, runDir: String, user: ResolvedUser, cgroupParent: String) -> OCISpec {
        var mounts: [OCISpec.Mount] = [
            .init(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
            .init(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            .init(destination: "/dev/pts", type: "devpts", source: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            .init(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            .init(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            .init(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
            .init(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
        ]
        for file in ["hosts", "resolv.conf", "hostname"] {
            mounts.append(.init(destination: "/etc/\(file)", type: "bind", source: "\(runDir)/\(file)", options: ["bind", "rprivate"]))
        }
        for mount in config.mounts {
            mounts.append(.init(
                destination: mount.destination, type: "bind", source: mount.source,
                options: ["rbind", "rprivate"] + (mount.readOnly ? ["ro"] : ["rw"])))
        }
        var namespaces = ["pid", "mount", "ipc", "uts"].map { OCISpec.Namespace(type: $0) }
        if config.network == .none { namespaces.append(.init(type: "network")) }

        return OCISpec(
            process: .init(
                terminal: config.tty,
                user: .init(uid: user.uid, gid: user.gid, additionalGids: user.additionalGids.isEmpty ? nil : user.additionalGids),
                args: config.command, env: config.env, cwd: config.workingDir.isEmpty ? "/" : config.workingDir,
                capabilities: .init(bounding: defaultCapabilities, effective: defaultCapabilities, permitted: defaultCapabilities),
                rlimits: clampedRlimits(), noNewPrivileges: false),
            root: .init(path: rootfs, readonly: config.readOnlyRootfs),
            hostname: config.hostname.isEmpty ? String(config.id.prefix(12)) : config.hostname,
            mounts: mounts,
            linux: .init(
                namespaces: namespaces,
                resources: .init(
                    devices: [.init(allow: false, access: "rwm")],
                    memory: config.memoryLimit.map { .init(limit: $0) },
                    pids: config.pidsLimit.map { .init(limit: $0) },
                    cpu: config.cpuShares.map { .init(shares: $0) }),
                cgroupsPath: "\(cgroupParent)/podlink-\(config.id)",
                maskedPaths: [
                    "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
                ],
                readonlyPaths: ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]))
    }

    /// podman's defaults (nofile 1048576, nproc 4194304), never above what this process
    /// may set: without CAP_SYS_RESOURCE the runtime fails to raise a hard limit.
    static func clampedRlimits() -> [OCISpec.Rlimit] {
        func clamp(_ resource: UInt32, _ wanted: UInt64) -> UInt64 {
            var limit = rlimit()
            guard getrlimit(__rlimit_resource_t(resource), &limit) == 0 else { return wanted }
            return min(wanted, UInt64(limit.rlim_max))
        }
        // Glibc's module does not export RLIMIT_NPROC by name on Linux: it is 6.
        let nofile = clamp(RLIMIT_NOFILE.rawValue, 1_048_576)
        let nproc = clamp(6, 4_194_304)
        return [
            .init(type: "RLIMIT_NOFILE", hard: nofile, soft: nofile),
            .init(type: "RLIMIT_NPROC", hard: nproc, soft: nproc),
        ]
    }

    /// The files bind-mounted over /etc/hosts, /etc/resolv.conf and /etc/hostname.
    static func writeEtcFiles(config: ContainerConfig, runDir: String) throws(LibpodError) {
        let hostname = config.hostname.isEmpty ? String(config.id.prefix(12)) : config.hostname
        var hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t\(hostname)\n"
        var resolv = ""
        if config.network == .host {
            hosts = (try FileSystem.readString("/etc/hosts")) ?? hosts
            resolv = (try FileSystem.readString("/etc/resolv.conf")) ?? ""
        }
        try FileSystem.writeAtomically(runDir + "/hosts", Array(hosts.utf8))
        try FileSystem.writeAtomically(runDir + "/resolv.conf", Array(resolv.utf8))
        try FileSystem.writeAtomically(runDir + "/hostname", Array((hostname + "\n").utf8))
    }
}

/// A container user as numbers, resolved against the container's own /etc/passwd and
/// /etc/group (never the host's).
struct ResolvedUser: Equatable {
    var uid: UInt32
    var gid: UInt32
    var additionalGids: [UInt32]

    /// `user` is "", "name", "uid", "name:group", "uid:gid".
    static func resolve(_ user: String, rootfs: String) throws(LibpodError) -> ResolvedUser {
        if user.isEmpty { return ResolvedUser(uid: 0, gid: 0, additionalGids: []) }
        let parts = user.split(separator: ":", maxSplits: 1).map(String.init)
        let passwd = (try? FileSystem.readString(rootfs + "/etc/passwd")) ?? nil
        let groups = (try? FileSystem.readString(rootfs + "/etc/group")) ?? nil
        var uid: UInt32
        var gid: UInt32 = 0
        if let number = UInt32(parts[0]) {
            uid = number
            if let entry = entries(passwd).first(where: { UInt32($0[safe: 2] ?? "") == number }), let group = UInt32(entry[safe: 3] ?? "") {
                gid = group
            }
        } else {
            guard let entry = entries(passwd).first(where: { $0.first == parts[0] }),
                let number = UInt32(entry[safe: 2] ?? ""), let group = UInt32(entry[safe: 3] ?? "")
            else {
                throw .invalidArgument("user \"\(parts[0])\" is not in the image's /etc/passwd; give a numeric uid[:gid] instead")
            }
            uid = number
            gid = group
        }
        if parts.count == 2 {
            if let number = UInt32(parts[1]) {
                gid = number
            } else if let entry = entries(groups).first(where: { $0.first == parts[1] }), let number = UInt32(entry[safe: 2] ?? "") {
                gid = number
            } else {
                throw .invalidArgument("group \"\(parts[1])\" is not in the image's /etc/group; give a numeric gid instead")
            }
        }
        return ResolvedUser(uid: uid, gid: gid, additionalGids: [])
    }

    private static func entries(_ text: String?) -> [[String]] {
        (text ?? "").split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
