import Foundation
import Glibc
@testable import Libpod
import PodlinkTestSupport
import Testing

@Suite struct RuntimeTests {
    @Test func creationMakesDirectoriesAndRefreshesOnFirstBoot() async throws {
        guard LibpodTestEnvironment.requireRuntime() else { return }
        let scratch = ScratchDirectories()
        try await withRuntime(scratch) { runtime in
            #expect(runtime.didRefresh, "no alive file yet: a first boot")
            for path in [runtime.paths.lockDir, runtime.paths.exitsDir, runtime.paths.eventsDir] {
                #expect(FileManager.default.fileExists(atPath: path))
            }
            let alive = try String(contentsOfFile: runtime.paths.aliveFile, encoding: .utf8)
            #expect(alive.trimmingCharacters(in: .whitespacesAndNewlines) == (try RebootRefresh.currentBootID()))
            #expect(["crun", "runc"].contains(runtime.ociRuntime.name))
            #expect(runtime.conmon.name == "conmon")
            let refreshes = try runtime.events.read().events.filter { $0.type == .system && $0.status == "refresh" }
            #expect(refreshes.count == 1)
        }
    }

    @Test func refreshRunsOnlyWhenTheBootChanged() async throws {
        guard LibpodTestEnvironment.requireRuntime() else { return }
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        func make() async throws -> Runtime {
            try await Runtime.create(configFile: .none) {
                $0.staticDir = scratch.staticDir
                $0.tmpDir = scratch.tmpDir
            }
        }
        let first = try await make()
        var running = sampleContainer(idA, "web", status: .running)
        running.state.pid = 77
        try await first.state.add(running)
        try await first.state.add(sampleContainer(idB, "db", status: .created))
        try await first.shutdown()

        // Same boot: nothing is touched.
        let second = try await make()
        #expect(!second.didRefresh)
        #expect(try await second.container("web").state.status == .running)
        try await second.shutdown()

        // A tmp_dir that survived a reboot holds the old boot's ID.
        try "0000-old-boot\n".write(toFile: scratch.tmpDir + "/alive", atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: scratch.tmpDir + "/exits/" + idA, contents: Data("0".utf8))
        let third = try await make()
        #expect(third.didRefresh)
        #expect(try await third.container("web").state.status == .exited)
        #expect(try await third.container("web").state.pid == 0)
        #expect(try await third.container("db").state.status == .configured)
        #expect(!FileManager.default.fileExists(atPath: scratch.tmpDir + "/exits/" + idA), "stale conmon files are removed")
        try await third.shutdown()

        // A tmpfs tmp_dir is simply empty after a reboot.
        unlink(scratch.tmpDir + "/alive")
        let fourth = try await make()
        #expect(fourth.didRefresh)
        try await fourth.shutdown()
    }

    @Test func twoProcessesRefreshExactlyOnce() async throws {
        guard LibpodTestEnvironment.requireRuntime() else { return }
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        async let one = Tool.run([helperPath, "create-runtime", scratch.staticDir, scratch.tmpDir])
        async let two = Tool.run([helperPath, "create-runtime", scratch.staticDir, scratch.tmpDir])
        let outputs = try await [one, two]
        for output in outputs { #expect(output.status == 0, "\(output)") }
        #expect(outputs.filter { $0.stdout.contains("refreshed=true") }.count == 1, "\(outputs)")
        let log = try EventLog(directory: scratch.tmpDir + "/events")
        #expect(try log.read().events.filter { $0.status == "refresh" }.count == 1)
    }

    @Test func concurrentUpdatesFromTasksAndProcessesAreNeverLost() async throws {
        guard LibpodTestEnvironment.requireRuntime() else { return }
        let scratch = ScratchDirectories()
        try await withRuntime(scratch) { runtime in
            let container = try await runtime.addContainer(ContainerConfig(id: "", name: "counter"))
            let perWorker = 40
            async let processes = [
                Tool.run([helperPath, "increment", scratch.staticDir, scratch.tmpDir, container.id, String(perWorker)]),
                Tool.run([helperPath, "increment", scratch.staticDir, scratch.tmpDir, container.id, String(perWorker)]),
            ]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        for _ in 0..<perWorker {
                            try await runtime.updateContainer(container.id) { $0.state.restartCount += 1 }
                        }
                    }
                }
                try await group.waitForAll()
            }
            for output in try await processes { #expect(output.status == 0, "\(output)") }
            #expect(try await runtime.container("counter").state.restartCount == 10 * perWorker)
        }
    }

    @Test func shutdownTwiceIsAnError() async throws {
        guard LibpodTestEnvironment.requireRuntime() else { return }
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let runtime = try await Runtime.create(configFile: .none) {
            $0.staticDir = scratch.staticDir
            $0.tmpDir = scratch.tmpDir
        }
        try await runtime.shutdown(force: true)
        await #expect(throws: LibpodError.runtimeStopped) { try await runtime.shutdown() }
        await #expect(throws: LibpodError.runtimeStopped) { try await runtime.containers() }
    }

    @Test func failedCreationSaysWhyAndLeavesNothingOpen() async throws {
        guard LibpodTestEnvironment.requireRuntime() else { return }
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        // An alive "file" that cannot be read fails the refresh step, after the state opened.
        try FileManager.default.createDirectory(atPath: scratch.tmpDir + "/alive", withIntermediateDirectories: true)
        await #expect(throws: LibpodError.self) {
            try await Runtime.create(configFile: .none) {
                $0.staticDir = scratch.staticDir
                $0.tmpDir = scratch.tmpDir
            }
        }
        do {
            _ = try await Runtime.create(configFile: .none) {
                $0.staticDir = scratch.staticDir
                $0.tmpDir = scratch.tmpDir
                $0.runtimePath = ["/nonexistent/crun"]
            }
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("/nonexistent/crun (not found)"))
        }
    }

    @Test(arguments: [StateStoreKind.sqlite, .memory]) func namesAreGeneratedAndUnique(stateType: StateStoreKind) async throws {
        guard LibpodTestEnvironment.requireRuntime() else { return }
        try await withRuntime(stateType: stateType) { runtime in
            var names = Set<String>()
            for _ in 0..<50 {
                let container = try await runtime.addContainer(ContainerConfig(id: "", name: ""))
                #expect(container.name.contains("_"))
                names.insert(container.name)
            }
            #expect(names.count == 50)
            await #expect(throws: LibpodError.nameInUse(names.first!)) {
                try await runtime.addContainer(ContainerConfig(id: "", name: names.first!))
            }
            await #expect(throws: LibpodError.invalidName("../etc")) {
                try await runtime.addContainer(ContainerConfig(id: "", name: "../etc"))
            }
        }
    }

    @Test func namespaceOfTheRuntimeScopesItsContainers() async throws {
        guard LibpodTestEnvironment.requireRuntime() else { return }
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let red = try await Runtime.create(configFile: .none) {
            $0.staticDir = scratch.staticDir
            $0.tmpDir = scratch.tmpDir
            $0.namespace = "red"
        }
        let all = try await Runtime.create(configFile: .none) {
            $0.staticDir = scratch.staticDir
            $0.tmpDir = scratch.tmpDir
        }
        let mine = try await red.addContainer(ContainerConfig(id: "", name: "mine"))
        #expect(mine.config.namespace == "red")
        try await all.addContainer(ContainerConfig(id: "", name: "theirs"))
        #expect(try await red.containers().map(\.name) == ["mine"])
        #expect(try await all.containers().map(\.name) == ["mine", "theirs"])
        try await red.shutdown()
        try await all.shutdown()
    }

    @Test func infoDescribesHostAndStore() async throws {
        guard LibpodTestEnvironment.requireRuntime() else { return }
        try await withRuntime { runtime in
            try await runtime.addContainer(ContainerConfig(id: "", name: "one"))
            let info = try await runtime.info()
            #expect(!info.host.kernel.isEmpty)
            #expect(info.host.cpus >= 1)
            #expect(info.host.memTotal > 0)
            #expect(info.host.ociRuntimeVersion.contains("version"))
            #expect(info.host.conmonVersion.contains("conmon"))
            #expect(["v1", "v2", "hybrid"].contains(info.host.cgroupVersion))
            #expect(info.store.containerCount == 1)
            #expect(info.store.stateType == "sqlite")
        }
    }

}
