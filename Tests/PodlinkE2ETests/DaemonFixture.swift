import Foundation
import Glibc
import PodlinkTestSupport
import PodmanClient
import Testing

/// A podlinkd process on scratch directories and its own socket, with the busybox image
/// imported; stopped and cleaned up afterwards (containers included). It runs in a network
/// namespace of its own: CNI's bridge, its iptables rules and every packet of its
/// containers stay there, never on the machine's network.
final class Daemon: @unchecked Sendable {
    let root: String
    let socket: String
    let configFile: String
    /// The daemon's network namespace, as `ip netns` names it.
    let networkNamespace: String
    var networkNamespacePath: String { "/run/netns/" + networkNamespace }
    var cniConfigDir: String { root + "/cni" }
    var address: String { "unix:\(socket)" }
    var staticDir: String { root + "/static" }
    var tmpDir: String { root + "/tmp" }
    private(set) var process: ChildProcess?
    private(set) var tarball = ""

    static var available: Bool {
        Environment.require(geteuid() == 0, "root (containers need it)")
            && Environment.require(Environment.executable("conmon") != nil, "conmon")
            && Environment.require(Environment.executable("crun") != nil || Environment.executable("runc") != nil, "crun or runc")
            && Environment.require(FileManager.default.fileExists(atPath: "/bin/busybox"), "busybox-static")
            && Environment.require(FileManager.default.fileExists(atPath: "/usr/lib/cni/bridge"), "containernetworking-plugins (CNI)")
            && Environment.require(Environment.executable("iptables") != nil, "iptables")
            && Environment.require(Environment.executable("ip") != nil, "iproute2")
    }

    /// Extra podlinkd arguments (before the address).
    var arguments: [String] = []
    /// Extra environment variables of the daemon, as NAME=value.
    var environment: [String] = []

    /// - Parameter runtime: the OCI runtime's path (`runtime_path`); the daemon's choice when nil.
    init(runtime: String? = nil) throws {
        mkdir("/tmp/podlink-tests", 0o755)
        var template = Array("/tmp/podlink-tests/e2e-XXXXXX".utf8CString)
        root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        socket = root + "/io.podman"
        configFile = root + "/podlink.conf"
        networkNamespace = "podlink-" + root.split(separator: "/").last!
        var config = "static_dir = \"\(root)/static\"\ntmp_dir = \"\(root)/tmp\"\ncni_config_dir = \"\(root)/cni\"\n"
        if let runtime { config += "runtime_path = [\"\(runtime)\"]\n" }
        try config.write(toFile: configFile, atomically: true, encoding: .utf8)
    }

    /// The command that runs `command` in the daemon's network namespace.
    func inNetworkNamespace(_ command: [String]) -> [String] { ["nsenter", "--net=\(networkNamespacePath)"] + command }

    /// Runs `command` in the daemon's network namespace (a client of a published port,
    /// iptables-save, ip link).
    func runInNetworkNamespace(_ command: [String], stdin: String? = nil) async throws -> ToolOutput {
        try await Tool.run(inNetworkNamespace(command), stdin: stdin)
    }

    private func makeNetworkNamespace() async throws {
        guard !FileManager.default.fileExists(atPath: networkNamespacePath) else { return }
        let added = try await Tool.run(["ip", "netns", "add", networkNamespace])
        guard added.status == 0 else { throw TestFailure("ip netns add \(networkNamespace): \(added)") }
        let up = try await Tool.run(["ip", "-n", networkNamespace, "link", "set", "lo", "up"])
        guard up.status == 0 else { throw TestFailure("bringing lo up in \(networkNamespace): \(up)") }
    }

    func start() async throws {
        try await makeNetworkNamespace()
        let process = try ChildProcess.start(
            environment + inNetworkNamespace([Environment.builtProduct("podlinkd"), "--config", configFile, "--log-level", "warning"])
                + arguments + [address])
        self.process = process
        try await waitUntilAccepting(socket, started: process, what: "podlinkd")
    }

    /// The daemon's process ID, while it runs.
    var pid: Int32? { process.map { $0.process.processIdentifier } }

    /// SIGKILL, as a crash or the OOM killer would: no cleanup of any kind.
    func crash() async {
        guard let process else { return }
        kill(process.process.processIdentifier, SIGKILL)
        _ = await process.waitForExit(timeout: .seconds(10))
        self.process = nil
    }

    /// The daemon's resident memory in kB (VmRSS).
    var residentKilobytes: Int {
        guard let pid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// What the daemon's descriptors point at, for a failure message.
    var descriptorTargets: [String] {
        guard let pid else { return [] }
        let directory = "/proc/\(pid)/fd"
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted().map {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)")) ?? "?"
        }
    }

    /// The daemon's descriptors that are not on the state database (whose reader pool
    /// opens connections up to its bound and keeps them).
    var descriptorsOutsideState: Int {
        descriptorTargets.filter { !$0.hasPrefix(staticDir + "/state.sqlite") }.count
    }

    /// Open file descriptors of the daemon.
    var openDescriptors: Int { descriptorTargets.count }

    /// What is left of containers after they are gone, once their network teardown (which
    /// runs after `rm` returns) had a few seconds to end: see `leftoversNow`.
    func leftovers(of ids: [String]) async -> [String] {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let found = await leftoversNow(of: ids)
            if found.isEmpty || ContinuousClock.now > deadline { return found }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// What is left of containers: mounts under the daemon's directories, processes whose
    /// command line names one of `ids` or the daemon's directories (conmon, the runtime,
    /// the container), their cgroups, address leases and iptables rules.
    func leftoversNow(of ids: [String]) async -> [String] {
        var found: [String] = []
        let mounts = MountTable.read()
        for line in mounts.split(separator: "\n") where line.contains(root) { found.append("mount: \(line)") }
        let daemonPID = pid
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let processID = Int32(entry), processID != daemonPID, processID != getpid() else { continue }
            guard let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !raw.isEmpty else { continue }
            let commandLine = String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            if commandLine.contains(root) || ids.contains(where: { commandLine.contains($0) }) {
                found.append("process \(entry): \(commandLine)")
            }
        }
        // cgroup v2 keeps one tree; v1 one per controller.
        let hierarchies = ["/sys/fs/cgroup"]
            + ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []).map { "/sys/fs/cgroup/\($0)" }
        for hierarchy in hierarchies {
            for id in ids where FileManager.default.fileExists(atPath: "\(hierarchy)/podlink/podlink-\(id)") {
                found.append("cgroup: \(hierarchy)/podlink/podlink-\(id)")
            }
        }
        found += Self.leases(of: ids).map { "address lease: \($0)" }
        if let rules = try? await runInNetworkNamespace(["iptables-save"]) {
            for line in rules.stdout.split(separator: "\n") where ids.contains(where: { line.contains($0) }) {
                found.append("iptables: \(line)")
            }
        }
        return found
    }

    /// host-local's lease files (under /var/lib/cni/networks, one per address, naming the
    /// container) held by one of `ids`. The directory is the machine's, shared by every
    /// test's daemon: only the leases of these containers say anything.
    static func leases(of ids: [String]) -> [String] {
        let directory = "/var/lib/cni/networks"
        var found: [String] = []
        for network in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/\(network)")) ?? [] {
                let holder = (try? String(contentsOfFile: "\(directory)/\(network)/\(file)", encoding: .utf8)) ?? ""
                if ids.contains(where: { holder.hasPrefix($0) }) { found.append("\(network)/\(file)") }
            }
        }
        return found
    }

    /// A reboot, as far as a test can make one with the daemon stopped: the container
    /// processes `pids` (conmon's, the container's) die, every mount under the daemon's
    /// directories goes, and tmp_dir (a tmpfs on a real machine) is emptied.
    func simulateReboot(killing pids: [Int]) async throws {
        for pid in pids where pid > 0 { kill(Int32(pid), SIGKILL) }
        try await Task.sleep(for: .milliseconds(200))
        // Unmount what the table shows until tmp_dir can go (a mount made under another
        // mount is shown only once that one is gone from the table's order).
        for attempt in 0..<50 {
            let mounts = MountTable.read()
            let points = mounts.split(separator: "\n").compactMap { line -> String? in
                let fields = line.split(separator: " ")
                return fields.count > 4 && fields[4].hasPrefix(root + "/") ? String(fields[4]) : nil
            }
            for point in points.reversed() { umount2(point, Int32(MNT_DETACH)) }
            // (Seen missed: the network namespaces, which are known by name anyway.)
            for file in (try? FileManager.default.contentsOfDirectory(atPath: tmpDir + "/netns")) ?? [] {
                umount2(tmpDir + "/netns/" + file, Int32(MNT_DETACH))
            }
            do {
                try FileManager.default.removeItem(atPath: tmpDir)
                return
            } catch where attempt < 49 {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// podlinkd finishes what it started before it exits (network teardowns after a
    /// removal run CNI's DEL, seconds on a loaded machine): it gets the time.
    func stop() async {
        await process?.stop(grace: .seconds(20))
        process = nil
    }

    func client() async throws -> PodmanClient { try await PodmanClient.connect(to: address) }

    /// Imports the busybox image as localhost/busybox:latest through the daemon.
    func importBusybox(_ client: PodmanClient) async throws {
        tarball = try await TestImages.busyboxRootfsTarball(in: root, gzip: true)
        _ = try await client.importImage(tarball: tarball, reference: "localhost/busybox:latest")
    }

    func tearDown() async {
        if process == nil { try? await start() }
        if let client = try? await client() {
            // Pods first: their infra containers go only with them.
            for pod in (try? await client.pods()) ?? [] { try? await client.removePod(pod.id, force: true) }
            for container in (try? await client.containers()) ?? [] { try? await client.remove(container.id, force: true) }
            // A volume with options is a mount of its own until it is removed.
            for volume in (try? await client.volumes()) ?? [] { try? await client.removeVolume(volume.name, force: true) }
            await client.close()
        }
        await stop()
        let mounts = MountTable.read()
        #expect(!mounts.contains(root), "a mount under \(root) outlived the test")
        try? FileManager.default.removeItem(atPath: root)
        await deleteNetworkNamespace()
    }

    func deleteNetworkNamespace() async {
        _ = try? await Tool.run(["ip", "netns", "delete", networkNamespace])
    }

    /// Runs `body` with a started daemon and a client, tearing everything down after.
    static func with(environment: [String] = [], runtime: String? = nil, _ body: (Daemon, PodmanClient) async throws -> Void) async throws {
        guard available else { return }
        let daemon = try Daemon(runtime: runtime)
        daemon.environment = environment
        do {
            try await daemon.start()
            let client = try await daemon.client()
            try await daemon.importBusybox(client)
            try await body(daemon, client)
            await client.close()
        } catch {
            await daemon.tearDown()
            throw error
        }
        await daemon.tearDown()
    }
}

/// The "State" object of `podman inspect`.
func inspectState(_ client: PodmanClient, _ id: String) async throws -> [String: Any] {
    let inspect = try JSONSerialization.jsonObject(with: Data(try await client.inspect(id).utf8)) as? [String: Any]
    return inspect?["State"] as? [String: Any] ?? [:]
}
