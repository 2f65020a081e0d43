import Foundation
import PodlinkTestSupport
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
    static let goCertification = Environment.goCertification

    @Test func pythonClientPassesAgainstOurServer() async throws {
        guard Environment.require(Environment.pythonVarlink, "python3 varlink 31.0.0 (pip install varlink==31.0.0)") else {
            return
        }
        let output = try await againstOurServer { address in
            ["python3", "-m", "varlink.tests.test_certification", "--client", "--varlink=\(address)"]
        }
        #expect(output.status == 0, "python client output:\n\((output.stdout + output.stderr))")
        #expect((output.stdout + output.stderr).contains("Certification passed"), "python client output:\n\((output.stdout + output.stderr))")
    }

    @Test func goClientPassesAgainstOurServer() async throws {
        guard Environment.require(Self.goCertification != nil, "varlink-go-certification (apt-get install varlink-go)"),
            let go = Self.goCertification
        else { return }
        let output = try await againstOurServer { address in [go, "-client", "-varlink", address] }
        #expect(output.status == 0, "Go client output:\n\((output.stdout + output.stderr))")
        #expect((output.stdout + output.stderr).contains("End: 'true'"), "Go client output:\n\((output.stdout + output.stderr))")
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
        let client = try await ChildProcess.with([
            Environment.builtProduct("varlink-certification"), "--varlink=unix:\(path)",
        ]) {
            try await waitForSocket(path)
            return try await Tool.run([
                Environment.builtProduct("varlink-certification"), "--client", "--varlink=unix:\(path)",
            ])
        }
        #expect(client.status == 0, "\((client.stdout + client.stderr))")
        #expect((client.stdout + client.stderr).contains("Certification passed"))
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
        try await ChildProcess.with([activate, "-l", path, Environment.builtProduct("varlink-certification")]) {
            try await waitForSocket(path)
            // The socket file exists once bound, a moment before it listens.
            var attempt = 0
            let connection: VarlinkConnection
            while true {
                do {
                    connection = try await VarlinkConnection.connect(to: .unix(path: path, mode: nil))
                    break
                } catch where attempt < 100 {
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
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
        -> ToolOutput
    {
        let service = VarlinkService(
            info: VarlinkServiceInfo(vendor: "Podlink", product: "Certification", version: "1", url: ""),
            interfaces: [CertificationService().varlinkInterface]
        )
        let commandLine = command
        return try await withServer(service) { address, _ in
            try await Tool.run(commandLine(address.description))
        }
    }

    private func againstPeerServer(_ command: [String], path: String) async throws {
        try await ChildProcess.with(command) { try await certify(path: path) }
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
