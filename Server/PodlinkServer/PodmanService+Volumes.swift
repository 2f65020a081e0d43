import Foundation
import Libpod
import PodlinkInterfaces
import Varlink

/// VolumeCreate, GetVolumes, InspectVolume, VolumeRemove, VolumesPrune: named volumes
/// with podman 1.9.3's replies.
extension PodmanService {
    public func volumeCreate(_ parameters: IoPodman.Methods.VolumeCreate.Parameters, call: VarlinkCall<IoPodman.Methods.VolumeCreate.Reply>) async throws -> IoPodman.Methods.VolumeCreate.Reply {
        let opts = parameters.options
        return try await mapping {
            let options = VolumeCreateOptions(name: opts.volumeName, driver: opts.driver, labels: opts.labels, options: opts.options)
            return .init(volumeName: try await runtime.createVolume(options).name)
        }
    }

    /// Every volume with `all`, else the named ones (each must exist).
    public func getVolumes(_ parameters: IoPodman.Methods.GetVolumes.Parameters, call: VarlinkCall<IoPodman.Methods.GetVolumes.Reply>) async throws -> IoPodman.Methods.GetVolumes.Reply {
        try await mapping {
            var volumes: [Volume] = []
            if parameters.all || parameters.args.isEmpty {
                volumes = try await runtime.volumes()
            } else {
                for name in parameters.args { volumes.append(try await runtime.volume(name)) }
            }
            return .init(volumes: volumes.map {
                IoPodman.Volume(name: $0.name, labels: $0.labels, mountPoint: $0.mountPoint, driver: $0.driver, options: $0.options)
            })
        }
    }

    public func inspectVolume(_ parameters: IoPodman.Methods.InspectVolume.Parameters, call: VarlinkCall<IoPodman.Methods.InspectVolume.Reply>) async throws -> IoPodman.Methods.InspectVolume.Reply {
        try await mapping { .init(volume: PodmanJSON.encode(VolumeInspectJSON(try await runtime.volume(parameters.name)))) }
    }

    /// Removes each named volume (or all); a failure is reported for its volume and does
    /// not stop the others, as podman's reply has room for both.
    public func volumeRemove(_ parameters: IoPodman.Methods.VolumeRemove.Parameters, call: VarlinkCall<IoPodman.Methods.VolumeRemove.Reply>) async throws -> IoPodman.Methods.VolumeRemove.Reply {
        let opts = parameters.options
        return try await mapping {
            let names = opts.all ? try await runtime.volumes().map(\.name) : opts.volumes
            var successes: [String] = []
            var failures: [String: String] = [:]
            for name in names {
                do {
                    try await runtime.removeVolume(name, force: opts.force)
                    successes.append(name)
                } catch let error as LibpodError {
                    failures[name] = error.description
                }
            }
            return .init(successes: successes, failures: failures)
        }
    }

    public func volumesPrune(_ parameters: IoPodman.Methods.VolumesPrune.Parameters, call: VarlinkCall<IoPodman.Methods.VolumesPrune.Reply>) async throws -> IoPodman.Methods.VolumesPrune.Reply {
        try await mapping {
            let result = try await runtime.pruneVolumes()
            return .init(prunedNames: result.removed, prunedErrors: result.failures.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.description)" })
        }
    }
}

/// podman 1.9's InspectVolumeData (docker's `volume inspect`).
struct VolumeInspectJSON: Encodable {
    var Name: String
    var Driver: String
    var Mountpoint: String
    var CreatedAt: String
    var Labels: [String: String]
    var Scope = "local"
    var Options: [String: String]
    var Anonymous: Bool?

    init(_ volume: Volume) {
        Name = volume.name
        Driver = volume.driver
        Mountpoint = volume.mountPoint
        CreatedAt = PodmanFormat.time(volume.createdAt)
        Labels = volume.labels
        Options = volume.options
        // Go's omitempty: only a true value is written.
        Anonymous = volume.anonymous ? true : nil
    }
}
