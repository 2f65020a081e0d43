import Foundation
import Glibc
import PodmanClient
import ProcessSpawn

/// `run --rm /bin/true` as an ordinary user, side by side in one run: the user's podlinkd
/// (in its rootless namespace) through the SDK (PodmanClient.run, as the rootful
/// lifecycle benchmarks measure it) and through `podlink run` as the user, rootless podman
/// 4.3 as the same user, and the same two against a rootful podlinkd. Commands are whole,
/// from exec to exit, as a user at a terminal meets them.
enum RootlessBenchmarks {
    static let rounds = 10
    static let userName = "podlink-bench"

    static func run(_ harness: Harness, productsDirectory: URL) async throws -> Harness {
        var harness = harness
        guard geteuid() == 0, access("/usr/bin/setpriv", X_OK) == 0, access("/usr/bin/newuidmap", X_OK) == 0 else {
            print("Rootless: skipped (needs root to make its user, setpriv and newuidmap)")
            return harness
        }
        let root = "/tmp/podlink-bench/rootless-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        chmod("/tmp/podlink-bench", 0o755)
        chmod(root, 0o755)
        let user = try await benchUser()
        let home = root + "/home"
        let runtimeDir = root + "/run"
        for (directory, mode) in [(home, mode_t(0o755)), (runtimeDir, mode_t(0o700))] {
            mkdir(directory, mode)
            chown(directory, user.uid, user.gid)
        }
        let daemonPath = productsDirectory.appending(path: "podlinkd").path
        let podlinkPath = productsDirectory.appending(path: "podlink").path
        func asUser(_ command: [String]) -> [String] {
            ["/usr/bin/setpriv", "--reuid=\(user.uid)", "--regid=\(user.gid)", "--init-groups", "/usr/bin/env", "-i",
             "HOME=\(home)", "XDG_RUNTIME_DIR=\(runtimeDir)", "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"] + command
        }

        // The user's daemon on its default socket; the rootful one on a scratch config.
        let userDaemon = try ProcessSpawn.spawn(asUser([daemonPath, "--log-level", "error"]))
        let rootfulConfig = root + "/podlink.conf"
        try "static_dir = \"\(root)/static\"\ntmp_dir = \"\(root)/tmp\"\n".write(toFile: rootfulConfig, atomically: true, encoding: .utf8)
        let rootfulSocket = root + "/io.podman"
        let rootfulDaemon = try ProcessSpawn.spawn([daemonPath, "--config", rootfulConfig, "--log-level", "error", "unix:\(rootfulSocket)"])
        defer {
            kill(rootfulDaemon, SIGTERM)
            kill(userDaemon, SIGTERM)
            _ = ProcessSpawn.blockingWait(rootfulDaemon)
            _ = ProcessSpawn.blockingWait(userDaemon)
            // The pause processes (ours and podman's) and anything else of the bench user.
            _ = ProcessSpawn.blockingWait((try? ProcessSpawn.spawn(["/usr/bin/pkill", "-KILL", "-U", String(user.uid)])) ?? 0)
            try? FileManager.default.removeItem(atPath: root)
        }
        try await LifecycleBenchmarks.waitFor(runtimeDir + "/podlink/io.podman")
        try await LifecycleBenchmarks.waitFor(rootfulSocket)

        let tarball = try LifecycleBenchmarks.busyboxTarball(in: root)
        chmod(tarball, 0o644)
        let rootful = ["--url", "unix:\(rootfulSocket)"]
        for command in [asUser([podlinkPath, "import", tarball, "localhost/busybox"]), [podlinkPath] + rootful + ["import", tarball, "localhost/busybox"]] {
            guard try await LifecycleBenchmarks.run(command) == 0 else { throw BenchmarkError("\(command.joined(separator: " ")) failed") }
        }
        print("Rootless: run --rm of /bin/true, busybox image, crun, whole commands; \(rounds) rounds per batch; user \(userName) (uid \(user.uid))")
        harness.batches = 5
        harness.minimumBatchTime = .milliseconds(1)
        func measure(_ name: String, _ command: [String]) async throws -> Harness.Result {
            try await harness.measureAsync(name) {
                for _ in 0..<rounds {
                    let status = try await LifecycleBenchmarks.run(command)
                    guard status == 0 else { throw BenchmarkError("\(command.joined(separator: " ")) exited with \(status)") }
                }
            }
        }
        var noNetwork = PodmanClient.CreateOptions()
        noNetwork.network = "none"
        let userClient = try await PodmanClient.connect(to: "unix:\(runtimeDir)/podlink/io.podman")
        let rootfulClient = try await PodmanClient.connect(to: "unix:\(rootfulSocket)")
        func measureSDK(_ name: String, _ client: PodmanClient) async throws -> Harness.Result {
            try await harness.measureAsync(name) {
                for _ in 0..<rounds {
                    let code = try await client.run(image: "busybox", command: ["/bin/true"], options: noNetwork)
                    guard code == 0 else { throw BenchmarkError("\(name): exit code \(code)") }
                }
            }
        }
        let sdk = try await measureSDK("PodmanClient.run --network none, rootless podlinkd", userClient)
        let sdkRootful = try await measureSDK("PodmanClient.run --network none, rootful podlinkd", rootfulClient)
        await userClient.close()
        await rootfulClient.close()
        let none = ["run", "--rm", "--network", "none", "localhost/busybox", "true"]
        let ours = try await measure("podlink run --rm --network none, rootless", asUser([podlinkPath] + none))
        let oursRootful = try await measure("podlink run --rm --network none, rootful", [podlinkPath] + rootful + none)
        let slirp = try await measure("podlink run --rm (slirp4netns), rootless", asUser([podlinkPath, "run", "--rm", "localhost/busybox", "true"]))
        for (name, rootlessResult, rootfulResult) in [("PodmanClient.run", sdk, sdkRootful), ("podlink run --rm", ours, oursRootful)] {
            let within = rootlessResult.median / rootfulResult.median
            print(String(format: "  ratio: rootless %@ takes %.2fx the rootful one (goal: within 1.5x: %@)", name, within, within <= 1.5 ? "met" : "NOT met"))
        }
        let podman = "/usr/bin/podman"
        guard access(podman, X_OK) == 0 else {
            print("  (podman missing: scripts/setup-bench installs it)")
            return harness
        }
        guard try await LifecycleBenchmarks.run(asUser([podman, "import", tarball, "localhost/busybox"])) == 0 else {
            throw BenchmarkError("rootless podman import failed")
        }
        let podmanNone = try await measure("podman 4.3 run --rm --network none, rootless", asUser([podman] + none))
        let podmanSlirp = try await measure("podman 4.3 run --rm (slirp4netns), rootless", asUser([podman, "run", "--rm", "localhost/busybox", "true"]))
        harness.ratio(sdk, over: podmanNone, goal: 3)
        harness.ratio(ours, over: podmanNone)
        harness.ratio(slirp, over: podmanSlirp)
        return harness
    }

    /// The bench's own user, with subordinate ids, made when missing.
    static func benchUser() async throws -> (uid: uid_t, gid: gid_t) {
        if getpwnam(userName) == nil {
            let status = try await LifecycleBenchmarks.run(["/usr/sbin/useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", userName])
            guard status == 0 || getpwnam(userName) != nil else { throw BenchmarkError("useradd \(userName) failed (\(status))") }
        }
        guard let entry = getpwnam(userName) else { throw BenchmarkError("user \(userName) is missing") }
        for file in ["/etc/subuid", "/etc/subgid"] {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            if !text.split(separator: "\n").contains(where: { $0.hasPrefix(userName + ":") }) {
                try (text + "\(userName):800000:65536\n").write(toFile: file, atomically: true, encoding: .utf8)
            }
        }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }
}
