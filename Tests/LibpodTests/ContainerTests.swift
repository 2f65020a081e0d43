import CLinuxMount
import Foundation
import Glibc
@testable import Libpod
import PodlinkTestSupport
import Testing

/// Real containers from a busybox image, on each OCI runtime this machine has.
enum OCIRuntimeChoice: String, CaseIterable, CustomTestStringConvertible {
    case crun, runc
    var testDescription: String { rawValue }

    var paths: [String] {
        switch self {
        case .crun: ["/usr/bin/crun", "/usr/local/bin/crun"]
        case .runc: ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/bin/runc", "/usr/local/sbin/runc"]
        }
    }

    var available: Bool { paths.contains { access($0, X_OK) == 0 } }
}

/// A runtime with the busybox image imported, on scratch directories.
func withContainerRuntime<T>(
    _ choice: OCIRuntimeChoice, storageDriver: StorageDriverKind = .overlay,
    configure: (inout RuntimeConfig, ScratchDirectories) -> Void = { _, _ in },
    _ body: (Runtime, ScratchDirectories) async throws -> T
) async throws -> T? {
    guard Environment.require(geteuid() == 0, "root (containers need it)"),
        Environment.require(choice.available, choice.rawValue),
        Environment.require(Environment.executable("conmon") != nil, "conmon"),
        Environment.require(FileManager.default.fileExists(atPath: "/bin/busybox"), "busybox-static")
    else { return nil }
    let scratch = ScratchDirectories()
    let runtime = try await Runtime.create(configFile: .none) {
        $0.staticDir = scratch.staticDir
        $0.tmpDir = scratch.tmpDir
        $0.runtimePath = choice.paths
        $0.storageDriver = storageDriver
        configure(&$0, scratch)
    }
    let tarball = try await TestImages.busyboxRootfsTarball(in: scratch.root, gzip: false)
    _ = try await runtime.images.importRootfs(tarball: tarball, reference: "localhost/busybox:latest")
    do {
        let result = try await body(runtime, scratch)
        try await cleanUp(runtime, scratch)
        return result
    } catch {
        try? await cleanUp(runtime, scratch)
        throw error
    }
}

private func cleanUp(_ runtime: Runtime, _ scratch: ScratchDirectories) async throws {
    for container in (try? await runtime.containers()) ?? [] {
        try? await runtime.removeContainer(container.id, force: true)
    }
    try? await runtime.shutdown()
    // Nothing of the test may stay mounted.
    let mounts = MountTable.read()
    #expect(!mounts.contains(scratch.root), "a mount under \(scratch.root) outlived its container")
    scratch.remove()
}

func busybox(_ command: [String], name: String = "") -> ContainerCreateOptions {
    var options = ContainerCreateOptions(image: "busybox")
    options.command = command
    options.name = name
    return options
}

func collect(_ stream: AsyncThrowingStream<LogLine, any Error>) async throws -> [LogLine] {
    var lines: [LogLine] = []
    for try await line in stream { lines.append(line) }
    return lines
}

@Suite(.serialized) struct ContainerTests {
    @Test(arguments: OCIRuntimeChoice.allCases) func fullLifecycleOfTrue(choice: OCIRuntimeChoice) async throws {
        try await withContainerRuntime(choice) { runtime, _ in
            let container = try await runtime.createContainer(busybox(["/bin/true"], name: "t"))
            #expect(container.state.status == .configured)
            #expect(container.config.ociRuntime.hasSuffix(choice.rawValue))
            try await runtime.startContainer("t")
            #expect(try await runtime.waitContainer("t") == 0)
            let exited = try await runtime.container("t")
            #expect(exited.state.status == .exited)
            #expect(exited.state.mountPoint.isEmpty, "unmounted once it exited")
            #expect(exited.state.finishedAt != nil)
            try await runtime.removeContainer("t")
            #expect(try await !runtime.containerExists("t"))
            #expect(!FileManager.default.fileExists(atPath: runtime.storage.directory(container.id)))
            let statuses = try runtime.events.read().events.filter { $0.id == container.id }.map(\.status)
            #expect(statuses == ["create", "init", "start", "died", "remove"])
        }
    }

    @Test func theLayerOfAContainerRemovedOnExitIsVolatile() async throws {
        try await withContainerRuntime(.crun) { runtime, _ in
            var options = busybox(["/bin/sleep", "1000"], name: "removed-on-exit")
            options.autoRemove = true
            let disposable = try await runtime.createContainer(options)
            let kept = try await runtime.createContainer(busybox(["/bin/sleep", "1000"], name: "kept"))
            try await runtime.startContainer(disposable.id)
            try await runtime.startContainer(kept.id)
            #expect(ContainerStorage.isMounted(runtime.storage.mountPoint(disposable.id)))
            #expect(ContainerStorage.isMounted(runtime.storage.mountPoint(kept.id)))
            #expect(Self.isVolatile(runtime.storage.mountPoint(disposable.id)))
            #expect(!Self.superOptions(of: runtime.storage.mountPoint(kept.id)).isEmpty, "in the mount table")
            var mountOptions = [CChar](repeating: 0, count: 4096)
            #expect(clinux_mount_options(runtime.storage.mountPoint(kept.id), &mountOptions, mountOptions.count) == 0, "this kernel has statmount")
            #expect(!Self.isVolatile(runtime.storage.mountPoint(kept.id)))
            // Overlay leaves a marker that refuses a second volatile mount; a restart mounts again.
            try await runtime.restartContainer(disposable.id, timeout: 0)
            #expect(try await runtime.container(disposable.id).state.status == .running)
            #expect(Self.isVolatile(runtime.storage.mountPoint(disposable.id)))
            try await runtime.killContainer(disposable.id, signal: SIGKILL)
            #expect(try await runtime.waitContainer(disposable.id) == 137)
            #expect(try await !runtime.containerExists(disposable.id), "removed once it exited")
        }
    }

    @Test func aContainerRemovedOnExitStillAnswersWait() async throws {
        try await withContainerRuntime(.crun) { runtime, _ in
            var options = busybox(["/bin/sh", "-c", "exit 7"])
            options.autoRemove = true
            let waited = try await runtime.createContainer(options)
            try await runtime.startContainer(waited.id)
            #expect(try await runtime.waitContainer(waited.id) == 7)
            #expect(try await !runtime.containerExists(waited.id), "waiting removed it")
            #expect(try await runtime.waitContainer(waited.id) == 7, "answered from the exit codes the state keeps")

            // Removed by the daemon's reaper before anyone waited.
            options.command = ["/bin/sh", "-c", "exit 4"]
            let reaped = try await runtime.createContainer(options)
            try await runtime.startContainer(reaped.id)
            let exitFile = runtime.exitWatcher.exitFile(reaped.id)
            for _ in 0..<500 where !FileManager.default.fileExists(atPath: exitFile) { try await Task.sleep(for: .milliseconds(10)) }
            await runtime.reapExitedContainers()
            #expect(try await !runtime.containerExists(reaped.id), "the reaper removed it")
            #expect(try await runtime.waitContainer(reaped.id) == 4)
            await #expect(throws: LibpodError.containerNotFound("no-such-container")) {
                try await runtime.waitContainer("no-such-container")
            }
        }
    }

    @Test func aRemovalCutShortCanBeFinished() throws {
        // A daemon killed in the middle of a removal may leave the record with its storage
        // directory already deleted; removing it again must not trip over the missing
        // directory (CI caught this as "creating .../mountcount.tmp-...: No such file").
        let scratch = ScratchDirectories()
        defer { scratch.remove() }
        let storage = ContainerStorage(root: scratch.staticDir + "/containers", driver: .overlay)
        try storage.create("cut-short")
        try FileSystem.removeTree(storage.directory("cut-short"))
        try storage.remove("cut-short")
        #expect(!FileSystem.exists(storage.directory("cut-short")))
    }

    /// Newer kernels show the option as `fsync=volatile`.
    static func isVolatile(_ path: String) -> Bool {
        superOptions(of: path).contains { $0 == "volatile" || $0 == "fsync=volatile" }
    }

    /// The file system's own options of the mount at `path` (overlay's lowerdir,
    /// volatile, ...); empty when nothing is mounted there. Asked of the kernel with
    /// statmount: the mount table, which the other suites change while this reads it, once
    /// missed a line. Kernels without statmount get the table, read until two reads agree.
    static func superOptions(of path: String) -> [String] {
        guard ContainerStorage.isMounted(path) else { return [] }
        var buffer = [CChar](repeating: 0, count: 64 * 1024)
        let result = clinux_mount_options(path, &buffer, buffer.count)
        if result == 0 {
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return text.split(separator: ",").map(String.init)
        }
        var previous: [String]?
        for _ in 0..<50 {
            let table = MountTable.read()
            var found: [String] = []
            for line in table.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count > 4, fields[4] == path, let separator = fields.firstIndex(of: "-"),
                    fields.index(separator, offsetBy: 3) < fields.endIndex
                else { continue }
                found = fields[fields.index(separator, offsetBy: 3)].split(separator: ",").map(String.init)
            }
            if found == previous { return found }
            previous = found
        }
        return previous ?? []
    }

    @Test func theVfsDriverCopiesTheImage() async throws {
        try await withContainerRuntime(.crun, storageDriver: .vfs) { runtime, _ in
            let container = try await runtime.createContainer(busybox(["/bin/sh", "-c", "echo changed > /bin/note; cat /bin/note"], name: "v"))
            try await runtime.startContainer("v")
            #expect(try await runtime.waitContainer("v") == 0)
            let lines = try await collect(runtime.containerLogs("v")).map(\.text)
            #expect(lines == ["changed"])
            let rootfs = runtime.storage.mountPoint(container.id)
            #expect(FileManager.default.fileExists(atPath: rootfs + "/bin/busybox"), "a copy, not a mount")
            #expect(FileManager.default.fileExists(atPath: rootfs + "/bin/note"))
            await #expect(throws: LibpodError.self) { try await runtime.containerChanges("v") }
            try await runtime.removeContainer("v")
            #expect(!FileManager.default.fileExists(atPath: rootfs))
        }
    }

    @Test(arguments: OCIRuntimeChoice.allCases) func exitCodeAndLogsKeepStreamsApart(choice: OCIRuntimeChoice) async throws {
        try await withContainerRuntime(choice) { runtime, _ in
            try await runtime.createContainer(busybox(["/bin/sh", "-c", "echo out1; echo err1 >&2; echo out2; exit 3"], name: "x"))
            try await runtime.startContainer("x")
            #expect(try await runtime.waitContainer("x") == 3)
            let all = try await collect(runtime.containerLogs("x"))
            #expect(all.filter { $0.stream == .stdout }.map(\.text) == ["out1", "out2"])
            #expect(all.filter { $0.stream == .stderr }.map(\.text) == ["err1"])
            #expect(all.allSatisfy { abs($0.time.timeIntervalSinceNow) < 120 }, "timestamps are parsed")
            let tail = try await collect(runtime.containerLogs("x", options: LogOptions(tail: 1, stderr: false)))
            #expect(tail.map(\.text) == ["out2"])
            let future = try await collect(runtime.containerLogs("x", options: LogOptions(since: Date().addingTimeInterval(60))))
            #expect(future.isEmpty)
        }
    }

    @Test(arguments: OCIRuntimeChoice.allCases) func followedLogsEndWhenTheContainerStops(choice: OCIRuntimeChoice) async throws {
        try await withContainerRuntime(choice) { runtime, _ in
            try await runtime.createContainer(busybox(["/bin/sh", "-c", "for i in 1 2 3; do echo line$i; sleep 0.1; done"], name: "f"))
            try await runtime.startContainer("f")
            let lines = try await collect(runtime.containerLogs("f", options: LogOptions(follow: true)))
            #expect(lines.map(\.text) == ["line1", "line2", "line3"])
        }
    }

    @Test(arguments: OCIRuntimeChoice.allCases) func stopUsesTheStopSignalThenKill(choice: OCIRuntimeChoice) async throws {
        try await withContainerRuntime(choice) { runtime, _ in
            // A shell that handles TERM exits with its own code.
            try await runtime.createContainer(busybox(["/bin/sh", "-c", "trap 'exit 7' TERM; while true; do sleep 0.05; done"], name: "polite"))
            try await runtime.startContainer("polite")
            try await Task.sleep(for: .milliseconds(200))
            try await runtime.stopContainer("polite", timeout: 5)
            #expect(try await runtime.container("polite").state.status == .exited)
            #expect(try await runtime.container("polite").state.exitCode == 7)
            // PID 1 ignores an unhandled TERM: after the timeout it is killed.
            try await runtime.createContainer(busybox(["/bin/sleep", "1000"], name: "stubborn"))
            try await runtime.startContainer("stubborn")
            let clock = ContinuousClock()
            let elapsed = try await clock.measure { try await runtime.stopContainer("stubborn", timeout: 1) }
            #expect(elapsed >= .milliseconds(900))
            #expect(try await runtime.container("stubborn").state.exitCode == 137)
            try await runtime.stopContainer("stubborn")  // stopping a stopped container is fine
        }
    }

    @Test(arguments: OCIRuntimeChoice.allCases) func killPauseUnpauseRestartAndIllegalTransitions(choice: OCIRuntimeChoice) async throws {
        try await withContainerRuntime(choice) { runtime, _ in
            let container = try await runtime.createContainer(busybox(["/bin/sleep", "1000"], name: "s"))
            await #expect(throws: LibpodError.invalidState(id: container.id, state: .configured, operation: "pause")) {
                try await runtime.pauseContainer("s")
            }
            try await runtime.initContainer("s")
            #expect(try await runtime.container("s").state.status == .created)
            try await runtime.startContainer("s")
            #expect(try await runtime.container("s").state.status == .running)
            await #expect(throws: LibpodError.invalidState(id: container.id, state: .running, operation: "start")) {
                try await runtime.startContainer("s")
            }
            try await runtime.pauseContainer("s")
            #expect(try await runtime.container("s").state.status == .paused)
            await #expect(throws: LibpodError.self) { try await runtime.removeContainer("s") }
            try await runtime.unpauseContainer("s")
            try await runtime.restartContainer("s", timeout: 0)
            let restarted = try await runtime.container("s")
            #expect(restarted.state.status == .running && restarted.state.restartCount == 1)
            do {
                try await runtime.removeContainer("s")
                Issue.record("removing a running container without force must fail")
            } catch {
                #expect("\(error)".contains("is running"))
            }
            try await runtime.killContainer("s", signal: SIGKILL)
            #expect(try await runtime.container("s").state.status == .exited)
            #expect(try await runtime.container("s").state.exitCode == 137)
            await #expect(throws: LibpodError.invalidState(id: container.id, state: .exited, operation: "kill")) {
                try await runtime.killContainer("s", signal: SIGTERM)
            }
        }
    }

    @Test(arguments: OCIRuntimeChoice.allCases) func queriesOnARunningContainer(choice: OCIRuntimeChoice) async throws {
        try await withContainerRuntime(choice) { runtime, _ in
            var options = busybox(["/bin/sh", "-c", "touch /created; rm /bin/cat; sleep 1000"], name: "q")
            options.labels = ["tier": "web"]
            options.resources.memory = 64 * 1024 * 1024
            try await runtime.createContainer(options)
            try await runtime.createContainer(busybox(["/bin/true"], name: "other"))
            try await runtime.startContainer("q")
            try await Task.sleep(for: .milliseconds(300))

            let top = try await runtime.topContainer("q")
            #expect(top.first == ["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"], "podman's default columns")
            #expect(top.contains { $0[7] == "sleep 1000 " && $0[1] == "1" && $0[2] == "0" && $0[0] == "root" }, "PIDs as the container sees them: \(top)")
            let chosen = try await runtime.topContainer("q", descriptors: ["pid,comm", "hpid", "%U"])
            #expect(chosen.first == ["PID", "COMMAND", "HPID", "USER"])
            let pid = try await runtime.container("q").state.pid
            #expect(chosen.contains { $0 == ["1", "sleep", String(pid), "root"] }, "\(chosen)")
            await #expect(throws: LibpodError.self) { try await runtime.topContainer("q", descriptors: ["bogus"]) }

            let stats = try await runtime.containerStats("q")
            #expect(stats.memoryUsage > 0)
            #expect(stats.memoryLimit == 64 * 1024 * 1024)
            #expect(stats.pids >= 1)

            let changes = try await runtime.containerChanges("q")
            #expect(changes.contains(ContainerChange(kind: .added, path: "/created")), "\(changes)")
            #expect(changes.contains(ContainerChange(kind: .deleted, path: "/bin/cat")), "\(changes)")
            #expect(changes.contains(ContainerChange(kind: .changed, path: "/bin")), "\(changes)")

            #expect(try await runtime.listContainers(filters: [.status(.running)]).map(\.name) == ["q"])
            #expect(try await runtime.listContainers(filters: [.label("tier", "web")]).map(\.name) == ["q"])
            #expect(try await runtime.listContainers(filters: [.label("tier", "db")]).isEmpty)
            #expect(try await runtime.listContainers(filters: [.ancestor("busybox")]).count == 2)
            #expect(try await runtime.listContainers(filters: [.name("oth")]).map(\.name) == ["other"])
            #expect(try await runtime.listContainers(filters: [try ContainerFilter(parsing: "status=configured")]).map(\.name) == ["other"])
            #expect(throws: LibpodError.self) { try ContainerFilter(parsing: "colour=red") }

            let inspection = try await runtime.inspectContainer("q")
            #expect(inspection.container.state.pid > 0)
            #expect(inspection.ociRuntimeName == choice.rawValue)
            #expect(FileManager.default.fileExists(atPath: inspection.bundlePath + "/config.json"))
            #expect(try await runtime.containerExists(String(inspection.container.id.prefix(10))))
            await #expect(throws: LibpodError.self) { try await runtime.topContainer("other") }
        }
    }

    @Test(arguments: OCIRuntimeChoice.allCases) func createOptionsReachTheContainer(choice: OCIRuntimeChoice) async throws {
        try await withContainerRuntime(choice) { runtime, scratch in
            let shared = scratch.root + "/shared"
            try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
            try "from host\n".write(toFile: shared + "/in.txt", atomically: true, encoding: .utf8)
            var options = busybox(["/bin/sh", "-c", """
                echo "env=$GREETING"; echo "cwd=$(pwd)"; echo "id=$(id -u):$(id -g)"; echo "host=$(hostname)"
                cat /mnt/in.txt
                if touch /rootfs-write 2>/dev/null; then echo rw; else echo ro; fi
                echo "interfaces=$(grep -c : /proc/net/dev)"
                """], name: "opts")
            options.env = ["GREETING=hello"]
            options.workingDir = "/tmp"
            options.user = "1000:1000"
            options.hostname = "box"
            options.readOnlyRootfs = true
            options.mounts = [BindMount(source: shared, destination: "/mnt")]
            options.network = .none
            try await runtime.createContainer(options)
            try await runtime.startContainer("opts")
            let code = try await runtime.waitContainer("opts")
            let lines = try await collect(runtime.containerLogs("opts")).map(\.text)
            #expect(code == 0, "\(lines)")
            #expect(lines.contains("env=hello"))
            #expect(lines.contains("cwd=/tmp"))
            #expect(lines.contains("id=1000:1000"))
            #expect(lines.contains("host=box"))
            #expect(lines.contains("from host"))
            #expect(lines.contains("ro"))
            #expect(lines.contains("interfaces=1"), "network none: only the loopback interface (\(lines))")
        }
    }

    @Test(arguments: OCIRuntimeChoice.allCases) func securityResourceAndFileOptionsReachTheContainer(choice: OCIRuntimeChoice) async throws {
        try await withContainerRuntime(choice) { runtime, scratch in
            let envFile = scratch.root + "/env"
            try "# a comment\nFROM_FILE=yes\n\nOVERRIDDEN=file\n".write(toFile: envFile, atomically: true, encoding: .utf8)
            let labelFile = scratch.root + "/labels"
            try "team=core\n".write(toFile: labelFile, atomically: true, encoding: .utf8)
            var options = busybox(["/bin/sh", "-c", """
                grep -E '^(CapEff|NoNewPrivs):' /proc/self/status
                echo "nofile=$(ulimit -n)"
                echo "forward=$(cat /proc/sys/net/ipv4/ip_forward)"
                echo "oom=$(cat /proc/self/oom_score_adj)"
                echo "groups=$(id -G)"
                echo "env=$FROM_FILE/$OVERRIDDEN/$PATH"
                grep -E ' /scratch | /dev/shm ' /proc/mounts | cut -d' ' -f2,3,4
                grep -E 'nameserver|search|options' /etc/resolv.conf
                grep registry /etc/hosts
                ls -l /dev/quiet | cut -c1
                """], name: "more")
            options.security.capDrop = ["CAP_CHOWN"]
            options.security.capAdd = ["CAP_NET_ADMIN"]
            options.security.noNewPrivileges = true
            options.security.groupAdd = ["10"]
            options.ulimits = [Ulimit(name: "nofile", soft: 512, hard: 1024)]
            options.sysctls = ["net.ipv4.ip_forward": "1"]
            options.resources.oomScoreAdj = 500
            options.resources.cpuPeriod = 100_000
            options.resources.cpuQuota = 50_000
            options.envFiles = [envFile]
            options.env = ["OVERRIDDEN=env", "PATH", "UNSET_IN_IMAGE"]
            options.labelFiles = [labelFile]
            options.labels = ["tier": "web"]
            options.annotations = ["org.example.note": "kept"]
            options.tmpfs = [TmpfsMount(destination: "/scratch", options: ["rw", "size=1m"])]
            options.shmSize = 2 << 20
            options.nameResolution.dnsServers = ["192.0.2.53"]
            options.nameResolution.dnsSearch = ["example.test"]
            options.nameResolution.dnsOptions = ["ndots:2"]
            options.nameResolution.extraHosts = ["registry:192.0.2.10"]
            options.devices = [DeviceMapping(hostPath: "/dev/null", containerPath: "/dev/quiet", permissions: "rw")]
            let created = try await runtime.createContainer(options)
            #expect(created.config.labels == ["team": "core", "tier": "web"])
            #expect(!created.config.env.contains { $0.hasPrefix("UNSET_IN_IMAGE") }, "a bare name the image does not set is dropped")
            try await runtime.startContainer("more")
            let code = try await runtime.waitContainer("more")
            let lines = try await collect(runtime.containerLogs("more")).map(\.text)
            #expect(code == 0, "\(lines)")
            // CAP_NET_ADMIN (bit 12) in, CAP_CHOWN (bit 0) out of podman's default set.
            let effective = lines.first { $0.hasPrefix("CapEff:") }.flatMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) } ?? 0
            #expect(effective & (1 << 12) != 0 && effective & 1 == 0, "\(lines)")
            #expect(lines.contains("NoNewPrivs:\t1"))
            #expect(lines.contains("nofile=512"))
            #expect(lines.contains("forward=1"))
            #expect(lines.contains("oom=500"))
            #expect(lines.contains { $0.hasPrefix("groups=") && $0.split(separator: " ").contains("10") }, "\(lines)")
            #expect(lines.contains("env=yes/env//usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), "\(lines)")
            #expect(lines.contains { $0.hasPrefix("/scratch tmpfs") && $0.contains("size=1024k") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("/dev/shm tmpfs") && $0.contains("size=2048k") }, "\(lines)")
            #expect(lines.contains("nameserver 192.0.2.53"))
            #expect(lines.contains("search example.test"))
            #expect(lines.contains("options ndots:2"))
            #expect(lines.contains("192.0.2.10\tregistry"))
            #expect(lines.contains("c"), "the device node is there: \(lines)")
            let spec = try String(contentsOfFile: await runtime.inspectContainer("more").bundlePath + "/config.json", encoding: .utf8)
            #expect(spec.contains("\"org.example.note\":\"kept\""))
            #expect(spec.contains("\"quota\":50000"))
        }
    }

    @Test func restartPoliciesActOnExitsButNotOnStops() async throws {
        try await withContainerRuntime(.crun) { runtime, _ in
            var failing = busybox(["/bin/sh", "-c", "exit 3"], name: "failing")
            failing.restartPolicy = RestartPolicy(name: .onFailure, maximumRetries: 2)
            var always = busybox(["/bin/sleep", "1000"], name: "always")
            always.restartPolicy = RestartPolicy(name: .always)
            var succeeding = busybox(["/bin/true"], name: "succeeding")
            succeeding.restartPolicy = RestartPolicy(name: .onFailure)
            for options in [failing, always, succeeding] {
                try await runtime.createContainer(options)
                try await runtime.startContainer(options.name)
            }
            // on-failure:2 restarts a failing container twice, then leaves it exited.
            for _ in 0..<100 {
                await runtime.reapExitedContainers()
                let state = try await runtime.container("failing").state
                if state.status == .exited && state.restartCount == 2 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            await runtime.reapExitedContainers()
            let failed = try await runtime.container("failing").state
            #expect(failed.status == .exited && failed.restartCount == 2 && failed.exitCode == 3, "\(failed)")
            // A zero exit is not a failure.
            _ = try await runtime.waitContainer("succeeding")
            await runtime.reapExitedContainers()
            #expect(try await runtime.container("succeeding").state.restartCount == 0)
            // always: a crash is restarted, a stop is respected.
            let first = try await runtime.container("always").state.pid
            kill(first, SIGKILL)
            for _ in 0..<100 {
                await runtime.reapExitedContainers()
                let state = try await runtime.container("always").state
                if state.status == .running && state.restartCount == 1 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let restarted = try await runtime.container("always").state
            #expect(restarted.status == .running && restarted.restartCount == 1 && restarted.pid != first, "\(restarted)")
            try await runtime.stopContainer("always", timeout: 0)
            await runtime.reapExitedContainers()
            try await Task.sleep(for: .milliseconds(200))
            await runtime.reapExitedContainers()
            #expect(try await runtime.container("always").state.status == .exited, "stopped by the user: left stopped")
        }
    }

    @Test func healthchecksTrackPassesFailuresAndTimeouts() async throws {
        try await withContainerRuntime(.crun) { runtime, _ in
            var options = busybox(["/bin/sleep", "1000"], name: "checked")
            options.healthcheck = HealthcheckConfig(test: ["CMD-SHELL", "test -e /tmp/ok && echo fine"], interval: 0, timeout: 5, retries: 2)
            try await runtime.createContainer(options)
            await #expect(throws: LibpodError.self) { try await runtime.runHealthcheck("checked") }
            try await runtime.startContainer("checked")
            #expect(runtime.health(of: try await runtime.containerID("checked"))?.status == .starting)
            // One failure is not yet unhealthy with two retries; the second is.
            var result = try await runtime.runHealthcheck("checked")
            #expect(!result.passed && result.health.status == .starting && result.health.failingStreak == 1)
            result = try await runtime.runHealthcheck("checked")
            #expect(!result.passed && result.health.status == .unhealthy && result.health.log.count == 2)
            // A pass makes it healthy and ends the streak; the output is kept.
            let id = try await runtime.containerID("checked")
            let inspection = try await runtime.inspectContainer(id)
            #expect(FileManager.default.createFile(atPath: inspection.rootfsPath + "/tmp/ok", contents: Data()))
            result = try await runtime.runHealthcheck("checked")
            #expect(result.passed && result.health.status == .healthy && result.health.failingStreak == 0)
            #expect(result.health.log.last?.output == "fine\n")

            var slow = busybox(["/bin/sleep", "1000"], name: "slow")
            slow.healthcheck = HealthcheckConfig(test: ["CMD", "/bin/sleep", "10"], interval: 0, timeout: 0.5, retries: 1)
            try await runtime.createContainer(slow)
            try await runtime.startContainer("slow")
            let started = ContinuousClock.now
            let timedOut = try await runtime.runHealthcheck("slow")
            #expect(ContinuousClock.now - started < .seconds(5), "the timeout ends the check")
            #expect(!timedOut.passed && timedOut.health.status == .unhealthy && timedOut.health.log.last?.exitCode == -1)

            var scheduled = busybox(["/bin/sleep", "1000"], name: "scheduled")
            scheduled.healthcheck = HealthcheckConfig(test: ["CMD", "/bin/true"], interval: 1, timeout: 5)
            try await runtime.createContainer(scheduled)
            try await runtime.startContainer("scheduled")
            await runtime.runDueHealthchecks()
            #expect(runtime.health(of: try await runtime.containerID("scheduled"))?.status == .healthy, "due at once after the start")
            await runtime.runDueHealthchecks()
            #expect(runtime.health(of: try await runtime.containerID("scheduled"))?.log.count == 1, "not due again within the interval")
        }
    }

    @Test func invalidOptionsAreRefusedByName() async throws {
        try await withContainerRuntime(.runc) { (runtime: Runtime, _: ScratchDirectories) async throws in
            func refused(_ change: (inout ContainerCreateOptions) -> Void, mentions text: String) async {
                var options = busybox(["/bin/true"])
                change(&options)
                do throws(LibpodError) {
                    _ = try await runtime.createContainer(options)
                    Issue.record("expected \(text) to be refused")
                } catch {
                    #expect(error.description.contains(text), "\(error)")
                }
            }
            await refused({ $0.env = ["=novalue"] }, mentions: "env")
            await refused({ $0.resources.memory = 1024 }, mentions: "memory")
            await refused({ $0.resources.memorySwap = 1 << 30 }, mentions: "memory-swap")
            await refused({ $0.ulimits = [Ulimit(name: "bogus", soft: 1, hard: 1)] }, mentions: "ulimit")
            await refused({ $0.ulimits = [Ulimit(name: "nofile", soft: 9, hard: 1)] }, mentions: "soft limit")
            await refused({ $0.sysctls = ["vm.swappiness": "1"] }, mentions: "not namespaced")
            await refused({ $0.devices = [DeviceMapping(hostPath: "/etc/passwd", containerPath: "/dev/x")] }, mentions: "device")
            await refused({ $0.security.capAdd = ["NET_ADMIN"] }, mentions: "capability")
            await refused({ $0.autoRemove = true; $0.restartPolicy = RestartPolicy(name: .always) }, mentions: "restart")
            await refused({ $0.envFiles = ["/nonexistent/env"] }, mentions: "env file")
            await refused({ $0.initPath = "/nonexistent/init" }, mentions: "init-path")
            await refused({ $0.workingDir = "relative" }, mentions: "workdir")
            await refused({ $0.mounts = [BindMount(source: "/nonexistent", destination: "/x")] }, mentions: "mount")
            await refused({ $0.mounts = [BindMount(source: "/tmp", destination: "/../etc")] }, mentions: "mount")
            await refused({ $0.name = "../evil" }, mentions: "invalid name")
            await refused({ $0.image = "nosuchimage" }, mentions: "nosuchimage")
            await refused({ $0.stopSignal = 99 }, mentions: "stop-signal")
            let remaining = try await runtime.containers()
            #expect(remaining.isEmpty, "nothing of a refused create is left")
        }
    }

    @Test(arguments: OCIRuntimeChoice.allCases) func containersOutliveTheRuntimeThatStartedThem(choice: OCIRuntimeChoice) async throws {
        try await withContainerRuntime(choice) { runtime, scratch in
            try await runtime.createContainer(busybox(["/bin/sh", "-c", "sleep 0.5; exit 4"], name: "durable"))
            try await runtime.startContainer("durable")
            try await runtime.shutdown()

            let again = try await Runtime.create(configFile: .none) {
                $0.staticDir = scratch.staticDir
                $0.tmpDir = scratch.tmpDir
                $0.runtimePath = ["/nonexistent"] + OCIRuntimeChoice.allCases.flatMap(\.paths)
            }
            #expect(!again.didRefresh)
            #expect(try await again.container("durable").state.status == .running)
            #expect(try await again.waitContainer("durable") == 4, "the exit file written while no runtime watched is found")
            try await again.removeContainer("durable")
            try await again.shutdown()
        }
    }

    @Test(arguments: OCIRuntimeChoice.allCases) func simulatedRebootLeavesEveryContainerRight(choice: OCIRuntimeChoice) async throws {
        try await withContainerRuntime(choice) { runtime, scratch in
            try await runtime.createContainer(busybox(["/bin/sleep", "1000"], name: "was-running"))
            try await runtime.startContainer("was-running")
            try await runtime.createContainer(busybox(["/bin/true"], name: "was-created"))
            try await runtime.initContainer("was-created")
            try await runtime.createContainer(busybox(["/bin/true"], name: "never-started"))
            let running = try await runtime.container("was-running")
            let created = try await runtime.container("was-created")
            try await runtime.shutdown()

            // The power goes: every process and mount of the last boot is gone, and so is
            // the runtime's per-boot state (the OCI runtime's, the exit files).
            for container in [running, created] {
                kill(container.state.conmonPID, SIGKILL)
                kill(container.state.pid, SIGKILL)
            }
            try await Task.sleep(for: .milliseconds(200))
            for container in [running, created] { umount2(container.state.mountPoint, Int32(MNT_DETACH)) }
            try? FileManager.default.removeItem(atPath: scratch.tmpDir)

            let after = try await Runtime.create(configFile: .none) {
                $0.staticDir = scratch.staticDir
                $0.tmpDir = scratch.tmpDir
                $0.runtimePath = choice.paths
            }
            #expect(after.didRefresh)
            #expect(try await after.container("was-running").state.status == .exited)
            #expect(try await after.container("was-created").state.status == .configured)
            #expect(try await after.container("never-started").state.status == .configured)
            #expect(try await after.container("was-running").state.pid == 0)
            // And they work again.
            try await after.startContainer("was-created")
            #expect(try await after.waitContainer("was-created") == 0)
            try await after.removeContainer("was-running")
            for container in try await after.containers() { try await after.removeContainer(container.id, force: true) }
            try await after.shutdown()
        }
    }

    @Test func aProcessKilledWhileHoldingTheLockBlocksNothing() async throws {
        try await withContainerRuntime(.runc) { runtime, scratch in
            let container = try await runtime.createContainer(busybox(["/bin/true"], name: "victim"))
            let holder = try ChildProcess.start([helperPath, "hold-lock", scratch.staticDir, scratch.tmpDir, container.id])
            try await Task.sleep(for: .milliseconds(500))
            kill(holder.process.processIdentifier, SIGKILL)
            await holder.stop()
            // Interrupted in the middle of a removal: the record says so, and removing again works.
            var removing = container.state
            removing.status = .removing
            try await runtime.state.save(removing, id: container.id)
            try await runtime.removeContainer("victim")
            try await runtime.createContainer(busybox(["/bin/true"], name: "victim"))
        }
    }
}
