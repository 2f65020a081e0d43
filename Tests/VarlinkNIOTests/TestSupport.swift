import Foundation
import Testing
import Varlink
import VarlinkNIO

#if canImport(Glibc)
import Glibc
#endif

/// Whether a test may skip for a missing dependency: never under CI, where a missing
/// dependency is a failure.
enum Environment {
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// The first executable named `name` on PATH or in the usual places.
    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// A binary this package builds, next to the test bundle.
    static func builtProduct(_ name: String) -> String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidate = bundle.appending(path: name).path
        if access(candidate, X_OK) != 0 {
            // Under some runners argv[0] is the xctest helper; fall back to the build dir.
            candidate = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appending(path: ".build/debug/\(name)").path
        }
        return candidate
    }

    static let pythonVarlink: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import varlink"]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    /// Records why a peer test cannot run: an issue under CI, a skip note elsewhere.
    /// Returns true when the test should go on.
    static func require(_ available: Bool, _ what: String) -> Bool {
        if available { return true }
        if isCI {
            Issue.record("missing dependency under CI: \(what) (run scripts/setup)")
        } else {
            print("skipping: \(what) is not installed (run scripts/setup)")
        }
        return false
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A unique short socket path (sun_path holds 107 bytes).
func temporarySocketPath(_ tag: String = "t") -> String {
    let directory = "/tmp/podlink-tests"
    mkdir(directory, 0o755)
    return "\(directory)/\(tag)-\(getpid())-\(UInt32.random(in: 0 ... .max)).sock"
}

/// A test server on a fresh socket, stopped when `body` returns.
func withServer<T: Sendable>(
    _ service: VarlinkService,
    address: VarlinkAddress? = nil,
    configure: (inout VarlinkServer.Configuration) -> Void = { _ in },
    _ body: (VarlinkAddress, VarlinkServer) async throws -> T
) async throws -> T {
    let address = address ?? .unix(path: temporarySocketPath(), mode: nil)
    var configuration = VarlinkServer.Configuration()
    configuration.shutdownGracePeriod = .milliseconds(200)
    configure(&configuration)
    let server = VarlinkServer(service: service, configuration: configuration)
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

/// A blocking raw-socket client: what the conformance tests use, so that they test the
/// server and not our own client.
/// Unchecked Sendable: a test uses one client from one task at a time.
final class RawClient: @unchecked Sendable {
    let descriptor: Int32

    init(path: String, receiveTimeout: Double = 20) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
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
