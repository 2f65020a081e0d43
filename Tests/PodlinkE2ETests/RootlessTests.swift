import Foundation
import Glibc
import PodlinkTestSupport
import Testing

/// podlinkd and `podlink` as an ordinary user: the user namespace (pause process,
/// subordinate ids), overlay inside it, slirp4netns with published ports, no cgroups on
/// cgroup v1, restarts of the daemon and a reboot. Serialized: one user, one at a time.
@Suite(.serialized)
struct RootlessTests {
    @Test("A user's daemon runs containers in its namespace: run, exec, logs, volume files owned by the user")
    func runExecLogs() async throws {
        try await RootlessDaemon.with { daemon in
            let user = daemon.user
            // The daemon is the user on the host, root of a namespace mapping the user and
            // its subordinate range, held by the pause process.
            let pid = try #require(daemon.pid)
            #expect(RootlessDaemon.statusFields(pid, "Uid").first == String(user.uid))
            let uidMap = uidMapLines(pid: pid)
            #expect(uidMap.contains("0 \(user.uid) 1"), "uid_map: \(uidMap)")
            #expect(uidMap.contains("1 \(TestUser.subordinateStart) 65536"), "uid_map: \(uidMap)")
            let pause = try #require(daemon.pausePID)
            #expect(uidMapLines(pid: pause) == uidMap)
            #expect(try String(contentsOfFile: "/proc/\(pause)/comm", encoding: .utf8).hasPrefix("podlink-pause"))

            #expect(try await daemon.podlinkSucceeds(["run", "--rm", "--network", "none", "localhost/busybox", "id", "-u"]) == "0")
            let info = try await daemon.podlinkSucceeds(["info", "--format", "json"])
            // Root of its namespace, it still keeps the user's defaults: the store under HOME.
            #expect(info.contains("\"graphRoot\" : \"\(daemon.dataDir)/storage\""), "\(info)")

            // A named volume: what the container's root writes is the user's on the host,
            // what its uid 1000 writes is the subordinate id 999 above the first.
            try await daemon.podlinkSucceeds(["volume", "create", "data"])
            try await daemon.podlinkSucceeds([
                "run", "--rm", "-v", "data:/data", "localhost/busybox", "sh", "-c",
                "echo root > /data/by-root && mkdir /data/sub && chown 1000:1000 /data/sub && echo user > /data/sub/x && chown 1000:1000 /data/sub/x",
            ])
            let volume = daemon.dataDir + "/volumes/data/_data"
            var info1 = stat()
            #expect(stat(volume + "/by-root", &info1) == 0 && info1.st_uid == user.uid && info1.st_gid == user.gid)
            var info2 = stat()
            #expect(stat(volume + "/sub/x", &info2) == 0 && info2.st_uid == TestUser.subordinateStart + 999)

            // Exec and logs in a running container (its own network: slirp4netns).
            let id = try await daemon.podlinkSucceeds([
                "run", "-d", "--name", "worker", "localhost/busybox", "sh", "-c", "echo started; exec sleep 1000",
            ])
            #expect(try await daemon.podlinkSucceeds(["exec", "worker", "sh", "-c", "echo exec-ok"]) == "exec-ok")
            #expect(try await daemon.podlinkSucceeds(["logs", "worker"]) == "started")
            let address = try await daemon.podlinkSucceeds(["exec", "worker", "ip", "-4", "-o", "addr", "show", "tap0"])
            #expect(address.contains("10.0.2.100"), "\(address)")
            // The container's processes run as the user on the host.
            let containerPID = try #require(Int32(try await daemon.podlinkSucceeds(["inspect", "--format", "{{.State.Pid}}", "worker"])))
            #expect(RootlessDaemon.statusFields(containerPID, "Uid").first == String(user.uid))
            try await daemon.podlinkSucceeds(["rm", "-f", id])
            // slirp4netns went with conmon.
            try await eventually("slirp4netns of the removed container ends") {
                !daemon.userProcesses().contains { $0.contains("slirp4netns") }
            }
        }
    }

    @Test("Published ports through slirp4netns, a pod, and what rootless cannot do refused with advice")
    func portsPodsAndRefusals() async throws {
        try await RootlessDaemon.with { daemon in
            try await daemon.podlinkSucceeds([
                "run", "-d", "--name", "web", "-p", "127.0.0.1:18090:8080", "localhost/busybox", "sh", "-c",
                "echo hello-rootless > /tmp/index.html && exec httpd -f -p 8080 -h /tmp",
            ])
            try await daemon.eventuallyServes("http://127.0.0.1:18090/index.html", "hello-rootless\n", what: "the published port answers")
            // A second container on the same host port: refused, nothing left running.
            let taken = try await daemon.podlink(["run", "-d", "-p", "127.0.0.1:18090:8080", "localhost/busybox", "sleep", "100"])
            #expect(taken.status != 0 && taken.stderr.contains("18090"), "\(taken)")

            // A pod: its infra container holds the network (slirp4netns) and the port.
            try await daemon.podlinkSucceeds(["pod", "create", "--name", "pod1", "-p", "127.0.0.1:18091:80"])
            try await daemon.podlinkSucceeds([
                "run", "-d", "--pod", "pod1", "--name", "in-pod", "localhost/busybox", "sh", "-c",
                "echo from-pod > /tmp/i.html && exec httpd -f -p 80 -h /tmp",
            ])
            try await daemon.eventuallyServes("http://127.0.0.1:18091/i.html", "from-pod\n", what: "the pod's port answers")
            try await daemon.podlinkSucceeds(["pod", "rm", "-f", "pod1"])

            // Refusals that say what to do.
            let lowPort = try await daemon.podlink(["run", "--rm", "-p", "80:80", "localhost/busybox", "true"])
            #expect(lowPort.status != 0 && lowPort.stderr.contains("net.ipv4.ip_unprivileged_port_start"), "\(lowPort)")
            let cni = try await daemon.podlink(["run", "--rm", "--network", "mynet", "localhost/busybox", "true"])
            #expect(cni.status != 0 && cni.stderr.contains("slirp4netns"), "\(cni)")
            let limits = try await daemon.podlink(["run", "--rm", "--memory", "64m", "--pids-limit", "10", "localhost/busybox", "true"])
            if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") {
                // cgroup v2: limits apply where the user's cgroup is delegated, else refused.
                #expect(limits.status == 0 || limits.stderr.contains("cgroup"), "\(limits)")
            } else {
                #expect(limits.status != 0, "\(limits)")
                #expect(limits.stderr.contains("--memory") && limits.stderr.contains("--pids-limit") && limits.stderr.contains("cgroup v1"), "\(limits)")
            }
            // Host networking works (sysfs bound from the host, not mounted).
            #expect(try await daemon.podlinkSucceeds(["run", "--rm", "--network", "host", "localhost/busybox", "sh", "-c", "ls /sys/class/net | grep -c lo"]) == "1")
        }
    }

    @Test("Containers outlive the user's daemon; after a reboot the next daemon makes the namespace again")
    func restartAndReboot() async throws {
        try await RootlessDaemon.with { daemon in
            try await daemon.podlinkSucceeds(["volume", "create", "kept"])
            try await daemon.podlinkSucceeds([
                "run", "-d", "--name", "survivor", "-v", "kept:/kept", "-p", "127.0.0.1:18092:8080", "localhost/busybox", "sh", "-c",
                "echo up > /kept/mark && echo alive > /tmp/i && exec httpd -f -p 8080 -h /tmp",
            ])
            let firstPause = try #require(daemon.pausePID)
            let containerPID = try #require(Int32(try await daemon.podlinkSucceeds(["inspect", "--format", "{{.State.Pid}}", "survivor"])))

            // A restart: the next daemon joins the same namespace and finds it running.
            await daemon.stop()
            #expect(kill(containerPID, 0) == 0, "the container died with the daemon")
            try await daemon.start()
            #expect(daemon.pausePID == firstPause)
            #expect(try await daemon.podlinkSucceeds(["inspect", "--format", "{{.State.Status}}", "survivor"]) == "running")
            #expect(try await daemon.podlinkSucceeds(["exec", "survivor", "cat", "/kept/mark"]) == "up")
            try await daemon.eventuallyServes("http://127.0.0.1:18092/i", "alive\n", what: "the published port still answers")

            // The pause process killed while the container runs: the next daemon's pause
            // process joins the namespace the container's conmon still holds.
            await daemon.stop()
            kill(firstPause, SIGKILL)
            try await eventually("the pause process is gone") { kill(firstPause, 0) != 0 }
            try await daemon.start()
            let joinedPause = try #require(daemon.pausePID)
            #expect(joinedPause != firstPause)
            let joinedNamespace = namespaceLink(joinedPause)
            #expect(joinedNamespace == namespaceLink(containerPID) && joinedNamespace != nil)
            #expect(try await daemon.podlinkSucceeds(["inspect", "--format", "{{.State.Status}}", "survivor"]) == "running")
            #expect(try await daemon.podlinkSucceeds(["exec", "survivor", "cat", "/kept/mark"]) == "up")

            // A reboot: every process of the user dies, the runtime directory is emptied.
            await daemon.stop()
            _ = try await Tool.run(["pkill", "-KILL", "-U", String(daemon.user.uid)])
            try await eventually("the user's processes are gone") { daemon.userProcesses().isEmpty }
            try FileManager.default.removeItem(atPath: daemon.runtimeDir + "/podlink")
            try await daemon.start()
            let secondPause = try #require(daemon.pausePID)
            #expect(secondPause != firstPause && secondPause != joinedPause)
            let status = try await daemon.podlinkSucceeds(["inspect", "--format", "{{.State.Status}}", "survivor"])
            #expect(status == "exited" || status == "configured", "\(status)")
            // It starts again, with its volume and its port.
            try await daemon.podlinkSucceeds(["start", "survivor"])
            #expect(try await daemon.podlinkSucceeds(["exec", "survivor", "cat", "/kept/mark"]) == "up")
            try await daemon.eventuallyServes("http://127.0.0.1:18092/i", "alive\n", what: "the published port answers after the reboot")
        }
    }

    @Test("Without subordinate ids: root-owned images run; files of other owners are refused naming /etc/subuid")
    func singleIDMapping() async throws {
        try await RootlessDaemon.with(user: TestUser.withoutSubordinateIDs, subordinateIDs: false) { daemon in
            let pid = try #require(daemon.pid)
            #expect(uidMapLines(pid: pid) == ["0 \(daemon.user.uid) 1"])
            #expect(try await daemon.podlinkSucceeds(["run", "--rm", "--network", "none", "localhost/busybox", "sh", "-c", "echo ok"]) == "ok")
            // A layer with a file of uid 1000 cannot be stored with its owner.
            let rootfs = try TestImages.busyboxRootfs(in: daemon.root, name: "owned-rootfs")
            try "x".write(toFile: rootfs + "/owned", atomically: false, encoding: .utf8)
            chown(rootfs + "/owned", 1000, 1000)
            let tarball = daemon.root + "/owned.tar"
            let packed = try await Tool.run(["tar", "-C", rootfs, "--numeric-owner", "-cf", tarball, "."])
            #expect(packed.status == 0)
            let imported = try await daemon.podlink(["import", tarball, "localhost/owned"])
            #expect(imported.status != 0, "\(imported)")
            #expect(imported.stderr.contains("/etc/subuid") && imported.stderr.contains("1000"), "\(imported)")
            let images = try await daemon.podlinkSucceeds(["images", "--format", "json"])
            #expect(!images.contains("owned"), "\(images)")
        }
    }

    @Test("fuse-overlayfs when the config asks for it, and vfs", arguments: ["fuse-overlayfs", "vfs"])
    func otherStorage(kind: String) async throws {
        if kind == "fuse-overlayfs" {
            guard Environment.require(Environment.executable("fuse-overlayfs") != nil, "fuse-overlayfs"),
                Environment.require((TestUser.mode("/dev/fuse") & 0o006) == 0o006, "/dev/fuse with mode 0666 (scripts/setup)")
            else { return }
        }
        let config = kind == "vfs" ? "storage_driver = \"vfs\"\n" : "overlay_mount_program = \"/usr/bin/fuse-overlayfs\"\n"
        try await RootlessDaemon.with(config: config) { daemon in
            let id = try await daemon.podlinkSucceeds([
                "run", "-d", "--network", "none", "localhost/busybox", "sh", "-c", "echo changed > /etc/motd; exec sleep 1000",
            ])
            try await eventually("the container wrote its file") {
                (try? await daemon.podlink(["exec", id, "cat", "/etc/motd"]))?.stdout == "changed\n"
            }
            let mounts = daemon.namespaceMounts().filter { $0.contains("/storage/containers/\(id)") }
            if kind == "vfs" {
                #expect(mounts.isEmpty, "vfs mounts nothing: \(mounts)")
            } else {
                #expect(mounts.contains { $0.contains("fuse") }, "\(mounts)")
            }
            try await daemon.podlinkSucceeds(["rm", "-f", id])
        }
    }
}

/// The lines of /proc/PID/uid_map, spaces squeezed.
private func uidMapLines(pid: Int32) -> [String] {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/uid_map", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
}

/// The user namespace of a process, as /proc names it.
private func namespaceLink(_ pid: Int32) -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/user")
}

extension RootlessDaemon {
    /// Waits until `url` (a published port, fetched from inside the daemon's network
    /// namespace) answers `body`.
    func eventuallyServes(_ url: String, _ body: String, what: String) async throws {
        try await eventually(what) {
            (try? await Tool.run(inNetworkNamespace(["busybox", "wget", "-qO-", url])))?.stdout == body
        }
    }
}

/// Waits up to 15 s for `condition`.
private func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(15)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw TestFailure("timed out: \(what)")
}
