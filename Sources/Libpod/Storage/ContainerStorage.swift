import Glibc
import ProcessSpawn

/// A container's root filesystem. With overlay, the image's layers are the read-only
/// lower dirs and the container owns `upper`, `work` and the mount point `merged`; with
/// vfs, the layers are copied once into `rootfs`. Mounts are counted (in a file, because
/// several processes share them) and the last unmount really unmounts; nothing stays
/// mounted once the container is removed.
///
/// The writable layer of a container that is removed when it exits (`--rm`) is mounted
/// with overlay's `volatile` option, as podman does: overlay then skips every sync of
/// the upper directory, including the one at unmount, which on ext4 forces a journal
/// commit and a device flush (5 ms of the unmount here; on this virtual disk the same
/// metadata is journaled a little later anyway, so the whole cycle gains little, while
/// a disk with costly flushes gains the flush). After a host crash such a layer may be
/// incomplete, which does not matter for a layer that was to be deleted; every other
/// container keeps a layer that survives a crash.
///
/// Every method is called under the container's lock.
struct ContainerStorage: Sendable {
    let root: String
    let driver: StorageDriverKind
    /// fuse-overlayfs (overlay_mount_program), or nil for the kernel's overlay.
    var mountProgram: String? = nil
    /// Rootless: overlay keeps its own attributes as user.overlay.* (`userxattr`), the
    /// only ones an ordinary user may set.
    var userXattr = UserNamespace.current.isRootless

    func directory(_ id: String) -> String { "\(root)/\(id)" }
    func upperDirectory(_ id: String) -> String { directory(id) + "/upper" }
    func mountPoint(_ id: String) -> String { directory(id) + (driver == .overlay ? "/merged" : "/rootfs") }
    private func countFile(_ id: String) -> String { directory(id) + "/mountcount" }

    func create(_ id: String) throws(LibpodError) {
        let base = directory(id)
        let parts = driver == .overlay ? ["upper", "work", "merged"] : ["rootfs"]
        for part in parts { try FileSystem.ensureDirectory(base + "/" + part, mode: 0o755) }
    }

    private func mountCount(_ id: String) -> Int {
        ((try? FileSystem.readString(countFile(id))) ?? nil).flatMap { Int($0.filter(\.isNumber)) } ?? 0
    }

    private func setMountCount(_ id: String, _ count: Int) throws(LibpodError) {
        try FileSystem.writeAtomically(countFile(id), Array(String(count).utf8))
    }

    /// Whether the kernel has something mounted at `path` (the count file may be stale
    /// after a reboot or a crash; the kernel is the truth). An overlay has a device of its
    /// own, so its mount point's device differs from its parent directory's. This asks
    /// the kernel about the one path instead of reading the whole mount table, which the
    /// kernel hands out a few kilobytes per read while other containers mount and unmount.
    static func isMounted(_ path: String) -> Bool {
        var target = stat()
        var parent = stat()
        guard stat(path, &target) == 0, stat(path + "/..", &parent) == 0 else { return false }
        return target.st_dev != parent.st_dev
    }

    /// Mounts (or counts one more user of) the root filesystem; returns its path.
    /// `layers` are the image's layer directories, top-most first; `volatile` is for the
    /// layer of a container removed when it exits.
    func mount(
        _ id: String, layers: [String], volatile: Bool = false,
        copyLayers: (_ layersTopFirst: [String], _ into: String) throws(LibpodError) -> Void
    ) throws(LibpodError) -> String {
        let target = mountPoint(id)
        var count = mountCount(id)
        switch driver {
        case .overlay:
            if !Self.isMounted(target) {
                count = 0
                guard !layers.isEmpty else { throw .invalidArgument("the image of container \(id.prefix(12)) has no layers") }
                let options = "lowerdir=\(layers.joined(separator: ":")),upperdir=\(upperDirectory(id)),workdir=\(directory(id))/work"
                if volatile {
                    // Overlay leaves incompat/volatile in its own work directory (inside our
                    // workdir) and refuses the next mount while it is there, since the layer
                    // might be torn after a crash. For a disposable layer that is accepted: a
                    // restart must be able to mount it again.
                    try FileSystem.removeTree(directory(id) + "/work/work/incompat")
                }
                if let mountProgram {
                    try mountWithProgram(mountProgram, options: options, target: target)
                    break
                }
                let kernelOptions = userXattr ? options + ",userxattr" : options
                // Kernels before 5.10 do not know `volatile` (EINVAL): those sync, as before.
                guard (volatile && Glibc.mount("overlay", target, "overlay", 0, kernelOptions + ",volatile") == 0)
                    || Glibc.mount("overlay", target, "overlay", 0, kernelOptions) == 0
                else {
                    throw FileSystem.failure(
                        "mounting the overlay root filesystem at", target,
                        advice: userXattr
                            ? "if this kernel refuses overlay in a user namespace (before 5.11), set overlay_mount_program = \"/usr/bin/fuse-overlayfs\" in podlink.conf, or storage_driver = \"vfs\""
                            : "if this file system cannot carry overlay, set storage_driver = \"vfs\" in podlink.conf")
                }
            }
        case .vfs:
            if !FileSystem.exists(directory(id) + "/populated") {
                try copyLayers(layers, target)
                try FileSystem.writeAtomically(directory(id) + "/populated", [])
            }
        }
        try setMountCount(id, count + 1)
        return target
    }

    /// fuse-overlayfs mounts and goes to the background once the mount is there; it is
    /// waited for on this thread (milliseconds, like the kernel's own mount call).
    private func mountWithProgram(_ program: String, options: String, target: String) throws(LibpodError) {
        let pid: pid_t
        do {
            pid = try ProcessSpawn.spawn([program, "-o", options, target], scrubbing: ["LISTEN_", "NOTIFY_SOCKET"])
        } catch {
            throw .helperFailed(program: program, cause: "\(error)")
        }
        let status = ProcessSpawn.blockingWait(pid)
        guard status == 0, Self.isMounted(target) else {
            throw .helperFailed(
                program: "\(program) -o \(options) \(target)",
                cause: "exited with status \(status) without mounting (is /dev/fuse usable by this user, mode 0666?)")
        }
    }

    /// One user fewer; the last one (or `force`) unmounts.
    func unmount(_ id: String, force: Bool = false) throws(LibpodError) {
        let count = mountCount(id)
        if count > 1 && !force {
            try setMountCount(id, count - 1)
            return
        }
        if driver == .overlay {
            let target = mountPoint(id)
            if Self.isMounted(target) {
                guard umount2(target, 0) == 0 || umount2(target, Int32(MNT_DETACH)) == 0 else {
                    throw FileSystem.failure("unmounting", target)
                }
            }
        }
        // A removal cut short (a killed daemon) may have deleted the directory already:
        // then there is nothing left to count.
        guard FileSystem.exists(directory(id)) else { return }
        try setMountCount(id, 0)
    }

    /// Unmounts whatever is left and deletes the container's files.
    func remove(_ id: String) throws(LibpodError) {
        try unmount(id, force: true)
        try FileSystem.removeTree(directory(id))
    }
}

extension ContainerStorage {
    /// How many users the container's root file system has (0: not mounted).
    func users(_ id: String) -> Int {
        driver == .overlay && !Self.isMounted(mountPoint(id)) ? 0 : mountCount(id)
    }

    /// Bytes of the container's own layer: what it wrote over its image.
    func writableLayerSize(_ id: String) -> Int64 {
        FileSystem.treeSize(driver == .overlay ? upperDirectory(id) : mountPoint(id))
    }
}
