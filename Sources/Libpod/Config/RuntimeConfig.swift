import Glibc

/// Which state store a runtime keeps its containers in.
public enum StateStoreKind: String, Sendable, CaseIterable {
    /// `static_dir/state.sqlite`, shared by every process that opens the runtime.
    case sqlite
    /// Held by this process only; for tests.
    case memory
}

/// How a container's root filesystem is assembled from its image's layers.
public enum StorageDriverKind: String, Sendable, CaseIterable {
    /// A kernel overlay mount of the layers plus the container's own upper dir.
    case overlay
    /// A full copy of the layers, for file systems that cannot carry overlay.
    case vfs
}

public enum CgroupManagerKind: String, Sendable, CaseIterable {
    /// Cgroups are made through the cgroup file system by the OCI runtime.
    case cgroupfs
    /// Cgroups are delegated to systemd; needs a running systemd manager.
    case systemd
}

/// Everything a runtime is made from. The seed's libpod.conf keys, under the same TOML
/// names, plus the state store and storage settings. Built from `RuntimeConfig()`
/// (the defaults), then a config file, then the options given in code.
public struct RuntimeConfig: Sendable, Equatable {
    public var imageDefaultTransport = "docker://"
    public var signaturePolicyPath = ""
    /// Candidate OCI runtimes; the first usable one is taken. crun first: it is faster.
    public var runtimePath = [
        "/usr/bin/crun", "/usr/local/bin/crun",
        "/usr/bin/runc", "/usr/sbin/runc", "/usr/local/bin/runc", "/usr/local/sbin/runc", "/sbin/runc", "/bin/runc",
    ]
    public var conmonPath = [
        "/usr/libexec/podman/conmon", "/usr/local/libexec/podman/conmon", "/usr/local/lib/podman/conmon",
        "/usr/bin/conmon", "/usr/sbin/conmon", "/usr/local/bin/conmon", "/usr/local/sbin/conmon",
    ]
    public var conmonEnvVars = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    /// cgroupfs by default: the machines Podlink targets do not always run systemd as PID 1.
    public var cgroupManager = CgroupManagerKind.cgroupfs
    public var staticDir = "/var/lib/podlink"
    public var tmpDir = "/run/podlink"
    public var maxLogSize: Int64 = -1
    public var noPivotRoot = false
    public var cniConfigDir = "/etc/cni/net.d/"
    public var cniPluginDir = ["/usr/libexec/cni", "/usr/lib/cni", "/usr/local/lib/cni", "/opt/cni/bin"]
    public var cniDefaultNetwork = "podman"
    public var hooksDir = ["/usr/share/containers/oci/hooks.d", "/etc/containers/oci/hooks.d"]
    public var hooksDirNotExistFatal = false
    /// `/host:/container` lines bind-mounted read-only into every container; none when empty.
    public var defaultMountsFile = ""
    /// A runtime with a namespace sees only that namespace's objects; "" sees all.
    public var namespace = ""
    public var infraImage = "k8s.gcr.io/pause:3.1"
    public var infraCommand = "/pause"
    public var enablePortReservation = true
    public var enableLabeling = true
    /// The largest file a remote client may send (SendFile), in bytes.
    public var maxTransferSize: Int64 = 32 << 30

    public var stateType = StateStoreKind.sqlite
    public var storageDriver = StorageDriverKind.overlay
    /// A program that mounts overlay in the kernel's stead (fuse-overlayfs), for kernels
    /// or file systems where a rootless overlay mount is refused; "" is the kernel's.
    public var overlayMountProgram = ""
    /// Where images, layers and container file systems live; "" means `static_dir/storage`.
    public var storageRoot = ""

    public init() {}

    /// The defaults for the calling user: as in the seed, a rootless user keeps its data
    /// under its home and its per-boot files under its runtime directory.
    public static func defaults(
        uid: uid_t = UserNamespace.current.hostUID,
        environment: [String: String] = RuntimeConfig.processEnvironment()
    ) throws(LibpodError) -> RuntimeConfig {
        var config = RuntimeConfig()
        guard uid != 0 else { return config }
        guard let home = environment["HOME"], !home.isEmpty else {
            throw .config(ConfigError(file: "(defaults)", message: "HOME is not set; a rootless runtime keeps its data under $HOME"))
        }
        let dataHome = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.local/share"
        config.staticDir = dataHome + "/podlink"
        config.tmpDir = try RootlessRuntimeDirectory.find(uid: uid, environment: environment) + "/podlink"
        return config
    }

    /// The directory image layers and container file systems are kept in.
    public var resolvedStorageRoot: String { storageRoot.isEmpty ? staticDir + "/storage" : storageRoot }

    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}

/// The seed's rootless runtime directory: `$XDG_RUNTIME_DIR`, else `/run/user/UID` when it
/// is ours with mode 0700, else `$TMPDIR/user/UID` under the same rule, else `$HOME/rundir`.
public enum RootlessRuntimeDirectory {
    public static func find(uid: uid_t, environment: [String: String]) throws(LibpodError) -> String {
        if let directory = environment["XDG_RUNTIME_DIR"], !directory.isEmpty { return directory }
        let temporary = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        for candidate in ["/run/user/\(uid)", "\(temporary)/user/\(uid)"] where isPrivateDirectory(candidate, uid: uid) {
            return candidate
        }
        guard let home = environment["HOME"], !home.isEmpty else {
            throw .config(ConfigError(
                file: "(defaults)", message: "neither XDG_RUNTIME_DIR nor HOME is set; set XDG_RUNTIME_DIR to a directory of yours"))
        }
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let base = realpath(home, &resolved) != nil ? String(decoding: resolved.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : home
        return base + "/rundir"
    }

    /// Creates `path` (mode 0700) when missing and tells whether it is ours and private.
    static func isPrivateDirectory(_ path: String, uid: uid_t) -> Bool {
        _ = FileSystem.makeDirectories(path, mode: 0o700)
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return info.st_uid == uid && info.st_mode & 0o777 == 0o700 && info.st_mode & S_IFMT == S_IFDIR
    }
}
