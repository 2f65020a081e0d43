import Foundation
import Glibc
import ProcessSpawn
import Synchronization

/// What `exec` runs, and how.
public struct ExecOptions: Sendable {
    public var command: [String]
    public var tty = false
    public var privileged = false
    /// "", a name, a UID, `user:group`; the container's own when empty.
    public var user: String?
    /// The container's own when empty.
    public var workingDirectory: String?
    /// `NAME=value`, over the container's environment.
    public var environment: [String] = []
    /// podman's notation; nil or "" for ctrl-p,ctrl-q.
    public var detachKeys: String?

    public init(command: [String]) {
        self.command = command
    }
}

/// Exec sessions, as podman runs them: each is a conmon of its own (`--exec`) in a
/// directory under the container's run dir (`exec/SESSION`, per boot), which conmon
/// fills with its attach socket, control FIFO and exit file; the runtime runs the process
/// in the container. A session exists while its directory does.
extension Runtime {
    func execDirectory(_ id: String) -> String { runDirectory(id) + "/exec" }

    /// The exec sessions of a container that have not ended.
    public func execSessions(_ id: String) -> [String] {
        FileSystem.list(execDirectory(id)).filter { ContainerNaming.isFullID($0) }.sorted()
    }

    /// Runs a command in a running container, attached to `io`, until it exits, the
    /// caller detaches (the process runs on, and is cleaned up when it ends) or the caller
    /// goes away (the process is killed: nothing is left of it).
    public func exec(_ idOrName: String, _ options: ExecOptions, io: ProcessIO) async throws(LibpodError) -> AttachOutcome {
        try checkValid()
        guard !options.command.isEmpty else { throw .invalidArgument("exec needs a command to run") }
        let detachKeys = try DetachKeys(parsing: options.detachKeys)
        let container = try await self.container(idOrName)
        guard container.state.status == .running else {
            throw .invalidState(id: container.id, state: container.state.status, operation: "exec into; start it first")
        }
        let session = try await startExecSession(container, options)
        let control = session.directory + "/ctl"
        let ending = await AttachPump.run(session.streams, io: io, detachKeys: detachKeys, resize: { ControlFIFO.resize(control, width: $0, height: $1) })
        switch ending {
        case .outputEnded:
            let code = await session.exitCode()
            session.remove()
            return .exited(code)
        case .callerGone:
            // An attached exec belongs to its caller: without one it is killed.
            kill(session.pid, SIGKILL)
            _ = await session.exitCode()
            session.remove()
            return .callerGone
        case .detached:
            Task.detached {
                _ = await session.exitCode()
                session.remove()
            }
            return .detached
        }
    }

    /// Starts the session's conmon and process. With a terminal the process's streams go
    /// through conmon's attach socket, connected before the process runs (so none of its
    /// output is lost); without one conmon hands the process pipes of the daemon's own
    /// (`-l passthrough`), with nothing relaying in between. A command that cannot be run
    /// is an `execFailed` error carrying podman's exit code for it (126, 127).
    private func startExecSession(_ container: Container, _ options: ExecOptions) async throws(LibpodError) -> ExecSession {
        let id = container.id
        let sessionID = ContainerNaming.newID()
        let directory = execDirectory(id) + "/" + sessionID
        try FileSystem.ensureDirectory(directory + "/exit", mode: 0o700)
        var pipes: [(parent: Int32, child: Int32)] = []
        do throws(LibpodError) {
            let specPath = directory + "/process.json"
            try FileSystem.writeAtomically(specPath, try execProcess(container, options), mode: 0o600)
            // Sync and start; and attach, for a terminal.
            for _ in 0..<(options.tty ? 3 : 2) {
                var ends: [Int32] = [0, 0]
                guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
                    throw FileSystem.failure("making a socket pair for conmon", directory)
                }
                pipes.append((ends[0], ends[1]))
            }
            let passthrough = options.tty ? nil : try ExecPipes()
            let runtime = ociCommand(for: container)
            var arguments = [
                conmon.path, "--api-version", "-c", id, "-u", sessionID, "-r", runtime.path, "-b", directory,
                "-p", directory + "/exec_pid", "-n", container.name, "--exit-dir", directory + "/exit", "--full-attach",
                "-l", passthrough == nil ? "none" : "passthrough", "--log-level", "warning",
            ]
            for argument in runtime.globalArguments { arguments += ["--runtime-arg", argument] }
            // Input is always open; it ends when the caller says so (at once for a caller
            // with nothing to send).
            arguments += options.tty ? ["-t", "-i", "-e", "--exec-attach"] : ["-e"]
            arguments += ["--exec-process-spec", specPath]
            var descriptors = [(pipes[0].child, Int32(3)), (pipes[1].child, Int32(4))]
            var environment = config.conmonEnvVars + ["_OCI_SYNCPIPE=3", "_OCI_STARTPIPE=4"]
            if options.tty {
                descriptors.append((pipes[2].child, 5))
                environment.append("_OCI_ATTACHPIPE=5")
            }
            if let passthrough {
                descriptors += [(passthrough.childEnds.stdin, 0), (passthrough.childEnds.stdout, 1), (passthrough.childEnds.stderr, 2)]
            }
            let pid: pid_t
            do {
                pid = try ProcessSpawn.spawn(
                    arguments, descriptors: descriptors, environment: environment, scrubbing: ["LISTEN_", "NOTIFY_SOCKET"],
                    workingDirectory: directory)
            } catch {
                passthrough?.releaseChildEnds()
                throw .helperFailed(program: "conmon (\(conmon.path))", cause: "\(error)")
            }
            passthrough?.releaseChildEnds()
            for pipe in pipes { close(pipe.child) }
            let session = ExecSession(
                directory: directory, containerID: id, sync: pipes[0].parent, start: pipes[1].parent, attach: options.tty ? pipes[2].parent : -1)
            pipes = []
            do throws(LibpodError) {
                // conmon forks its monitor once told to start, then its first process exits.
                session.signalStart()
                let status = await ProcessSpawn.waitForExit(pid)
                guard status == 0 else { throw LibpodError.conmon(container: id, message: "exited with status \(status) setting up an exec session") }
                if let passthrough {
                    session.streams = passthrough
                } else {
                    guard let ready = await session.readMessage(session.attachPipe), ready.data == 0 else {
                        throw LibpodError.conmon(container: id, message: "did not make the exec session's attach socket")
                    }
                    session.streams = try AttachSocket(path: directory + "/attach")
                    // The process starts now, with us connected.
                    session.signalStart()
                }
                let started = await session.readMessage(session.syncPipe)
                guard let started, started.data > 0 else {
                    // Without a relay the runtime's complaint is on the process's own stderr.
                    let message = started?.message ?? passthrough?.drainStandardError() ?? ""
                    let text = message.trimmingCharacters(in: .whitespacesAndNewlines)
                    throw LibpodError.execFailed(
                        container: id, command: options.command, exitCode: Self.execExitCode(forFailure: text),
                        message: text.isEmpty ? "the OCI runtime gave no reason" : text)
                }
                session.pid = started.data
                record(Event(type: .container, status: "exec", id: id, name: container.name))
                return session
            } catch {
                session.remove()
                throw error
            }
        } catch {
            for pipe in pipes {
                close(pipe.parent)
                close(pipe.child)
            }
            bestEffort("removing the exec session \(sessionID.prefix(12))") { () throws(LibpodError) in try FileSystem.removeTree(directory) }
            throw error
        }
    }

    /// podman's exit codes for a command the runtime could not run: 126 when it is not
    /// executable, 127 when it does not exist, 125 otherwise.
    static func execExitCode(forFailure message: String) -> Int32 {
        let text = message.lowercased()
        if text.contains("permission denied") || text.contains("operation not permitted") { return 126 }
        if text.contains("executable file not found") || text.contains("no such file or directory") || text.contains("not found in $path") {
            return 127
        }
        return 125
    }

    /// The exec's OCI process: the container's, with the command, terminal, environment,
    /// directory, user and capabilities the session asks for.
    private func execProcess(_ container: Container, _ options: ExecOptions) throws(LibpodError) -> [UInt8] {
        let path = bundleDirectory(container.id) + "/config.json"
        guard let bytes = try FileSystem.read(path) else { throw .damaged(what: "the container's spec \(path) is missing", advice: "remove the container and create it again") }
        var process: OCISpec.Process
        do {
            process = try JSONDecoder().decode(OCISpec.self, from: Data(bytes)).process
        } catch {
            throw .damaged(what: "the container's spec \(path) cannot be read (\(error))", advice: "remove the container and create it again")
        }
        process.args = options.command
        process.terminal = options.tty
        var environment = process.env
        for entry in options.environment {
            let name = entry.prefix { $0 != "=" }
            environment.removeAll { $0.prefix { $0 != "=" } == name }
            environment.append(entry)
        }
        process.env = environment
        if let directory = options.workingDirectory, !directory.isEmpty {
            guard directory.hasPrefix("/") else { throw .invalidArgument("the working directory \"\(directory)\" must be an absolute path") }
            process.cwd = directory
        }
        if let user = options.user, !user.isEmpty {
            let resolved = try ResolvedUser.resolve(user, rootfs: container.state.mountPoint)
            process.user = OCISpec.User(uid: resolved.uid, gid: resolved.gid, additionalGids: resolved.additionalGids.isEmpty ? nil : resolved.additionalGids)
        }
        if options.privileged {
            let all = OCISpecBuilder.allCapabilities
            process.capabilities = .init(bounding: all, effective: all, permitted: all)
            process.noNewPrivileges = false
        }
        do {
            return Array(try JSONEncoder().encode(process))
        } catch {
            throw .encoding(what: "an exec session's process", cause: "\(error)")
        }
    }
}

/// One exec session's conmon pipes and attach socket.
final class ExecSession: @unchecked Sendable {
    let directory: String
    let containerID: String
    let syncPipe: Int32
    let startPipe: Int32
    let attachPipe: Int32
    /// Set once while starting, before the session is shared.
    var streams: (any SessionStreams)!
    var pid: Int32 = 0
    private let removed = Atomic<Bool>(false)

    init(directory: String, containerID: String, sync: Int32, start: Int32, attach: Int32) {
        self.directory = directory
        self.containerID = containerID
        syncPipe = sync
        startPipe = start
        attachPipe = attach
    }

    func signalStart() {
        var byte: UInt8 = 0
        _ = write(startPipe, &byte, 1)
    }

    struct Message {
        var data: Int32
        var message: String?
    }

    /// The next `{"data": N[, "message": "..."]}` conmon sends on `pipe`; nil at its end.
    func readMessage(_ pipe: Int32) async -> Message? {
        await ProcessSpawn.onThread {
            var buffer = [UInt8](repeating: 0, count: 16384)
            let count = buffer.withUnsafeMutableBytes { read(pipe, $0.baseAddress, $0.count) }
            guard count > 0,
                let object = try? JSONSerialization.jsonObject(with: Data(buffer[0..<count])) as? [String: Any],
                let data = object["data"] as? Int
            else { return nil }
            return Message(data: Int32(truncatingIfNeeded: data), message: object["message"] as? String)
        }
    }

    /// The process's exit code: conmon's second message on the sync pipe, else its exit
    /// file; -1 when neither says.
    func exitCode() async -> Int32 {
        if let message = await readMessage(syncPipe), message.message == nil { return message.data }
        let path = directory + "/exit/" + containerID
        for _ in 0..<100 {
            if let text = (try? FileSystem.readString(path)) ?? nil, let code = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return code
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return -1
    }

    /// Ends the session: its pipes and socket, and its directory.
    func remove() {
        guard !removed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        streams?.hangUp()
        for pipe in [syncPipe, startPipe, attachPipe] where pipe >= 0 { close(pipe) }
        try? FileSystem.removeTree(directory)
    }
}
