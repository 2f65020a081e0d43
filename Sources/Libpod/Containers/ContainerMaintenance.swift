import Foundation
import Glibc

/// The container operations podman's tools use besides the lifecycle: mounting a
/// container's root file system for inspection, sizes and namespaces for `ps`, removing
/// what cannot be removed normally, and resetting the whole store.
extension Runtime {
    // MARK: - Mounts

    /// podman mount: the container's root file system, mounted (or one more user of the
    /// mount the container already has) until `unmountContainer`.
    public func mountContainer(_ idOrName: String) async throws(LibpodError) -> String {
        let id = try await state.lookupID(idOrName)
        return try await finishing { () async throws(LibpodError) -> String in
            try await self.updateContainer(id) { (container: inout Container) async throws(LibpodError) -> String in
                try await self.sync(&container)
                guard container.state.status != .removing else {
                    throw .invalidState(id: id, state: container.state.status, operation: "mount")
                }
                let image = try self.images.image(container.config.imageID)
                return try self.storage.mount(id, layers: try self.images.layerDirectories(of: image)) { layers, target throws(LibpodError) in
                    try self.images.copyLayers(layers, into: target)
                }
            }
        }
    }

    /// podman umount: one user fewer of the mount `mountContainer` made; `force` takes
    /// every user's. The mount a running container needs is never taken away.
    public func unmountContainer(_ idOrName: String, force: Bool = false) async throws(LibpodError) {
        let id = try await state.lookupID(idOrName)
        try await finishing { () async throws(LibpodError) in
            try await self.updateContainer(id) { (container: inout Container) async throws(LibpodError) in
                try await self.sync(&container)
                let users = self.storage.users(id)
                let ownMount = container.state.mountPoint.isEmpty ? 0 : 1
                guard users > ownMount else {
                    if ownMount == 1 {
                        throw .invalidState(id: id, state: container.state.status, operation: "unmount the root file system of (the container itself uses it)")
                    }
                    guard force else {
                        throw .invalidArgument("the root file system of container \(id.prefix(12)) is not mounted; nothing to unmount")
                    }
                    return
                }
                if force && ownMount == 0 {
                    try self.storage.unmount(id, force: true)
                } else {
                    // Down to the container's own use, or one fewer.
                    for _ in 0..<(force ? users - ownMount : 1) { try self.storage.unmount(id) }
                }
            }
        }
    }

    /// Every container whose root file system is mounted, by full ID.
    public func mountedContainers() async throws(LibpodError) -> [String: String] {
        var result: [String: String] = [:]
        for container in try await containers() where storage.users(container.id) > 0 {
            result[container.id] = storage.mountPoint(container.id)
        }
        return result
    }

    // MARK: - Sizes and namespaces

    /// podman ps --size: bytes of the image the container runs and of what it wrote.
    public func containerSizes(_ container: Container) -> (rootfs: Int64, writable: Int64) {
        let writable = storage.writableLayerSize(container.id)
        let image = (try? images.image(container.config.imageID))?.size ?? 0
        return (image + writable, writable)
    }

    /// The inode numbers of the running container's namespaces, by kind (cgroup, ipc,
    /// mnt, net, pid, user, uts); empty when it does not run.
    public func namespaceIDs(_ container: Container) -> [String: String] {
        guard container.state.status == .running || container.state.status == .paused, container.state.pid > 0 else { return [:] }
        var result: [String: String] = [:]
        for kind in ["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"] {
            var buffer = [CChar](repeating: 0, count: 64)
            let length = readlink("/proc/\(container.state.pid)/ns/\(kind)", &buffer, buffer.count - 1)
            guard length > 0 else { continue }
            let text = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // "net:[4026531840]"
            if let open = text.firstIndex(of: "["), let close = text.lastIndex(of: "]") {
                result[kind] = String(text[text.index(after: open)..<close])
            }
        }
        return result
    }

    // MARK: - Removal of last resort

    /// podman rm -f's fallback: removes the container however broken its record or files
    /// are. A container that can be removed normally is (stopped first); otherwise its
    /// record, storage and files are deleted and the OCI runtime told to forget it.
    public func evictContainer(_ idOrName: String, removeVolumes: Bool = false) async throws(LibpodError) -> String {
        let id = try await state.lookupID(idOrName)
        do {
            try await removeContainer(id, force: true, removeVolumes: removeVolumes)
            return id
        } catch .containerNotFound(let name) {
            throw .containerNotFound(name)
        } catch {
            logger.warning("evicting a container that could not be removed", metadata: ["id": "\(id)", "error": "\(error)"])
        }
        try await finishing { () async throws(LibpodError) in
            if let container = try? await self.state.container(id: id) {
                await self.bestEffort("deleting \(id.prefix(12)) from the OCI runtime") { () async throws(LibpodError) in
                    try await self.ociCommand(for: container).delete(id, force: true)
                }
            }
            self.bestEffort("removing the storage of \(id.prefix(12))") { () throws(LibpodError) in try self.storage.remove(id) }
            for path in ["\(self.paths.containersDir)/\(id)", self.runDirectory(id), "\(self.paths.socketDir)/\(id)"] {
                self.bestEffort("removing \(path)") { () throws(LibpodError) in try FileSystem.removeTree(path) }
            }
            try await self.state.remove(id: id, exitCode: nil)
            self.record(Event(type: .container, status: "remove", id: id))
        }
        return id
    }

    // MARK: - Reset

    /// podman system reset, without stopping the service: every container is removed
    /// (running ones killed), then every image and every layer.
    public func reset() async throws(LibpodError) {
        for pod in try await state.pods() {
            do throws(LibpodError) {
                try await removePod(pod.id, force: true)
            } catch .podNotFound {
                continue
            } catch {
                logger.warning("a pod could not be removed by the reset; its containers are evicted", metadata: ["id": "\(pod.id)", "error": "\(error)"])
                try? await state.removePod(id: pod.id)
            }
        }
        for container in try await containers() {
            do {
                _ = try await evictContainer(container.id)
            } catch .containerNotFound {
                continue
            }
        }
        for image in try images.images() {
            do {
                _ = try await images.remove(image.id, force: true, inUse: false)
            } catch .imageNotFound {
                continue
            }
        }
        _ = try await images.prune()
        for volume in try await state.volumes() {
            do throws(LibpodError) {
                try await removeVolume(volume.name, force: true)
            } catch .volumeNotFound {
                continue
            }
        }
        // Reset means gone: no address lease or firewall rule outlives the call.
        await networkTeardowns.waitForAll()
        record(Event(type: .system, status: "reset"))
    }

    // MARK: - Image changes

    /// podman diff on an image: what its top layer adds, changes and deletes over the
    /// layers below it.
    public func imageChanges(_ reference: String) throws(LibpodError) -> [ContainerChange] {
        let image = try images.image(reference)
        let directories = try images.layerDirectories(of: image)
        guard let top = directories.first else { return [] }
        return Self.changes(in: top, over: Array(directories.dropFirst()))
    }

    /// The entries of an overlay upper directory against its lower directories: a 0:0
    /// character device is a deletion, anything in a lower one a change, the rest an
    /// addition; directories are walked.
    static func changes(in upper: String, over lowers: [String]) -> [ContainerChange] {
        var changes: [ContainerChange] = []
        func exists(_ path: String) -> Bool {
            var info = stat()
            return lstat(path, &info) == 0
        }
        func walk(_ relative: String) {
            for name in FileSystem.list(upper + relative).sorted() {
                let path = relative + "/" + name
                var info = stat()
                guard lstat(upper + path, &info) == 0 else { continue }
                if info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0 {
                    changes.append(ContainerChange(kind: .deleted, path: path))
                    continue
                }
                let inLower = lowers.contains { exists($0 + path) }
                changes.append(ContainerChange(kind: inLower ? .changed : .added, path: path))
                if info.st_mode & S_IFMT == S_IFDIR { walk(path) }
            }
        }
        walk("")
        return changes
    }
}
