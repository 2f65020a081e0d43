import Foundation
import Yams

/// What `generate kube` writes: a Pod's YAML (and a Service's, when asked).
public struct KubeYAML: Sendable {
    public var pod: String
    /// Empty unless a Service was asked for.
    public var service: String
}

/// podman generate kube: a pod (its containers, the infra container left out) or a
/// single container as a Kubernetes v1 Pod, written with Yams. Named volumes become
/// persistentVolumeClaims, bind mounts hostPaths; published ports sit on the container
/// that listens on them (the first, for a pod's), and a Service, when asked, makes them
/// NodePorts.
extension Runtime {
    public func generateKube(_ nameOrID: String, service: Bool) async throws(LibpodError) -> KubeYAML {
        try checkValid()
        let name: String
        let members: [Container]
        var ports: [PortMapping]
        var labels: [String: String] = [:]
        var hostname: String?
        var podName: String?
        if let pod = try? await state.lookupPod(nameOrID) {
            name = pod.name
            podName = pod.name
            members = try await podContainers(pod.id).filter { !$0.config.isInfra }
            ports = pod.portMappings
            labels = pod.labels
            if pod.shares("uts") { hostname = pod.name }
            guard !members.isEmpty else {
                throw .invalidArgument("pod \(pod.name) has no containers besides its infra container; a Kubernetes pod needs at least one")
            }
        } else {
            let container = try await state.lookup(nameOrID)
            guard !container.config.isInfra else {
                throw .invalidArgument("\(container.name) is a pod's infra container; generate the pod instead")
            }
            name = container.name + "-pod"
            members = [container]
            ports = container.config.portMappings
        }
        labels["app"] = name

        var volumes: [KubeVolume] = []
        var containers: [KubeContainer] = []
        for (index, member) in members.enumerated() {
            var kube = try kubeContainer(member, podName: podName)
            if index == 0 && !ports.isEmpty {
                kube.ports = (kube.ports ?? []) + ports.map {
                    KubeContainerPort(containerPort: Int($0.containerPort), hostPort: Int($0.hostPort), hostIP: $0.hostIP.isEmpty ? nil : $0.hostIP, protocol: $0.protocol.uppercased())
                }
                ports = []
            }
            var mounts: [KubeVolumeMount] = []
            for mount in member.config.mounts {
                let volumeName: String
                if let named = member.config.volumes.first(where: { $0.destination == mount.destination }) {
                    volumeName = named.name
                    if !volumes.contains(where: { $0.name == volumeName }) {
                        volumes.append(KubeVolume(name: volumeName, persistentVolumeClaim: .init(claimName: named.name)))
                    }
                } else {
                    volumeName = Self.kubeName(mount.source)
                    if !volumes.contains(where: { $0.name == volumeName }) {
                        let type = FileSystem.isDirectory(mount.source) ? "Directory" : "File"
                        volumes.append(KubeVolume(name: volumeName, hostPath: .init(path: mount.source, type: type)))
                    }
                }
                mounts.append(KubeVolumeMount(name: volumeName, mountPath: mount.destination, readOnly: mount.readOnly ? true : nil))
            }
            kube.volumeMounts = mounts.isEmpty ? nil : mounts
            containers.append(kube)
        }
        let pod = KubePod(
            metadata: KubeMetadata(name: name, labels: labels, creationTimestamp: ISO8601DateFormatter().string(from: Date())),
            spec: KubePodSpec(hostname: hostname, containers: containers, volumes: volumes.isEmpty ? nil : volumes, restartPolicy: nil))
        let podYAML = try Self.yaml(pod)
        guard service else { return KubeYAML(pod: podYAML, service: "") }
        let servicePorts = containers.flatMap { $0.ports ?? [] }.map {
            KubeService.Spec.Port(name: "\($0.containerPort)-\(($0.protocol ?? "TCP").lowercased())", port: $0.containerPort, targetPort: $0.containerPort, nodePort: nil, protocol: $0.protocol ?? "TCP")
        }
        let kubeService = KubeService(
            metadata: KubeMetadata(name: name, labels: ["app": name], creationTimestamp: nil),
            spec: .init(ports: servicePorts, selector: ["app": name], type: "NodePort"))
        return KubeYAML(pod: podYAML, service: try Self.yaml(kubeService))
    }

    private func kubeContainer(_ container: Container, podName: String?) throws(LibpodError) -> KubeContainer {
        let config = container.config
        let image = try? images.image(config.imageID)
        let imageEnv = Set(image?.config.env ?? [])
        // What the engine adds by itself is not the user's: left out, as podman does.
        let env = config.env.filter { entry in
            !imageEnv.contains(entry) && !["PATH=", "TERM=", "HOSTNAME=", "container="].contains { entry.hasPrefix($0) }
        }.map { entry -> KubeEnvVar in
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return KubeEnvVar(name: String(parts[0]), value: parts.count > 1 ? String(parts[1]) : "")
        }
        let security = config.security
        let capabilities = security.capAdd.isEmpty && security.capDrop.isEmpty
            ? nil : KubeSecurityContext.Capabilities(add: security.capAdd.isEmpty ? nil : security.capAdd, drop: security.capDrop.isEmpty ? nil : security.capDrop)
        let context = !security.privileged && capabilities == nil ? nil : KubeSecurityContext(privileged: security.privileged ? true : nil, capabilities: capabilities)
        // The name inside the pod: a container of a pod named POD-NAME (as play kube
        // names them) keeps NAME.
        var name = config.name
        if let podName, name.hasPrefix(podName + "-") { name = String(name.dropFirst(podName.count + 1)) }
        return KubeContainer(
            name: Self.kubeName(name), image: config.imageName, command: config.command.isEmpty ? nil : config.command, args: nil,
            env: env.isEmpty ? nil : env, workingDir: config.workingDir == "/" ? nil : config.workingDir, ports: nil, volumeMounts: nil,
            securityContext: context, tty: config.tty ? true : nil, stdin: config.openStdin ? true : nil)
    }

    /// A DNS-1123 label: lowercase letters, digits and dashes.
    static func kubeName(_ text: String) -> String {
        var name = String(text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
        while name.hasPrefix("-") { name.removeFirst() }
        while name.hasSuffix("-") { name.removeLast() }
        return name.isEmpty ? "volume" : String(name.prefix(63))
    }

    static func yaml(_ value: some Encodable) throws(LibpodError) -> String {
        do {
            return try YAMLEncoder().encode(value)
        } catch {
            throw .encoding(what: "Kubernetes YAML", cause: "\(error)")
        }
    }
}
