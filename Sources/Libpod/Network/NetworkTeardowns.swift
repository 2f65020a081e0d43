import Synchronization

/// Disconnections in flight, by container. CNI's DEL takes 100 ms and more, most of it
/// the kernel retiring the veth pair: a stopped or removed container does not keep its
/// caller waiting for that. What must not overlap a teardown waits for it instead: the
/// same container connecting again, a container asking for host ports or an address a
/// torn-down one may still hold, a network's removal, the runtime's shutdown.
final class NetworkTeardowns: Sendable {
    private let pending = Mutex<[String: Task<Void, Never>]>([:])

    /// Runs `teardown` for container `id` in the background; a teardown of `id` already
    /// in flight runs first.
    func begin(_ id: String, _ teardown: @escaping @Sendable () async -> Void) {
        pending.withLock { tasks in
            let earlier = tasks[id]
            let task = Task {
                await earlier?.value
                await teardown()
            }
            tasks[id] = task
            // Forgets the task once done, unless a later one replaced it.
            Task { [weak self] in
                await task.value
                self?.pending.withLock { tasks in
                    if tasks[id] == task { tasks[id] = nil }
                }
            }
        }
    }

    func isPending(_ id: String) -> Bool { pending.withLock { $0[id] != nil } }

    /// Waits for the teardown of `id`, if one is in flight.
    func wait(for id: String) async {
        let task = pending.withLock { $0[id] }
        await task?.value
    }

    /// Waits for every teardown in flight.
    func waitForAll() async {
        let tasks = pending.withLock { Array($0.values) }
        for task in tasks { await task.value }
    }
}
