import ArgumentParser
import VarlinkNIO

#if canImport(Glibc)
import Glibc
#endif

struct Bridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect stdin and stdout to a service: the remote end of -b/--bridge.",
        discussion: """
            Copies bytes both ways between stdio and the service until the service closes the connection, \
            so that another machine can reach it: varlink -b 'ssh HOST varlink bridge --connect ADDRESS' info. \
            The service is --connect ADDRESS, or one started with -A or -b. (Resolving interfaces through \
            org.varlink.resolver is not supported.)
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(
        name: [.customShort("c"), .customLong("connect")],
        help: "The service to connect to.",
        completion: .custom(Completion.address)
    )
    var address: String?

    func run() async throws {
        try await runReportingFailures {
            let socket = try await openSocket()
            await Self.relay(socket)
        }
    }

    /// A connected socket to the service, from --connect, -A or -b.
    private func openSocket() async throws -> Int32 {
        if connection.startsService && address != nil {
            throw ToolFailure(.usage, "--connect and -A/-b exclude each other; give one of them")
        }
        if let command = connection.activate {
            let child: VarlinkChildService
            do {
                child = try VarlinkChildService.activate(command: command)
            } catch {
                throw ToolFailure(.cannotConnect, "cannot start '\(command)': \(error)")
            }
            ChildServices.register(child)
            return try await connect(child.address!, peer: command)
        }
        if let command = connection.bridge {
            do {
                return try VarlinkChildService.bridge(command: command).socket
            } catch {
                throw ToolFailure(.cannotConnect, "cannot start '\(command)': \(error)")
            }
        }
        guard let address else {
            throw ToolFailure(.usage, "bridge needs --connect ADDRESS, or -A CMD or -b CMD (no resolver support)")
        }
        return try await connect(try AddressArgument.parse(address), peer: address)
    }

    /// A blocking connect (exec: starts a program), on a thread of its own.
    private func connect(_ address: VarlinkAddress, peer: String) async throws -> Int32 {
        let result: Result<Int32, VarlinkSocketError> = await Threads.run {
            Result { () throws(VarlinkSocketError) in try address.connectSocket() }
        }
        do {
            return try result.get()
        } catch {
            throw ToolFailure(.cannotConnect, "cannot connect to \(peer): \(error)")
        }
    }

    /// Copies stdin to the socket (then half-closes it) and the socket to stdout, each on
    /// a thread of its own; returns when the service has closed its side.
    static func relay(_ socket: Int32) async {
        Threads.start {
            copy(from: 0, to: socket)
            shutdown(socket, Int32(SHUT_WR))
        }
        await Threads.run { copy(from: socket, to: 1) }
    }

    private static func copy(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            var offset = 0
            while offset < count {
                let written = buffer.withUnsafeBytes { write(destination, $0.baseAddress! + offset, count - offset) }
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }

}
