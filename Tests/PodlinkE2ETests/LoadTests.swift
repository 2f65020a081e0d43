import Foundation
import Glibc
import PodlinkInterfaces
import PodlinkTestSupport
import PodmanClient
import Testing

/// Load: many clients at once, mixed calls, no error, and nothing leaked afterwards
/// (descriptors of the daemon, mounts, processes, cgroups). The sizes are small enough
/// for CI by default; `make soak` raises them through the environment:
/// PODLINK_LOAD_CLIENTS, PODLINK_LOAD_CALLS (per client), PODLINK_LOAD_CONTAINERS and
/// PODLINK_SOAK_SECONDS.
@Suite(.serialized, .timeLimit(.minutes(60)))
struct LoadTests {
    static func setting(_ name: String, default value: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap(Int.init) ?? value
    }

    /// 64 clients, each on its own connection, each making a mix of calls: reads
    /// (list, inspect, exists, version, info) and now and then a whole container
    /// lifecycle.
    @Test func manyClientsMixedCallsWithoutErrorsOrLeaks() async throws {
        let clients = Self.setting("PODLINK_LOAD_CLIENTS", default: 64)
        let calls = Self.setting("PODLINK_LOAD_CALLS", default: 60)
        try await Daemon.with { daemon, client in
            let resident = try await startResident(client)
            // A first, short round sizes the pools (GRDB's readers, one SQLite connection
            // and its WAL descriptors each): those are kept, not leaked.
            var created = try await runMixedLoad(daemon, clients: clients, callsEach: 20, inspecting: resident)
            let descriptorsBefore = daemon.descriptorsOutsideState
            created += try await runMixedLoad(daemon, clients: clients, callsEach: calls, inspecting: resident)
            try await client.remove(resident, force: true)
            #expect(try await client.containers().isEmpty)
            try await expectDescriptorsSettle(daemon, atMost: descriptorsBefore)
            let leftovers = await daemon.leftovers(of: created + [resident])
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }

    /// 200 containers created, then started all at once from 16 connections; all run,
    /// then all are removed. Without a network: this is the daemon's concurrency (CNI's
    /// own is NetworkTests', whose plugins cost 100 ms of CPU per container).
    @Test func twoHundredContainersStartConcurrently() async throws {
        let count = Self.setting("PODLINK_LOAD_CONTAINERS", default: 200)
        try await Daemon.with { daemon, client in
            var ids: [String] = []
            for _ in 0..<count {
                var options = PodmanClient.CreateOptions()
                options.network = "none"
                ids.append(try await client.create(image: "busybox", command: ["/bin/sleep", "1000"], options: options))
            }
            let connections = try await withThrowingTaskGroup(of: PodmanClient.self) { group in
                for _ in 0..<16 { group.addTask { try await daemon.client() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, id) in ids.enumerated() {
                    group.addTask { try await connections[index % connections.count].start(id) }
                }
                try await group.waitForAll()
            }
            let running = try await client.containers().filter { $0.status == "running" }.count
            #expect(running == count)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, id) in ids.enumerated() {
                    group.addTask { try await connections[index % connections.count].remove(id, force: true) }
                }
                try await group.waitForAll()
            }
            for connection in connections { await connection.close() }
            #expect(try await client.containers().isEmpty)
            let leftovers = await daemon.leftovers(of: ids)
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }

    /// The mixed load for PODLINK_SOAK_SECONDS (10 s in a normal run): the daemon's
    /// resident memory and descriptors are sampled every round and must not keep
    /// growing.
    @Test func soak() async throws {
        let seconds = Self.setting("PODLINK_SOAK_SECONDS", default: 10)
        let clients = Self.setting("PODLINK_LOAD_CLIENTS", default: 16)
        try await Daemon.with { daemon, client in
            let resident = try await startResident(client)
            let deadline = ContinuousClock.now + .seconds(seconds)
            var samples: [(rss: Int, descriptors: Int)] = []
            var created: [String] = []
            repeat {
                created += try await runMixedLoad(daemon, clients: clients, callsEach: 40, inspecting: resident)
                samples.append((daemon.residentKilobytes, daemon.descriptorsOutsideState))
                print("soak: round \(samples.count), RSS \(samples.last!.rss) kB, \(samples.last!.descriptors) descriptors")
            } while ContinuousClock.now < deadline
            try await client.remove(resident, force: true)
            // After the first round (caches warm, pools sized), memory may wobble but not climb
            // with every round.
            if samples.count >= 3 {
                let warm = samples[1].rss
                #expect(samples.last!.rss < warm + 16 * 1024, "RSS grew from \(warm) kB to \(samples.last!.rss) kB")
            }
            // The pools are sized after the first rounds; later rounds must not add to them.
            try await expectDescriptorsSettle(daemon, atMost: samples.prefix(3).map(\.descriptors).max()!)
            let leftovers = await daemon.leftovers(of: created + [resident])
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }

    /// A container that runs for as long as the load does: the one the clients inspect.
    private func startResident(_ client: PodmanClient) async throws -> String {
        let id = try await client.create(image: "busybox", command: ["/bin/sleep", "100000"], options: .init())
        try await client.start(id)
        return id
    }

    /// `clients` connections at once, `callsEach` calls each; returns the IDs of the
    /// containers the load created (all removed again).
    private func runMixedLoad(_ daemon: Daemon, clients: Int, callsEach: Int, inspecting resident: String) async throws
        -> [String]
    {
        try await withThrowingTaskGroup(of: [String].self) { group in
            for number in 0..<clients {
                group.addTask {
                    let client = try await daemon.client()
                    defer { Task { await client.close() } }
                    var created: [String] = []
                    for call in 0..<callsEach {
                        switch (number + call) % 20 {
                        case 0 where number % 4 == 0:
                            let id = try await client.create(image: "busybox", command: ["/bin/true"], options: .init())
                            created.append(id)
                            try await client.start(id)
                            #expect(try await client.wait(id) == 0)
                            try await client.remove(id)
                        case 0, 1, 2, 3, 4, 5:
                            _ = try await client.containers()
                        case 6, 7, 8, 9:
                            _ = try await client.inspect(resident)
                        case 10, 11, 12:
                            #expect(try await client.exists(resident))
                        case 13, 14:
                            await #expect(throws: IoPodman.ContainerNotFound.self) { try await client.inspect("no-such-container") }
                        case 15, 16:
                            _ = try await client.images()
                        default:
                            _ = try await client.api.getVersion()
                        }
                    }
                    return created
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    /// The daemon's descriptors come back to what they were, not counting the state
    /// database's: GRDB's reader pool opens a connection (the file and its WAL) per
    /// concurrent reader, up to its bound, and keeps them; that bound is checked instead.
    private func expectDescriptorsSettle(_ daemon: Daemon, atMost limit: Int) async throws {
        for _ in 0..<100 where daemon.descriptorsOutsideState > limit {
            try await Task.sleep(for: .milliseconds(50))
        }
        let other = daemon.descriptorsOutsideState
        let state = daemon.openDescriptors - other
        #expect(other <= limit, "the daemon holds \(other) descriptors, \(limit) before the load: \(daemon.descriptorTargets)")
        // One writer and at most five readers (GRDB's default), two descriptors each, and
        // the shared-memory file.
        #expect(state <= 13, "\(state) descriptors on the state database: \(daemon.descriptorTargets)")
    }
}
