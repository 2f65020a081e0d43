import Foundation
import Yams

/// What `play kube` made.
public struct KubePlayResult: Sendable {
    public var podID: String
    public var containerIDs: [String]
}

/// podman play kube: a Kubernetes v1 Pod (from YAML, as `podman kube generate` and
/// `generate kube` write it) becomes a pod with an infra container sharing net, ipc and
/// uts, its containers named POD-NAME as podman names them, its volumes (hostPath as bind
/// mounts, persistentVolumeClaim as named volumes, emptyDir as anonymous ones) and the
/// ports that have a hostPort published on the pod. Other documents (a Service) are
/// skipped; a kind other than Pod is refused.
extension Runtime {
    public func playKube(_ yaml: String, start: Bool = true) async throws(LibpodError) -> [KubePlayResult] {
        try checkValid()
        var pods: [KubePod] = []
        do {
            for node in try Yams.compose_all(yaml: yaml) {
                let kind = try YAMLDecoder().decode(KubeKind.self, from: node).kind ?? ""
                switch kind {
                case "Pod": pods.append(try YAMLDecoder().decode(KubePod.self, from: node))
                case "Service", "ConfigMap", "PersistentVolumeClaim": continue
                default:
                    throw LibpodError.invalidArgument("kind \"\(kind)\" is not supported by play kube; give a Pod (other documents: Service, ConfigMap, PersistentVolumeClaim are skipped)")
                }
            }
        } catch let error as LibpodError {
            throw error
        } catch {
            throw .invalidArgument("the YAML is not a Kubernetes Pod: \(error)")
        }
        guard !pods.isEmpty else {
            // Yams' document sequence ends quietly at a syntax error; the whole text says what it was.
            do {
                _ = try Yams.load(yaml: yaml)
            } catch {
                throw .invalidArgument("the YAML is not a Kubernetes Pod: \(error)")
            }
            throw .invalidArgument("the YAML has no Pod document")
        }
        var results: [KubePlayResult] = []
        for pod in pods { results.append(try await play(pod, start: start)) }
        return results
    }

    private func play(_ kube: KubePod, start: Bool) async throws(LibpodError) -> KubePlayResult {
        guard !kube.spec.containers.isEmpty else { throw .invalidArgument("pod \(kube.metadata.name) has no containers") }
        var options = PodCreateOptions()
        options.name = kube.metadata.name
        options.labels = kube.metadata.labels ?? [:]
        for container in kube.spec.containers {
            for port in container.ports ?? [] {
                guard let hostPort = port.hostPort, hostPort > 0 else { continue }
                guard let host = UInt16(exactly: hostPort), let target = UInt16(exactly: port.containerPort) else {
                    throw .invalidArgument("container \(container.name): port \(port.containerPort)->\(hostPort) is out of range")
                }
                options.portMappings.append(PortMapping(
                    hostIP: port.hostIP ?? "", hostPort: host, containerPort: target, protocol: (port.protocol ?? "TCP").lowercased()))
            }
        }
        let pod = try await createPod(options)
        do throws(LibpodError) {
            var ids: [String] = []
            for container in kube.spec.containers {
                ids.append(try await createContainer(try createOptions(container, in: kube, podName: pod.name)).id)
            }
            if start { try await startPod(pod.id) }
            return KubePlayResult(podID: pod.id, containerIDs: ids)
        } catch {
            await bestEffort("removing pod \(pod.name), which could not be played") { () async throws(LibpodError) in
                try await removePod(pod.id, force: true)
            }
            throw error
        }
    }

    private func createOptions(_ container: KubeContainer, in kube: KubePod, podName: String) throws(LibpodError) -> ContainerCreateOptions {
        var options = ContainerCreateOptions(image: container.image)
        options.name = "\(podName)-\(container.name)"
        options.pod = podName
        // Kubernetes' rule: command replaces the entrypoint (and drops the image's
        // command), args replace the command.
        options.entrypoint = container.command
        options.command = container.args
        options.env = (container.env ?? []).map { "\($0.name)=\($0.value ?? "")" }
        options.workingDir = container.workingDir
        options.tty = container.tty ?? false
        options.openStdin = container.stdin ?? false
        options.imageVolumes = .ignore
        if let context = container.securityContext {
            options.security.privileged = context.privileged ?? false
            options.security.capAdd = (context.capabilities?.add ?? []).map { $0.hasPrefix("CAP_") ? $0 : "CAP_" + $0 }
            options.security.capDrop = (context.capabilities?.drop ?? []).map { $0.hasPrefix("CAP_") ? $0 : "CAP_" + $0 }
        }
        for mount in container.volumeMounts ?? [] {
            guard let volume = kube.spec.volumes?.first(where: { $0.name == mount.name }) else {
                throw .invalidArgument("container \(container.name) mounts volume \"\(mount.name)\", which the pod does not declare")
            }
            let readOnly = mount.readOnly ?? false
            if let hostPath = volume.hostPath {
                try Self.prepareHostPath(hostPath, volume: volume.name)
                options.mounts.append(BindMount(source: hostPath.path, destination: mount.mountPath, readOnly: readOnly))
            } else if let claim = volume.persistentVolumeClaim {
                options.volumes.append(VolumeMount(name: claim.claimName, destination: mount.mountPath, readOnly: readOnly || claim.readOnly == true))
            } else if volume.emptyDir != nil {
                options.volumes.append(VolumeMount(name: "", destination: mount.mountPath, readOnly: readOnly))
            } else {
                throw .invalidArgument("volume \"\(volume.name)\" is of a kind play kube does not support; use hostPath, persistentVolumeClaim or emptyDir")
            }
        }
        return options
    }

    /// hostPath's types as Kubernetes defines them: the ...OrCreate ones are made.
    private static func prepareHostPath(_ hostPath: KubeVolume.HostPath, volume: String) throws(LibpodError) {
        let path = hostPath.path
        guard path.hasPrefix("/") else { throw .invalidArgument("volume \"\(volume)\": hostPath \(path) is not absolute") }
        switch hostPath.type ?? "" {
        case "DirectoryOrCreate":
            try FileSystem.ensureDirectory(path, mode: 0o755)
        case "Directory":
            guard FileSystem.isDirectory(path) else { throw .invalidArgument("volume \"\(volume)\": hostPath \(path) is not a directory") }
        case "FileOrCreate":
            if !FileSystem.exists(path) { try FileSystem.writeAtomically(path, []) }
        case "File":
            guard FileSystem.exists(path), !FileSystem.isDirectory(path) else { throw .invalidArgument("volume \"\(volume)\": hostPath \(path) is not a file") }
        default:
            guard FileSystem.exists(path) else { throw .invalidArgument("volume \"\(volume)\": hostPath \(path) does not exist") }
        }
    }
}
