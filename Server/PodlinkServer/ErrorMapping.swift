import Libpod
import PodlinkInterfaces
import Varlink

/// The one place where Libpod's errors become io.podman's: each error is the io.podman
/// error that names it, with the object's ID where the error has one.
enum PodmanErrors {
    static func map(_ error: any Error) -> any Error {
        guard let error = error as? LibpodError else {
            if error is VarlinkError || error is any VarlinkTypedError { return error }
            return IoPodman.ErrorOccurred(reason: String(describing: error))
        }
        let reason = error.description
        switch error {
        case .containerNotFound(let id): return IoPodman.ContainerNotFound(id: id, reason: reason)
        case .ambiguousContainerID(let prefix, _): return IoPodman.ContainerNotFound(id: prefix, reason: reason)
        case .imageNotFound(let id): return IoPodman.ImageNotFound(id: id, reason: reason)
        case .ambiguousImageID(let prefix, _): return IoPodman.ImageNotFound(id: prefix, reason: reason)
        case .invalidState(let id, _, _): return IoPodman.InvalidState(id: id, reason: reason)
        case .volumeNotFound(let name): return IoPodman.VolumeNotFound(id: name, reason: reason)
        case .podNotFound(let name): return IoPodman.PodNotFound(name: name, reason: reason)
        case .noContainersInPod(let pod): return IoPodman.NoContainersInPod(name: pod)
        case .podContainerErrors(let pod, _, let failures):
            return IoPodman.PodContainerError(podname: pod, errors: failures.map { .init(containerid: $0.containerID, reason: $0.reason) })
        case .imageInUse, .nameInUse, .invalidName, .invalidArgument, .digestMismatch, .invalidArchive, .unsupported, .portInUse,
            .networkNotFound, .networkInUse, .execFailed, .volumeExists, .volumeInUse, .registry, .policyDenied:
            return IoPodman.ErrorOccurred(reason: reason)
        case .config, .executableNotFound, .runtimeStopped, .fileSystem, .stateDatabase, .ociRuntime, .conmon,
            .helperFailed, .damaged, .encoding, .timedOut, .cancelled, .network:
            return IoPodman.RuntimeError(reason: reason)
        }
    }

    /// Runs `body`, turning whatever it throws into io.podman's errors.
    static func mapping<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw map(error)
        }
    }
}
