import Foundation

/// A pod: containers grouped around an infra container that holds the namespaces they
/// share (network, IPC, UTS by default) and the pod's published ports. The pod's state is
/// derived from its containers'; the record holds only its configuration.
public struct Pod: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var namespace: String
    public var created: Date
    public var labels: [String: String]
    /// The cgroup its containers are placed under ("" for the runtime's).
    public var cgroupParent: String
    /// The namespaces the pod's containers take from the infra container (podman's `share`).
    public var sharedNamespaces: [String]
    /// Nil for a pod created without one (`infra: false`): nothing is shared then.
    public var infraContainerID: String?
    /// The ports the pod publishes (held by its infra container).
    public var portMappings: [PortMapping] = []

    public init(
        id: String, name: String, namespace: String = "", created: Date = Date(), labels: [String: String] = [:],
        cgroupParent: String = "", sharedNamespaces: [String] = Pod.defaultShared, infraContainerID: String? = nil
    ) {
        self.id = id
        self.name = name
        self.namespace = namespace
        self.created = created
        self.labels = labels
        self.cgroupParent = cgroupParent
        self.sharedNamespaces = sharedNamespaces
        self.infraContainerID = infraContainerID
    }

    /// podman's default `share` (its CLI's; over varlink nothing is shared unless asked).
    public static let defaultShared = ["ipc", "net", "uts"]
    /// The namespaces a pod can share (podman's `cgroup` is accepted and means nothing
    /// more: every container of a pod is under the pod's cgroup parent anyway).
    public static let shareable: Set<String> = ["ipc", "net", "pid", "uts", "cgroup"]

    public func shares(_ namespace: String) -> Bool { infraContainerID != nil && sharedNamespaces.contains(namespace) }
}

/// What `pod create` takes.
public struct PodCreateOptions: Sendable {
    public var name = ""
    public var labels: [String: String] = [:]
    public var cgroupParent = ""
    public var share = Pod.defaultShared
    public var infra = true
    /// The infra container's image and command; the runtime's infra_image/infra_command
    /// (Podlink's built-in catatonit pause image unless configured) when nil.
    public var infraImage: String?
    public var infraCommand: [String]?
    /// Ports the pod publishes (through its infra container's network namespace).
    public var portMappings: [PortMapping] = []
    /// The pod's network: podman's default bridge when nil.
    public var network: NetworkMode?

    public init() {}
}

/// podman 1.9.3's pod states, derived from the containers' (the infra container counted).
public enum PodStatus: String, Sendable, CaseIterable {
    case created = "Created"
    case running = "Running"
    case paused = "Paused"
    case stopped = "Stopped"
    case exited = "Exited"
    case error = "Error"

    /// podman 1.9.3's rules, the first that matches: no containers is Created; any
    /// running makes it Running; all paused Paused; all stopped or exited Exited; some
    /// stopped or exited Stopped; any in an unknown or removing state Error; else Created.
    public init(containers: [ContainerStatus]) {
        var running = 0, paused = 0, stopped = 0, broken = 0
        for status in containers {
            switch status {
            case .running, .stopping: running += 1
            case .paused: paused += 1
            case .stopped, .exited: stopped += 1
            case .created, .configured: break
            case .unknown, .removing: broken += 1
            }
        }
        if containers.isEmpty { self = .created }
        else if running > 0 { self = .running }
        else if paused == containers.count { self = .paused }
        else if stopped == containers.count { self = .exited }
        else if stopped > 0 { self = .stopped }
        else if broken > 0 { self = .error }
        else { self = .created }
    }
}
