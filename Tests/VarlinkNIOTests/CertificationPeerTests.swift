import Foundation
import Testing
import Varlink
import VarlinkCertification
import VarlinkNIO

#if canImport(Glibc)
import Glibc
#endif

/// Certification in all four directions against the reference implementations:
/// python varlink 31.0.0 and Go varlink 0.4.0, each as client and as server.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CertificationPeerTests {
    static let goCertification = Environment.executable("varlink-go-certification")

    @Test func pythonClientPassesAgainstOurServer() async throws {
        guard Environment.require(Environment.pythonVarlink, "python3 varlink 31.0.0 (pip install varlink==31.0.0)") else {
            return
        }
        let output = try await againstOurServer { address in
            ["python3", "-m", "varlink.tests.test_certification", "--client", "--varlink=\(address)"]
        }
        #expect(output.status == 0, "python client output:\n\(output.text)")
        #expect(output.text.contains("Certification passed"), "python client output:\n\(output.text)")
    }

    @Test func goClientPassesAgainstOurServer() async throws {
        guard Environment.require(Self.goCertification != nil, "varlink-go-certification (apt-get install varlink-go)"),
            let go = Self.goCertification
        else { return }
        let output = try await againstOurServer { address in [go, "-client", "-varlink", address] }
        #expect(output.status == 0, "Go client output:\n\(output.text)")
        #expect(output.text.contains("End: 'true'"), "Go client output:\n\(output.text)")
    }

    @Test func ourClientPassesAgainstThePythonServer() async throws {
        guard Environment.require(Environment.pythonVarlink, "python3 varlink 31.0.0 (pip install varlink==31.0.0)") else {
            return
        }
        let path = temporarySocketPath("py")
        try await againstPeerServer(
            ["python3", "-m", "varlink.tests.test_certification", "--varlink=unix:\(path)"],
            path: path
        )
    }

    @Test func ourClientPassesAgainstTheGoServer() async throws {
        guard Environment.require(Self.goCertification != nil, "varlink-go-certification (apt-get install varlink-go)"),
            let go = Self.goCertification
        else { return }
        let path = temporarySocketPath("go")
        try await againstPeerServer([go, "-varlink=unix:\(path)"], path: path)
    }

    @Test func ourClientPassesAgainstOurServerThroughTheExecutable() async throws {
        let path = temporarySocketPath("self")
        let client = try await PeerProcess.with([
            Environment.builtProduct("varlink-certification"), "--varlink=unix:\(path)",
        ]) {
            try await waitForSocket(path)
            return try await PeerProcess.run([
                Environment.builtProduct("varlink-certification"), "--client", "--varlink=unix:\(path)",
            ])
        }
        #expect(client.status == 0, "\(client.text)")
        #expect(client.text.contains("Certification passed"))
    }

    /// systemd-socket-activate hands the server a listening socket on fd 3.
    @Test func servesOverASocketPassedBySystemdSocketActivate() async throws {
        guard
            Environment.require(
                Environment.executable("systemd-socket-activate") != nil,
                "systemd-socket-activate (apt-get install systemd)"
            ),
            let activate = Environment.executable("systemd-socket-activate")
        else { return }
        let path = temporarySocketPath("act")
        try await PeerProcess.with([activate, "-l", path, Environment.builtProduct("varlink-certification")]) {
            try await waitForSocket(path)
            let connection = try await VarlinkConnection.connect(to: .unix(path: path, mode: nil))
            try await CertificationClient(transport: connection).run()
            await connection.close()
        }
    }

    /// `exec:` starts the server with an already connected socket on fd 3.
    @Test func servesOverAConnectedSocketPassedByExec() async throws {
        // exec: takes a program without arguments, so wrap ours in a tiny script.
        let script = "/tmp/podlink-tests/exec-cert-\(getpid()).sh"
        try "#!/bin/sh\nexec '\(Environment.builtProduct("varlink-certification"))'\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        defer { unlink(script) }
        let connection = try await VarlinkConnection.connect(to: .exec(path: script))
        try await CertificationClient(transport: connection).run()
        await connection.close()
    }

    // MARK: Helpers

    private func againstOurServer(_ command: @escaping @Sendable (String) -> [String]) async throws
        -> PeerProcess.Output
    {
        let service = VarlinkService(
            info: VarlinkServiceInfo(vendor: "Podlink", product: "Certification", version: "1", url: ""),
            interfaces: [CertificationService().varlinkInterface]
        )
        let commandLine = command
        return try await withServer(service) { address, _ in
            try await PeerProcess.run(commandLine(address.description))
        }
    }

    private func againstPeerServer(_ command: [String], path: String) async throws {
        try await PeerProcess.with(command) { try await certify(path: path) }
    }

    private func certify(path: String) async throws {
        try await waitForSocket(path)
        let connection = try await VarlinkConnection.connect(
            to: .unix(path: path, mode: nil),
            configuration: .init(callTimeout: .seconds(10))
        )
        var steps: [String] = []
        do {
            try await CertificationClient(transport: connection).run { steps.append($0) }
        } catch {
            Issue.record("certification failed: \(error)\nsteps: \(steps)")
        }
        #expect(steps.count == 13)
        await connection.close()
    }
}

func waitForSocket(_ path: String, timeout: Duration = .seconds(10)) async throws {
    let deadline = ContinuousClock.now + timeout
    while access(path, F_OK) != 0 {
        guard ContinuousClock.now < deadline else {
            throw TestFailure("\(path) did not appear within \(timeout)")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// A peer program run as a child process.
final class PeerProcess: @unchecked Sendable {
    struct Output {
        var status: Int32
        var text: String
    }

    let process: Process

    private init(process: Process) {
        self.process = process
    }

    /// Starts `command` in the background; output goes to the test log.
    static func start(_ command: [String]) throws -> PeerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        try process.run()
        return PeerProcess(process: process)
    }

    /// Runs `command` to completion and collects its output, waiting on a plain thread so
    /// that no task thread blocks while the server under test needs them.
    static func run(_ command: [String]) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try runBlocking(command) }) }.start()
        }
    }

    private static func runBlocking(_ command: [String]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, text: String(decoding: data, as: UTF8.self))
    }

    /// Stops the peer: SIGTERM, then SIGKILL if it is still there after a second. The
    /// test runner may block SIGTERM, and children inherit that mask, so SIGTERM alone
    /// is not enough. Never blocks a task thread.
    func stop() async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<50 where process.isRunning {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for _ in 0..<100 where process.isRunning {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Runs `body` with the peer started, and stops the peer afterwards.
    static func with<T>(_ command: [String], _ body: () async throws -> T) async throws -> T {
        let peer = try start(command)
        do {
            let result = try await body()
            await peer.stop()
            return result
        } catch {
            await peer.stop()
            throw error
        }
    }
}
