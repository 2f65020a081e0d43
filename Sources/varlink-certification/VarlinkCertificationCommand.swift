import Logging
import Varlink
import VarlinkCertification
import VarlinkNIO

#if canImport(Glibc)
import Glibc
#endif

/// Serves or runs varlink certification, like the python and Go programs of the same name.
///
/// Its three options are parsed by hand: swift-argument-parser would link Foundation
/// into a program whose idle footprint is one of the things it is measured by.
@main
struct VarlinkCertificationCommand {
    static let usage = """
        usage: varlink-certification [--client] [--varlink=ADDRESS] [--timeout=MS]

        Serve org.varlink.certification, or run its client sequence against a server.

        Server: varlink-certification --varlink=unix:/tmp/cert.sock (or socket-activated, with
        no --varlink). Client: varlink-certification --client --varlink=ADDRESS prints each step and
        'Certification passed' (exit 0), or the step that failed (exit 1).

          --varlink=ADDRESS  the address to serve on, or (with --client) to connect to
          --client           run the client sequence against --varlink instead of serving
          --timeout=MS       serving: exit after this many milliseconds without a connection (0 = never)
          -h, --help         show this text

        """

    var address: String?
    var client = false
    var timeout = 0

    static func main() async {
        var command = VarlinkCertificationCommand()
        do {
            try command.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            if error.message.isEmpty {
                print(usage, terminator: "")
                exit(0)
            }
            writeStandardError("varlink-certification: \(error.message)\n\(usage)")
            exit(64)  // EX_USAGE
        }
        do {
            if command.client {
                exit(try await command.runClient() ? 0 : 1)
            }
            try await command.serve()
        } catch {
            writeStandardError("varlink-certification: \(error)\n")
            exit(1)
        }
    }

    struct UsageError: Error, CustomStringConvertible {
        /// Empty for --help.
        var message: String
        var description: String { message }
    }

    /// Accepts `--name=value`, `--name value` and Go's single-dash spellings, as the
    /// python and Go programs do.
    mutating func parse(_ arguments: [String]) throws(UsageError) {
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            var name = argument
            if name.hasPrefix("--") { name.removeFirst(2) } else if name.hasPrefix("-") { name.removeFirst() }
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            func requireValue() throws(UsageError) -> String {
                if let value { return value }
                guard let next = remaining.popFirst() else { throw UsageError(message: "--\(name) needs a value") }
                return next
            }
            switch name {
            case "varlink": address = try requireValue()
            case "client": client = true
            case "timeout":
                let text = try requireValue()
                guard let milliseconds = Int(text), milliseconds >= 0 else {
                    throw UsageError(message: "--timeout takes milliseconds, not \"\(text)\"")
                }
                timeout = milliseconds
            case "h", "help": throw UsageError(message: "")
            default: throw UsageError(message: "unknown argument \"\(argument)\"")
            }
        }
    }

    private func runClient() async throws -> Bool {
        guard let address else { throw UsageError(message: "--client needs --varlink=ADDRESS") }
        print("Connecting to \(address)")
        let connection = try await VarlinkConnection.connect(to: try VarlinkAddress(address))
        defer { Task { await connection.close() } }
        do {
            try await CertificationClient(transport: connection).run { print($0) }
        } catch {
            print("Certification failed: \(error)")
            return false
        }
        print("Certification passed")
        return true
    }

    private func serve() async throws {
        let listener: VarlinkServer.Listener
        if let activated = SocketActivation.takeVarlinkSocket() {
            listener = activated.listener
        } else if let address {
            listener = .address(try VarlinkAddress(address))
        } else {
            throw UsageError(message: "pass --varlink=ADDRESS, or start the program through socket activation")
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

private func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
