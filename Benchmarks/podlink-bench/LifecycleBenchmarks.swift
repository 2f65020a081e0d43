import Foundation
import Glibc
import Libpod
import ProcessSpawn

/// The container lifecycle (create + start + wait + remove of `/bin/true` from a busybox
/// image), side by side in one run: through the Libpod API, as the bare conmon + OCI
/// runtime cycle (the floor any engine on conmon can reach), and as `podman run --rm`.
enum LifecycleBenchmarks {
    static let rounds = 20

    static func run(_ harness: Harness) async throws -> Harness {
        var harness = harness
        guard geteuid() == 0 else {
            print("Lifecycle: skipped (needs root)")
            return harness
        }
        let root = "/tmp/podlink-bench/lifecycle-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let tarball = try busyboxTarball(in: root)
        let candidates: [String] = ["/usr/bin/crun", "/usr/sbin/runc"]
        let crun = candidates.first(where: { (path: String) -> Bool in access(path, X_OK) == 0 }) ?? "/usr/bin/crun"
        print("Lifecycle: create+start+wait+remove of /bin/true, busybox image, \(crun), \(rounds) rounds per batch")

        let runtime = try await Runtime.create(configFile: .none) {
            $0.staticDir = root + "/static"
            $0.tmpDir = root + "/tmp"
            $0.runtimePath = [crun]
        }
        _ = try await runtime.images.importRootfs(tarball: tarball, reference: "localhost/busybox:latest")
        var options = ContainerCreateOptions(image: "busybox")
        options.command = ["/bin/true"]
        if ProcessInfo.processInfo.environment["PODLINK_BENCH_PHASES"] != nil {
            let clock = ContinuousClock()
            var phases: [String: Duration] = [:]
            for _ in 0..<20 {
                var id = ""
                phases["create", default: .zero] += try await clock.measure { id = try await runtime.createContainer(options).id }
                phases["start", default: .zero] += try await clock.measure { try await runtime.startContainer(id) }
                phases["wait", default: .zero] += try await clock.measure { _ = try await runtime.waitContainer(id) }
                phases["remove", default: .zero] += try await clock.measure { try await runtime.removeContainer(id) }
            }
            for (phase, total) in phases.sorted(by: { $0.key < $1.key }) { print("  phase \(phase): \(total / 20)") }
        }
        harness.batches = 5
        harness.minimumBatchTime = .milliseconds(1)
        // What `podman run --rm` does, and what the goals are measured on: the container is
        // created to be removed on exit (so its writable layer is volatile, as podman's is),
        // and waiting for it removes it.
        var removedOnExit = options
        removedOnExit.autoRemove = true
        let ours = try await harness.measureAsync("Libpod API, run --rm (overlay rootfs, conmon, \(crun.split(separator: "/").last!))") {
            for _ in 0..<rounds {
                let container = try await runtime.createContainer(removedOnExit)
                try await runtime.startContainer(container.id)
                let code = try await runtime.waitContainer(container.id)
                precondition(code == 0)
            }
        }
        // The same with a container that is kept until removed: its writable layer is
        // synced to disk when it is unmounted.
        let kept = try await harness.measureAsync("Libpod API, create/start/wait/rm (durable writable layer)") {
            for _ in 0..<rounds {
                let container = try await runtime.createContainer(options)
                try await runtime.startContainer(container.id)
                let code = try await runtime.waitContainer(container.id)
                precondition(code == 0)
                try await runtime.removeContainer(container.id)
            }
        }
        let left = try await runtime.containers()
        precondition(left.isEmpty, "every container was removed")
        try await runtime.shutdown()

        let barePhases = PhaseTimes()
        let bare = try bareCycle(root: root, tarball: tarball, runtime: crun, phases: barePhases)
        if ProcessInfo.processInfo.environment["PODLINK_BENCH_PHASES"] != nil {
            barePhases.enabled = true
            for _ in 0..<20 { try await bare() }
            barePhases.enabled = false
            for (phase, total) in barePhases.totals.sorted(by: { $0.key < $1.key }) { print("  bare phase \(phase): \(total / 20)") }
        }
        let bareResult = try await harness.measureAsync("bare conmon + \(crun.split(separator: "/").last!) (plain rootfs dir)") {
            for _ in 0..<rounds { try await bare() }
        }
        let ratio = ours.median / bareResult.median
        print(String(format: "  ratio: Libpod API (run --rm) takes %.2fx the bare cycle (goal: within 1.3x: %@)", ratio, ratio <= 1.3 ? "met" : "NOT met"))
        print(String(format: "  ratio: Libpod API (create/start/wait/rm, durable layer) takes %.2fx the bare cycle", kept.median / bareResult.median))

        let podman = "/usr/bin/podman"
        if access(podman, X_OK) == 0 {
            _ = try await run([podman, "import", tarball, "localhost/podlink-bench-busybox:latest"])
            let podmanResult = try await harness.measureAsync("podman run --rm --network none") {
                for _ in 0..<rounds {
                    let status = try await run([podman, "run", "--rm", "--network", "none", "localhost/podlink-bench-busybox:latest", "true"])
                    precondition(status == 0)
                }
            }
            harness.ratio(ours, over: podmanResult, goal: 3)
            _ = try await run([podman, "rmi", "-f", "localhost/podlink-bench-busybox:latest"])
        } else {
            print("  (podman missing: scripts/setup-bench installs it)")
        }
        return harness
    }

    static func run(_ command: [String]) async throws -> Int32 {
        let null = open("/dev/null", O_RDWR)
        defer { close(null) }
        let pid = try ProcessSpawn.spawn(command, descriptors: [(null, 0), (null, 1), (null, 2)])
        return await ProcessSpawn.waitForExit(pid)
    }

    /// A rootfs tarball of Debian's static busybox with the usual links.
    static func busyboxTarball(in directory: String) throws -> String {
        let rootfs = directory + "/rootfs"
        try FileManager.default.createDirectory(atPath: rootfs + "/bin", withIntermediateDirectories: true)
        for name in ["etc", "tmp", "proc", "sys", "dev"] {
            try FileManager.default.createDirectory(atPath: rootfs + "/" + name, withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: rootfs + "/bin/busybox")
        for name in ["sh", "true", "sleep", "echo", "cat"] {
            try FileManager.default.createSymbolicLink(atPath: rootfs + "/bin/" + name, withDestinationPath: "busybox")
        }
        let tarball = directory + "/busybox.tar"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = ["-C", rootfs, "-cf", tarball, "."]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchmarkError("tar failed") }
        return tarball
    }

    /// What a minimal engine does, with nothing else: conmon runs `create`, the pidfile
    /// appears, `start`, the exit file appears, `delete`.
    static func bareCycle(root: String, tarball: String, runtime: String, phases: PhaseTimes) throws -> @Sendable () async throws -> Void {
        let bundle = root + "/bare"
        try FileManager.default.createDirectory(atPath: bundle + "/rootfs", withIntermediateDirectories: true)
        let untar = Process()
        untar.executableURL = URL(fileURLWithPath: "/bin/tar")
        untar.arguments = ["-C", bundle + "/rootfs", "-xf", tarball]
        try untar.run()
        untar.waitUntilExit()
        let spec = Process()
        spec.executableURL = URL(fileURLWithPath: runtime)
        spec.arguments = ["spec"]
        spec.currentDirectoryURL = URL(fileURLWithPath: bundle)
        try spec.run()
        spec.waitUntilExit()
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/config.json"))) as! [String: Any]
        var process = config["process"] as! [String: Any]
        process["args"] = ["/bin/true"]
        process["terminal"] = false
        process["rlimits"] = [["type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024]]
        config["process"] = process
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: bundle + "/config.json"))
        let exits = root + "/bare-exits"
        try FileManager.default.createDirectory(atPath: exits, withIntermediateDirectories: true)
        let stateRoot = root + "/bare-state"
        try FileManager.default.createDirectory(atPath: root + "/bare-sock", withIntermediateDirectories: true)
        let counter = Counter()
        return {
            let id = "bare\(counter.next())"
            var mark = ContinuousClock.now
            func phase(_ name: String) {
                let now = ContinuousClock.now
                phases.add(name, now - mark)
                mark = now
            }
            let conmon = try ProcessSpawn.spawn([
                "/usr/bin/conmon", "--api-version", "1", "-c", id, "-u", id, "-r", runtime, "-b", bundle,
                "-p", bundle + "/pidfile-\(id)", "-n", id, "--exit-dir", exits, "-l", "k8s-file:\(bundle)/\(id).log",
                "--log-level", "error", "--socket-dir-path", root + "/bare-sock", "--runtime-arg", "--root=\(stateRoot)",
            ])
            _ = await ProcessSpawn.waitForExit(conmon)
            try await waitFor(bundle + "/pidfile-\(id)")
            phase("conmon + create")
            let started = try await run([runtime, "--root=\(stateRoot)", "start", id])
            precondition(started == 0)
            phase("start")
            try await waitFor(exits + "/" + id)
            phase("exit seen")
            let deleted = try await run([runtime, "--root=\(stateRoot)", "delete", "--force", id])
            precondition(deleted == 0)
            phase("delete")
            unlink(exits + "/" + id)
            unlink(bundle + "/pidfile-\(id)")
            unlink("\(bundle)/\(id).log")
        }
    }

    /// Polls for `path` every 0.2 ms (the tightest a bare engine would do), for at most 10 s.
    static func waitFor(_ path: String) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while access(path, F_OK) != 0 {
            guard ContinuousClock.now < deadline else { throw BenchmarkError("\(path) did not appear within 10 s") }
            try await Task.sleep(for: .microseconds(200))
        }
    }

    /// Time per named phase, summed while enabled (PODLINK_BENCH_PHASES).
    final class PhaseTimes: @unchecked Sendable {
        private let lock = NSLock()
        private var _enabled = false
        private var _totals: [String: Duration] = [:]
        var enabled: Bool {
            get { lock.withLock { _enabled } }
            set { lock.withLock { _enabled = newValue } }
        }
        var totals: [String: Duration] { lock.withLock { _totals } }
        func add(_ name: String, _ duration: Duration) {
            lock.withLock { if _enabled { _totals[name, default: .zero] += duration } }
        }
    }

    final class Counter: @unchecked Sendable {
        private var value = 0
        private let lock = NSLock()
        func next() -> Int { lock.withLock { value += 1; return value } }
    }
}
