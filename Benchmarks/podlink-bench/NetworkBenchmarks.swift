import Foundation
import Glibc
import Libpod

/// `run --rm /bin/true` on podman's default bridge network against the same with
/// `--network none`, and against `podman run --rm` on its default network, side by side.
/// CNI makes a bridge, iptables rules and address leases: this runs only in a network
/// namespace of its own (`make bench` starts it in one), so nothing of it touches the
/// machine's network.
enum NetworkBenchmarks {
    static let rounds = 20

    static func run(_ harness: Harness) async throws -> Harness {
        var harness = harness
        guard geteuid() == 0 else {
            print("Network: skipped (needs root)")
            return harness
        }
        guard inOwnNetworkNamespace else {
            print("Network: skipped (runs only in a network namespace of its own: unshare --net, as make bench does)")
            return harness
        }
        let root = "/tmp/podlink-bench/network-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let tarball = try LifecycleBenchmarks.busyboxTarball(in: root)
        print("Network: run --rm of /bin/true, busybox image, crun, \(rounds) rounds per batch")

        let runtime = try await Runtime.create(configFile: .none) {
            $0.staticDir = root + "/static"
            $0.tmpDir = root + "/tmp"
            $0.cniConfigDir = root + "/cni"
            $0.runtimePath = ["/usr/bin/crun"]
        }
        _ = try await runtime.images.importRootfs(tarball: tarball, reference: "localhost/busybox:latest")
        var none = ContainerCreateOptions(image: "busybox")
        none.command = ["/bin/true"]
        none.autoRemove = true
        var bridge = none
        bridge.network = .bridge([])

        var runs = 0
        func cycle(_ options: ContainerCreateOptions) async throws {
            runs += 1
            let container = try await runtime.createContainer(options)
            try await runtime.startContainer(container.id)
            let code = try await runtime.waitContainer(container.id)
            precondition(code == 0)
        }
        // The first bridge run writes the default network and makes the bridge.
        try await cycle(bridge)
        if ProcessInfo.processInfo.environment["PODLINK_BENCH_PHASES"] != nil {
            let clock = ContinuousClock()
            var phases: [String: Duration] = [:]
            for _ in 0..<20 {
                var id = ""
                phases["create", default: .zero] += try await clock.measure { id = try await runtime.createContainer(bridge).id }
                phases["start", default: .zero] += try await clock.measure { try await runtime.startContainer(id) }
                phases["wait", default: .zero] += try await clock.measure { _ = try await runtime.waitContainer(id) }
            }
            for (phase, total) in phases.sorted(by: { $0.key < $1.key }) { print("  bridge phase \(phase): \(total / 20)") }
        }
        harness.batches = 5
        harness.minimumBatchTime = .milliseconds(1)
        var cpu = CPUTime()
        runs = 0
        let withoutNetwork = try await harness.measureAsync("Libpod API, run --rm --network none") {
            for _ in 0..<rounds { try await cycle(none) }
        }
        let cpuWithoutNetwork = cpu.lap() / Double(runs)
        runs = 0
        let withBridge = try await harness.measureAsync("Libpod API, run --rm (default bridge network)") {
            for _ in 0..<rounds { try await cycle(bridge) }
        }
        try await runtime.shutdown()
        let cpuWithBridge = cpu.lap() / Double(runs)
        let extra = (withBridge.median - withoutNetwork.median) / Double(rounds) / 1e6
        print(String(format: "  difference: the bridge network adds %.1f ms per run (goal: at most 15 ms: %@)", extra, extra <= 15 ? "met" : "NOT met"))
        // What the difference is made of: the plugins' processes (and the iptables they
        // run) use CPU that a machine of few cores cannot hide behind anything.
        print(String(format: "  CPU per run, every process (runtime, conmon, crun, CNI plugins): none %.1f ms, bridge %.1f ms, on %d cores",
            cpuWithoutNetwork * 1e3, cpuWithBridge * 1e3, sysconf(Int32(_SC_NPROCESSORS_ONLN))))

        let podman = "/usr/bin/podman"
        if access(podman, X_OK) == 0 {
            _ = try await LifecycleBenchmarks.run([podman, "import", tarball, "localhost/podlink-bench-busybox:latest"])
            let podmanResult = try await harness.measureAsync("podman run --rm (default network, CNI)") {
                for _ in 0..<rounds {
                    let status = try await LifecycleBenchmarks.run([podman, "run", "--rm", "localhost/podlink-bench-busybox:latest", "true"])
                    precondition(status == 0)
                }
            }
            harness.ratio(withBridge, over: podmanResult, goal: 3)
            _ = try await LifecycleBenchmarks.run([podman, "rmi", "-f", "localhost/podlink-bench-busybox:latest"])
        } else {
            print("  (podman missing: scripts/setup-bench installs it)")
        }
        return harness
    }

    /// User and system CPU time of this process and of its waited-for children (conmon,
    /// the OCI runtime, CNI's plugins and what they run), in seconds, between laps.
    struct CPUTime {
        private var last = CPUTime.now()

        static func now() -> Double {
            var own = rusage()
            var children = rusage()
            getrusage(RUSAGE_SELF.rawValue, &own)
            getrusage(RUSAGE_CHILDREN.rawValue, &children)
            func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
            return seconds(own.ru_utime) + seconds(own.ru_stime) + seconds(children.ru_utime) + seconds(children.ru_stime)
        }

        mutating func lap() -> Double {
            let now = CPUTime.now()
            defer { last = now }
            return now - last
        }
    }

    /// Whether this process's network namespace is a scratch one: no interface but
    /// loopback and what CNI makes (PID 1's namespace is not readable in every sandbox,
    /// so the interfaces tell).
    static var inOwnNetworkNamespace: Bool {
        guard let list = if_nameindex() else { return false }
        defer { if_freenameindex(list) }
        var index = 0
        while list[index].if_index != 0 {
            let name = String(cString: list[index].if_name)
            if name != "lo" && !name.hasPrefix("cni-") && !name.hasPrefix("veth") { return false }
            index += 1
        }
        return true
    }
}
