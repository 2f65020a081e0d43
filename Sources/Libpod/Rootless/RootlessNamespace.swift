import Foundation
import Glibc
import ProcessSpawn

/// The user namespace a rootless user's podlinkd and containers share, held open by a
/// pause process as podman's is: every daemon the user starts joins it, so containers
/// outlive daemons and a new daemon sees their overlay mounts. After a reboot (the pause
/// process is gone with the runtime directory) the next daemon makes it again.
///
/// The executable that calls `enter` must link CRootlessEntry, whose constructor does
/// the two steps that need a single-threaded process (unshare and setns).
public struct RootlessNamespace: Sendable {
    public var uid: uid_t
    public var gid: gid_t
    /// `$XDG_RUNTIME_DIR/podlink`: the pause process's pid file and its lock.
    public var runtimeDirectory: String
    public var subuidFile = "/etc/subuid"
    public var subgidFile = "/etc/subgid"

    public init(uid: uid_t = getuid(), gid: gid_t = getgid(), runtimeDirectory: String) {
        self.uid = uid
        self.gid = gid
        self.runtimeDirectory = runtimeDirectory
    }

    /// For the calling user: the directory from XDG_RUNTIME_DIR by the seed's rule.
    public static func forCurrentUser(environment: [String: String] = RuntimeConfig.processEnvironment()) throws(LibpodError)
        -> RootlessNamespace
    {
        let base = try RootlessRuntimeDirectory.find(uid: getuid(), environment: environment)
        return RootlessNamespace(runtimeDirectory: base + "/podlink")
    }

    public var pidFile: String { runtimeDirectory + "/pause.pid" }
    private var lockFile: String { runtimeDirectory + "/pause.lock" }

    /// What the namespace maps: the user, then its subordinate ranges; only the user when
    /// it has none (`singleID`), which serves images whose files all belong to root.
    public struct Plan: Sendable, Equatable {
        public var uidMappings: [IDMapping]
        public var gidMappings: [IDMapping]
        public var singleID: Bool { uidMappings.count == 1 }
    }

    public func plan() throws(LibpodError) -> Plan {
        let name = SubordinateIDs.userName(uid)
        let uids = SubordinateIDs.parse(FileSystem.text(subuidFile), name: name, id: uid)
        let gids = SubordinateIDs.parse(FileSystem.text(subgidFile), name: name, id: gid)
        if uids.isEmpty != gids.isEmpty {
            throw .config(ConfigError(
                file: uids.isEmpty ? subuidFile : subgidFile,
                message: "user \(name ?? String(uid)) has subordinate ids in only one of \(subuidFile) and \(subgidFile); "
                    + "add a line \(name ?? String(uid)):START:COUNT to the other (as `usermod --add-subuids/--add-subgids` does)"))
        }
        return Plan(uidMappings: uids.mappings(hostID: uid), gidMappings: gids.mappings(hostID: gid))
    }

    /// The running pause process's pid, or nil.
    public func runningPauseProcess() -> pid_t? {
        guard let text = (try? FileSystem.readString(pidFile)) ?? nil,
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
        else { return nil }
        return Self.isPauseProcess(pid, uid: uid) ? pid : nil
    }

    /// Ours, alive, and named as the entry names it: a reused pid is not taken for it.
    static func isPauseProcess(_ pid: pid_t, uid: uid_t) -> Bool {
        var info = stat()
        guard stat("/proc/\(pid)", &info) == 0, info.st_uid == uid else { return false }
        return FileSystem.text("/proc/\(pid)/comm").hasPrefix("podlink-pause")
    }

    /// The pause process, made when there is none (under a lock, so that two daemons
    /// starting at once make one); `made` is the plan it was made with, nil when found.
    public func ensurePauseProcess() async throws(LibpodError) -> (pid: pid_t, made: Plan?) {
        try FileSystem.ensureDirectory(runtimeDirectory, mode: 0o700)
        let lock = try FileLock.acquireBlocking(path: lockFile)
        defer { lock.release() }
        if let pid = runningPauseProcess() { return (pid, nil) }
        let plan = try plan()
        // Killed while containers ran, the pause process leaves their namespace to their
        // conmon processes: a new one joins it, so the containers stay visible (their
        // mounts, their state); otherwise (after a reboot) a new namespace is made.
        let pid = try await startPauseProcess(plan, joining: namespaceHolder())
        try FileSystem.writeAtomically(pidFile, Array("\(pid)\n".utf8), mode: 0o600)
        return (pid, plan)
    }

    /// A conmon of ours still running in a user namespace other than this process's:
    /// what holds the namespace of a pause process that was killed.
    func namespaceHolder() -> pid_t? {
        let ownNamespace = Self.namespaceLink("self")
        for id in FileSystem.list(runtimeDirectory + "/containers") {
            guard let text = (try? FileSystem.readString(runtimeDirectory + "/containers/" + id + "/conmon.pid")) ?? nil,
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
            else { continue }
            var info = stat()
            guard stat("/proc/\(pid)", &info) == 0, info.st_uid == uid,
                FileSystem.text("/proc/\(pid)/comm").hasPrefix("conmon"),
                let namespace = Self.namespaceLink(String(pid)), namespace != ownNamespace
            else { continue }
            return pid
        }
        return nil
    }

    private static func namespaceLink(_ process: String) -> String? { FileSystem.readLink("/proc/\(process)/ns/user") }

    /// Starts our own executable as the pause process (the entry's `_PODLINK_PAUSE`),
    /// maps its ids once it has unshared (or lets it join `holder`'s namespaces), then
    /// lets it go on.
    private func startPauseProcess(_ plan: Plan, joining holder: pid_t?) async throws(LibpodError) -> pid_t {
        var ready: [Int32] = [-1, -1]
        var go: [Int32] = [-1, -1]
        guard let pipe2 = LinuxCalls.pipe2, pipe2(&ready, O_CLOEXEC) == 0 else { throw FileSystem.failure("making a pipe for", "the pause process") }
        guard pipe2(&go, O_CLOEXEC) == 0 else {
            close(ready[0]); close(ready[1])
            throw FileSystem.failure("making a pipe for", "the pause process")
        }
        defer { for descriptor in ready + go where descriptor >= 0 { close(descriptor) } }
        let executable = Self.ownExecutable()
        let pid: pid_t
        do {
            pid = try ProcessSpawn.spawn(
                [executable], descriptors: [(ready[1], 3), (go[0], 4)],
                environment: ["_PODLINK_PAUSE=3,4"] + (holder.map { ["_PODLINK_PAUSE_JOIN=\($0)"] } ?? []))
        } catch {
            throw .helperFailed(program: executable, cause: "starting the pause process: \(error)")
        }
        close(ready[1]); ready[1] = -1
        close(go[0]); go[0] = -1
        // The child is not waited for: it lives on as the pause process (its parent, this
        // daemon, is replaced by exec at once, and init reaps it in the end).
        var status: UInt8 = 255
        guard read(ready[0], &status, 1) == 1, status == 0 else {
            kill(pid, SIGKILL)
            _ = ProcessSpawn.blockingWait(pid)
            let cause = status == 255 ? "it ended before making its namespace" : String(cString: strerror(Int32(status)))
            if let holder {
                throw .helperFailed(program: executable, cause: "the pause process could not join the namespace of conmon \(holder): \(cause)")
            }
            throw .unsupported(
                feature: "a user namespace (unshare: \(cause))",
                advice: "rootless containers need user namespaces: check that the sysctl user.max_user_namespaces is not 0 "
                    + "(and kernel.unprivileged_userns_clone is 1 where it exists)")
        }
        do throws(LibpodError) {
            if holder == nil { try await writeMappings(plan, pid: pid) }
        } catch {
            kill(pid, SIGKILL)
            _ = ProcessSpawn.blockingWait(pid)
            throw error
        }
        var byte: UInt8 = 1
        guard write(go[1], &byte, 1) == 1 else { throw FileSystem.failure("releasing", "the pause process") }
        return pid
    }

    /// newuidmap and newgidmap (setuid, from the uidmap package) for subordinate ranges;
    /// the single-id mapping a user may write itself.
    private func writeMappings(_ plan: Plan, pid: pid_t) async throws(LibpodError) {
        if plan.singleID {
            try Self.writeProcFile("/proc/\(pid)/uid_map", "0 \(uid) 1\n")
            try Self.writeProcFile("/proc/\(pid)/setgroups", "deny\n")
            try Self.writeProcFile("/proc/\(pid)/gid_map", "0 \(gid) 1\n")
            return
        }
        for (tool, mappings) in [("newuidmap", plan.uidMappings), ("newgidmap", plan.gidMappings)] {
            guard let path = ExecutableDiscovery.search(tool) else {
                throw .executableNotFound(
                    kind: tool, tried: [],
                    advice: "install the uidmap package (apt-get install uidmap): \(tool) maps the subordinate ids of \(subuidFile) and \(subgidFile)")
            }
            let arguments = [String(pid)] + mappings.flatMap { [String($0.inside), String($0.outside), String($0.count)] }
            let output = try await ProcessRunner.run(path, arguments)
            guard output.succeeded else {
                throw .helperFailed(
                    program: "\(tool) \(arguments.joined(separator: " "))",
                    cause: output.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
                        + " (check the user's lines in \(subuidFile) and \(subgidFile), and that \(path) is setuid root)")
            }
        }
    }

    private static func writeProcFile(_ path: String, _ text: String) throws(LibpodError) {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystem.failure("opening", path) }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count else { throw FileSystem.failure("writing", path) }
    }

    static func ownExecutable() -> String { FileSystem.readLink("/proc/self/exe") ?? "/proc/self/exe" }

    /// Replaces this process by itself joined to the pause process's namespaces (the
    /// entry's `_PODLINK_JOIN_USERNS`), with the same arguments and environment.
    /// Returns only when exec failed.
    public func execJoined(pausePID pid: pid_t, arguments: [String]) -> LibpodError {
        let executable = Self.ownExecutable()
        var environment = RuntimeConfig.processEnvironment().filter { $0.key != "_PODLINK_JOIN_USERNS" }
        environment["_PODLINK_JOIN_USERNS"] = String(pid)
        let entries = environment.map { "\($0.key)=\($0.value)" }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = entries.map { strdup($0) } + [nil]
        execve(executable, &argv, &envp)
        let code = errno
        for pointer in argv + envp { free(pointer) }
        return FileSystem.failure("re-executing podlinkd in the rootless namespace:", executable, code)
    }
}
