import ArgumentParser
import Logging
import Varlink
import VarlinkCertification
import VarlinkNIO

#if canImport(Glibc)
import Glibc
#endif

/// Serves or runs varlink certification, like the python and Go programs of the same name.
@main
struct VarlinkCertificationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "varlink-certification",
        abstract: "Serve org.varlink.certification, or run its client sequence against a server.",
        discussion: """
            Server: varlink-certification --varlink=unix:/tmp/cert.sock (or socket-activated, with \
            no --varlink). Client: varlink-certification --client --varlink=ADDRESS prints each step and \
            'Certification passed' (exit 0), or the step that failed (exit 1).
            """
    )

    @Option(name: .customLong("varlink"), help: "The address to serve on, or (with --client) to connect to.")
    var address: String?

    @Flag(help: "Run the client sequence against --varlink instead of serving.")
    var client = false

    @Option(help: "Serving: exit after this many milliseconds without a connection (0 = never).")
    var timeout: Int = 0

    func run() async throws {
        if client {
            try await runClient()
        } else {
            try await serve()
        }
    }

    private func runClient() async throws {
        guard let address else { throw ValidationError("--client needs --varlink=ADDRESS") }
        print("Connecting to \(address)")
        let connection = try await VarlinkConnection.connect(to: try VarlinkAddress(address))
        defer { Task { await connection.close() } }
        do {
            try await CertificationClient(transport: connection).run { print($0) }
        } catch {
            print("Certification failed: \(error)")
            throw ExitCode.failure
        }
        print("Certification passed")
    }

    private func serve() async throws {
        let listener: VarlinkServer.Listener
        if let activated = SocketActivation.takeVarlinkSocket() {
            listener = activated.listener
        } else if let address {
            listener = .address(try VarlinkAddress(address))
        } else {
            throw ValidationError("pass --varlink=ADDRESS, or start the program through socket activation")
        }
        var configuration = VarlinkServer.Configuration()
        configuration.idleTimeout = timeout > 0 ? .milliseconds(timeout) : nil
        configuration.logger = Logger(label: "varlink-certification")
        configuration.logger.logLevel = .warning
        let service = VarlinkService(
            info: VarlinkServiceInfo(
                vendor: "Podlink",
                product: "Certification",
                version: "1",
                url: "https://github.com/varlink/varlink.github.io/wiki/Certification"
            ),
            interfaces: [CertificationService().varlinkInterface]
        )
        let server = VarlinkServer(service: service, configuration: configuration)
        let signals = SignalHandlers(on: [SIGTERM, SIGINT]) { server.shutdown() }
        defer { signals.cancel() }
        try await server.run(on: listener) {
            SocketActivation.notify("READY=1")
        }
        SocketActivation.notify("STOPPING=1")
    }
}
