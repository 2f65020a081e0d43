import Foundation
import Glibc
import PodmanClient
import ProcessSpawn

/// exec into a running container, side by side in one run: through podlinkd (PodmanClient,
/// an upgraded varlink connection, a conmon exec session), as the bare conmon + crun exec
/// on the same container (the floor: no daemon, no attach socket), and as `podman exec`;
/// then the throughput of `exec -i cat`, through podlinkd and through podman.
enum ExecBenchmarks {
    static let rounds = 20
    static let throughputBytes = 256 << 20

    static func run(_ harness: Harness, productsDirectory: URL) async throws -> Harness {
        var harness = harness
        guard geteuid() == 0 else {
            print("Exec: skipped (needs root)")
            return harness
        }
        return try await DaemonBenchmarks.withScratchDaemon("exec", productsDirectory: productsDirectory) { root, client, tarball in
            print("Exec: exec of /bin/true into a running busybox container (crun), \(rounds) per batch; exec -i cat of \(throughputBytes >> 20) MiB")
            var options = PodmanClient.CreateOptions()
            options.network = "none"
            let id = try await client.create(image: "busybox", command: ["sleep", "100000"], options: options)
            try await client.start(id)

            harness.batches = 5
            harness.minimumBatchTime = .milliseconds(1)
            let ours = try await harness.measureAsync("PodmanClient.exec -> podlinkd: exec true") {
                for _ in 0..<rounds {
                    let result = try await client.execCollecting(id, command: ["true"])
                    precondition(result.exitCode == 0)
                }
            }
            let bare = try bareExec(root: root, containerID: id)
            let bareResult = try await harness.measureAsync("bare conmon --exec + crun exec on the same container: true") {
                for _ in 0..<rounds { try await bare() }
            }
            let ratio = ours.median / bareResult.median
            print(String(format: "  ratio: exec through podlinkd takes %.2fx the bare conmon + crun exec (goal: within 1.3x: %@)", ratio, ratio <= 1.3 ? "met" : "NOT met"))

            // Throughput: the bytes go in as stdin frames and come back as stdout frames.
            let data = [UInt8](repeating: 0x5A, count: throughputBytes)
            let clock = ContinuousClock()
            var oursThroughput: [Double] = []
            for _ in 0..<3 {
                let elapsed = try await clock.measure {
                    var options = PodmanClient.ExecOptions()
                    options.interactive = true
                    let process = try await client.exec(id, command: ["cat"], options: options)
                    process.write(data)
                    process.closeInput()
                    var received = 0
                    for try await chunk in process.output { received += chunk.bytes.count }
                    let code = try await process.exitCode()
                    precondition(code == 0 && received == data.count)
                }
                oursThroughput.append(Double(throughputBytes) / (Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)))
            }
            let oursRate = oursThroughput.sorted()[1]
            print(String(format: "  exec -i cat through podlinkd: %.0f MB/s (median of 3; goal: at least 1000 MB/s: %@)", oursRate / 1e6, oursRate >= 1e9 ? "met" : "NOT met"))

            let podman = "/usr/bin/podman"
            if access(podman, X_OK) == 0 {
                _ = try await LifecycleBenchmarks.run([podman, "import", tarball, "localhost/podlink-bench-busybox:latest"])
                _ = try await LifecycleBenchmarks.run([podman, "rm", "-f", "podlink-bench-exec"])
                let started = try await LifecycleBenchmarks.run([
                    podman, "run", "-d", "--name", "podlink-bench-exec", "--network", "none", "localhost/podlink-bench-busybox:latest", "sleep", "100000",
                ])
                precondition(started == 0)
                let podmanResult = try await harness.measureAsync("podman exec: true") {
                    for _ in 0..<rounds {
                        let status = try await LifecycleBenchmarks.run([podman, "exec", "podlink-bench-exec", "true"])
                        precondition(status == 0)
                    }
                }
                harness.ratio(ours, over: podmanResult, goal: 3)
                let file = root + "/stream"
                try Data(data).write(to: URL(fileURLWithPath: file))
                var podmanThroughput: [Double] = []
                for _ in 0..<3 {
                    let elapsed = try await clock.measure {
                        let status = try await shell("\(podman) exec -i podlink-bench-exec cat < \(file) > /dev/null")
                        precondition(status == 0)
                    }
                    podmanThroughput.append(Double(throughputBytes) / (Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)))
                }
                let podmanRate = podmanThroughput.sorted()[1]
                print(String(format: "  exec -i cat through podman exec: %.0f MB/s; podlinkd is %.2fx (goal: at least 3x: %@)",
                             podmanRate / 1e6, oursRate / podmanRate, oursRate / podmanRate >= 3 ? "met" : "NOT met"))
                _ = try await LifecycleBenchmarks.run([podman, "rm", "-f", "-t", "0", "podlink-bench-exec"])
                _ = try await LifecycleBenchmarks.run([podman, "rmi", "-f", "localhost/podlink-bench-busybox:latest"])
            } else {
                print("  (podman missing: scripts/setup-bench installs it)")
            }
            // Containers outlive the daemon: removed here, or its mount would stay behind.
            try? await client.remove(id, force: true)
            return harness
        }
    }

    static func shell(_ command: String) async throws -> Int32 {
        try await LifecycleBenchmarks.run(["/bin/sh", "-c", command])
    }

    /// What any engine on conmon does for an exec, with nothing else: a process spec,
    /// conmon --exec with its sync and start pipes, the PID, the exit code.
    static func bareExec(root: String, containerID: String) throws -> @Sendable () async throws -> Void {
        let staticDir = root + "/static"
        let spec = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: "\(staticDir)/containers/\(containerID)/userdata/config.json"))) as! [String: Any]
        var process = spec["process"] as! [String: Any]
        process["args"] = ["true"]
        process["terminal"] = false
        let directory = root + "/bare-exec"
        try FileManager.default.createDirectory(atPath: directory + "/exit", withIntermediateDirectories: true)
        let specPath = directory + "/process.json"
        try JSONSerialization.data(withJSONObject: process).write(to: URL(fileURLWithPath: specPath))
        let stateRoot = root + "/tmp/oci/crun"
        return {
            var sync: [Int32] = [0, 0]
            var start: [Int32] = [0, 0]
            socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &sync)
            socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &start)
            defer { for descriptor in [sync[0], start[0]] { close(descriptor) } }
            let null = open("/dev/null", O_RDWR)
            defer { close(null) }
            let conmon = try ProcessSpawn.spawn(
                [
                    "/usr/bin/conmon", "--api-version", "-c", containerID, "-u", "bare-exec", "-r", "/usr/bin/crun", "-b", directory,
                    "-p", directory + "/exec_pid", "--exit-dir", directory + "/exit", "--full-attach", "-l", "none", "--log-level", "warning",
                    "--runtime-arg", "--root=\(stateRoot)", "-e", "--exec-process-spec", specPath,
                ], descriptors: [(null, 0), (null, 1), (null, 2), (sync[1], 3), (start[1], 4)],
                environment: ["_OCI_SYNCPIPE=3", "_OCI_STARTPIPE=4"])
            close(sync[1])
            close(start[1])
            var byte: UInt8 = 0
            _ = write(start[0], &byte, 1)
            _ = await ProcessSpawn.waitForExit(conmon)
            let readSync = sync[0]
            let messages = await ProcessSpawn.onThread { () -> Int in
                // The PID, then the exit code.
                var buffer = [UInt8](repeating: 0, count: 1024)
                var count = 0
                for _ in 0..<2 where read(readSync, &buffer, buffer.count) > 0 { count += 1 }
                return count
            }
            precondition(messages == 2, "conmon reported \(messages) of its 2 messages")
        }
    }
}
