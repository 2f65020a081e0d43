import Glibc
import ProcessSpawn

/// A process's streams as the daemon holds them: conmon's attach socket (a session with
/// a terminal), or pipes of the process's own (an exec session without one). Blocking:
/// used from threads of their own, never from a task thread.
protocol SessionStreams: Sendable {
    /// The next output, waiting for it; nil at the end (or after `hangUp`).
    func receive(limit: Int) -> SessionChunk?
    /// Sends input; false once the process's input is gone.
    func send(_ bytes: [UInt8]) -> Bool
    /// Ends the process's input.
    func endInput()
    /// Wakes whatever waits on the streams; they are given up.
    func hangUp()
}

/// A piece of a process's output, by stream.
enum SessionChunk: Sendable {
    case stdout([UInt8])
    case stderr([UInt8])
}

/// Moves a session's bytes between the process's streams and the caller: output from a
/// reader thread, input to a writer thread (the streams block; task threads must not),
/// resizes to `resize`. Runs until the process's output ends, the caller types the
/// detach keys, or the caller goes away.
enum AttachPump {
    private enum Write: Sendable {
        case data([UInt8])
        case end
    }

    enum Ending: Sendable {
        /// conmon closed the socket: the process exited (its code is conmon's to tell).
        case outputEnded
        case detached
        case callerGone
    }

    static func run(
        _ socket: any SessionStreams, io: ProcessIO, detachKeys: DetachKeys, resize: @escaping @Sendable (Int, Int) -> Void
    ) async -> Ending {
        let output = ThreadToTaskBridge<SessionChunk?>(capacity: 16)
        ProcessSpawn.detachThread {
            while let packet = socket.receive(limit: 1 << 20) {
                guard output.put(packet) else { return }
            }
            _ = output.put(nil)
        }
        let writes = TaskToThreadBridge<Write>()
        ProcessSpawn.detachThread {
            while let (work, done) = writes.take() {
                switch work {
                case .data(let bytes): done(socket.send(bytes))
                case .end:
                    socket.endInput()
                    done(true)
                }
            }
        }
        defer {
            writes.cancelQueued()
            output.finish()
        }

        return await withTaskGroup(of: Ending.self) { group in
            group.addTask {
                while let packet = await output.next() {
                    guard let packet else { return .outputEnded }
                    do {
                        switch packet {
                        case .stdout(let bytes): try await io.output(.stdout(bytes))
                        case .stderr(let bytes): try await io.output(.stderr(bytes))
                        }
                    } catch {
                        return .callerGone
                    }
                }
                return .outputEnded
            }
            group.addTask {
                var matcher = DetachKeyMatcher(detachKeys)
                for await input in io.input {
                    switch input {
                    case .data(let bytes):
                        let (forward, detach) = matcher.scan(bytes)
                        if !forward.isEmpty, !(await writes.submit(.data(forward))) { continue }
                        if detach { return .detached }
                    case .end:
                        _ = await writes.submit(.end)
                    case .resize(let width, let height):
                        resize(width, height)
                    }
                }
                return .callerGone
            }
            let first = await group.next() ?? .callerGone
            group.cancelAll()
            // The input side may wait on a caller that sends nothing: end it.
            socket.hangUp()
            output.finish()
            writes.cancelQueued()
            return first
        }
    }
}

/// conmon's control FIFO: `1 ROWS COLUMNS\n` resizes the terminal. conmon 2.1.6 applies
/// only the first of several messages read together, so each goes in a write of its own.
enum ControlFIFO {
    static func resize(_ path: String, width: Int, height: Int) {
        guard width > 0, height > 0 else { return }
        let descriptor = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let message = Array("1 \(height) \(width)\n".utf8)
        _ = message.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
}
