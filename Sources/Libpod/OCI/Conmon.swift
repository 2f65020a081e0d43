import Foundation
import Glibc
import ProcessSpawn

/// Starts a container under conmon: conmon runs the OCI runtime's `create`, then stays
/// as the container's parent (so the container outlives whoever started it), writes its
/// log and, when it exits, its exit code to `exits/ID`.
struct ConmonLauncher: Sendable {
    let conmonPath: String
    let runtime: OCIRuntimeCommand
    let exitsDir: String
    let socketDir: String
    let logLevel = "info"
    let maxLogSize: Int64
    let noPivotRoot: Bool
    /// conmon_env_vars from the config: conmon's whole environment besides what we add.
    let environment: [String]

    struct Started {
        var pid: Int32
        var conmonPID: Int32
    }

    /// Creates the container in the runtime (state "created") and returns its PID.
    /// `heldDescriptors` are given to conmon to keep open for as long as the container
    /// lives (reserved host ports); the OCI runtime closes them for the container itself.
    func create(
        config: ContainerConfig, bundle: String, runDir: String, logPath: String, heldDescriptors: [Int32] = []
    ) async throws(LibpodError) -> Started {
        var fds: [Int32] = [0, 0]
        // A socket pair rather than a pipe: it is created close-on-exec atomically (Glibc's
        // module has no pipe2), so no child spawned meanwhile by another task inherits it.
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw FileSystem.failure("creating conmon's sync socket", "")
        }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer { close(readEnd) }

        var arguments = [
            conmonPath, "--api-version", "1", "-c", config.id, "-u", config.id, "-r", runtime.path,
            "-b", bundle, "-p", runDir + "/pidfile", "-n", config.name, "--exit-dir", exitsDir,
            "-l", config.log.driver == .none ? "none:" : "k8s-file:" + logPath, "--log-level", logLevel,
            "--conmon-pidfile", runDir + "/conmon.pid",
            "--socket-dir-path", socketDir,
        ]
        for argument in runtime.globalArguments + ["--log-format=json", "--log=\(runDir)/oci.log"] {
            arguments += ["--runtime-arg", argument]
        }
        // A terminal carries input by itself; a pipe for it only when asked (podman's -t
        // or -i, never both: conmon closes a piped input when any attached client goes).
        if config.tty {
            arguments.append("-t")
        } else if config.openStdin {
            arguments.append("-i")
        }
        let logLimit = config.log.maxSize ?? maxLogSize
        if logLimit > 0 { arguments += ["--log-size-max", String(logLimit)] }
        if let tag = config.log.tag { arguments += ["--log-tag", tag] }
        if noPivotRoot { arguments.append("--no-pivot") }

        let pid: pid_t
        do {
            // NOTIFY_SOCKET and LISTEN_* describe the daemon, not the container: conmon and
            // the runtime must not see them (crun would notify systemd on the container's behalf).
            pid = try ProcessSpawn.spawn(
                arguments, descriptors: [(writeEnd, 3)] + heldDescriptors.enumerated().map { ($0.element, Int32(4 + $0.offset)) },
                environment: environment + ["_OCI_SYNCPIPE=3"],
                scrubbing: ["LISTEN_", "NOTIFY_SOCKET"])
        } catch {
            close(writeEnd)
            throw .helperFailed(program: "conmon (\(conmonPath))", cause: "\(error)")
        }
        close(writeEnd)
        // conmon's first process exits as soon as it has forked the monitor; the monitor
        // writes the container's PID (or an error) to the sync pipe once `create` is done.
        let parentStatus = await ProcessSpawn.waitForExit(pid)
        let reply = await ProcessSpawn.onThread { Self.readFirstMessage(readEnd) }
        guard let message = Self.parse(reply) else {
            let ociLog = (try? FileSystem.readString(runDir + "/oci.log")) ?? nil
            let detail = ociLog.map { OCIRuntimeCommand.errorText($0) } ?? "no message"
            throw .conmon(container: config.id, message: "exited with status \(parentStatus) before the container was created: \(detail)")
        }
        guard message.pid > 0 else {
            throw .ociRuntime(runtime: runtime.name, operation: "create", container: config.id, message: message.text ?? "no message")
        }
        let conmonPID = ((try? FileSystem.readString(runDir + "/conmon.pid")) ?? nil).flatMap { Int32($0.filter(\.isNumber)) } ?? 0
        return Started(pid: message.pid, conmonPID: conmonPID)
    }

    /// Reads until the first message is complete: conmon keeps the socket open after it
    /// (it would report the exit there too), so waiting for EOF would wait for the exit.
    private static func readFirstMessage(_ descriptor: Int32) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while parse(result) == nil {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            result += buffer[0..<count]
        }
        return result
    }

    /// `{"data": PID}` or `{"data": -1, "message": "..."}`: the first object that parses.
    private static func parse(_ bytes: [UInt8]) -> (pid: Int32, text: String?)? {
        var end = bytes.startIndex
        while let brace = bytes[end...].firstIndex(of: UInt8(ascii: "}")) {
            if let object = try? JSONSerialization.jsonObject(with: Data(bytes[...brace])) as? [String: Any],
                let data = object["data"] as? Int
            {
                return (Int32(truncatingIfNeeded: data), object["message"] as? String)
            }
            end = brace + 1
        }
        return nil
    }
}
