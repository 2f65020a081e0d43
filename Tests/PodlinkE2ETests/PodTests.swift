import Foundation
import Glibc
import PodlinkInterfaces
import PodlinkTestSupport
import PodmanClient
import Testing

/// Pods: containers around an infra container (catatonit -P) that holds their network,
/// IPC and UTS namespaces and the pod's published ports. The daemon runs in a network
/// namespace of its own (DaemonFixture), so the pod's bridge never touches the machine's.
@Suite(.timeLimit(.minutes(10)))
struct PodTests {
    static func containerStatuses(_ client: PodmanClient, _ pod: String) async throws -> [String] {
        try await client.pod(pod).containersinfo.map(\.status)
    }

    @Test func containersOfAPodShareLoopbackAndThePodPublishesTheirPort() async throws {
        try await Daemon.with { daemon, client in
            let podID = try await client.createPod("web", labels: ["tier": "front"], publish: ["18090:80"])
            var options = PodmanClient.CreateOptions()
            options.pod = "web"
            options.name = "server"
            _ = try await client.create(image: "busybox", command: NetworkTests.webServer("from-the-pod"), options: options)
            try await client.start("server")

            // Another container of the pod reaches the server on the pod's loopback.
            var peer = PodmanClient.CreateOptions()
            peer.pod = "web"
            let (code, output) = try await NetworkTests.runToEnd(
                client, ["/bin/sh", "-c", "for i in $(seq 50); do wget -q -O - http://127.0.0.1:80/ && exit 0; sleep 0.1; done; exit 1"], options: peer)
            #expect(code == 0 && output == "from-the-pod\n", "\(output)")
            // The pod's published port, from the host's loopback.
            #expect(try await NetworkTests.fetch("http://127.0.0.1:18090/", in: daemon) == "from-the-pod\n")
            // Their hostname is the pod's.
            let hostname = try await client.execCollecting("server", command: ["hostname"])
            #expect(String(decoding: hostname.stdout, as: UTF8.self) == "web\n")

            let listed = try await client.pod("web")
            #expect(listed.id == podID && listed.status == "Running" && listed.numberofcontainers == "2", "\(listed)")
            #expect(listed.labels == ["tier": "front"])
            let inspect = try #require(try JSONSerialization.jsonObject(with: Data(try await client.inspectPod("web").utf8)) as? [String: Any])
            let config = try #require(inspect["Config"] as? [String: Any])
            #expect(config["id"] as? String == podID && config["sharesNet"] as? Bool == true)
            let bindings = (config["infraConfig"] as? [String: Any])?["infraPortBindings"] as? [[String: Any]]
            #expect(bindings?.first?["hostPort"] as? Int == 18090)
            let infraID = try #require((inspect["State"] as? [String: Any])?["infraContainerID"] as? String)
            await #expect(throws: (any Error).self, "the infra container goes only with its pod") { try await client.remove(infraID, force: true) }

            try await client.pausePod("web")
            #expect(try await client.pod("web").status == "Paused")
            try await client.unpausePod("web")
            try await client.stopPod("web", timeout: 2)
            #expect(try await client.pod("web").status == "Exited")
            #expect(try await Self.containerStatuses(client, "web").allSatisfy { $0 == "exited" })
            try await client.startPod("web")
            #expect(try await client.pod("web").status == "Running")
            #expect(try await NetworkTests.fetch("http://127.0.0.1:18090/", in: daemon) == "from-the-pod\n")
            try await client.killPod("web")
            var statuses: [String] = []
            for _ in 0..<100 {
                statuses = try await Self.containerStatuses(client, "web")
                if statuses.allSatisfy({ $0 == "exited" }) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(statuses.allSatisfy { $0 == "exited" }, "\(statuses)")

            // Removal takes the containers, their network and the infra container with it.
            try await client.startPod("web")
            let infraPid = try #require(try await inspectState(client, infraID)["Pid"] as? Int)
            #expect(infraPid > 0)
            try await client.removePod("web", force: true)
            #expect(try await client.pods().isEmpty)
            #expect(try await client.containers().isEmpty)
            #expect(kill(Int32(infraPid), 0) != 0, "the infra process is gone")
            #expect(try await NetworkTests.networkLeftovers(daemon, id: infraID, address: "").isEmpty)
            let cgroups = try await Tool.run(["sh", "-c", "find /sys/fs/cgroup -name '*\(infraID)*' | head -3"])
            #expect(cgroups.stdout.isEmpty, "\(cgroups.stdout)")
        }
    }

    @Test func podOperationsReportWhatIsWrong() async throws {
        try await Daemon.with { daemon, client in
            do {
                try await client.startPod("nosuch")
                Issue.record("a missing pod was started")
            } catch let error as IoPodman.PodNotFound {
                #expect(error.name == "nosuch")
            }
            // python-podman's default: no infra container; then nothing can be shared.
            _ = try await client.api.createPod(create: .init(name: "bare", cgroupParent: "", labels: [:], share: [], infra: false, infraCommand: "", infraImage: "", publish: []))
            do {
                try await client.startPod("bare")
                Issue.record("an empty pod was started")
            } catch let error as IoPodman.NoContainersInPod {
                #expect(error.name == "bare")
            }
            await #expect(throws: IoPodman.ErrorOccurred.self) {
                _ = try await client.api.createPod(create: .init(name: "x", cgroupParent: "", labels: [:], share: ["net"], infra: false, infraCommand: "", infraImage: "", publish: []))
            }
            await #expect(throws: IoPodman.ErrorOccurred.self) { try await client.createPod("y", share: ["mnt"]) }
            await #expect(throws: IoPodman.ErrorOccurred.self) { try await client.createPod("bare") }
            // A container that publishes its own port cannot also join the pod's network.
            try await client.createPod("shared")
            var options = PodmanClient.CreateOptions()
            options.pod = "shared"
            options.publish = ["18091:80"]
            await #expect(throws: IoPodman.ErrorOccurred.self) { _ = try await client.create(image: "busybox", command: ["true"], options: options) }
            // Running containers keep a pod unless forced.
            options.publish = []
            _ = try await client.create(image: "busybox", command: ["sleep", "1000"], options: options)
            try await client.startPod("shared")
            await #expect(throws: IoPodman.ErrorOccurred.self) { try await client.removePod("shared") }
            #expect(try await client.pod("shared").status == "Running")
            // A failure of some containers names them.
            let created = try await client.create(image: "busybox", command: ["true"], options: options)
            try await client.pausePod("shared")
            do {
                try await client.startPod("shared")
                Issue.record("a paused pod was started")
            } catch let error as IoPodman.PodContainerError {
                #expect(!error.errors.isEmpty && error.errors.allSatisfy { !$0.containerid.isEmpty && !$0.reason.isEmpty }, "\(error.errors)")
                #expect(!error.errors.contains { $0.containerid == created }, "the stopped container itself started")
            }
            // "bare" has no containers (Created); "shared" has paused ones and a created one
            // (Created too, by podman's rules); nothing is Running.
            #expect(try await client.api.getPodsByStatus(statuses: ["Paused", "Created"]).pods.count == 2)
            #expect(try await client.api.getPodsByStatus(statuses: ["Running"]).pods.isEmpty)
            try await client.removePod("shared", force: true)
            #expect(try await client.pods().map(\.name) == ["bare"])
        }
    }

    @Test func podlinksPodCommands() async throws {
        try await Daemon.with { daemon, client in
            func podlink(_ arguments: String...) async throws -> ToolOutput {
                try await Tool.run([Environment.builtProduct("podlink"), "--url", daemon.address] + arguments)
            }
            var output = try await podlink("pod", "create", "--name", "cli", "--share", "ipc,uts")
            #expect(output.status == 0 && output.stdout.count == 65, "\(output)")
            output = try await podlink("run", "-d", "--pod", "cli", "--network", "none", "busybox", "sleep", "1000")
            #expect(output.status == 0, "\(output)")
            output = try await podlink("pod", "ps")
            #expect(output.stdout.contains("cli") && output.stdout.contains("Running") && output.stdout.contains(" 2"), "\(output)")
            output = try await podlink("pod", "top", "cli", "pid,args")
            #expect(output.stdout.contains("sleep 1000") && output.stdout.contains("/catatonit -P"), "\(output)")
            output = try await podlink("pod", "stats", "cli")
            #expect(output.status == 0 && output.stdout.contains("MEM USAGE") && output.stdout.split(separator: "\n").count == 3, "\(output)")
            output = try await podlink("pod", "stop", "-t", "0", "cli")
            #expect(output.status == 0 && output.stdout == "cli\n", "\(output)")
            output = try await podlink("pod", "inspect", "cli")
            #expect(output.stdout.contains("\"status\":\"Exited\""), "\(output)")
            output = try await podlink("pod", "rm", "cli")
            #expect(output.status == 0, "\(output)")
            #expect(try await client.containers().isEmpty)
        }
    }

    /// The infra container and the pod's containers outlive the daemon; a reboot resets
    /// them, and the pod starts again.
    @Test func aPodOutlivesTheDaemonAndIsResetByAReboot() async throws {
        try await Daemon.with { daemon, client in
            try await client.createPod("lasting", share: ["ipc", "uts", "pid"])
            var options = PodmanClient.CreateOptions()
            options.pod = "lasting"
            options.network = "none"
            let id = try await client.create(image: "busybox", command: ["sleep", "1000"], options: options)
            try await client.startPod("lasting")
            // pid is shared: catatonit is PID 1 of the pod's containers.
            let ps = try await client.execCollecting(id, command: ["ps", "-o", "pid,args"])
            #expect(String(decoding: ps.stdout, as: UTF8.self).contains("1 /catatonit -P"), "\(String(decoding: ps.stdout, as: UTF8.self))")
            var pids: [Int] = []
            for member in try await client.pod("lasting").containersinfo {
                pids.append(try await inspectState(client, member.id)["Pid"] as? Int ?? 0)
                if let conmon = try await inspectState(client, member.id)["ConmonPid"] as? Int { pids.append(conmon) }
            }

            await daemon.stop()
            try await daemon.start()
            var again = try await daemon.client()
            #expect(try await again.pod("lasting").status == "Running")

            await daemon.stop()
            try await daemon.simulateReboot(killing: pids)
            try await daemon.start()
            again = try await daemon.client()
            // Its containers ran before the reboot: exited now, as podman's refresh leaves them.
            #expect(try await again.pod("lasting").status == "Exited")
            try await again.startPod("lasting")
            #expect(try await again.pod("lasting").status == "Running")
            try await again.removePod("lasting", force: true)
            await again.close()
        }
    }
}
