import Foundation
import Synchronization

/// A state store held in this process only: for tests, and for runtimes configured with
/// `state_type = "memory"`. Behaves as the SQLite store does.
public final class InMemoryStateStore: StateStore {
    public let namespace: String
    private let storage: Mutex<Storage>

    private struct Storage: ~Copyable {
        var containers: [String: Container] = [:]
        /// Exit codes of removed containers and when they were removed.
        var removedExitCodes: [String: (code: Int32, removedAt: Date)] = [:]
        var order: [String] = []
        var pods: [Pod] = []
        var volumes: [String: Volume] = [:]
        var volumeOrder: [String] = []
        var closed = false
    }

    public init(namespace: String = "") {
        self.namespace = namespace
        self.storage = Mutex(Storage())
    }

    private func visible(_ container: Container) -> Bool {
        namespace.isEmpty || container.config.namespace == namespace
    }

    private func withStorage<R>(_ body: (inout Storage) throws(LibpodError) -> R) throws(LibpodError) -> R {
        try storage.withLock { (storage: inout Storage) throws(LibpodError) -> R in
            guard !storage.closed else { throw LibpodError.runtimeStopped }
            return try body(&storage)
        }
    }

    public func add(_ container: Container) async throws(LibpodError) {
        try withStorage { storage throws(LibpodError) in
            guard storage.containers[container.id] == nil else { throw .invalidArgument("container ID \(container.id) is already in use") }
            guard !storage.containers.values.contains(where: { $0.name == container.name }) else { throw .nameInUse(container.name) }
            storage.containers[container.id] = container
            storage.order.append(container.id)
        }
    }

    public func container(id: String) async throws(LibpodError) -> Container {
        try withStorage { storage throws(LibpodError) in
            guard let container = storage.containers[id], visible(container) else { throw .containerNotFound(id) }
            return container
        }
    }

    public func lookupID(_ idOrName: String) async throws(LibpodError) -> String {
        try withStorage { storage throws(LibpodError) in
            let candidates = storage.containers.values.filter(visible).map { (id: $0.id, name: $0.name) }
            return try ContainerLookup.resolve(idOrName, candidates: candidates)
        }
    }

    public func lookup(_ idOrName: String) async throws(LibpodError) -> Container {
        try await container(id: try await lookupID(idOrName))
    }

    public func containers() async throws(LibpodError) -> [Container] {
        try withStorage { storage in storage.order.compactMap { storage.containers[$0] }.filter(visible) }
    }

    public func save(_ state: ContainerState, id: String) async throws(LibpodError) {
        try withStorage { storage throws(LibpodError) in
            guard let container = storage.containers[id], visible(container) else { throw .containerNotFound(id) }
            storage.containers[id]?.state = state
        }
    }

    public func remove(id: String, exitCode: Int32?) async throws(LibpodError) {
        try withStorage { storage throws(LibpodError) in
            guard let container = storage.containers[id], visible(container) else { throw .containerNotFound(id) }
            storage.containers[id] = nil
            storage.order.removeAll { $0 == id }
            let now = Date()
            storage.removedExitCodes = storage.removedExitCodes.filter { now.timeIntervalSince($0.value.removedAt) < exitCodeRetention }
            if let exitCode { storage.removedExitCodes[id] = (exitCode, now) }
        }
    }

    public func exitCode(ofRemoved id: String) async throws(LibpodError) -> Int32? {
        try withStorage { storage in
            storage.removedExitCodes[id].flatMap { Date().timeIntervalSince($0.removedAt) < exitCodeRetention ? $0.code : nil }
        }
    }

    public func nameInUse(_ name: String) async throws(LibpodError) -> Bool {
        try withStorage { storage in storage.containers.values.contains { $0.name == name } }
    }

    public func addPod(_ pod: Pod) async throws(LibpodError) {
        try withStorage { storage throws(LibpodError) in
            guard !storage.pods.contains(where: { $0.name == pod.name }), !storage.containers.values.contains(where: { $0.name == pod.name }) else {
                throw .nameInUse(pod.name)
            }
            storage.pods.append(pod)
        }
    }

    public func updatePod(_ pod: Pod) async throws(LibpodError) {
        try withStorage { storage throws(LibpodError) in
            guard let index = storage.pods.firstIndex(where: { $0.id == pod.id }) else { throw .podNotFound(pod.id) }
            storage.pods[index] = pod
        }
    }

    public func lookupPod(_ idOrName: String) async throws(LibpodError) -> Pod {
        try withStorage { storage throws(LibpodError) in
            let visible = storage.pods.filter { namespace.isEmpty || $0.namespace == namespace }
            if let exact = visible.first(where: { $0.id == idOrName }) ?? visible.first(where: { $0.name == idOrName }) { return exact }
            let matches = ContainerNaming.isIDPrefix(idOrName) ? visible.filter { $0.id.hasPrefix(idOrName) } : []
            guard matches.count == 1 else {
                if matches.isEmpty { throw .podNotFound(idOrName) }
                throw .invalidArgument("ID prefix \"\(idOrName)\" matches \(matches.count) pods; give more of the ID")
            }
            return matches[0]
        }
    }

    public func pods() async throws(LibpodError) -> [Pod] {
        try withStorage { storage in storage.pods.filter { namespace.isEmpty || $0.namespace == namespace } }
    }

    public func removePod(id: String) async throws(LibpodError) {
        try withStorage { storage throws(LibpodError) in
            guard storage.pods.contains(where: { $0.id == id }) else { throw .podNotFound(id) }
            storage.pods.removeAll { $0.id == id }
        }
    }

    public func addVolume(_ volume: Volume) async throws(LibpodError) {
        try withStorage { storage throws(LibpodError) in
            guard storage.volumes[volume.name] == nil else { throw .volumeExists(volume.name) }
            storage.volumes[volume.name] = volume
            storage.volumeOrder.append(volume.name)
        }
    }

    public func volume(named name: String) async throws(LibpodError) -> Volume {
        try withStorage { storage throws(LibpodError) in
            guard let volume = storage.volumes[name] else { throw .volumeNotFound(name) }
            return volume
        }
    }

    public func volumes() async throws(LibpodError) -> [Volume] {
        try withStorage { storage in storage.volumeOrder.compactMap { storage.volumes[$0] } }
    }

    public func removeVolume(named name: String) async throws(LibpodError) {
        try withStorage { storage throws(LibpodError) in
            guard storage.volumes.removeValue(forKey: name) != nil else { throw .volumeNotFound(name) }
            storage.volumeOrder.removeAll { $0 == name }
        }
    }

    public func resetForReboot() async throws(LibpodError) -> [Container] {
        try withStorage { storage in
            for id in storage.order { storage.containers[id]?.state.resetForReboot() }
            return storage.order.compactMap { storage.containers[$0] }
        }
    }

    public func close() async {
        storage.withLock { $0.closed = true }
    }
}
