import ArgumentParser
import Varlink
import VarlinkIDL

struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the service's vendor, product, version, URL and interfaces.",
        discussion: "With --json or -j, print GetInfo's reply as JSON instead."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The service's address, e.g. unix:/run/org.example.sock (not with -A/-b).", completion: .custom(Completion.address))
    var address: String?

    func run() async throws {
        try await runReportingFailures {
            let session = try await Session.open(address: address, options: connection)
            let (reply, interfaces) = try await session.info()
            await session.close()
            let stdout = Terminal.standardOutput
            if output.wantsJSON {
                return stdout.write(JSONPrinter(layout: output.layout, for: stdout).render(reply) + "\n")
            }
            let fields = [("Vendor", "vendor"), ("Product", "product"), ("Version", "version"), ("URL", "url")]
            var text = ""
            for (label, key) in fields {
                text += stdout.styled("\(label):".leftPadded(to: 11), .bold) + " " + (reply[key]?.stringValue ?? "") + "\n"
            }
            for (index, name) in interfaces.enumerated() {
                text += (index == 0 ? stdout.styled("Interfaces:", .bold) : String(repeating: " ", count: 11)) + " " + name + "\n"
            }
            if interfaces.isEmpty { text += stdout.styled("Interfaces:", .bold) + "\n" }
            stdout.write(text)
        }
    }
}

struct ListInterfaces: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-interfaces",
        abstract: "Print the names of the service's interfaces, one a line."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The service's address (not with -A/-b).", completion: .custom(Completion.address))
    var address: String?

    func run() async throws {
        try await runReportingFailures {
            let session = try await Session.open(address: address, options: connection)
            let interfaces = try await session.info().interfaces
            await session.close()
            printNames(interfaces, output: output)
        }
    }
}

struct ListMethods: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-methods",
        abstract: "Print the fully qualified names of the service's methods, one a line.",
        discussion: "Lists the methods of the given interfaces, or of all the service's interfaces."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The service's address (not with -A/-b).", completion: .custom(Completion.address))
    var address: String?

    @Argument(help: "Interfaces to list; default: all.", completion: .custom(Completion.interfaceName))
    var interfaces: [String] = []

    func run() async throws {
        try await runReportingFailures {
            let (address, interfaces) = splitAddress(address, interfaces, connection)
            let session = try await Session.open(address: address, options: connection)
            var names: [String] = []
            for interface in interfaces.isEmpty ? try await session.info().interfaces : interfaces {
                let description = try await session.interfaceDescription(interface)
                do {
                    let parsed = try InterfaceDefinition.parse(description, fileName: interface)
                    names += parsed.methods.map { "\(interface).\($0.name)" }
                } catch {
                    throw ToolFailure(.protocolError, "the description of \(interface) does not parse:\n\(error)")
                }
            }
            await session.close()
            printNames(names, output: output)
        }
    }
}

struct Introspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the interface descriptions of the service, as it sends them.",
        discussion: "Prints the given interfaces, or all the service's interfaces, separated by blank lines."
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The service's address (not with -A/-b).", completion: .custom(Completion.address))
    var address: String?

    @Argument(help: "Interfaces to print; default: all.", completion: .custom(Completion.interfaceName))
    var interfaces: [String] = []

    func run() async throws {
        try await runReportingFailures {
            let (address, interfaces) = splitAddress(address, interfaces, connection)
            let session = try await Session.open(address: address, options: connection)
            var descriptions: [(String, String)] = []
            for interface in interfaces.isEmpty ? try await session.info().interfaces : interfaces {
                descriptions.append((interface, try await session.interfaceDescription(interface)))
            }
            await session.close()
            let stdout = Terminal.standardOutput
            if output.wantsJSON {
                let object = JSONValue.object(Dictionary(descriptions.map { ($0.0, .string($0.1)) }, uniquingKeysWith: { $1 }))
                return stdout.write(JSONPrinter(layout: output.layout, for: stdout).render(object) + "\n")
            }
            stdout.write(descriptions.map { $0.1.hasSuffix("\n") ? $0.1 : $0.1 + "\n" }.joined(separator: "\n"))
        }
    }
}

/// With -A/-b there is no address, so the first positional argument is an interface.
private func splitAddress(_ address: String?, _ interfaces: [String], _ connection: ConnectionOptions)
    -> (String?, [String])
{
    if connection.startsService, let address, !AddressArgument.looksLikeAddress(address) {
        return (nil, [address] + interfaces)
    }
    return (address, interfaces)
}

private func printNames(_ names: [String], output: OutputOptions) {
    let stdout = Terminal.standardOutput
    if output.wantsJSON {
        stdout.write(JSONPrinter(layout: output.layout, for: stdout).render(JSONValue.array(names.map { .string($0) })) + "\n")
    } else {
        stdout.write(names.map { $0 + "\n" }.joined())
    }
}
