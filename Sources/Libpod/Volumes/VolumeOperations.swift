import Foundation
import Glibc

/// Named volumes as podman's `local` driver keeps them: static_dir/volumes/NAME/_data,
/// a record in the state, a lock of their own. A volume with options (`type`, `o`,
/// `device`) is mounted there when it is created and stays mounted until it is
/// removed (and again after a reboot), rather than only while containers run, so that
/// no container start or stop waits on a volume's mount.
extension Runtime {
    /// podman volume create.
    public func createVolume(_ options: VolumeCreateOptions) async throws(LibpodError) -> Volume {
        try checkValid()
        let name = options.name.flatMap { $0.isEmpty ? nil : $0 } ?? ContainerNaming.newID()
        try ContainerNaming.validate(name: name)
        return try await finishing { () async throws(LibpodError) -> Volume in
            try await self.locks.withVolumeLock(name) { () async throws(LibpodError) -> Volume in
                try await self.makeVolume(name, options)
            }
        }
    }

    /// Creates the volume `name`; the caller holds its lock.
    private func makeVolume(_ name: String, _ options: VolumeCreateOptions) async throws(LibpodError) -> Volume {
        let driver = options.driver.flatMap { $0.isEmpty ? nil : $0 } ?? Volume.localDriver
        guard driver == Volume.localDriver else {
            throw .invalidArgument("volume driver \"\(driver)\" is not available; Podlink has the local driver only")
        }
        for key in options.options.keys where !["type", "o", "device"].contains(key) {
            throw .invalidArgument("invalid option \"\(key)\" for the local volume driver; it takes type, o and device")
        }
        if options.options["type"] == nil, options.options["device"] == nil, options.options["o"] != nil {
            throw .invalidArgument("volume option o=\(options.options["o"]!) needs type= (tmpfs, or the file system of device=)")
        }
        if (try? await state.volume(named: name)) != nil { throw .volumeExists(name) }
        let directory = paths.volumesDir + "/" + name
        let volume = Volume(
            name: name, driver: driver, labels: options.labels, options: options.options, mountPoint: directory + "/_data",
            anonymous: options.anonymous)
        try FileSystem.ensureDirectory(paths.volumesDir, mode: 0o700)
        try FileSystem.ensureDirectory(directory, mode: 0o700)
        do throws(LibpodError) {
            try FileSystem.ensureDirectory(volume.mountPoint, mode: 0o755)
            if volume.needsMount { try await mountVolume(volume) }
            try await state.addVolume(volume)
        } catch {
            if volume.needsMount { umount2(volume.mountPoint, Int32(MNT_DETACH)) }
            try? FileSystem.removeTree(directory)
            throw error
        }
        record(Event(type: .volume, status: "create", id: name, name: name))
        return volume
    }

    /// Every volume, oldest first.
    public func volumes() async throws(LibpodError) -> [Volume] {
        try await state.volumes()
    }

    public func volume(_ name: String) async throws(LibpodError) -> Volume {
        try await state.volume(named: name)
    }

    /// The IDs of the containers that mount the volume.
    public func volumeUsers(_ name: String) async throws(LibpodError) -> [String] {
        try await state.containers().filter { $0.config.volumes.contains { $0.name == name } }.map(\.id)
    }

    /// podman volume rm: a volume in use is refused unless `force`, which removes the
    /// containers that use it first.
    public func removeVolume(_ name: String, force: Bool = false) async throws(LibpodError) {
        try checkValid()
        _ = try await state.volume(named: name)
        try await finishing { () async throws(LibpodError) in
            let users = try await self.volumeUsers(name)
            if !users.isEmpty {
                guard force else { throw .volumeInUse(name: name, containers: users) }
                for id in users {
                    do throws(LibpodError) {
                        try await self.removeContainer(id, force: true)
                    } catch .containerNotFound {
                        continue
                    }
                }
            }
            try await self.locks.withVolumeLock(name) { () async throws(LibpodError) in
                // A container may have taken it while the users were being removed.
                let late = try await self.volumeUsers(name)
                guard late.isEmpty else { throw .volumeInUse(name: name, containers: late) }
                let volume = try await self.state.volume(named: name)
                if volume.needsMount {
                    guard umount2(volume.mountPoint, Int32(MNT_DETACH)) == 0 || errno == EINVAL || errno == ENOENT else {
                        throw FileSystem.failure("unmounting volume \(name) at", volume.mountPoint)
                    }
                }
                try await self.state.removeVolume(named: name)
                try FileSystem.removeTree(self.paths.volumesDir + "/" + name)
                self.record(Event(type: .volume, status: "remove", id: name, name: name))
            }
        }
    }

    /// podman volume prune: removes every volume no container uses.
    public func pruneVolumes() async throws(LibpodError) -> (removed: [String], failures: [String: LibpodError]) {
        var removed: [String] = []
        var failures: [String: LibpodError] = [:]
        let used = Set(try await state.containers().flatMap { $0.config.volumes.map(\.name) })
        for volume in try await state.volumes() where !used.contains(volume.name) {
            do throws(LibpodError) {
                try await removeVolume(volume.name)
                removed.append(volume.name)
            } catch .volumeNotFound {
                continue
            } catch {
                failures[volume.name] = error
            }
        }
        return (removed, failures)
    }

    /// The local driver's mount: `mount -t TYPE -o O DEVICE MOUNTPOINT`, as podman runs it
    /// (the mount program parses `o` into flags and data as users expect).
    private func mountVolume(_ volume: Volume) async throws(LibpodError) {
        var arguments: [String] = []
        if let o = volume.options["o"], !o.isEmpty { arguments += ["-o", o] }
        if let type = volume.options["type"], !type.isEmpty { arguments += ["-t", type] }
        arguments += [volume.options["device"] ?? volume.options["type"] ?? "none", volume.mountPoint]
        let output = try await ProcessRunner.run("/bin/mount", arguments)
        guard output.succeeded else {
            throw .invalidArgument("mounting volume \(volume.name) (mount \(arguments.joined(separator: " "))) failed: \(output.standardError.trimmingCharacters(in: .whitespacesAndNewlines)); check its type, o and device options")
        }
    }

    /// After a reboot the volumes with options are mounted again.
    func mountVolumesAfterRefresh() async {
        guard let volumes = try? await state.volumes() else { return }
        for volume in volumes where volume.needsMount {
            await bestEffort("mounting volume \(volume.name) after the reboot") { () async throws(LibpodError) in
                try await mountVolume(volume)
            }
        }
    }

    // MARK: - Containers' volumes

    /// The named and anonymous volumes a new container mounts: each resolved (created
    /// when missing, as podman does on first use) and returned with the bind mount that
    /// puts its directory at the destination. `created` lists the volumes made here,
    /// for the caller to remove if the container cannot be created.
    func prepareVolumes(_ wanted: [VolumeMount], anonymousPaths: [String]) async throws(LibpodError)
        -> (volumes: [VolumeMount], mounts: [BindMount], created: [Volume])
    {
        var volumes: [VolumeMount] = []
        var mounts: [BindMount] = []
        var created: [Volume] = []
        do throws(LibpodError) {
            for mount in wanted {
                try ContainerNaming.validate(name: mount.name)
                let volume = try await locks.withVolumeLock(mount.name) { () async throws(LibpodError) -> Volume in
                    if let existing = try? await state.volume(named: mount.name) { return existing }
                    let made = try await makeVolume(mount.name, VolumeCreateOptions())
                    created.append(made)
                    return made
                }
                volumes.append(mount)
                mounts.append(BindMount(source: volume.mountPoint, destination: mount.destination, readOnly: mount.readOnly))
            }
            for path in anonymousPaths where !volumes.contains(where: { $0.destination == path }) {
                var options = VolumeCreateOptions()
                options.anonymous = true
                let name = ContainerNaming.newID()
                let volume = try await locks.withVolumeLock(name) { () async throws(LibpodError) -> Volume in
                    try await makeVolume(name, options)
                }
                created.append(volume)
                volumes.append(VolumeMount(name: name, destination: path))
                mounts.append(BindMount(source: volume.mountPoint, destination: path))
            }
        } catch {
            await discardVolumes(created)
            throw error
        }
        return (volumes, mounts, created)
    }

    /// Removes volumes made for a container that was not created after all.
    func discardVolumes(_ volumes: [Volume]) async {
        for volume in volumes {
            await bestEffort("removing volume \(volume.name), made for a container that could not be created") { () async throws(LibpodError) in
                try await removeVolume(volume.name)
            }
        }
    }

    /// podman's copy-up: a volume that is empty when a container first mounts it gets what
    /// the image has at the mount's destination (owners, modes and links as they are).
    func copyUp(_ volumes: [VolumeMount], container id: String) async throws(LibpodError) {
        var pending: [(VolumeMount, Volume)] = []
        for mount in volumes {
            let volume = try await state.volume(named: mount.name)
            if FileSystem.list(volume.mountPoint).isEmpty { pending.append((mount, volume)) }
        }
        guard !pending.isEmpty else { return }
        try await withMountedRoot(id) { root throws(LibpodError) in
            for (mount, volume) in pending {
                let source = try Self.resolve(mount.destination, in: root)
                var info = stat()
                guard stat(source, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, !FileSystem.list(source).isEmpty else { continue }
                let archive = try transfers.newFile(suffix: ".tar")
                defer { unlink(archive) }
                try Self.pack(source, as: ".", to: archive)
                _ = try LayerArchive.extract(archive, into: volume.mountPoint, mode: .layer)
            }
        }
    }

    /// After `rm -v` (and `--rm`): the container's anonymous volumes that no other
    /// container uses.
    func removeAnonymousVolumes(of config: ContainerConfig) async {
        for mount in config.volumes {
            guard let volume = try? await state.volume(named: mount.name), volume.anonymous else { continue }
            await bestEffort("removing anonymous volume \(mount.name)") { () async throws(LibpodError) in
                guard try await volumeUsers(mount.name).isEmpty else { return }
                try await removeVolume(mount.name)
            }
        }
    }
}
