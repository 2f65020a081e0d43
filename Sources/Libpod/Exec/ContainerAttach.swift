/// Attaching to a container's main process through its conmon's attach socket.
extension Runtime {
    /// Attaches `io` to the container's process until it exits, the caller detaches or
    /// goes away (the container runs on in both cases). With `start`, a container that
    /// is not running is created in the runtime, attached to, and only then started: its
    /// first output is not lost. The exit code is the container's (a container removed on
    /// exit is removed before this returns).
    public func attach(_ idOrName: String, start: Bool, io: ProcessIO, detachKeys: String? = nil) async throws(LibpodError) -> AttachOutcome {
        try checkValid()
        let keys = try DetachKeys(parsing: detachKeys)
        let id = try await containerID(idOrName)
        var status = try await updateContainer(id) { (container: inout Container) async throws(LibpodError) -> ContainerStatus in
            try await sync(&container)
            return container.state.status
        }
        if status != .running {
            guard start else {
                throw .invalidState(id: id, state: status, operation: "attach to; start it first, or attach with start")
            }
            if status != .created { try await initContainer(id) }
            status = .created
        }
        let socket = try AttachSocket(path: bundleDirectory(id) + "/attach")
        if status == .created {
            do throws(LibpodError) {
                try await startContainer(id)
            } catch {
                socket.hangUp()
                throw error
            }
        }
        let control = bundleDirectory(id) + "/ctl"
        switch await AttachPump.run(socket, io: io, detachKeys: keys, resize: { ControlFIFO.resize(control, width: $0, height: $1) }) {
        case .outputEnded: return .exited(try await waitContainer(id, pollInterval: .milliseconds(250)))
        case .detached: return .detached
        case .callerGone: return .callerGone
        }
    }
}

extension Runtime {
    /// conmon's attach socket and control FIFO of a container (GetAttachSockets).
    public func attachSockets(_ id: String) -> (io: String, control: String) {
        (bundleDirectory(id) + "/attach", bundleDirectory(id) + "/ctl")
    }

    /// Resizes a terminal through a control FIFO of `attachSockets`.
    public func resizeTerminal(control: String, width: Int, height: Int) {
        ControlFIFO.resize(control, width: width, height: height)
    }
}
