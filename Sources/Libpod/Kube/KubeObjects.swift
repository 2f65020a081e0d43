import Foundation

/// The parts of Kubernetes' core/v1 objects that podman writes and reads: a Pod with its
/// containers and volumes, and a Service for its ports. Decoding ignores every field not
/// named here, so a YAML with more (status, resources, probes) still reads; encoding
/// leaves out what is empty, as `kubectl` and podman write it.
struct KubePod: Codable {
    var apiVersion = "v1"
    var kind = "Pod"
    var metadata: KubeMetadata
    var spec: KubePodSpec
}

struct KubeMetadata: Codable {
    var name: String
    var labels: [String: String]?
    var annotations: [String: String]?
    var creationTimestamp: String?
}

struct KubePodSpec: Codable {
    var hostname: String?
    var containers: [KubeContainer]
    var volumes: [KubeVolume]?
    var restartPolicy: String?
}

struct KubeContainer: Codable {
    var name: String
    var image: String
    /// Replaces the image's entrypoint.
    var command: [String]?
    /// Replaces the image's command.
    var args: [String]?
    var env: [KubeEnvVar]?
    var workingDir: String?
    var ports: [KubeContainerPort]?
    var volumeMounts: [KubeVolumeMount]?
    var securityContext: KubeSecurityContext?
    var tty: Bool?
    var stdin: Bool?
}

struct KubeEnvVar: Codable {
    var name: String
    var value: String?
}

struct KubeContainerPort: Codable {
    var containerPort: Int
    var hostPort: Int?
    var hostIP: String?
    var `protocol`: String?
}

struct KubeVolumeMount: Codable {
    var name: String
    var mountPath: String
    var readOnly: Bool?
}

struct KubeSecurityContext: Codable {
    struct Capabilities: Codable {
        var add: [String]?
        var drop: [String]?
    }
    var privileged: Bool?
    var capabilities: Capabilities?
}

struct KubeVolume: Codable {
    struct HostPath: Codable {
        var path: String
        var type: String?
    }
    struct Claim: Codable {
        var claimName: String
        var readOnly: Bool?
    }
    struct EmptyDir: Codable {}

    var name: String
    var hostPath: HostPath?
    var persistentVolumeClaim: Claim?
    var emptyDir: EmptyDir?
}

struct KubeService: Codable {
    struct Spec: Codable {
        struct Port: Codable {
            var name: String
            var port: Int
            var targetPort: Int
            var nodePort: Int?
            var `protocol`: String
        }
        var ports: [Port]
        var selector: [String: String]
        var type: String
    }
    var apiVersion = "v1"
    var kind = "Service"
    var metadata: KubeMetadata
    var spec: Spec
}

/// Just enough of any document to see what kind it is.
struct KubeKind: Decodable {
    var kind: String?
}
