import Foundation

/// The OCI runtime's subcommands (crun and runc take the same ones), each run to
/// completion with the runtime's state kept under tmp_dir, apart from podman's.
struct OCIRuntimeCommand: Sendable {
    /// The runtime binary.
    let path: String
    /// `--root`: where the runtime keeps its own state for our containers.
    let stateRoot: String
    let environment: [String: String]

    var name: String { String(path.split(separator: "/").last ?? "") }

    /// Global options, placed before the subcommand (also handed to conmon).
    var globalArguments: [String] { ["--root=\(stateRoot)"] }

    private func run(_ arguments: [String], what: String, id: String) async throws(LibpodError) -> ProcessOutput {
        let output = try await ProcessRunner.run(path, globalArguments + arguments, environment: environment)
        guard output.succeeded else {
            let reason = Self.errorText(output.standardError)
            throw .ociRuntime(runtime: name, operation: what, container: id, message: reason)
        }
        return output
    }

    func start(_ id: String) async throws(LibpodError) {
        _ = try await run(["start", id], what: "start", id: id)
    }

    func kill(_ id: String, signal: Int32, all: Bool = false) async throws(LibpodError) {
        _ = try await run(["kill"] + (all ? ["--all"] : []) + [id, String(signal)], what: "kill", id: id)
    }

    func pause(_ id: String) async throws(LibpodError) {
        _ = try await run(["pause", id], what: "pause", id: id)
    }

    func resume(_ id: String) async throws(LibpodError) {
        _ = try await run(["resume", id], what: "resume", id: id)
    }

    /// Runs `command` in the running container and collects what it prints, for at most
    /// `timeout` (nil when it took longer). The container's own exec sessions, with their
    /// terminals and streams, go through conmon instead.
    func exec(
        _ id: String, command: [String], environment: [String], user: ResolvedUser, workingDirectory: String, timeout: Duration
    ) async throws(LibpodError) -> ProcessOutput? {
        var arguments = globalArguments + ["exec", "--user", "\(user.uid):\(user.gid)", "--cwd", workingDirectory.isEmpty ? "/" : workingDirectory]
        for entry in environment { arguments += ["--env", entry] }
        arguments.append(id)
        arguments += command
        return try await ProcessRunner.run(path, arguments, environment: self.environment, timeout: timeout)
    }

    /// Deletes the container from the runtime; a container the runtime does not know is
    /// already deleted.
    func delete(_ id: String, force: Bool = false) async throws(LibpodError) {
        let output = try await ProcessRunner.run(path, globalArguments + ["delete"] + (force ? ["--force"] : []) + [id], environment: environment)
        if output.succeeded { return }
        let text = output.standardError.lowercased()
        if text.contains("does not exist") || text.contains("not found") || text.contains("no such") { return }
        throw .ociRuntime(runtime: name, operation: "delete", container: id, message: Self.errorText(output.standardError))
    }

    /// The runtime's view: "created", "running", "paused", "stopped"; nil when unknown to it.
    func status(_ id: String) async throws(LibpodError) -> String? {
        let output = try await ProcessRunner.run(path, globalArguments + ["state", id], environment: environment)
        guard output.succeeded else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(output.standardOutput.utf8)) as? [String: Any] else {
            return nil
        }
        return object["status"] as? String
    }

    /// The runtimes print JSON log lines or plain text; either way the message is what matters.
    static func errorText(_ standardError: String) -> String {
        let lines = standardError.split(separator: "\n").map(String.init)
        let messages = lines.compactMap { line -> String? in
            if let data = line.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let message = object["msg"] as? String
            {
                return message
            }
            return line.isEmpty ? nil : line
        }
        return messages.isEmpty ? "no error output" : messages.joined(separator: "; ")
    }
}
