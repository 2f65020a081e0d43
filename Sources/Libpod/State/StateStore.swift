/// Where containers live between calls and between processes. One protocol, two stores:
/// SQLite (shared by every process that opens the runtime) and memory (tests).
///
/// A store is scoped to a namespace as podman's are: with a namespace it sees and
/// creates only that namespace's containers; with "" it sees all. Names and IDs are
/// unique across all namespaces.
public protocol StateStore: Sendable {
    var namespace: String { get }

    /// Adds a new container. Fails when its name or ID is taken.
    func add(_ container: Container) async throws(LibpodError)
    /// The container with this full ID.
    func container(id: String) async throws(LibpodError) -> Container
    /// The full ID of the container with this full ID, name or unique ID prefix, in that order.
    func lookupID(_ idOrName: String) async throws(LibpodError) -> String
    /// The container with this full ID, name or unique ID prefix.
    func lookup(_ idOrName: String) async throws(LibpodError) -> Container
    /// Every container visible in this namespace, oldest first.
    func containers() async throws(LibpodError) -> [Container]
    /// Replaces the runtime state of a container.
    func save(_ state: ContainerState, id: String) async throws(LibpodError)
    /// Removes a container and its state. With `exitCode` (a container that had exited),
    /// the code is kept for `exitCodeRetention` after the container is gone, as podman
    /// keeps it: a client waiting for a container removed on exit still learns how it ended.
    func remove(id: String, exitCode: Int32?) async throws(LibpodError)
    /// The exit code of a container removed less than `exitCodeRetention` ago, by full ID.
    func exitCode(ofRemoved id: String) async throws(LibpodError) -> Int32?
    /// Whether any container (in any namespace) has this name.
    func nameInUse(_ name: String) async throws(LibpodError) -> Bool
    /// podman's state.Refresh: every container's state reset as after a reboot, in one
    /// transaction. Returns the containers as they are afterwards.
    func resetForReboot() async throws(LibpodError) -> [Container]
    /// Adds a new pod. Fails when its name (a container's or a pod's) or ID is taken.
    func addPod(_ pod: Pod) async throws(LibpodError)
    /// Replaces a pod's record (its infra container, once made).
    func updatePod(_ pod: Pod) async throws(LibpodError)
    /// The pod with this full ID, name or unique ID prefix, in that order.
    func lookupPod(_ idOrName: String) async throws(LibpodError) -> Pod
    /// Every pod visible in this namespace, oldest first.
    func pods() async throws(LibpodError) -> [Pod]
    /// Removes a pod's record (its containers must be gone).
    func removePod(id: String) async throws(LibpodError)
    /// Adds a new volume. Fails with `volumeExists` when its name is taken.
    func addVolume(_ volume: Volume) async throws(LibpodError)
    /// The volume of that name, or `volumeNotFound`.
    func volume(named name: String) async throws(LibpodError) -> Volume
    /// Every volume, oldest first.
    func volumes() async throws(LibpodError) -> [Volume]
    /// Removes a volume's record.
    func removeVolume(named name: String) async throws(LibpodError)
    /// Closes the store; later calls fail.
    func close() async
}

/// How long the exit code of a removed container is kept (podman: five minutes).
let exitCodeRetention: Double = 300

/// Shared by the stores: podman's lookup rules over a set of (id, name) pairs.
enum ContainerLookup {
    static func resolve(_ idOrName: String, candidates: [(id: String, name: String)]) throws(LibpodError) -> String {
        if let exact = candidates.first(where: { $0.id == idOrName || $0.name == idOrName }) { return exact.id }
        guard ContainerNaming.isIDPrefix(idOrName) else { throw .containerNotFound(idOrName) }
        let matches = candidates.filter { $0.id.hasPrefix(idOrName) }.map(\.id)
        switch matches.count {
        case 0: throw .containerNotFound(idOrName)
        case 1: return matches[0]
        default: throw .ambiguousContainerID(prefix: idOrName, matches: matches.sorted())
        }
    }
}
