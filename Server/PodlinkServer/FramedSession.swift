import Libpod
import PodmanStreams
import Varlink

/// An attached session on an upgraded connection, in podman 1.x's frames: the client's
/// stdin, hang-up and resize frames become the session's input; its output goes out as
/// stdout (0) and stderr (2) frames; the exit code ends it (4). After the exit frame the
/// connection stays open, read and discarded, until the client closes it: podman-remote
/// may still be sending input, and a close under it would fail its write.
enum FramedSession {
    /// How long the connection waits for its client to close after the exit frame.
    static let lingerAfterExit: Duration = .seconds(30)

    /// Runs `body` with the session's input and output, then sends the exit code it
    /// returns (nil: the client is gone, nothing to send).
    static func serve(_ raw: VarlinkRawConnection, _ body: @Sendable (ProcessIO, _ writeError: @Sendable (String) async -> Void) async -> Int32?) async throws {
        let (input, continuation) = AsyncStream<SessionInput>.makeStream()
        let reader = Task {
            var frames = StreamFrameReader()
            do {
                for try await chunk in raw.inbound {
                    // The stdin bytes of one read go on as one piece (fewer hand-offs for a
                    // client that streams); whole frames of a few bytes stay apart, since
                    // typed keys are where detach keys are looked for.
                    var input: [UInt8] = []
                    // One allocation for the read's stdin, not one per growth.
                    input.reserveCapacity(chunk.count)
                    func flush() {
                        if !input.isEmpty { continuation.yield(.data(input)) }
                        input = []
                    }
                    try frames.consume(chunk) { piece in
                        switch piece {
                        case .data(.stdin, let bytes, let whole):
                            if whole && bytes.count <= 4 {
                                flush()
                                continuation.yield(.data(Array(bytes)))
                            } else {
                                input += bytes
                            }
                        case .data:
                            // The server's own streams: a client has nothing to say on them.
                            break
                        case .control(let frame):
                            flush()
                            switch frame.stream {
                            case .hangUp: continuation.yield(.end)
                            case .resize:
                                if let size = frame.terminalSize { continuation.yield(.resize(width: size.width, height: size.height)) }
                            default: break
                            }
                        }
                    }
                    flush()
                }
            } catch {
                // A broken frame or a broken connection: the session has lost its client.
            }
            continuation.finish()
        }
        let output: @Sendable (SessionOutput) async throws -> Void = { piece in
            // Header and payload apart: the payload is not copied into a frame first.
            switch piece {
            case .stdout(let bytes):
                try await raw.write(StreamFrame.header(.stdout, length: bytes.count))
                try await raw.write(bytes)
            case .stderr(let bytes):
                try await raw.write(StreamFrame.header(.stderr, length: bytes.count))
                try await raw.write(bytes)
            }
        }
        let writeError: @Sendable (String) async -> Void = { message in
            try? await raw.write(StreamFrame(.stderr, Array("Error: \(message)\n".utf8)).encoded)
        }
        let code = await body(ProcessIO(input: input, output: output), writeError)
        guard let code else {
            reader.cancel()
            return
        }
        try await raw.write(StreamFrame.exit(code).encoded)
        // Until the client closes, or for a while.
        let linger = Task {
            try? await Task.sleep(for: lingerAfterExit)
            reader.cancel()
        }
        _ = await reader.value
        linger.cancel()
    }
}
