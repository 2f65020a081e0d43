import Libpod
import PodlinkInterfaces
import Varlink

/// Attach, AttachControl, GetAttachSockets and ExecContainer: sessions on upgraded
/// connections (FramedSession). Everything that can be refused is refused before the
/// upgrade, as a varlink error; what fails after it is told on stderr and ends with
/// exit code 125.
extension PodmanService {
    public func execContainer(_ parameters: IoPodman.Methods.ExecContainer.Parameters, call: VarlinkCall<IoPodman.Methods.ExecContainer.Reply>) async throws -> IoPodman.Methods.ExecContainer.Reply {
        try call.requireUpgrade()
        let opts = parameters.opts
        guard !opts.cmd.isEmpty else { throw invalid("opts.cmd is empty; give the command to run") }
        let id = try await withContainer(opts.name) { id in
            let container = try await self.runtime.container(id)
            guard container.state.status == .running else {
                throw LibpodError.invalidState(id: id, state: container.state.status, operation: "exec into; start it first")
            }
            return id
        }
        var options = ExecOptions(command: opts.cmd)
        options.tty = opts.tty
        options.privileged = opts.privileged
        options.user = opts.user
        options.workingDirectory = opts.workdir
        options.environment = opts.env ?? []
        options.detachKeys = opts.detachKeys
        for entry in options.environment where !entry.contains("=") || entry.hasPrefix("=") {
            throw invalid("opts.env: \"\(entry)\" is not NAME=value")
        }
        let runtime = self.runtime
        let execOptions = options
        let reply = IoPodman.Methods.ExecContainer.Reply()
        try await call.upgrade(confirming: reply) { raw in
            try await FramedSession.serve(raw) { io, writeError in
                do throws(LibpodError) {
                    return Self.exitCode(of: try await runtime.exec(id, execOptions, io: io))
                } catch {
                    if case .execFailed(_, _, let code, let message) = error {
                        await writeError(message.trimmingCharacters(in: .whitespacesAndNewlines))
                        return code
                    }
                    await writeError(error.description)
                    return 125
                }
            }
        }
        return reply
    }

    public func attach(_ parameters: IoPodman.Methods.Attach.Parameters, call: VarlinkCall<IoPodman.Methods.Attach.Reply>) async throws -> IoPodman.Methods.Attach.Reply {
        try call.requireUpgrade()
        let id = try await withContainer(parameters.name) { id in
            let container = try await self.runtime.container(id)
            guard parameters.start || container.state.status == .running else {
                throw LibpodError.invalidState(id: id, state: container.state.status, operation: "attach to; start it first, or attach with start")
            }
            return id
        }
        let runtime = self.runtime
        let reply = IoPodman.Methods.Attach.Reply()
        try await call.upgrade(confirming: reply) { raw in
            try await FramedSession.serve(raw) { io, writeError in
                do throws(LibpodError) {
                    return Self.exitCode(of: try await runtime.attach(id, start: parameters.start, io: io, detachKeys: parameters.detachKeys))
                } catch {
                    await writeError(error.description)
                    return 125
                }
            }
        }
        return reply
    }

    /// A connection that carries only resize frames for the container's terminal.
    public func attachControl(_ parameters: IoPodman.Methods.AttachControl.Parameters, call: VarlinkCall<IoPodman.Methods.AttachControl.Reply>) async throws -> IoPodman.Methods.AttachControl.Reply {
        try call.requireUpgrade()
        let control = try await withContainer(parameters.name) { id in runtime.attachSockets(id).control }
        let reply = IoPodman.Methods.AttachControl.Reply()
        try await call.upgrade(confirming: reply) { raw in
            try await FramedSession.serve(raw) { io, _ in
                for await input in io.input {
                    if case .resize(let width, let height) = input { runtime.resizeTerminal(control: control, width: width, height: height) }
                }
                return nil
            }
        }
        return reply
    }

    public func getAttachSockets(_ parameters: IoPodman.Methods.GetAttachSockets.Parameters, call: VarlinkCall<IoPodman.Methods.GetAttachSockets.Reply>) async throws -> IoPodman.Methods.GetAttachSockets.Reply {
        try await withContainer(parameters.name) { id in
            let sockets = runtime.attachSockets(id)
            return .init(sockets: IoPodman.Sockets(containerId: id, ioSocket: sockets.io, controlSocket: sockets.control))
        }
    }

    /// What the client's exit code is: the process's, or 0 for a detach (podman's CLI
    /// exits 0 then too); nil when the client is gone.
    static func exitCode(of outcome: AttachOutcome) -> Int32? {
        switch outcome {
        case .exited(let code): code
        case .detached: 0
        case .callerGone: nil
        }
    }
}
