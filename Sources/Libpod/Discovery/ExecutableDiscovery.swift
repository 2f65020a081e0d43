import Foundation
import Glibc

/// A program Libpod runs (the OCI runtime, conmon), found on disk.
public struct DiscoveredExecutable: Sendable, Equatable {
    public var path: String
    /// The program's name as podman uses it: `crun`, `runc`, `conmon`.
    public var name: String
}

/// Finds the OCI runtime and conmon from the configured path lists: the first usable
/// path wins; when none is usable the error lists every path and why it was refused.
public enum ExecutableDiscovery {
    public static func ociRuntime(paths: [String], cgroups: CgroupLayout = .current()) throws(LibpodError) -> DiscoveredExecutable {
        var rejected: [RejectedPath] = []
        for path in paths {
            if let reason = unusableReason(path) {
                rejected.append(RejectedPath(path: path, reason: reason))
                continue
            }
            let name = String(path.split(separator: "/").last ?? "")
            if name.hasPrefix("crun"), let reason = cgroups.crunRefusal {
                rejected.append(RejectedPath(path: path, reason: reason))
                continue
            }
            return DiscoveredExecutable(path: path, name: name)
        }
        throw .executableNotFound(
            kind: "OCI runtime", tried: rejected,
            advice: "install crun or runc (apt-get install crun runc) or set runtime_path in podlink.conf")
    }

    public static func conmon(paths: [String]) throws(LibpodError) -> DiscoveredExecutable {
        var rejected: [RejectedPath] = []
        for path in paths {
            if let reason = unusableReason(path) {
                rejected.append(RejectedPath(path: path, reason: reason))
                continue
            }
            return DiscoveredExecutable(path: path, name: "conmon")
        }
        throw .executableNotFound(
            kind: "conmon", tried: rejected,
            advice: "install conmon (apt-get install conmon) or set conmon_path in podlink.conf")
    }

    /// Nil when `path` is a regular executable file; otherwise why not.
    /// The first executable called `name` on PATH (or the usual places), as a shell would find it.
    public static func search(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    static func unusableReason(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return errno == ENOENT ? "not found" : String(cString: strerror(errno))
        }
        if info.st_mode & S_IFMT == S_IFDIR { return "is a directory" }
        if info.st_mode & S_IFMT != S_IFREG { return "not a regular file" }
        if access(path, X_OK) != 0 { return "not executable" }
        return nil
    }
}

/// How this machine's cgroups are mounted, as far as choosing a runtime needs to know.
public struct CgroupLayout: Sendable, Equatable {
    public enum Version: String, Sendable { case v1, v2, hybrid }
    public var version: Version
    /// Controllers bound to the cgroup v2 mount in hybrid mode.
    public var hybridV2Controllers: [String]

    public static func current() -> CgroupLayout {
        if isCgroup2("/sys/fs/cgroup") { return CgroupLayout(version: .v2, hybridV2Controllers: []) }
        if isCgroup2("/sys/fs/cgroup/unified") {
            let controllers = (try? FileSystem.readString("/sys/fs/cgroup/unified/cgroup.controllers")) ?? nil
            let names = (controllers ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
            return CgroupLayout(version: .hybrid, hybridV2Controllers: names)
        }
        return CgroupLayout(version: .v1, hybridV2Controllers: [])
    }

    /// crun refuses to run in hybrid mode while any controller is bound to the v2 mount.
    public var crunRefusal: String? {
        guard version == .hybrid, let first = hybridV2Controllers.first else { return nil }
        return "installed but unusable: cgroups in hybrid mode with \(hybridV2Controllers.joined(separator: ",")) "
            + "on cgroup v2; mount it as v1 (mkdir -p /sys/fs/cgroup/\(first) && "
            + "mount -t cgroup -o \(first) cgroup /sys/fs/cgroup/\(first)) or use runc"
    }

    /// A cgroup v2 mount point has `cgroup.controllers` at its root; v1 hierarchies do not.
    static func isCgroup2(_ path: String) -> Bool {
        FileSystem.exists(path + "/cgroup.controllers")
    }
}
