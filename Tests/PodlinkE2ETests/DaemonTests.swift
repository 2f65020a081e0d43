import Foundation
import Glibc
import PodlinkInterfaces
import PodlinkTestSupport
import PodmanClient
import Testing

@Suite(.serialized) struct DaemonTests {
    @Test func lifecycleThroughTheSDK() async throws {
        try await Daemon.with { _, client in
            var options = PodmanClient.CreateOptions()
            options.name = "sdk"
            options.env = ["WHO": "sdk"]
            let id = try await client.create(image: "busybox", command: ["/bin/sh", "-c", "echo hello $WHO; exit 5"], options: options)
            #expect(try await client.exists("sdk"))
            try await client.start("sdk")
            #expect(try await client.wait("sdk") == 5)
            var lines: [String] = []
            for try await line in client.logs("sdk") { lines.append(line.msg) }
            #expect(lines == ["hello sdk"])
            let listed = try await client.containers()
            #expect(listed.map(\.id) == [id])
            #expect(listed.first?.status == "exited")
            let inspect = try JSONSerialization.jsonObject(with: Data(try await client.inspect("sdk").utf8)) as? [String: Any]
            #expect((inspect?["State"] as? [String: Any])?["ExitCode"] as? Int == 5)
            #expect(inspect?["Name"] as? String == "sdk")
            try await client.remove("sdk")
            #expect(try await !client.exists("sdk"))
            #expect(try await client.run(image: "busybox", command: ["/bin/true"]) == 0)
        }
    }

    @Test func errorsAreIoPodmansTypedErrors() async throws {
        try await Daemon.with { _, client in
            await #expect(throws: IoPodman.ContainerNotFound.self) { try await client.start("nope") }
            await #expect(throws: IoPodman.ImageNotFound.self) { try await client.create(image: "nosuchimage") }
            let id = try await client.create(image: "busybox", command: ["/bin/sleep", "100"])
            do {
                try await client.pause(id)
                Issue.record("pausing a configured container must fail")
            } catch let error as IoPodman.InvalidState {
                #expect(error.id == id)
                #expect(error.reason.contains("configured"))
            }
            // A pod that does not exist is PodNotFound.
            do {
                _ = try await client.api.createContainer(create: IoPodman.Create(args: ["busybox", "true"], pod: "nopod"))
                Issue.record("a missing pod was joined")
            } catch let error as IoPodman.PodNotFound {
                #expect(error.name == "nopod")
            }
            // A Create field Podlink does not support is named, not ignored.
            do {
                _ = try await client.api.createContainer(create: IoPodman.Create(args: ["busybox", "true"], uidmap: ["0:100000:65536"]))
                Issue.record("uidmap must be refused")
            } catch let error as IoPodman.ErrorOccurred {
                #expect(error.reason.contains("create.uidmap"))
            }
            // The daemon is still fine after all of that.
            #expect(try await client.api.getVersion().remoteApiVersion == 1)
        }
    }

    @Test func waitHonoursItsIntervalInMilliseconds() async throws {
        try await Daemon.with { _, client in
            let id = try await client.create(image: "busybox", command: ["/bin/sh", "-c", "sleep 0.3; exit 2"])
            try await client.start(id)
            let clock = ContinuousClock()
            var code = -1
            let elapsed = try await clock.measure { code = try await client.api.waitContainer(name: id, interval: 10).exitcode }
            #expect(code == 2)
            #expect(elapsed < .seconds(2), "an interval in ms, not s: took \(elapsed)")
        }
    }

    @Test func eventsAndLogsStreamUntilTheClientHangsUp() async throws {
        try await Daemon.with { daemon, client in
            let watcher = try await PodmanClient.connect(to: daemon.address)
            var iterator = watcher.events(filters: ["type=container"]).makeAsyncIterator()
            let id = try await client.create(image: "busybox", command: ["/bin/sh", "-c", "echo a; sleep 0.2; echo b"])
            let created = try await iterator.next()
            #expect(created?.status == "create" && created?.id == id)
            try await client.start(id)
            var followed: [String] = []
            for try await line in client.logs(id, follow: true) { followed.append(line.msg) }
            #expect(followed == ["a", "b"])
            await watcher.close()
            // The daemon serves on after a client hung up mid-stream.
            #expect(try await client.wait(id) == 0)
        }
    }

    @Test func theCLIDrivesTheLifecycle() async throws {
        try await Daemon.with { daemon, _ in
            let podlink = Environment.builtProduct("podlink")
            let run = try await Tool.run([podlink, "--url", daemon.address, "run", "--name", "cli", "busybox", "/bin/sh", "-c", "echo from cli; exit 3"])
            #expect(run.status == 3, "\(run)")
            #expect(run.stdout.contains("from cli"))
            let ps = try await Tool.run([podlink, "ps", "-a", "--url", daemon.address])
            #expect(ps.stdout.contains("CONTAINER ID") && ps.stdout.contains("cli") && ps.stdout.contains("Exited (3)"), "\(ps)")
            let json = try await Tool.run([podlink, "ps", "-a", "--format", "json", "--url", daemon.address])
            let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
            #expect(decoded?.first?["Names"] as? String == "cli")
            let detached = try await Tool.run([podlink, "run", "-d", "--url", daemon.address, "busybox", "/bin/sleep", "100"])
            #expect(detached.status == 0)
            let id = detached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            // podman's scripting surface: templates, top, mount, diff.
            let running = try await Tool.run([podlink, "ps", "--url", daemon.address, "--format", "{{.Names}} {{.Status}}"])
            #expect(running.stdout.hasSuffix(" Up Less than a second\n") || running.stdout.contains(" Up "), "\(running)")
            let pid = try await Tool.run([podlink, "inspect", "--url", daemon.address, "--format", "{{.State.Pid}} {{json .Config.Cmd}}", id])
            #expect(pid.stdout.range(of: #"^[1-9][0-9]* \["/bin/sleep","100"\]\n$"#, options: .regularExpression) != nil, "\(pid)")
            let badTemplate = try await Tool.run([podlink, "inspect", "--url", daemon.address, "--format", "{{.Nope}}", id])
            #expect(badTemplate.status == 125 && badTemplate.stderr.contains("Nope"))
            let top = try await Tool.run([podlink, "top", "--url", daemon.address, id, "pid,args"])
            #expect(top.stdout.contains("PID") && top.stdout.contains("/bin/sleep 100"), "\(top)")
            let mounted = try await Tool.run([podlink, "mount", "--url", daemon.address, id])
            let rootfs = mounted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(FileManager.default.fileExists(atPath: rootfs + "/bin/busybox"), "\(mounted)")
            #expect(try await Tool.run([podlink, "umount", "--url", daemon.address, id]).status == 0)
            let diff = try await Tool.run([podlink, "diff", "--url", daemon.address, "cli"])
            #expect(diff.status == 0, "\(diff)")
            #expect(try await Tool.run([podlink, "stop", "-t", "0", "--url", daemon.address, id]).status == 0)
            #expect(try await Tool.run([podlink, "rm", "--url", daemon.address, id, "cli"]).status == 0)
            let missing = try await Tool.run([podlink, "start", "--url", daemon.address, "nope"])
            #expect(missing.status == 125)
            #expect(missing.stderr.contains("nope"))
            let images = try await Tool.run([podlink, "images", "--url", daemon.address])
            #expect(images.stdout.contains("localhost/busybox") && images.stdout.contains("latest"), "\(images)")
            let noDaemon = try await Tool.run([podlink, "ps", "--url", "unix:\(daemon.root)/nothing"])
            #expect(noDaemon.status == 125 && noDaemon.stderr.contains("cannot connect"))
            _ = try await Tool.run([podlink, "create", "--url", daemon.address, "--name", "leftover", "busybox", "/bin/true"])
            let pruned = try await Tool.run([podlink, "container", "prune", "-f", "--url", daemon.address])
            #expect(pruned.status == 0 && pruned.stdout.split(separator: "\n").count == 1, "\(pruned)")
            let reset = try await Tool.run([podlink, "system", "reset", "-f", "--url", daemon.address])
            #expect(reset.status == 0, "\(reset)")
            let empty = try await Tool.run([podlink, "images", "-q", "--url", daemon.address])
            #expect(empty.stdout.isEmpty, "reset removed every image: \(empty)")
        }
    }

    @Test func pythonVarlinkCallsTheDaemon() async throws {
        guard Environment.require(Environment.pythonVarlink, "python varlink 31.0.0") else { return }
        try await Daemon.with { daemon, client in
            let id = try await client.create(image: "busybox", command: ["/bin/true"], options: {
                var options = PodmanClient.CreateOptions()
                options.name = "py"
                return options
            }())
            let list = try await Tool.run(["python3", "-m", "varlink.cli", "call", "\(daemon.address)/io.podman.ListContainers", "{}"])
            #expect(list.status == 0, "\(list)")
            let reply = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any]
            let containers = reply?["containers"] as? [[String: Any]]
            #expect(containers?.first?["id"] as? String == id)
            let start = try await Tool.run(["python3", "-m", "varlink.cli", "call", "\(daemon.address)/io.podman.StartContainer", #"{"name": "py"}"#])
            #expect(start.status == 0, "\(start)")
            let wait = try await Tool.run(["python3", "-m", "varlink.cli", "call", "\(daemon.address)/io.podman.WaitContainer", #"{"name": "py", "interval": 10}"#])
            #expect(wait.stdout.contains("\"exitcode\": 0"), "\(wait)")
            let missing = try await Tool.run(["python3", "-m", "varlink.cli", "call", "\(daemon.address)/io.podman.StartContainer", #"{"name": "nope"}"#])
            #expect((missing.stdout + missing.stderr).contains("io.podman.ContainerNotFound"), "\(missing)")
        }
    }

    @Test func anIdleDaemonExitsAfterItsTimeout() async throws {
        guard Daemon.available else { return }
        let daemon = try Daemon()
        defer { try? FileManager.default.removeItem(atPath: daemon.root) }
        let process = try ChildProcess.start([
            Environment.builtProduct("podlinkd"), "--config", daemon.configFile, "--timeout", "300", daemon.address,
        ])
        try await waitForSocket(daemon.socket)
        // A client keeps it alive; once the client is gone, 300 ms of idleness end it.
        let client = try await daemon.client()
        try await Task.sleep(for: .milliseconds(600))
        #expect(process.process.isRunning, "a connected client keeps the daemon up")
        await client.close()
        #expect(await process.waitForExit(timeout: .seconds(10)))
        #expect(process.process.terminationStatus == 0)
    }

    /// Started by socket activation (as podlink.socket does), it serves the socket it is
    /// handed rather than its own address.
    @Test func servesTheSocketItIsHandedBySocketActivation() async throws {
        guard Daemon.available,
            Environment.require(Environment.executable("systemd-socket-activate") != nil, "systemd-socket-activate (apt-get install systemd)"),
            let activate = Environment.executable("systemd-socket-activate")
        else { return }
        let daemon = try Daemon()
        defer { try? FileManager.default.removeItem(atPath: daemon.root) }
        let handed = daemon.root + "/activated.sock"
        try await ChildProcess.with([
            activate, "-l", handed, Environment.builtProduct("podlinkd"), "--config", daemon.configFile, "unix:\(daemon.root)/unused",
        ]) {
            try await waitForSocket(handed)
            let client = try await PodmanClient.connect(to: "unix:\(handed)")
            #expect(try await client.api.getVersion().remoteApiVersion == 1)
            #expect(try await client.containers().isEmpty)
            await client.close()
            #expect(!FileManager.default.fileExists(atPath: daemon.root + "/unused"), "the address argument is not used when a socket is handed over")
        }
    }

    @Test func containersSurviveADaemonRestartAndARebootIsRefreshed() async throws {
        try await Daemon.with { daemon, client in
            let id = try await client.create(image: "busybox", command: ["/bin/sh", "-c", "sleep 0.6; exit 9"])
            try await client.start(id)
            await client.close()
            await daemon.stop()
            try await daemon.start()
            let again = try await daemon.client()
            #expect(try await again.containers().first?.status == "running", "the daemon's restart did not touch it")
            #expect(try await again.wait(id) == 9)

            // A reboot: the running container's processes die and tmp_dir is emptied.
            let sleeper = try await again.create(image: "busybox", command: ["/bin/sleep", "1000"])
            try await again.start(sleeper)
            let state = try await inspectState(again, sleeper)
            await again.close()
            await daemon.stop()
            try await daemon.simulateReboot(killing: [state["ConmonPid"], state["Pid"]].compactMap { $0 as? Int })
            try await daemon.start()
            let afterReboot = try await daemon.client()
            let statuses = Dictionary(uniqueKeysWithValues: try await afterReboot.containers().map { ($0.id, $0.status) })
            #expect(statuses[sleeper] == "exited")
            var sawRefresh = false
            for try await event in afterReboot.events(filters: ["type=system"], since: "0") {
                sawRefresh = event.status == "refresh"
                break
            }
            #expect(sawRefresh, "the refresh at start shows in GetEvents")
            await afterReboot.close()
        }
    }
}
