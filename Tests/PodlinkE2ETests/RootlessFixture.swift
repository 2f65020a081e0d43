import Foundation
import Glibc
import PodlinkTestSupport
import Testing

/// An ordinary user of this machine for the rootless tests, made once (useradd) and kept:
/// `withSubordinateIDs` gives it ranges in /etc/subuid and /etc/subgid, otherwise it has
/// none (its lines are taken out), for the single-id mapping.
struct TestUser: Sendable {
    let name: String
    let uid: uid_t
    let gid: gid_t

    static let withSubordinateIDs = "podlink-rootless"
    static let withoutSubordinateIDs = "podlink-nosubids"
    /// The first subordinate id of `withSubordinateIDs`: a file of uid 1000 in its
    /// containers is this + 999 on the host.
    static let subordinateStart: UInt32 = 700_000

    static var available: Bool {
        Environment.require(geteuid() == 0, "root (the tests make a user)")
            && Environment.require(Environment.executable("useradd") != nil, "useradd (passwd)")
            && Environment.require(Environment.executable("setpriv") != nil, "setpriv (util-linux)")
            && Environment.require(Environment.executable("newuidmap") != nil, "newuidmap (uidmap)")
            && Environment.require(Environment.executable("slirp4netns") != nil, "slirp4netns")
            && Environment.require(access("/dev/net/tun", F_OK) == 0 && (Self.mode("/dev/net/tun") & 0o006) == 0o006,
                "/dev/net/tun with mode 0666 (scripts/setup gives it, as udev does)")
            && Environment.require(Environment.executable("conmon") != nil, "conmon")
            && Environment.require(Environment.executable("crun") != nil, "crun")
            && Environment.require(FileManager.default.fileExists(atPath: "/bin/busybox"), "busybox-static")
            && Environment.require(Environment.executable("ip") != nil, "iproute2")
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    /// The user, made when missing, with its subordinate ranges as asked.
    static func make(_ name: String, subordinateIDs: Bool) async throws -> TestUser {
        if getpwnam(name) == nil {
            // No home of its own: each test gives it a scratch HOME.
            let added = try await Tool.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name])
            guard added.status == 0 || getpwnam(name) != nil else { throw TestFailure("useradd \(name): \(added)") }
        }
        guard let entry = getpwnam(name) else { throw TestFailure("user \(name) is missing after useradd") }
        let user = TestUser(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
        for file in ["/etc/subuid", "/etc/subgid"] {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            // useradd may have given ranges of its own: the tests want exactly theirs.
            var lines = text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix(name + ":") }
            if subordinateIDs { lines.append("\(name):\(subordinateStart):65536") }
            let updated = lines.joined(separator: "\n") + "\n"
            if updated != text { try updated.write(toFile: file, atomically: true, encoding: .utf8) }
        }
        return user
    }
}

/// A user's podlinkd, started as that user (setpriv) inside a network namespace of the
/// test's, on the user's defaults: its data under a scratch HOME, its socket and pause
/// process under a scratch XDG_RUNTIME_DIR. `podlink` runs as the user too and finds the
/// socket by the same rule.
final class RootlessDaemon: @unchecked Sendable {
    let user: TestUser
    let root: String
    let networkNamespace: String
    var home: String { root + "/home" }
    var runtimeDir: String { root + "/run" }
    var socket: String { runtimeDir + "/podlink/io.podman" }
    var dataDir: String { home + "/.local/share/podlink" }
    /// podlink.conf in the user's standard place, when a test writes one.
    var configFile: String { home + "/.config/containers/podlink.conf" }
    private(set) var process: ChildProcess?
    private(set) var tarball = ""

    init(user: TestUser) throws {
        mkdir("/tmp/podlink-tests", 0o755)
        var template = Array("/tmp/podlink-tests/rootless-XXXXXX".utf8CString)
        root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        chmod(root, 0o755)
        networkNamespace = "podlink-" + root.split(separator: "/").last!
        self.user = user
        for (directory, mode) in [(home, mode_t(0o755)), (runtimeDir, mode_t(0o700))] {
            mkdir(directory, mode)
            chown(directory, user.uid, user.gid)
        }
    }

    /// `command` as the user, with only the environment a login would give it.
    func asUser(_ command: [String]) -> [String] {
        ["setpriv", "--reuid=\(user.uid)", "--regid=\(user.gid)", "--init-groups", "env", "-i",
         "HOME=\(home)", "XDG_RUNTIME_DIR=\(runtimeDir)", "USER=\(user.name)", "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"]
            + command
    }

    func inNetworkNamespace(_ command: [String]) -> [String] { ["nsenter", "--net=/run/netns/\(networkNamespace)"] + command }

    /// `podlink ARGUMENTS` as the user.
    func podlink(_ arguments: [String], stdin: String? = nil) async throws -> ToolOutput {
        try await Tool.run(asUser([Environment.builtProduct("podlink")] + arguments), stdin: stdin)
    }

    /// Like `podlink`, but a failure is the test's.
    @discardableResult
    func podlinkSucceeds(_ arguments: [String]) async throws -> String {
        let output = try await podlink(arguments)
        guard output.status == 0 else { throw TestFailure("podlink \(arguments.joined(separator: " ")): \(output)") }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func writeConfig(_ text: String) throws {
        let directory = home + "/.config/containers"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: configFile, atomically: true, encoding: .utf8)
        for path in [home + "/.config", directory, configFile] { chown(path, user.uid, user.gid) }
    }

    func start() async throws {
        if !FileManager.default.fileExists(atPath: "/run/netns/\(networkNamespace)") {
            let added = try await Tool.run(["ip", "netns", "add", networkNamespace])
            guard added.status == 0 else { throw TestFailure("ip netns add: \(added)") }
            _ = try await Tool.run(["ip", "-n", networkNamespace, "link", "set", "lo", "up"])
        }
        let process = try ChildProcess.start(
            inNetworkNamespace(asUser([Environment.builtProduct("podlinkd"), "--log-level", "warning"])))
        self.process = process
        try await waitUntilAccepting(socket, started: process, what: "the user's podlinkd")
    }

    /// The daemon process (the one that joined the namespace: exec keeps the pid).
    var pid: Int32? { process.map { $0.process.processIdentifier } }

    func stop() async {
        await process?.stop(grace: .seconds(20))
        process = nil
    }

    var pausePID: Int32? {
        (try? String(contentsOfFile: runtimeDir + "/podlink/pause.pid", encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Imports the busybox image (every file root's) as localhost/busybox.
    func importBusybox() async throws {
        tarball = try await TestImages.busyboxRootfsTarball(in: root, gzip: true)
        try await podlinkSucceeds(["import", tarball, "localhost/busybox"])
    }

    /// `line` of /proc/PID/status (Uid:, Gid:), fields after the name.
    static func statusFields(_ pid: Int32, _ name: String) -> [String] {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
        return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().map(String.init)
    }

    /// Mounts under the test's directories in the user's mount namespace (the pause
    /// process's), where the daemon's overlays live. (Read to the end: the namespace's
    /// table holds every mount of the host's too, and the daemon's come last.)
    func namespaceMounts() -> [String] {
        guard let pause = pausePID else { return [] }
        return MountTable.read(process: String(pause)).split(separator: "\n").map(String.init).filter { $0.contains(root) }
    }

    /// Processes of the user: the daemon, the pause process, conmon, slirp4netns and the
    /// containers' root processes (the user on the host).
    func userProcesses() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> String? in
            guard let pid = Int32(entry) else { return nil }
            var info = stat()
            guard stat("/proc/\(entry)", &info) == 0, info.st_uid == user.uid else { return nil }
            let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") ?? Data()
            return "\(pid): " + String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        }
    }

    /// Removes what the test made through the daemon (checking that nothing stays
    /// mounted), then ends every process of the user and deletes the directories.
    func tearDown() async {
        if process == nil { try? await start() }
        if process != nil {
            for pod in ((try? await podlink(["pod", "ps", "-q"]))?.stdout ?? "").split(separator: "\n") {
                _ = try? await podlink(["pod", "rm", "-f", String(pod)])
            }
            let containers = ((try? await podlink(["ps", "-aq"]))?.stdout ?? "").split(separator: "\n").map(String.init)
            if !containers.isEmpty { _ = try? await podlink(["rm", "-f"] + containers) }
            for volume in ((try? await podlink(["volume", "ls", "-q"]))?.stdout ?? "").split(separator: "\n") {
                _ = try? await podlink(["volume", "rm", "-f", String(volume)])
            }
            let mounts = namespaceMounts()
            #expect(mounts.isEmpty, "mounts outlived the containers in the user's namespace: \(mounts)")
        }
        await stop()
        // The user's pause process (and anything a failed test left) goes; the user is
        // the tests' own.
        _ = try? await Tool.run(["pkill", "-KILL", "-U", String(user.uid)])
        let deadline = ContinuousClock.now + .seconds(10)
        while !userProcesses().isEmpty, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        _ = try? await Tool.run(["ip", "netns", "delete", networkNamespace])
        try? FileManager.default.removeItem(atPath: root)
    }

    static func with(
        user name: String = TestUser.withSubordinateIDs, subordinateIDs: Bool = true, config: String? = nil,
        _ body: (RootlessDaemon) async throws -> Void
    ) async throws {
        guard TestUser.available else { return }
        let user = try await TestUser.make(name, subordinateIDs: subordinateIDs)
        let daemon = try RootlessDaemon(user: user)
        do {
            if let config { try daemon.writeConfig(config) }
            try await daemon.start()
            try await daemon.importBusybox()
            try await body(daemon)
        } catch {
            await daemon.tearDown()
            throw error
        }
        await daemon.tearDown()
    }
}
