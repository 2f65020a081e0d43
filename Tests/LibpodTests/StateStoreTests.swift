import Foundation
@testable import Libpod
import Testing

/// Both stores must behave alike: every test runs against each.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, memory
    var testDescription: String { rawValue }

    func make(_ scratch: ScratchDirectories, namespace: String = "") throws -> any StateStore {
        switch self {
        case .memory: return InMemoryStateStore(namespace: namespace)
        case .sqlite:
            try FileManager.default.createDirectory(atPath: scratch.staticDir, withIntermediateDirectories: true)
            return try SQLiteStateStore(
                path: scratch.staticDir + "/state.sqlite", namespace: namespace,
                paths: .init(staticDir: scratch.staticDir, tmpDir: scratch.tmpDir, storageRoot: "/s", storageDriver: "overlay"))
        }
    }
}

func sampleContainer(_ id: String, _ name: String, namespace: String = "", status: ContainerStatus = .configured) -> Container {
    var state = ContainerState()
    state.status = status
    return Container(
        config: ContainerConfig(id: id, name: name, namespace: namespace, command: ["/bin/true"], labels: ["k": "v"]),
        state: state)
}

let idA = "aaaa" + String(repeating: "0", count: 60)
let idB = "aaab" + String(repeating: "1", count: 60)
let idC = "cccc" + String(repeating: "2", count: 60)

@Suite struct StateStoreTests {
    @Test(arguments: StoreKind.allCases) func lookupByIDNameAndPrefix(kind: StoreKind) async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let store = try kind.make(scratch)
        let web = sampleContainer(idA, "web")
        try await store.add(web)
        try await store.add(sampleContainer(idB, "db"))
        try await store.add(sampleContainer(idC, "cache"))

        #expect(try await store.lookupID(idA) == idA)
        #expect(try await store.lookupID("db") == idB)
        #expect(try await store.lookupID("cc") == idC)
        #expect(try await store.lookupID("aaab") == idB)
        await #expect(throws: LibpodError.ambiguousContainerID(prefix: "aaa", matches: [idA, idB])) {
            try await store.lookupID("aaa")
        }
        await #expect(throws: LibpodError.containerNotFound("nope")) { try await store.lookupID("nope") }
        await #expect(throws: LibpodError.containerNotFound("dddd")) { try await store.lookupID("dddd") }

        let fetched = try await store.container(id: idA)
        #expect(fetched == web)
        #expect(try await store.containers().map(\.name) == ["web", "db", "cache"])
        await store.close()
    }

    @Test(arguments: StoreKind.allCases) func namesAndIDsAreUnique(kind: StoreKind) async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let store = try kind.make(scratch)
        try await store.add(sampleContainer(idA, "web"))
        await #expect(throws: LibpodError.nameInUse("web")) { try await store.add(sampleContainer(idB, "web")) }
        await #expect(throws: LibpodError.self) { try await store.add(sampleContainer(idA, "other")) }
        #expect(try await store.nameInUse("web"))
        #expect(try await !store.nameInUse("other"))
        #expect(try await store.containers().count == 1, "a refused add leaves nothing behind")
        await store.close()
    }

    @Test(arguments: StoreKind.allCases) func stateIsSavedAndContainersRemoved(kind: StoreKind) async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let store = try kind.make(scratch)
        try await store.add(sampleContainer(idA, "web"))
        var state = ContainerState()
        state.status = .running
        state.pid = 4242
        state.startedAt = Date(timeIntervalSince1970: 1_700_000_000.5)
        state.exitCode = 3
        try await store.save(state, id: idA)
        #expect(try await store.container(id: idA).state == state)
        #expect(try await store.exitCode(ofRemoved: idA) == nil, "not removed yet")
        try await store.remove(id: idA, exitCode: 3)
        await #expect(throws: LibpodError.containerNotFound(idA)) { try await store.container(id: idA) }
        await #expect(throws: LibpodError.containerNotFound(idA)) { try await store.remove(id: idA, exitCode: nil) }
        #expect(try await store.exitCode(ofRemoved: idA) == 3, "the exit code outlives the container")
        try await store.add(sampleContainer(idB, "never-ran"))
        try await store.remove(id: idB, exitCode: nil)
        #expect(try await store.exitCode(ofRemoved: idB) == nil, "no exit, no code")
        #expect(try await !store.nameInUse("web"), "the name is free again")
        await store.close()
        await #expect(throws: LibpodError.runtimeStopped) { try await store.containers() }
    }

    /// Listing while containers are removed: a list that read a row just before its
    /// removal committed must not cache the config after the removal cleared it (in a
    /// daemon under load that was memory kept for every such container, for good).
    @Test func listingDuringRemovalsCachesNothingRemoved() async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let store = try #require(try StoreKind.sqlite.make(scratch) as? SQLiteStateStore)
        let ids = (0..<300).map { String(format: "%064x", 0xd00d_0000 + $0) }
        for (index, id) in ids.enumerated() { try await store.add(sampleContainer(id, "c\(index)")) }
        let removing = Task {
            for id in ids { try await store.remove(id: id, exitCode: 0) }
        }
        while try await !store.containers().isEmpty {}
        try await removing.value
        #expect(store.cachedConfigCount == 0)
        await store.close()
    }

    @Test(arguments: StoreKind.allCases) func namespacesScopeWhatIsSeen(kind: StoreKind) async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let all = try kind.make(scratch)
        try await all.add(sampleContainer(idA, "a", namespace: "red"))
        try await all.add(sampleContainer(idB, "b", namespace: "blue"))
        try await all.add(sampleContainer(idC, "c"))
        #expect(try await all.containers().count == 3, "\"\" sees every namespace")
        if kind == .sqlite {
            let red = try kind.make(scratch, namespace: "red")
            #expect(try await red.containers().map(\.name) == ["a"])
            await #expect(throws: LibpodError.containerNotFound("b")) { try await red.lookupID("b") }
            await #expect(throws: LibpodError.containerNotFound(idB)) { try await red.container(id: idB) }
            #expect(try await red.lookupID("aa") == idA, "a prefix shared with another namespace is not ambiguous")
            #expect(try await red.nameInUse("b"), "names are unique across namespaces")
            await red.close()
        }
        await all.close()
    }

    @Test(arguments: StoreKind.allCases) func rebootResetFollowsPodman(kind: StoreKind) async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let store = try kind.make(scratch)
        let before: [(ContainerStatus, ContainerStatus)] = [
            (.running, .exited), (.paused, .exited), (.stopped, .exited), (.stopping, .exited), (.exited, .exited),
            (.created, .configured), (.configured, .configured), (.removing, .removing),
        ]
        for (index, (status, _)) in before.enumerated() {
            var container = sampleContainer(String(format: "%064x", index + 1), "c\(index)", status: status)
            container.state.pid = 100 + Int32(index)
            container.state.mountPoint = "/mnt/\(index)"
            try await store.add(container)
        }
        let after = try await store.resetForReboot()
        #expect(after.map(\.state.status) == before.map(\.1))
        #expect(after.allSatisfy { $0.state.pid == 0 && $0.state.conmonPID == 0 && $0.state.mountPoint.isEmpty })
        await store.close()
    }

    @Test func databaseMadeForOtherPathsIsRefused() async throws {
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let store = try StoreKind.sqlite.make(scratch)
        await store.close()
        #expect(throws: LibpodError.self) {
            _ = try SQLiteStateStore(
                path: scratch.staticDir + "/state.sqlite",
                paths: .init(staticDir: scratch.staticDir, tmpDir: "/elsewhere", storageRoot: "/s", storageDriver: "overlay"))
        }
    }

    @Test func namesFollowPodmansRule() {
        for valid in ["a", "web-1", "A.b_c", "0x"] { #expect((try? ContainerNaming.validate(name: valid)) != nil, "\(valid)") }
        for invalid in ["", "-a", "_a", ".a", "a/b", "../x", "a b", "é", String(repeating: "a", count: 254)] {
            #expect(throws: LibpodError.invalidName(invalid)) { try ContainerNaming.validate(name: invalid) }
        }
        let id = ContainerNaming.newID()
        #expect(ContainerNaming.isFullID(id))
        #expect(id != ContainerNaming.newID())
    }
}
