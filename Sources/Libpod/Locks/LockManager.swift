/// The runtime's locks, all files under `tmp_dir/lock` so that they hold across every
/// process that opens the runtime (the daemon, a CLI, a test) and vanish at reboot.
public struct LockManager: Sendable {
    public let directory: String

    public init(directory: String) throws(LibpodError) {
        self.directory = directory
        try FileSystem.ensureDirectory(directory, mode: 0o700)
    }

    /// The container's lock: every transition of a container happens under it.
    public func containerLock(_ id: String) async throws(LibpodError) -> FileLock {
        try await FileLock.acquire(path: "\(directory)/\(id)")
    }

    /// Runs `body` under the container's lock.
    public func withContainerLock<R: Sendable>(
        _ id: String, _ body: () async throws(LibpodError) -> R
    ) async throws(LibpodError) -> R {
        let lock = try await containerLock(id)
        do {
            let result = try await body()
            lock.release()
            return result
        } catch {
            lock.release()
            throw error
        }
    }

    /// A volume's lock: creating, removing and mounting it, and creating a container that
    /// uses it, happen under it. Names are valid file names (ContainerNaming's rules).
    public func withVolumeLock<R: Sendable>(
        _ name: String, _ body: () async throws(LibpodError) -> R
    ) async throws(LibpodError) -> R {
        try await withContainerLock("volume-" + name, body)
    }

    /// A pod's lock: a container joins the pod, and the pod is removed, under it.
    public func withPodLock<R: Sendable>(
        _ podID: String, _ body: () async throws(LibpodError) -> R
    ) async throws(LibpodError) -> R {
        try await withContainerLock("pod-" + podID, body)
    }

    /// Removes a container's lock file once the container is gone (the caller holds it).
    public func retire(_ lock: FileLock) {
        lock.releaseAndRemove()
    }
}
