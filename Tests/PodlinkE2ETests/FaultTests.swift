import Foundation
import Glibc
import PodlinkInterfaces
import PodlinkTestSupport
import PodmanClient
import Testing

/// Faults, each checked for "nothing lost, nothing stuck": after the fault every
/// container the daemon lists can be inspected, stopped and removed, and once they are
/// removed no mount, process or cgroup of theirs is left.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct FaultTests {
    enum Operation: String, CaseIterable, Sendable {
        case create, start, remove
    }

    /// SIGKILL of podlinkd at several moments of an operation, then a restart.
    @Test(arguments: Operation.allCases)
    func killingTheDaemonMidOperationLosesNothing(_ operation: Operation) async throws {
        try await Daemon.with { daemon, firstClient in
            await firstClient.close()
            var ids: [String] = []
            for (round, delay) in [0, 3, 10, 25, 60].enumerated() {
                let name = "fault-\(operation.rawValue)-\(round)"
                var client = try await daemon.client()
                var id: String?
                switch operation {
                case .create:
                    break
                case .start:
                    id = try await client.create(image: "busybox", command: ["/bin/sleep", "1000"], options: named(name))
                case .remove:
                    id = try await client.create(image: "busybox", command: ["/bin/sleep", "1000"], options: named(name))
                    try await client.start(name)
                }
                let attempt = Task { [client] in
                    switch operation {
                    case .create:
                        _ = try await client.create(image: "busybox", command: ["/bin/sleep", "1000"], options: named(name))
                    case .start:
                        try await client.start(name)
                    case .remove:
                        try await client.remove(name, force: true)
                    }
                }
                try await Task.sleep(for: .milliseconds(delay))
                await daemon.crash()
                _ = await attempt.result  // an error (the connection died) or a success
                await client.close()
                #expect(FileManager.default.fileExists(atPath: daemon.socket), "the crash leaves its socket file behind")

                try await daemon.start()
                client = try await daemon.client()
                // Every container is readable and can be taken down.
                for container in try await client.containers() {
                    #expect(try await client.exists(container.id))
                    _ = try await client.inspect(container.id)
                    ids.append(container.id)
                }
                if let id { ids.append(id) }
                if try await client.exists(name) {
                    try await client.remove(name, force: true)
                }
                #expect(try await !client.exists(name))
                // Nothing half-made blocks the name either.
                let again = try await client.create(image: "busybox", command: ["/bin/true"], options: named(name))
                ids.append(again)
                try await client.start(again)
                #expect(try await client.wait(again) == 0)
                try await client.remove(again)
                #expect(try await client.containers().isEmpty)
                await client.close()
            }
            let leftovers = await daemon.leftovers(of: ids)
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }

    @Test func aKilledConmonLeavesAContainerThatCanBeStoppedAndRemoved() async throws {
        try await Daemon.with { daemon, client in
            let id = try await client.create(image: "busybox", command: ["/bin/sleep", "1000"])
            try await client.start(id)
            let state = try await inspectState(client, id)
            #expect(kill(Int32(state["ConmonPid"] as? Int ?? 0), SIGKILL) == 0)
            try await Task.sleep(for: .milliseconds(100))
            // The container outlives its monitor; the engine still controls it.
            try await client.stop(id, timeout: .seconds(1))
            let stopped = try await inspectState(client, id)
            #expect(stopped["Status"] as? String == "exited")
            try await client.remove(id)
            let leftovers = await daemon.leftovers(of: [id])
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }

    @Test func aKilledContainerProcessIsAnExitWithItsSignal() async throws {
        try await Daemon.with { daemon, client in
            let id = try await client.create(image: "busybox", command: ["/bin/sh", "-c", "echo up; exec sleep 1000"])
            try await client.start(id)
            // Killed only once it has said "up": the log line must exist to survive.
            var said = false
            for _ in 0..<250 where !said {
                for try await line in client.logs(id) where line.msg == "up" { said = true }
                if !said { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(said, "the container never printed its line")
            let state = try await inspectState(client, id)
            #expect(kill(Int32(state["Pid"] as? Int ?? 0), SIGKILL) == 0)
            #expect(try await client.wait(id) == 137)
            var lines: [String] = []
            for try await line in client.logs(id) { lines.append(line.msg) }
            #expect(lines == ["up"], "the logs survive the process")
            try await client.remove(id)
            let leftovers = await daemon.leftovers(of: [id])
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }

    /// A helper process that dies holding a container's lock (SIGKILL, no unlock): the
    /// lock is the kernel's (flock), so it goes with the process, and the file left
    /// behind blocks nothing.
    @Test func aLockHeldByAKilledProcessBlocksNothing() async throws {
        try await Daemon.with { daemon, client in
            let id = try await client.create(image: "busybox", command: ["/bin/sleep", "1000"])
            let lockFile = daemon.tmpDir + "/lock/\(id)"
            let holder = try ChildProcess.start([Environment.builtProduct("libpod-test-helper"), "hold-lock", daemon.staticDir, daemon.tmpDir, id])
            try await Task.sleep(for: .milliseconds(300))
            kill(holder.process.processIdentifier, SIGKILL)
            _ = await holder.waitForExit(timeout: .seconds(5))
            #expect(FileManager.default.fileExists(atPath: lockFile), "the stale lock file is still there")
            try await client.start(id)
            try await client.remove(id, force: true)
            #expect(try await client.containers().isEmpty)
        }
    }

    /// Storage on a 4 MiB tmpfs: importing an 8 MiB image runs out of space. The error
    /// says so, the state is intact and the daemon goes on serving.
    @Test func runningOutOfSpaceIsAClearErrorAndKeepsTheState() async throws {
        guard Daemon.available else { return }
        let daemon = try Daemon()
        let storage = daemon.staticDir
        try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
        try #require(mount("tmpfs", storage, "tmpfs", 0, "size=4m") == 0, "mount a small tmpfs: errno \(errno)")
        // The tarballs live outside the small file system.
        let tarballs = "/tmp/podlink-tests/enospc-\(getpid())"
        try FileManager.default.createDirectory(atPath: tarballs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tarballs) }
        do {
            try await daemon.start()
            let client = try await daemon.client()
            let small = try await TestImages.tinyRootfsTarball(in: tarballs)
            _ = try await client.importImage(tarball: small, reference: "localhost/tiny:latest")
            let before = try await client.images().map(\.id)
            let big = try await TestImages.tinyRootfsTarball(in: tarballs, name: "big", padding: 8 << 20)
            do {
                _ = try await client.importImage(tarball: big, reference: "localhost/big:latest")
                Issue.record("importing 8 MiB into 4 MiB must fail")
            } catch {
                #expect("\(error)".contains("No space left on device"), "\(error)")
            }
            #expect(try await client.images().map(\.id) == before, "the failed import left no image behind")
            #expect(try await client.api.getVersion().remoteApiVersion == 1)
            let id = try await client.create(image: "localhost/tiny", command: ["/true"])
            #expect(try await client.exists(id), "the state still takes writes")
            try await client.remove(id)
            await client.close()
        } catch {
            Issue.record(error)
        }
        await daemon.stop()
        #expect(umount2(storage, 0) == 0, "nothing holds the small file system: errno \(errno)")
        try? FileManager.default.removeItem(atPath: daemon.root)
        await daemon.deleteNetworkNamespace()
    }

    @Test func clientsThatHangUpMidStreamFreeEverything() async throws {
        try await Daemon.with { daemon, client in
            let id = try await client.create(image: "busybox", command: ["/bin/sh", "-c", "while true; do echo tick; sleep 0.05; done"])
            try await client.start(id)
            // Outside the state: a stream's reads may grow GRDB's reader pool by one
            // connection, which it keeps by design; only the streams' own must go.
            let baseline = daemon.descriptorsOutsideState
            for _ in 0..<20 {
                // One connection per stream: a connection serves one call at a time, and a
                // followed stream does not end by itself.
                let logWatcher = try await daemon.client()
                var logs = logWatcher.logs(id, follow: true).makeAsyncIterator()
                _ = try await logs.next()
                let eventWatcher = try await daemon.client()
                var events = eventWatcher.events(filters: [], since: "0").makeAsyncIterator()
                _ = try await events.next()
                await logWatcher.close()
                await eventWatcher.close()
            }
            var settled = false
            for _ in 0..<100 where !settled {
                settled = daemon.descriptorsOutsideState <= baseline
                if !settled { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(settled, "descriptors outside the state: \(daemon.descriptorsOutsideState), before the streams \(baseline); open: \(daemon.descriptorTargets)")
            #expect(try await client.api.getVersion().remoteApiVersion == 1)
            try await client.remove(id, force: true)
        }
    }

    private func named(_ name: String) -> PodmanClient.CreateOptions {
        var options = PodmanClient.CreateOptions()
        options.name = name
        return options
    }
}
