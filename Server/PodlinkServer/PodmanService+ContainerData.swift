import Foundation
import Libpod
import PodlinkInterfaces
import Varlink

/// The container documents podman-remote reads: its config, its state, its inspect
/// data and its OCI spec, each as JSON in podman 1.9's shape.
extension PodmanService {
    public func containerConfig(_ parameters: IoPodman.Methods.ContainerConfig.Parameters, call: VarlinkCall<IoPodman.Methods.ContainerConfig.Reply>) async throws -> IoPodman.Methods.ContainerConfig.Reply {
        try await mapping {
            let inspection = try await runtime.inspectContainer(parameters.name)
            return .init(config: PodmanJSON.encode(ContainerConfigJSON(inspection), embedding: "spec", inspection.spec))
        }
    }

    public func containerStateData(_ parameters: IoPodman.Methods.ContainerStateData.Parameters, call: VarlinkCall<IoPodman.Methods.ContainerStateData.Reply>) async throws -> IoPodman.Methods.ContainerStateData.Reply {
        try await mapping { .init(config: PodmanJSON.encode(ContainerStateJSON(try await runtime.inspectContainer(parameters.name, spec: false)))) }
    }

    public func containerInspectData(_ parameters: IoPodman.Methods.ContainerInspectData.Parameters, call: VarlinkCall<IoPodman.Methods.ContainerInspectData.Reply>) async throws -> IoPodman.Methods.ContainerInspectData.Reply {
        try await mapping {
            let inspection = try await runtime.inspectContainer(parameters.name)
            let sizes = parameters.size ? runtime.containerSizes(inspection.container) : nil
            return .init(config: PodmanJSON.encode(ContainerInspectJSON(inspection, driver: runtime.config.storageDriver.rawValue, sizes: sizes)))
        }
    }

    public func spec(_ parameters: IoPodman.Methods.Spec.Parameters, call: VarlinkCall<IoPodman.Methods.Spec.Reply>) async throws -> IoPodman.Methods.Spec.Reply {
        try await mapping { .init(config: String(decoding: try await runtime.containerSpec(parameters.name), as: UTF8.self)) }
    }

    /// A file a tool stored with the container (`<bundle>/artifacts/NAME`), as podman's
    /// JSON string of base64. Nothing of Podlink's own writes one.
    public func containerArtifacts(_ parameters: IoPodman.Methods.ContainerArtifacts.Parameters, call: VarlinkCall<IoPodman.Methods.ContainerArtifacts.Reply>) async throws -> IoPodman.Methods.ContainerArtifacts.Reply {
        let name = parameters.artifactName
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw invalid("artifact name \"\(name)\" must be a file name, without '/'")
        }
        return try await mapping {
            let inspection = try await runtime.inspectContainer(parameters.name, spec: false)
            let path = inspection.bundlePath + "/artifacts/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                throw invalid("container \(inspection.container.id.prefix(12)) has no artifact \"\(name)\"")
            }
            return .init(config: PodmanJSON.encode(data.base64EncodedString()))
        }
    }
}
