import Foundation
import Glibc
import PodmanClient
import ProcessSpawn

/// A pull of a 5-layer image of about 100 MiB (incompressible layers) from a registry on
/// loopback (Debian's docker-registry, plain HTTP), into an empty store, side by side in
/// one run: podlinkd through PodmanClient, `skopeo copy docker://... oci:DIR`, and
/// podman 4.3's `podman pull`. Then a second image that shares 4 of the 5 layers: how
/// many layers the registry served for it.
enum PullBenchmarks {
    static let rounds = 5
    static let layers = 5
    static let layerBytes = 20 << 20

    static func run(_ harness: Harness, productsDirectory: URL, root packageRoot: URL) async throws -> Harness {
        var harness = harness
        guard geteuid() == 0 else {
            print("Pull: skipped (needs root)")
            return harness
        }
        for tool in ["/usr/bin/docker-registry", "/usr/bin/skopeo"] where access(tool, X_OK) != 0 {
            print("Pull: skipped (\(tool) missing: scripts/setup installs it)")
            return harness
        }
        // Not "pull-PID": that is the scratch daemon's own directory, made afresh.
        let work = "/tmp/podlink-bench/registry-\(getpid())"
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        let port = try freePort()
        let host = "127.0.0.1:\(port)"
        try """
            version: 0.1
            log: {level: info, formatter: text}
            storage:
              filesystem: {rootdirectory: \(work)/registry}
              delete: {enabled: true}
              maintenance: {uploadpurging: {enabled: false}}
            http: {addr: "\(host)", secret: bench}
            """.write(toFile: work + "/registry.yml", atomically: true, encoding: .utf8)
        let log = open(work + "/registry.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        let registry = try ProcessSpawn.spawn(["/usr/bin/docker-registry", "serve", work + "/registry.yml"], descriptors: [(null, 0), (log, 1), (log, 2)])
        close(log)
        close(null)
        defer {
            kill(registry, SIGTERM)
            _ = ProcessSpawn.blockingWait(registry)
        }
        try await waitForListener(port: port)

        let maker = packageRoot.appending(path: "Tests/PodlinkE2ETests/Peers/make_oci_layout.py").path
        for (name, vary) in [("first", 0), ("second", 1)] {
            let status = try await LifecycleBenchmarks.run([
                "/usr/bin/python3", maker, "\(work)/\(name)", "--tag", "1", "--layers", String(layers), "--busybox", "/bin/busybox",
                "--padding", String(layerBytes), "--vary-last", String(vary),
            ])
            guard status == 0 else { throw BenchmarkError("make_oci_layout.py failed") }
            let seeded = try await LifecycleBenchmarks.run(["/usr/bin/skopeo", "copy", "--quiet", "--dest-tls-verify=false", "oci:\(work)/\(name):1", "docker://\(host)/bench/\(name):1"])
            guard seeded == 0 else { throw BenchmarkError("skopeo could not seed the registry") }
        }
        try "unqualified-search-registries = []\n[[registry]]\nlocation = \"\(host)\"\ninsecure = true\n"
            .write(toFile: work + "/registries.conf", atomically: true, encoding: .utf8)

        print("Pull: \(layers) layers of \(layerBytes >> 20) MiB (incompressible) from docker-registry on loopback into an empty store, \(rounds) rounds")
        let image = "\(host)/bench/first:1"
        return try await DaemonBenchmarks.withScratchDaemon(
            "pull", productsDirectory: productsDirectory, environment: ["CONTAINERS_REGISTRIES_CONF=\(work)/registries.conf"]
        ) { _, client, _ in
            var ours: [Double] = []
            var skopeo: [Double] = []
            var podman: [Double] = []
            let podmanAvailable = access("/usr/bin/podman", X_OK) == 0
            for round in 0..<rounds {
                ours.append(try await timed { _ = try await client.pullImage(image) })
                try await client.removeImage(image)

                let directory = "\(work)/skopeo-\(round)"
                skopeo.append(try await timed {
                    let status = try await LifecycleBenchmarks.run(["/usr/bin/skopeo", "copy", "--quiet", "--src-tls-verify=false", "docker://\(image)", "oci:\(directory):1"])
                    guard status == 0 else { throw BenchmarkError("skopeo copy failed") }
                })
                try? FileManager.default.removeItem(atPath: directory)

                if podmanAvailable {
                    podman.append(try await timed {
                        let status = try await LifecycleBenchmarks.run(["/usr/bin/podman", "pull", "--quiet", "--tls-verify=false", image])
                        guard status == 0 else { throw BenchmarkError("podman pull failed") }
                    })
                    _ = try await LifecycleBenchmarks.run(["/usr/bin/podman", "rmi", "-f", image])
                }
            }
            let ourResult = harness.record("PodmanClient -> podlinkd: pull 100 MiB, 5 layers", ours)
            let skopeoResult = harness.record("skopeo 1.9: copy docker:// to oci:DIR", skopeo)
            harness.ratio(ourResult, over: skopeoResult, goal: 1)
            if podmanAvailable {
                let podmanResult = harness.record("podman 4.3: pull", podman)
                harness.ratio(ourResult, over: podmanResult, goal: 1.5)
            } else {
                print("  (podman missing: scripts/setup installs it)")
            }

            // The second image shares its first four layers with the first.
            _ = try await client.pullImage(image)
            let before = layerDownloads(log: work + "/registry.log", repository: "bench/second")
            let second = try await timed { _ = try await client.pullImage("\(host)/bench/second:1") }
            let served = layerDownloads(log: work + "/registry.log", repository: "bench/second") - before
            print(String(format: "  second pull, sharing 4 of 5 layers: %@, layers downloaded: %d (goal: 1: %@)",
                         harness.format(second), served, served == 1 ? "met" : "NOT met"))
            return harness
        }
    }

    /// Layer blobs (larger than a config) the registry served for `repository`.
    static func layerDownloads(log: String, repository: String) -> Int {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { line in
            guard line.contains("\"GET /v2/\(repository)/blobs/sha256:"), let status = line.range(of: "\" 200 ") else { return false }
            let size = Int(line[status.upperBound...].prefix { $0.isNumber }) ?? 0
            return size > 4096
        }.count
    }

    static func timed(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
    }

    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw BenchmarkError("no free port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { _ = $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func waitForListener(port: Int) async throws {
        for _ in 0..<500 {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            close(descriptor)
            if connected == 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchmarkError("docker-registry did not listen on \(port)")
    }
}
