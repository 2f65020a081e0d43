import Foundation
import Glibc
import PodmanClient
import ProcessSpawn

/// podlinkd as its users meet it, side by side with the peers in one run: the lifecycle
/// through PodmanClient against the bare conmon cycle and podman's REST service;
/// ListContainers with 1,000 containers; start to READY=1; idle and loaded RSS.
enum DaemonBenchmarks {
    static let rounds = 20

    static func run(_ harness: Harness, productsDirectory: URL) async throws -> Harness {
        var harness = harness
        guard geteuid() == 0 else {
            print("Daemon: skipped (needs root)")
            return harness
        }
        let root = "/tmp/podlink-bench/daemon-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = root + "/podlink.conf"
        try "static_dir = \"\(root)/static\"\ntmp_dir = \"\(root)/tmp\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemonPath = productsDirectory.appending(path: "podlinkd").path
        let socket = root + "/io.podman"
        print("Daemon: podlinkd (\(daemonPath)), PodmanClient over unix:\(socket)")

        // Start to READY=1, measured on a fresh state each time (the first start refreshes).
        var startTimes: [Double] = []
        for round in 0..<10 {
            let (elapsed, pid) = try startToReady(daemon: daemonPath, config: config, socket: socket)
            startTimes.append(elapsed)
            kill(pid, SIGTERM)
            _ = await ProcessSpawn.waitForExit(pid)
            if round == 0 { continue }
        }
        startTimes.sort()
        let startMedian = startTimes[startTimes.count / 2]
        print(String(format: "  podlinkd start to READY=1 median %.1f ms (p10 %.1f, p90 %.1f)  goal: under 100 ms: %@",
                     startMedian * 1000, startTimes[1] * 1000, startTimes[8] * 1000, startMedian < 0.1 ? "met" : "NOT met"))

        let (_, pid) = try startToReady(daemon: daemonPath, config: config, socket: socket)
        defer {
            kill(pid, SIGTERM)
            _ = ProcessSpawn.blockingWait(pid)
        }
        try await Task.sleep(for: .seconds(1))
        let idle = residentKilobytes(pid)
        print(String(format: "  podlinkd idle RSS %.1f MB (anonymous %.1f MB; the rest is shared library pages)  goal: under 25 MB: %@",
                     Double(idle) / 1024, Double(anonymousKilobytes(pid)) / 1024, idle < 25 * 1024 ? "met" : "NOT met"))

        let client = try await PodmanClient.connect(to: "unix:\(socket)")
        let tarball = try LifecycleBenchmarks.busyboxTarball(in: root)
        _ = try await client.importImage(tarball: tarball, reference: "localhost/busybox:latest")

        harness.batches = 5
        harness.minimumBatchTime = .milliseconds(1)
        // The lifecycle without a network, as the peers below are measured (the bridge's
        // own cost is `podlink-bench network`'s, in a namespace of its own).
        var noNetwork = PodmanClient.CreateOptions()
        noNetwork.network = "none"
        // PodmanClient.run is `podman run --rm`: the container's layer is volatile, and the
        // REST peer below is asked for the same ("volatile": true, what podman's CLI sets
        // for --rm).
        let ours = try await harness.measureAsync("PodmanClient.run -> podlinkd lifecycle of /bin/true") {
            for _ in 0..<rounds {
                let code = try await client.run(image: "busybox", command: ["/bin/true"], options: noNetwork)
                precondition(code == 0)
            }
        }
        if ProcessInfo.processInfo.environment["PODLINK_BENCH_PHASES"] != nil {
            let clock = ContinuousClock()
            for removeWhenDone in [true, false, true, false] {
                var phases: [String: Duration] = [:]
                for _ in 0..<40 {
                    var options = noNetwork
                    options.removeWhenDone = removeWhenDone
                    var id = ""
                    phases["1 create", default: .zero] += try await clock.measure { id = try await client.create(image: "busybox", command: ["/bin/true"], options: options) }
                    phases["2 start", default: .zero] += try await clock.measure { try await client.start(id) }
                    phases["3 wait", default: .zero] += try await clock.measure { _ = try await client.wait(id) }
                    phases["4 remove", default: .zero] += await clock.measure { try? await client.remove(id, force: true) }
                }
                print("  phases, removeWhenDone \(removeWhenDone): " + phases.sorted { $0.key < $1.key }.map { "\($0.key) \(($0.value / 40).components.attoseconds / 1_000_000_000_000) µs" }.joined(separator: ", "))
            }
        }
        let kept = try await harness.measureAsync("PodmanClient create/start/wait/rm (durable writable layer)") {
            for _ in 0..<rounds {
                let id = try await client.create(image: "busybox", command: ["/bin/true"], options: noNetwork)
                try await client.start(id)
                let code = try await client.wait(id)
                precondition(code == 0)
                try await client.remove(id)
            }
        }
        let candidates: [String] = ["/usr/bin/crun", "/usr/sbin/runc"]
        let runtime = candidates.first(where: { (path: String) -> Bool in access(path, X_OK) == 0 }) ?? "/usr/bin/crun"
        let bare = try LifecycleBenchmarks.bareCycle(root: root, tarball: tarball, runtime: runtime, phases: .init())
        let bareResult = try await harness.measureAsync("bare conmon + \(runtime.split(separator: "/").last!)") {
            for _ in 0..<rounds { try await bare() }
        }
        let ratio = ours.median / bareResult.median
        print(String(format: "  ratio: PodmanClient lifecycle (run --rm) takes %.2fx the bare cycle (goal: within 1.3x: %@)", ratio, ratio <= 1.3 ? "met" : "NOT met"))
        print(String(format: "  ratio: PodmanClient create/start/wait/rm (durable layer) takes %.2fx the bare cycle", kept.median / bareResult.median))
        if let rest = try await PodmanREST.start(root: root, tarball: tarball) {
            defer { rest.stop() }
            let restResult = try await harness.measureAsync("podman 4.3 REST service (create volatile, start, wait interval=10ms, delete)") {
                for _ in 0..<rounds { try rest.lifecycle() }
            }
            harness.ratio(ours, over: restResult, goal: 3)
            print(String(format: "  podman REST service idle RSS %.1f MB", Double(rest.idleRSS) / 1024))
        } else {
            print("  (podman missing: scripts/setup-bench installs it)")
        }

        // ListContainers with 1,000 containers.
        let existing = try await client.containers().count
        for index in existing..<1_000 {
            var options = noNetwork
            options.name = "list-\(index)"
            _ = try await client.create(image: "busybox", command: ["/bin/true"], options: options)
        }
        let list = try await harness.measureAsync("ListContainers with 1,000 containers") {
            let all = try await client.containers()
            precondition(all.count == 1_000)
        }
        harness.goal(list, under: 20_000_000, "ListContainers with 1,000 containers")
        // podman-remote's ps -a: Ps with podman's options, formatted by the service.
        var everything = PodmanClient.ListOptions()
        everything.all = true
        let ps = try await harness.measureAsync("Ps (ps -a) with 1,000 containers") {
            let rows = try await client.list(everything)
            precondition(rows.count == 1_000)
        }
        harness.goal(ps, under: 20_000_000, "Ps with 1,000 containers")
        // podman-remote's inspect: four calls on its one connection.
        let inspected = try await harness.measureAsync("podman-remote's inspect (GetContainersByContext, ContainerStateData, ContainerConfig, ContainerInspectData)") {
            let id = try await client.api.getContainersByContext(all: false, latest: false, args: ["list-500"]).containers[0]
            _ = try await client.api.containerStateData(name: id)
            _ = try await client.api.containerConfig(name: id)
            _ = try await client.api.containerInspectData(name: id, size: false)
        }
        harness.goal(inspected, under: 2_000_000, "podman-remote's inspect sequence")
        // The same call read as raw bytes: what the server takes, without the client's decoding.
        let raw = try RPCBenchmarks.connect(socket)
        defer { close(raw) }
        let call = Array(#"{"method":"io.podman.ListContainers"}"#.utf8) + [0]
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var replyBytes = 0
        try await harness.measureAsync("ListContainers with 1,000 containers, raw reply bytes (server side)") {
            RPCBenchmarks.write(raw, call)
            var total = 0
            while true {
                let count = read(raw, &buffer, buffer.count)
                guard count > 0 else { throw BenchmarkError("connection closed") }
                total += count
                if buffer[count - 1] == 0 { break }
            }
            replyBytes = total
        }
        print("  (reply: \(replyBytes / 1024) KiB)")
        let loaded = residentKilobytes(pid)
        print(String(format: "  podlinkd RSS with 1,000 containers after listing: %.1f MB", Double(loaded) / 1024))
        for container in try await client.containers() { try await client.remove(container.id, force: true) }
        await client.close()
        return harness
    }

    /// Runs `body` with a podlinkd of its own on crun (scratch directories under
    /// /tmp/podlink-bench/NAME-PID, `extraConfig` appended to its podlink.conf), a client,
    /// and the busybox image imported from `tarball`; stops the daemon and removes the
    /// directories afterwards.
    static func withScratchDaemon<T>(
        _ name: String, productsDirectory: URL, extraConfig: String = "", environment: [String] = [],
        _ body: (_ root: String, _ client: PodmanClient, _ tarball: String) async throws -> T
    ) async throws -> T {
        let root = "/tmp/podlink-bench/\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let config = root + "/podlink.conf"
        try "static_dir = \"\(root)/static\"\ntmp_dir = \"\(root)/tmp\"\nruntime_path = [\"/usr/bin/crun\"]\n\(extraConfig)"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let socket = root + "/io.podman"
        let (_, pid) = try startToReady(daemon: productsDirectory.appending(path: "podlinkd").path, config: config, socket: socket, environment: environment)
        defer {
            kill(pid, SIGTERM)
            _ = ProcessSpawn.blockingWait(pid)
        }
        let client = try await PodmanClient.connect(to: "unix:\(socket)")
        let tarball = try LifecycleBenchmarks.busyboxTarball(in: root)
        _ = try await client.importImage(tarball: tarball, reference: "localhost/busybox:latest")
        let result = try await body(root, client, tarball)
        await client.close()
        return result
    }

    /// Starts podlinkd with a NOTIFY_SOCKET of ours; returns the seconds until READY=1.
    static func startToReady(daemon: String, config: String, socket: String, environment: [String] = []) throws -> (Double, pid_t) {
        let notifyPath = socket + ".notify"
        unlink(notifyPath)
        let receiver = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer {
            close(receiver)
            unlink(notifyPath)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in notifyPath.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(receiver, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw BenchmarkError("binding the notify socket failed") }
        let null = open("/dev/null", O_RDWR)
        defer { close(null) }
        let start = ContinuousClock.now
        let pid = try ProcessSpawn.spawn(
            [daemon, "--config", config, "--log-level", "error", "unix:\(socket)"],
            descriptors: [(null, 0), (null, 1)], environment: ["NOTIFY_SOCKET=\(notifyPath)"] + environment, scrubbing: ["LISTEN_"])
        var buffer = [UInt8](repeating: 0, count: 512)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(receiver, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        while true {
            let count = recv(receiver, &buffer, buffer.count, 0)
            guard count > 0 else { throw BenchmarkError("podlinkd did not send READY=1 within 10 s") }
            if String(decoding: buffer[0..<count], as: UTF8.self).contains("READY=1") { break }
        }
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, pid)
    }

    static func residentKilobytes(_ pid: pid_t) -> Int { RPCBenchmarks.residentKilobytes(pid) }

    /// RssAnon of `pid` in kB: the memory that is the process's own.
    static func anonymousKilobytes(_ pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("RssAnon:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}

/// podman 4.3's REST service on a socket of its own, driven with plain HTTP/1.1 over
/// the unix socket: the same lifecycle as ours.
final class PodmanREST: @unchecked Sendable {
    let socket: String
    let process: Process
    private(set) var idleRSS = 0

    private init(socket: String, process: Process) {
        self.socket = socket
        self.process = process
    }

    static func start(root: String, tarball: String) async throws -> PodmanREST? {
        let podman = "/usr/bin/podman"
        guard access(podman, X_OK) == 0 else { return nil }
        _ = try await LifecycleBenchmarks.run([podman, "import", tarball, "localhost/podlink-bench-busybox:latest"])
        let socket = root + "/podman.sock"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: podman)
        process.arguments = ["system", "service", "--time=0", "unix://\(socket)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let service = PodmanREST(socket: socket, process: process)
        for _ in 0..<200 where (try? service.request("GET", "/_ping")) == nil { usleep(50_000) }
        try await Task.sleep(for: .seconds(1))
        service.idleRSS = RPCBenchmarks.residentKilobytes(process.processIdentifier)
        return service
    }

    func stop() {
        _ = try? request("DELETE", "/v4.0.0/libpod/images/localhost/podlink-bench-busybox:latest?force=true")
        process.terminate()
        process.waitUntilExit()
    }

    func lifecycle() throws {
        let created = try request(
            "POST", "/v4.0.0/libpod/containers/create",
            body: #"{"image":"localhost/podlink-bench-busybox:latest","command":["/bin/true"],"netns":{"nsmode":"none"},"volatile":true}"#)
        guard let data = created.data(using: .utf8), let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let id = object["Id"] as? String
        else { throw BenchmarkError("podman create failed: \(created)") }
        _ = try request("POST", "/v4.0.0/libpod/containers/\(id)/start")
        _ = try request("POST", "/v4.0.0/libpod/containers/\(id)/wait?condition=stopped&interval=10ms")
        _ = try request("DELETE", "/v4.0.0/libpod/containers/\(id)?force=true")
    }

    /// One request on a fresh connection; returns the body.
    func request(_ method: String, _ path: String, body: String = "") throws -> String {
        let descriptor = try RPCBenchmarks.connect(socket)
        defer { close(descriptor) }
        var text = "\(method) \(path) HTTP/1.1\r\nHost: d\r\nConnection: close\r\n"
        if !body.isEmpty { text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + body
        RPCBenchmarks.write(descriptor, Array(text.utf8))
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let whole = String(decoding: response, as: UTF8.self)
        guard let status = whole.split(separator: " ").dropFirst().first, let code = Int(status), code < 400 else {
            throw BenchmarkError("podman \(method) \(path): \(whole.prefix(300))")
        }
        guard let split = whole.range(of: "\r\n\r\n") else { return "" }
        var payload = String(whole[split.upperBound...])
        if whole.lowercased().contains("transfer-encoding: chunked") { payload = Self.unchunk(payload) }
        return payload
    }

    static func unchunk(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let bytes = Array(rest[start...].utf8)
            result += String(decoding: bytes.prefix(size), as: UTF8.self)
            rest = Substring(String(decoding: bytes.dropFirst(size + 2), as: UTF8.self))
        }
        return result
    }
}
