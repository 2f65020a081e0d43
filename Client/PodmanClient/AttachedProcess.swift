import Foundation
import PodlinkInterfaces
import Synchronization
import PodmanStreams
import Varlink
import VarlinkNIO

/// A process in a container whose input and output run over an upgraded connection:
/// an exec session or an attached container. Its output arrives in `output` (stdout and
/// stderr kept apart); its input is written with `write` and ended with `closeInput`;
/// `exitCode` waits for the end. A terminal's size goes with `resize`.
///
/// ```swift
/// let process = try await podman.exec("web", command: ["sh", "-c", "echo hi; exit 3"])
/// for try await chunk in process.output { FileHandle.standardOutput.write(Data(chunk.bytes)) }
/// let code = try await process.exitCode()   // 3
/// ```
public final class AttachedProcess: Sendable {
    /// A piece of the process's output.
    public enum Output: Sendable, Equatable {
        case stdout([UInt8])
        case stderr([UInt8])

        public var bytes: [UInt8] {
            switch self {
            case .stdout(let bytes), .stderr(let bytes): bytes
            }
        }
    }

    /// The process's output, in the order it came, until it exits (or the session ends).
    public let output: AsyncThrowingStream<Output, any Error>
    private let outgoing: AsyncStream<StreamFrame>.Continuation
    private let exit: Task<Int32, any Error>

    init(
        output: AsyncThrowingStream<Output, any Error>, outgoing: AsyncStream<StreamFrame>.Continuation, exit: Task<Int32, any Error>
    ) {
        self.output = output
        self.outgoing = outgoing
        self.exit = exit
    }

    /// Sends bytes to the process's input, in frames of at most 256 KiB (the daemon cuts
    /// them to what conmon takes in one piece where conmon relays them).
    public func write(_ bytes: some Sequence<UInt8>) {
        let bytes = Array(bytes)
        for start in stride(from: 0, to: bytes.count, by: Self.frameSize) {
            outgoing.yield(StreamFrame(.stdin, Array(bytes[start..<min(start + Self.frameSize, bytes.count)])))
        }
    }

    static let frameSize = 256 << 10

    /// Ends the process's input: it reads end-of-file.
    public func closeInput() {
        outgoing.yield(.hangUp)
    }

    /// Tells the process's terminal its new size.
    public func resize(width: Int, height: Int) {
        outgoing.yield(.resize(width: width, height: height))
    }

    /// The process's exit code, once it exits. A session that detached (the detach keys)
    /// ends with -1: the process runs on.
    public func exitCode() async throws -> Int32 {
        try await exit.value
    }

    /// Ends the session from this side: the connection closes (the process runs on).
    public func cancel() {
        exit.cancel()
    }

    /// Runs an upgraded call whose connection then carries podman's frames, on a
    /// connection of its own.
    static func start(
        address: VarlinkAddress, interactive: Bool,
        call: @escaping @Sendable (IoPodman.Client, @escaping @Sendable (VarlinkRawConnection) async throws -> Int32) async throws -> Int32
    ) async throws -> AttachedProcess {
        let connection = try await VarlinkConnection.connect(to: address)
        let (output, outputContinuation) = AsyncThrowingStream<Output, any Error>.makeStream()
        let (outgoing, outgoingContinuation) = AsyncStream<StreamFrame>.makeStream()
        // A process that is given no input reads end-of-file at once, not when the session ends.
        if !interactive { outgoingContinuation.yield(.hangUp) }
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let upgraded = Mutex(false)
        let exit = Task { () async throws -> Int32 in
            defer {
                outgoingContinuation.finish()
                startedContinuation.finish()
            }
            do {
                let code = try await call(IoPodman.Client(transport: connection)) { raw in
                    upgraded.withLock { $0 = true }
                    startedContinuation.finish()
                    return try await pump(raw, outgoing: outgoing, output: outputContinuation)
                }
                outputContinuation.finish()
                await connection.close()
                return code
            } catch {
                outputContinuation.finish(throwing: error)
                await connection.close()
                throw error
            }
        }
        // Until the call is confirmed or refused; a refusal (no such container, not
        // running) is thrown here, not from the output later.
        for await _ in started {}
        if !upgraded.withLock({ $0 }) { _ = try await exit.value }
        return AttachedProcess(output: output, outgoing: outgoingContinuation, exit: exit)
    }

    /// Frames in both directions until the exit frame; returns the exit code.
    private static func pump(
        _ raw: VarlinkRawConnection, outgoing: AsyncStream<StreamFrame>, output: AsyncThrowingStream<Output, any Error>.Continuation
    ) async throws -> Int32 {
        try await withThrowingTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for await frame in outgoing {
                    try await raw.write(StreamFrame.header(frame.stream, length: frame.payload.count))
                    try await raw.write(frame.payload)
                }
                return nil
            }
            group.addTask {
                var frames = StreamFrameReader()
                for try await chunk in raw.inbound {
                    var exit: Int32?
                    try frames.consume(chunk) { piece in
                        switch piece {
                        case .data(.stdout, let bytes, _): output.yield(.stdout(Array(bytes)))
                        case .data(.stderr, let bytes, _): output.yield(.stderr(Array(bytes)))
                        case .control(let frame) where frame.stream == .exit: exit = frame.exitCode ?? -1
                        default: break
                        }
                    }
                    if let exit { return exit }
                }
                throw PodmanClientError("the session ended without an exit code")
            }
            while let result = try await group.next() {
                if let code = result {
                    group.cancelAll()
                    return code
                }
            }
            throw PodmanClientError("the session ended without an exit code")
        }
    }
}
