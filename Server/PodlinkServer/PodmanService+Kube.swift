import Libpod
import PodlinkInterfaces
import Varlink

/// GenerateKube: a pod or a container as Kubernetes YAML (written with Yams in Libpod).
extension PodmanService {
    public func generateKube(_ parameters: IoPodman.Methods.GenerateKube.Parameters, call: VarlinkCall<IoPodman.Methods.GenerateKube.Reply>) async throws -> IoPodman.Methods.GenerateKube.Reply {
        try await mapping {
            let yaml = try await runtime.generateKube(parameters.name, service: parameters.service)
            return .init(pod: IoPodman.KubePodService(pod: yaml.pod, service: yaml.service))
        }
    }
}
