import Foundation
import NIOPosix
import PodlinkTestSupport
import Testing
import Varlink
import VarlinkNIO

#if canImport(Glibc)
import Glibc
#endif

/// A test server on a fresh socket, stopped when `body` returns.
func withServer<T: Sendable>(
    _ service: VarlinkService,
    address: VarlinkAddress? = nil,
    configure: (inout VarlinkServer.Configuration) -> Void = { _ in },
    group: MultiThreadedEventLoopGroup = .singleton,
    _ body: (VarlinkAddress, VarlinkServer) async throws -> T
) async throws -> T {
    let address = address ?? .unix(path: temporarySocketPath(), mode: nil)
    var configuration = VarlinkServer.Configuration()
    configuration.shutdownGracePeriod = .milliseconds(200)
    configure(&configuration)
    let server = VarlinkServer(service: service, configuration: configuration, group: group)
    let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            // Finishing `ready` on every exit path: a server that fails to bind must not
            // leave the test waiting forever.
            defer { readyContinuation.finish() }
            try await server.run(on: .address(address)) { readyContinuation.finish() }
        }
        for await _ in ready {}
        do {
            let result = try await body(address, server)
            server.shutdown()
            try await group.waitForAll()
            return result
        } catch {
            server.shutdown()
            try? await group.waitForAll()
            throw error
        }
    }
}

/// The socket file of a unix address; empty for any other.
func path(_ address: VarlinkAddress) -> String {
    if case .unix(let path, _) = address { return path }
    return ""
}

/// A blocking raw-socket client: what the conformance tests use, so that they test the
/// server and not our own client.
/// Unchecked Sendable: a test uses one client from one task at a time.
final class RawClient: @unchecked Sendable {
    let descriptor: Int32

    init(path: String, receiveTimeout: Double = 20) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        let result = withUnixSocketAddress(path) { Glibc.connect(descriptor, $0, $1) }
        guard result == 0 else { throw TestFailure("connect \(path): errno \(errno)") }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - Double(Int(receiveTimeout))) * 1e6))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    func send(_ text: String) {
        send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            offset += written
        }
    }

    /// Sends `text` followed by the NUL terminator.
    func call(_ text: String) {
        send(Array(text.utf8) + [0])
    }

    private var buffer: [UInt8] = []

    enum Received: Equatable {
        case message(String)
        /// The server closed the connection.
        case closed
        /// Nothing arrived within the receive timeout.
        case timeout
    }

    /// The next message (without its NUL), or what happened instead. The blocking read
    /// runs on a plain thread: blocking a task thread would starve the server under test,
    /// which runs on the same small pool.
    func receive() async -> Received {
        await withCheckedContinuation { continuation in
            // A thread of its own: on Linux, dispatch's global queues share their few
            // workers with the task pool, so blocking one of them starves it too.
            Thread { continuation.resume(returning: self.receiveBlocking()) }.start()
        }
    }

    /// Makes `count` calls one after another from a thread of its own, each sent as soon
    /// as the previous reply is in: a client calling back to back.
    func callBackToBack(_ text: String, count: Int) async -> [Received] {
        await withCheckedContinuation { continuation in
            Thread {
                var received: [Received] = []
                for _ in 0..<count {
                    self.call(text)
                    received.append(self.receiveBlocking())
                }
                continuation.resume(returning: received)
            }.start()
        }
    }

    private func receiveBlocking() -> Received {
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let message = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeSubrange(...end)
                return .message(message)
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { return .closed }
            if count < 0 { return errno == EAGAIN || errno == EWOULDBLOCK ? .timeout : .closed }
            buffer += chunk[..<count]
        }
    }

    /// Every byte until the server closes the connection (or the receive timeout), for
    /// an upgraded connection, which is no longer NUL-framed.
    func receiveUntilClosed() async -> [UInt8] {
        await withCheckedContinuation { continuation in
            Thread {
                var received = self.buffer
                self.buffer = []
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = chunk.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress, $0.count, 0) }
                    if count <= 0 { break }
                    received += chunk[..<count]
                }
                continuation.resume(returning: received)
            }.start()
        }
    }

    /// The bytes up to and including the first `terminator`, for a raw answer that is
    /// followed by varlink again (as a bounded upgrade's).
    func receive(through terminator: UInt8) async -> [UInt8]? {
        await withCheckedContinuation { continuation in
            Thread {
                while true {
                    if let end = self.buffer.firstIndex(of: terminator) {
                        let answer = Array(self.buffer[...end])
                        self.buffer.removeSubrange(...end)
                        return continuation.resume(returning: answer)
                    }
                    var chunk = [UInt8](repeating: 0, count: 65536)
                    let count = chunk.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress, $0.count, 0) }
                    if count <= 0 { return continuation.resume(returning: nil) }
                    self.buffer += chunk[..<count]
                }
            }.start()
        }
    }

    /// Shuts down the sending side: the server reads end-of-file.
    func shutdownWrite() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// The next message, parsed.
    func receiveReply(sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let received = await receive()
        guard case .message(let text) = received else {
            Issue.record("expected a reply, got \(received)", sourceLocation: sourceLocation)
            throw TestFailure("no reply: \(received)")
        }
        return try JSONValue(parsing: text)
    }
}
