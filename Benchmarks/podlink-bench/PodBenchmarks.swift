import Foundation
import Glibc
import PodmanClient
import ProcessSpawn

/// A pod's whole life, side by side in one run: create (with an infra container on the
/// default bridge network), run one container in it, stop the pod, remove it; through
/// podlinkd and PodmanClient, and as podman 4.3's `pod create`, `run -d --pod`,
/// `pod stop`, `pod rm`. Both infra containers are catatonit -P (podman's from an image
/// made of the same binary: its default pause image would need a registry). Needs a
/// network namespace of its own, as `make bench` gives it.
enum PodBenchmarks {
    static let rounds = 5
    /// Exits at once on SIGTERM, so a stop measures the engine, not a timeout.
    static let member = ["/bin/sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]

    static func run(_ harness: Harness, productsDirectory: URL) async throws -> Harness {
        var harness = harness
        guard geteuid() == 0 else {
            print("Pods: skipped (needs root)")
            return harness
        }
        return try await DaemonBenchmarks.withScratchDaemon(
            "pod", productsDirectory: productsDirectory, extraConfig: "cni_config_dir = \"/tmp/podlink-bench/pod-\(getpid())/cni\"\n"
        ) { root, client, tarball in
            print("Pods: create (infra on the default bridge) + run one container + stop + rm, \(rounds) per batch (crun)")
            // The infra image is made on the first pod; it is not what is measured.
            try await client.createPod("warm-up")
            try await client.removePod("warm-up", force: true)

            harness.batches = 5
            harness.minimumBatchTime = .milliseconds(1)
            var serial = 0
            let ours = try await harness.measureAsync("PodmanClient -> podlinkd: pod create, run --pod, pod stop, pod rm") {
                for _ in 0..<rounds {
                    serial += 1
                    let name = "bench-\(serial)"
                    try await client.createPod(name)
                    var options = PodmanClient.CreateOptions()
                    options.pod = name
                    let id = try await client.create(image: "busybox", command: member, options: options)
                    try await client.start(id)
                    try await client.stopPod(name)
                    try await client.removePod(name)
                }
            }

            let podman = "/usr/bin/podman"
            if access(podman, X_OK) == 0 {
                let pauseRoot = root + "/pause"
                try FileManager.default.createDirectory(atPath: pauseRoot, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: "/usr/bin/catatonit", toPath: pauseRoot + "/catatonit")
                let packed = try await LifecycleBenchmarks.run(["/bin/tar", "-C", pauseRoot, "-cf", root + "/pause.tar", "."])
                precondition(packed == 0)
                _ = try await LifecycleBenchmarks.run([podman, "import", "--change", "ENTRYPOINT [\"/catatonit\",\"-P\"]", root + "/pause.tar", "localhost/podlink-bench-pause:latest"])
                _ = try await LifecycleBenchmarks.run([podman, "import", tarball, "localhost/podlink-bench-busybox:latest"])
                var podmanSerial = 0
                let podmanResult = try await harness.measureAsync("podman 4.3: pod create, run -d --pod, pod stop, pod rm") {
                    for _ in 0..<rounds {
                        podmanSerial += 1
                        let name = "podlink-bench-\(podmanSerial)"
                        for command in [
                            [podman, "pod", "create", "--name", name, "--infra-image", "localhost/podlink-bench-pause:latest"],
                            [podman, "run", "-d", "--pod", name, "localhost/podlink-bench-busybox:latest"] + member,
                            [podman, "pod", "stop", name],
                            [podman, "pod", "rm", name],
                        ] {
                            let status = try await LifecycleBenchmarks.run(command)
                            precondition(status == 0, "\(command) failed")
                        }
                    }
                }
                harness.ratio(ours, over: podmanResult, goal: 3)
                _ = try await LifecycleBenchmarks.run([podman, "rmi", "-f", "localhost/podlink-bench-busybox:latest", "localhost/podlink-bench-pause:latest"])
            } else {
                print("  (podman missing: scripts/setup-bench installs it)")
            }
            return harness
        }
    }
}
